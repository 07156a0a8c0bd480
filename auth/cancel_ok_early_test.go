package auth_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

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
	c := xtestPeer(t, nil, func(server net.Conn, r *bufio.Reader, first string) {
		tag, _, _ := strings.Cut(first, " ")
		io.WriteString(server, "+ "+b64("prove yourself")+"\r\n"+tag+" OK [CAPABILITY IMAP4rev1 MOVE] welcome anyway\r\n")
		answerEach(server, r)
	})
	wctx := ctx5(t)
	err := c.AuthenticateFunc(ctx5(t), "X-TEST", func([]byte) ([]byte, error) {
		// Wait (hang detector only) until the reader took the OK.
		for c.Session().State() != session.StateAuth && wctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		return nil, auth.ErrCancel
	})
	if !errors.Is(err, auth.ErrCancel) {
		t.Fatalf("err = %v; want a cancellation", err)
	}
	if st := c.Session().State(); st == session.StateAuth && c.Session().Err() == nil {
		t.Errorf("Authenticate returned %v (ErrCancelAccepted: %v), yet the session is open in state %v: the server's OK, sent before the client's answer to its challenge, authenticated it", err, errors.Is(err, auth.ErrCancelAccepted), st)
	}
}
