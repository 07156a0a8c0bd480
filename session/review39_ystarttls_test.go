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
// deadlines under 30 s only. Fixed: the handshake's bound is the caller's
// deadline plus DefaultHandshakeTimeout, so the caller's context always
// ends first (StartTLS returns its error, the session goes on until the
// stall timeout cuts the handshake at 60 s, named so).
//
// The same sequence runs s39Speed times faster (4 s, not 40): StallSpeed
// runs the default stall timeout and the handshake's allowance past the
// caller's deadline (DefaultHandshakeTimeout) at that speed, and the
// test's own deadline and wait are the same multiples of them, so the
// order and the ratios of the events are the same: the caller's deadline
// at 35 units, the end of the wait at 40, the stall timeout at 60, the
// handshake's bound at 65 (a unit: a second over s39Speed). The session
// ending before the stall timeout could have fired (60 units from the
// start at the earliest) is the fault, whatever the load.
func TestReview39YStartTLSDeadlineCalledStall(t *testing.T) {
	if testing.Short() {
		t.Skip("4 s")
	}
	// Not parallel: StallSpeed sets what every session opened meanwhile
	// reads.
	session.StallSpeed(t, s39Speed)
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
	start := time.Now() // before Open: the stall clock starts later
	s, err := session.Open(context.Background(), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := (transport.DefaultHandshakeTimeout + 5*time.Second) / s39Speed
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	serr := s.StartTLS(ctx, cliCfg)
	// The session's end comes with the handshake's.
	deadline := time.Now().Add(5 * time.Second / s39Speed)
	for s.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	end := s.Err()
	seen := time.Since(start)
	// The stall timeout, as StallSpeed runs it: no stall can have fired
	// before it has passed since start.
	stall := session.DefaultStallTimeout / s39Speed
	t.Logf("after %v (the stall timeout as run: %v): StartTLS: %v; session: %v", seen.Round(time.Millisecond), stall, serr, end)
	if serr != nil && !errors.Is(serr, session.ErrAborted) && end != nil && seen < stall {
		t.Errorf("StartTLS returned %v, not session.ErrAborted (by docs/errors.md and ba7293e: the session goes on), yet the session ended at the same instant: %v. The handshake's deadline is the caller's own, so the caller's context error and the handshake's failure come together: ba7293e's fix holds only for deadlines under %v", serr, end, transport.DefaultHandshakeTimeout)
	}
	for _, e := range []error{serr, end} {
		var te *session.TimeoutError
		if errors.As(e, &te) && te.What == session.TimeoutStall && seen < te.After/s39Speed {
			t.Errorf("the handshake ended at the caller's deadline (%v as run), but the error says the stall timeout of %v (%v as run) fired: %v", d, te.After, te.After/s39Speed, e)
		}
	}
}

// s39Speed is how much faster TestReview39YStartTLSDeadlineCalledStall
// runs the stall timeout and the handshake's allowance: 60 s as 6 s, and
// 2 s (20 units) between the end of its wait and the stall timeout.
const s39Speed = 10
