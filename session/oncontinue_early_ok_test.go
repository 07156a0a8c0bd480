package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestOnContinueErrorBeforeEarlyOKNotSuccess: a hostile server sends
// its challenge and the tagged OK to AUTHENTICATE together, without
// waiting for the client's response. Command.OnContinue refuses the
// challenge (for SCRAM: a wrong server signature, the server not
// proven) and returns an error; Wait is to send "*" and return that
// error. The reader took the OK first: Continue says ErrCommandEnded,
// and Wait (write.go, "The server ended the command (a NO after its
// '+')") returns the command's end, the OK, with a nil error. Run of
// AUTHENTICATE reports success, the session in AUTH with the server the
// mechanism refused, and OnContinue's error is lost. docs/errors.md
// (ErrCancelAccepted's row) says a Session.Run of AUTHENTICATE with
// OnContinue whose exchange was cancelled and answered OK gives an
// *AbortError; package auth closes the session for this very case
// (cancel's default case, 43b3432), the session's own OnContinue path
// does not. OnContinue waits (hang detector only) until the OK was
// taken.
func TestOnContinueErrorBeforeEarlyOKNotSuccess(t *testing.T) {
	conn := xtestServer(t, earlyOK("Y2hhbA==", "welcome anyway"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := openOn(t, ctx, conn)
	refused := errors.New("server signature wrong")
	_, err := s.Run(ctx, &session.Command{Name: "AUTHENTICATE",
		Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
		OnContinue: func([]byte) ([]byte, error) {
			waitAuth(ctx, s)
			return nil, refused
		}})
	if err == nil && s.State() == session.StateAuth && s.Err() == nil {
		t.Errorf("AUTHENTICATE whose OnContinue refused the challenge (%v), the server's OK read before the \"*\" went: Run returned success, the session open in state AUTH; want an error (OnContinue's, or ErrCancelAccepted) and no session authenticated to the refused server", refused)
	}
}

// TestOnContinueLateChallengeChecked: the challenge and the tagged OK to
// AUTHENTICATE both read before Wait is called (Start, then the state
// AUTH seen): Wait's select may take the command's end before the "+"
// waiting for OnContinue, and returned the OK as a success with the
// challenge never checked (a SCRAM server signature never verified). The
// challenge must reach OnContinue, whose error aborts the session
// (ErrCancelAccepted). Run several times: select picks either at random
// when both are ready, and each must end so.
func TestOnContinueLateChallengeChecked(t *testing.T) {
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn := xtestServer(t, earlyOK("Y2hhbA==", "welcome anyway"))
		refused := errors.New("server signature wrong")
		called := false
		s, p := startXTest(t, ctx, conn, func([]byte) ([]byte, error) { called = true; return nil, refused }, nil)
		waitAuth(ctx, s)
		_, err := p.Wait(ctx)
		if !called || !errors.Is(err, refused) || !errors.Is(err, session.ErrCancelAccepted) {
			t.Errorf("run %d: challenge and OK read before Wait: OnContinue called %v, Wait: %v; want OnContinue called and its error with ErrCancelAccepted (the session aborted)", i, called, err)
		}
		s.Close()
		conn.Close()
		cancel()
	}
}
