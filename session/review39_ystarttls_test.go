package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestReview39YStartTLSDeadlineCalledStall: ba7293e runs the handshake with the
// caller's deadline when it is later than transport.DefaultHandshakeTimeout
// (30 s), and dropped the ctx.Err() == nil guard of the mapping of a
// timeout to a stall: a handshake that a frozen network holds until the
// caller's deadline (35 s here, before the 60 s stall timeout) fails with
// context.DeadlineExceeded, whose Timeout() is true, and the session ends
// with *TimeoutError{What: "stall", After: 60s}: "no byte came within the
// stall timeout of 1m0s" after 35 s, which is not what happened (the
// caller's deadline passed). Every later command reports it (AbortError).
// And StartTLS itself returns the bare context.DeadlineExceeded, which
// docs/errors.md (and ba7293e's message) say leaves the session going on,
// while the session is aborted at that instant: ba7293e's fix covers
// deadlines under 30 s only. ~40 s. Fixed: the handshake's bound is the
// caller's deadline plus DefaultHandshakeTimeout, so the caller's context
// always ends first (StartTLS returns its error, the session goes on
// until the stall timeout cuts the handshake at 60 s, named so).
func TestReview39YStartTLSDeadlineCalledStall(t *testing.T) {
	if testing.Short() {
		t.Skip("35 s")
	}
	t.Parallel()
	_, cliCfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 STARTTLS")
		cmd, err := c.Until("STARTTLS")
		if err != nil {
			return err
		}
		c.Reply(cmd.Tag, "OK begin TLS")
		return c.Stall()
	})
	defer srv.Close()
	s, err := session.Open(context.Background(), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := transport.DefaultHandshakeTimeout + 5*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	serr := s.StartTLS(ctx, cliCfg)
	// The session's end comes with the handshake's.
	deadline := time.Now().Add(5 * time.Second)
	for s.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	end := s.Err()
	t.Logf("after %v: StartTLS: %v; session: %v", time.Since(start).Round(time.Millisecond), serr, end)
	if serr != nil && !errors.Is(serr, session.ErrAborted) && end != nil {
		t.Errorf("StartTLS returned %v, not session.ErrAborted (by docs/errors.md and ba7293e: the session goes on), yet the session ended at the same instant: %v. The handshake's deadline is the caller's own, so the caller's context error and the handshake's failure come together: ba7293e's fix holds only for deadlines under %v", serr, end, transport.DefaultHandshakeTimeout)
	}
	for _, e := range []error{serr, end} {
		var te *session.TimeoutError
		if errors.As(e, &te) && te.What == session.TimeoutStall && time.Since(start) < te.After {
			t.Errorf("the handshake ended at the caller's deadline (%v), but the error says the stall timeout of %v fired: %v", d, te.After, e)
		}
	}
}
