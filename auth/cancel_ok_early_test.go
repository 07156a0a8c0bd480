package auth_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/session"
)

// TestCancelAfterEarlyOKLeavesNoSession: a hostile server sends a
// challenge and its tagged OK together, without waiting for the
// client's response. The mechanism refuses the challenge (for SCRAM: a
// wrong server signature, the server not proven), so cancel sends "*";
// but the reader has already taken the OK, Continue says
// ErrCommandEnded, and Wait gives the OK with a nil error. cancel's
// switch (auth/exchange.go) has no case for a nil error any more (the
// old `case r != nil` closed the session): it returns a *CanceledError
// with neither Status nor abort, and the session stays open in state
// AUTH, logged in as whoever the server chose. The caller is told the
// exchange was cancelled (and, by the doc, that the connection "may be
// used for another attempt"). No "*" was ever marked (gaveUp is set only
// when the "*" is to be written before the end), so acceptedCancel did
// not abort either. The mechanism waits (bounded by the test's context,
// a hang detector) until the session has taken the OK.
func TestCancelAfterEarlyOKLeavesNoSession(t *testing.T) {
	c, err := cancelAfterEarlyOK(t, "[CAPABILITY IMAP4rev1 MOVE] welcome anyway")
	if !errors.Is(err, auth.ErrCancel) {
		t.Fatalf("err = %v; want a cancellation", err)
	}
	if st := c.Session().State(); st == session.StateAuth && c.Session().Err() == nil {
		t.Errorf("Authenticate returned %v (ErrCancelAccepted: %v), yet the session is open in state %v: the server's OK, sent before the client's answer to its challenge, authenticated it", err, errors.Is(err, auth.ErrCancelAccepted), st)
	}
}
