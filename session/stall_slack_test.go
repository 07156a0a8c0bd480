package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestStallReadWithinSlack: docs/limits.md says a stall is detected
// between 1 and 1 1/16 stall timeouts after the last byte (60-64 s with
// the defaults). On a synctest bubble's exact clock, with the defaults: a
// byte comes after the arming (arm sets the deadline without the slack,
// so a server silent from the start is cut at exactly 60 s and the slack
// shows only once a byte came), and the cut must land within the window.
// Found by review: with the read side's slack planted at 1/6 (a stall
// detected up to 70 s) the timeout tests passed, as they accepted up to
// 10 s late; this test fails then ("stall detected after 1m10s").
func TestStallReadWithinSlack(t *testing.T) {
	stallBubbleLast(t, func(r *bufio.Reader, w io.Writer, last chan<- time.Time) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n') // the NOOP: the stall timeout is armed
		time.Sleep(time.Second)
		// A byte after the arming: the deadline is pushed from
		// here (watchConn.Read), 1/16 further.
		io.WriteString(w, "* 1 EXISTS\r\n")
		last <- time.Now()
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, ctx context.Context, last <-chan time.Time) {
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		d := time.Since(<-last)
		var te *session.TimeoutError
		if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Fatalf("got %v; want an abort with a stall *TimeoutError", err)
		}
		if lo, hi := session.DefaultStallTimeout, session.DefaultStallTimeout+session.DefaultStallTimeout/16; d < lo || d > hi {
			t.Fatalf("stall detected after %v; docs/limits.md: between %v and %v", d, lo, hi)
		}
	})
}
