package auth_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/session"
)

// TestCancelAfterEarlyOKMatchesProtocolError: a server that accepts an
// exchange the client cancelled gives a *CanceledError that, by its doc
// (auth/errors.go: "unless the server answered OK (a protocol
// violation): ... the error matches ErrCancelAccepted,
// session.ErrProtocol and session.ErrAborted"), matches
// session.ErrProtocol and session.ErrAborted. That holds when the OK is
// read after the "*" was marked (session's acceptedCancel aborts, and
// the abort is kept), but not when the reader took the OK first (the
// server sent its challenge and OK together): cancel's default case
// (auth/exchange.go) closes the session and keeps the bare sentinel
// session.ErrCancelAccepted as abort, which matches neither. The same
// event, told two ways by a race between the reader and the mechanism:
// a caller that checks session.ErrProtocol (as the doc invites) misses
// it. The mechanism waits (hang detector only) until the OK was taken.
func TestCancelAfterEarlyOKMatchesProtocolError(t *testing.T) {
	_, err := cancelAfterEarlyOK(t, "welcome anyway")
	if !errors.Is(err, auth.ErrCancelAccepted) {
		t.Fatalf("err = %v; want ErrCancelAccepted", err)
	}
	if !errors.Is(err, session.ErrProtocol) || !errors.Is(err, session.ErrAborted) {
		t.Errorf("OK read before the \"*\" went: %v matches session.ErrProtocol %v, session.ErrAborted %v; want both, as the *CanceledError's doc says of an OK to a cancelled exchange (and as when the OK comes after the \"*\")", err, errors.Is(err, session.ErrProtocol), errors.Is(err, session.ErrAborted))
	}
}
