package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
)

// sdLateConn delays every Write by delay before a byte goes out: a writer
// the scheduler runs late, the connection itself never blocked. In a
// testing/synctest bubble the delay is on the bubble's clock.
type sdLateConn struct {
	net.Conn
	delay time.Duration
}

func (c *sdLateConn) Write(b []byte) (int, error) {
	time.Sleep(c.delay)
	return c.Conn.Write(b)
}

// TestShortDeadlinesKeepSession: commands whose contexts end at about the
// time they are written, over a connection that never blocks a write, end
// with their context's error (sent or not) and never abort the session. A
// context that ended after the command's turn came but before its bytes
// went out moved the write deadline into the past: the write of a few
// bytes into an empty buffer failed, and the session was aborted
// ("cancelled while sending NOOP") though no write was blocked and no byte
// of it sent. Found by the fault audit of 2026-12-04.
//
// Default options, in a testing/synctest bubble, where it ran NOOPs with
// 5 to 60 µs deadlines for 1.5 s of wall-clock time, hoping some would end
// at the right moment. Every write of the session now reaches the pipe
// 1 ms (under writeGrace, 50 ms) after it starts (sdLateConn), on the
// bubble's clock, and each deadline is placed exactly: ended before Run
// (not sent, a *NotSentError), within the write (sent all the same, the
// context's error or the answer), at its end, and after it (the answer).
// The server counts the NOOPs it got: exactly those that were sent.
func TestShortDeadlinesKeepSession(t *testing.T) {
	const delay = time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		var got atomic.Int32
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(l, " ")
				got.Add(1)
				io.WriteString(w, tag+" OK done\r\n")
			}
		})
		s, err := session.Open(hangCtx(t), &sdLateConn{Conn: conn, delay: delay}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sent, cut := int32(0), 0
		for round := 0; round < 20; round++ {
			for _, d := range []time.Duration{0, delay / 4, delay / 2, delay - time.Microsecond, delay, delay + time.Microsecond, 2 * delay} {
				ctx, cancel := context.WithTimeout(context.Background(), d)
				_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
				cancel()
				if errors.Is(err, session.ErrAborted) || s.Err() != nil {
					t.Fatalf("a NOOP with a %v deadline (the write takes %v) aborted the session: %v", d, delay, err)
				}
				var ns *session.NotSentError
				switch {
				case d == 0:
					if !errors.As(err, &ns) || !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("NOOP with a context ended before Run: %v; want a *NotSentError of context.DeadlineExceeded", err)
					}
					cut++
					continue
				case errors.As(err, &ns):
					t.Fatalf("NOOP with a %v deadline (the write takes %v): %v; want it sent", d, delay, err)
				case d > delay && err != nil:
					t.Fatalf("NOOP with a %v deadline, after its %v write: %v; want its answer", d, delay, err)
				case err != nil && !errors.Is(err, context.DeadlineExceeded):
					t.Fatalf("NOOP with a %v deadline: %v; want the context's error or the answer", d, err)
				case err != nil:
					cut++
				}
				sent++
			}
		}
		t.Logf("%d NOOPs sent, %d ended by their deadline (20 before Run)", sent, cut)
		if cut <= 20 {
			t.Fatalf("only %d NOOPs saw their deadline, those ended before Run included: none ended during its write, the test tests nothing", cut)
		}
		if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
		if n := got.Load(); n != sent+1 {
			t.Fatalf("the server got %d NOOPs; want the %d sent", n, sent+1)
		}
	})
}
