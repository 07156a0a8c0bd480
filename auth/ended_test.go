package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/session"
)

// TestAuthenticateEndedBeforeAnswer: a server that sends a challenge and
// then its tagged NO, before the client answers, ends AUTHENTICATE with a
// refusal: the *auth.Error carrying the NO (AUTHENTICATIONFAILED). Once
// Pending.Continue refused to write after the end (ErrCommandEnded), a
// first version returned that error instead. Found by the review of
// 2026-12-04.
func TestAuthenticateEndedBeforeAnswer(t *testing.T) {
	bad := 0
	for i := 0; i < 10; i++ {
		conn, wait := script(t, nil, `
			S: * OK [CAPABILITY IMAP4rev1 AUTH=LOGIN] hi
			C: A1 AUTHENTICATE LOGIN
			S: + `+b64("Username:")+`
			S: A1 NO [AUTHENTICATIONFAILED] too slow
		`)
		c := mustOpen(t, conn, nil, nil)
		err := c.AuthenticateFunc(ctx5(t), "LOGIN", func([]byte) ([]byte, error) {
			time.Sleep(30 * time.Millisecond) // the NO is read meanwhile
			return []byte("alice"), nil
		})
		var ae *auth.Error
		if !errors.As(err, &ae) {
			bad++
			t.Logf("run %d: err = %v (%T); want *auth.Error with the NO (ErrCommandEnded: %v)", i, err, err, errors.Is(err, session.ErrCommandEnded))
		}
		if werr := wait(); werr != nil {
			t.Logf("script: %v", werr)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of 10 refusals came back as something else than *auth.Error", bad)
	}
}
