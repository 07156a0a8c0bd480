package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
)

// stallBubble runs body in a testing/synctest bubble, on the bubble's
// clock, with a session opened with the library's defaults (nil Options)
// on a fake server that plays play, and a context of 20 default stall
// timeouts (a bound for a failing run, on the bubble's clock: a test that
// passes ends at the bound it checks). Every stall, command and upload
// bound then runs at its default length and exactly, however loaded the
// machine; the session is closed when body returns. The stall tests of
// the package share it.
func stallBubble(t *testing.T, play func(r *bufio.Reader, w io.Writer), body func(t *testing.T, s *session.Session, ctx context.Context)) {
	t.Helper()
	stallBubbleConn(t, func(t *testing.T) net.Conn { return fake(t, play) }, body)
}

// stallBubbleConn is stallBubble over the connection dial returns, made in
// the bubble (a fake server's end wrapped, a contServer).
func stallBubbleConn(t *testing.T, dial func(t *testing.T) net.Conn, body func(t *testing.T, s *session.Session, ctx context.Context)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		s, err := session.Open(hangCtx(t), dial(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*session.DefaultStallTimeout)
		defer cancel()
		body(t, s, ctx)
	})
}

// stallBubbleLast is stallBubble for a play that sends on last the time,
// on the bubble's clock, of the server's last byte; body gets the same
// channel. It is made in the bubble, so that body waiting on it is
// durably blocked and the bubble's clock goes on.
func stallBubbleLast(t *testing.T, play func(r *bufio.Reader, w io.Writer, last chan<- time.Time), body func(t *testing.T, s *session.Session, ctx context.Context, last <-chan time.Time)) {
	t.Helper()
	var last chan time.Time
	stallBubbleConn(t, func(t *testing.T) net.Conn {
		last = make(chan time.Time, 1)
		return fake(t, func(r *bufio.Reader, w io.Writer) { play(r, w, last) })
	}, func(t *testing.T, s *session.Session, ctx context.Context) { body(t, s, ctx, last) })
}

// bubbleWantStall fails unless err is the session's stall *TimeoutError
// and d, the time on the bubble's clock from the server's last byte to
// the error, is exactly the default stall timeout.
func bubbleWantStall(t *testing.T, what string, err error, d time.Duration) {
	t.Helper()
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall {
		t.Fatalf("%s: %v after %v; want a stall *TimeoutError", what, err, d)
	}
	if d != session.DefaultStallTimeout {
		t.Errorf("%s: cut after %v; want exactly %v", what, d, session.DefaultStallTimeout)
	}
}
