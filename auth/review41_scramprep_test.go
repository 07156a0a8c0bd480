package auth_test

import (
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview41LBestPasswordPRECISChanges: 0323ea5 made Choose skip SCRAM when
// PRECIS OpaqueString refuses the password, but not when it accepts and
// changes it. OpaqueString maps a non-ASCII space (U+00A0, typed with
// Option-Space on a Mac) to an ASCII space and normalises to NFC; a server
// whose SCRAM keys come from the password as stored (Dovecot) then refuses
// the proof, while PLAIN and LOGIN, which it also offers, log in with the
// same password. AuthenticateBest (and so the CLI) fails for such a user.
func TestReview41LBestPasswordPRECISChanges(t *testing.T) {
	srv := testserver.StartT(t, nil)
	passes := []string{"pass\u00a0word", "Cafe\u0301"}
	users := []string{"zznbsp", "zznfd"}
	for i := range passes {
		r40AddUser(t, srv, users[i], passes[i])
	}
	for i, pass := range passes {
		user := users[i]
		plain := dial(t, srv, nil, nil)
		if err := plain.Authenticate(ctx10(t), auth.NewPlain("", user, pass)); err != nil {
			t.Fatalf("AUTHENTICATE PLAIN with %q: %v", pass, err)
		}
		c := dial(t, srv, nil, nil)
		mech, err := c.AuthenticateBest(ctx10(t), &auth.Credentials{Username: user, Password: pass})
		if err != nil {
			t.Errorf("password %q: AuthenticateBest chose %s and failed, where PLAIN (offered) logs in: %v", pass, mech, err)
		}
	}
}
