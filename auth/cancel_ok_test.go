package auth_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/session"
)

// TestCancelAnsweredOKLeavesNoSession: the client cancelled the exchange
// with "*" (its mechanism refused a challenge: for SCRAM, a wrong server
// signature, the server not proven) and the server answered the "*" with
// OK. RFC 4422 section 3.5 says the server MUST fail an aborted
// exchange: an OK is a hostile or broken server. Authenticate returns a
// *CanceledError (the caller is told it failed), yet the session stays
// open in state AUTH, logged in as whoever the server chose, where the
// caller, told "the connection is in step and may be used for another
// attempt", goes on. An OK without SCRAM's signature closes the session
// (scramClient.complete); an OK to "*" should too, or at least leave the
// session not authenticated.
func TestCancelAnsweredOKLeavesNoSession(t *testing.T) {
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi
		C: A1 AUTHENTICATE X-TEST
		S: + `+b64("prove yourself")+`
		C: *
		S: A1 OK [CAPABILITY IMAP4rev1 MOVE] welcome anyway
	`)
	c := mustOpen(t, conn, nil, nil)
	err := c.AuthenticateFunc(hangCtx(t), "X-TEST", func([]byte) ([]byte, error) {
		return nil, auth.ErrCancel
	})
	var ce *auth.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v; want a *CanceledError", err)
	}
	if !errors.Is(err, auth.ErrCancelAccepted) || !errors.Is(err, session.ErrProtocol) || !errors.Is(err, auth.ErrCancel) {
		t.Errorf("err = %v; want it to match ErrCancelAccepted, session.ErrProtocol and ErrCancel", err)
	}
	if st := c.Session().State(); st == session.StateAuth && c.Session().Err() == nil {
		t.Errorf("Authenticate returned %v, yet the session is open in state %v: the server's OK to \"*\" authenticated it", err, st)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
