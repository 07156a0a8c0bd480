package session_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// slowCloseConn is a client connection whose Close lets a write already on
// its way reach the server first: it stands for the scheduling in which
// the goroutine writing a command runs before the one in abortWith gets
// from its mu.Unlock to conn.Close (nothing orders the two).
type slowCloseConn struct {
	net.Conn
	seen <-chan struct{}
}

func (c *slowCloseConn) Close() error {
	select {
	case <-c.seen:
	case <-time.After(3 * time.Second):
	}
	return c.Conn.Close()
}

// TestWrittenCommandNeverNotSent: 3fc8c67 gives a command registered but not yet
// marked sent a *NotSentError when the session ends. send checks s.err
// once, when it has the write lock; if the session ends after that check
// and before markSent (while the command's Args are encoded, its trace is
// written, ...), markSent finds the command gone from s.inflight, does
// nothing, and send writes and flushes the command all the same. Its
// Pending was ended by abortWith with ErrNotSent: the caller is told it
// may send the command again, while its bytes reached the server (here an
// APPEND with LITERAL+, which the server stores). Before 3fc8c67 such a
// command got the AbortError ("may have run").
func TestWrittenCommandNeverNotSent(t *testing.T) {
	// In a testing/synctest bubble: slowCloseConn's wait of up to 3 s
	// for the write (the whole of it when, fixed, nothing is written)
	// passes on the bubble's clock, not the wall clock (3 s before).
	synctest.Test(t, func(t *testing.T) {
		seen := make(chan struct{})
		var once sync.Once
		var got strings.Builder
		var gotMu sync.Mutex
		raw := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
			for {
				c := readCommand(r, w)
				if c == "" {
					return
				}
				gotMu.Lock()
				got.WriteString(c)
				gotMu.Unlock()
				if strings.HasPrefix(c, "A2 ") {
					once.Do(func() { close(seen) })
				}
				// A1 (NOOP) is never answered: it is in flight when the
				// session is aborted.
			}
		})
		conn := &slowCloseConn{Conn: raw, seen: seen}
		s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := hangCtx(t)
		if _, err := s.Start(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
		aborted := make(chan struct{})
		first := true
		app := &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			if first {
				first = false
				// The session ends (Abort: a caller that found the
				// connection unusable; a stall or command bound does
				// the same) while this command is being encoded, after
				// send's check of s.err.
				go func() { s.Abort(errors.New("zz: connection unusable")); close(aborted) }()
				for s.Err() == nil {
					time.Sleep(time.Millisecond)
				}
			}
			e.SP().Raw("INBOX").SP().Literal([]byte("Subject: zz\r\n\r\nhello\r\n"))
		}}
		p, err := s.Start(ctx, app)
		var werr error
		if err == nil {
			_, werr = p.Wait(ctx)
		}
		<-aborted
		gotMu.Lock()
		serverGot := got.String()
		gotMu.Unlock()
		reached := strings.Contains(serverGot, "A2 APPEND")
		t.Logf("Start: %v; Wait: %v; server read %q", err, werr, serverGot)
		notSent := errors.Is(err, session.ErrNotSent) || errors.Is(werr, session.ErrNotSent)
		if reached && notSent {
			t.Fatalf("the APPEND reached the server (it stored the message) but its caller was told it was not sent (ErrNotSent: safe to send again, a duplicate): Start %v, Wait %v", err, werr)
		}
	})
}
