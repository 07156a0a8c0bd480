package auth_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/internal/testserver"
)

// r40AddUser adds a user with a {PLAIN} password to a Dovecot's passwd-file
// (Dovecot reads it again when it changes).
func r40AddUser(t *testing.T, srv *testserver.Server, user, pass string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(srv.Dir, "users"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(user + ":{PLAIN}" + pass + "::::::\n"); err != nil {
		t.Fatal(err)
	}
}

// TestReview40ABestEmojiPassword: a Dovecot user whose password holds an emoji
// with its variation selector ("I❤️mail": U+2764 U+FE0F) logs in with
// LOGIN, PLAIN and the LOGIN mechanism, as imaplib and mail clients do.
// AuthenticateBest ("the strongest mechanism that the server offers and
// the credentials ... allow") picks SCRAM-SHA-256, whose PRECIS
// OpaqueString preparation refuses U+FE0F (a default-ignorable code
// point; so are ZWJ emoji sequences and characters newer than Unicode
// 15), so the exchange is cancelled and AuthenticateBest fails without
// trying PLAIN, which Dovecot offers and which would have worked. The CLI
// logs in with AuthenticateBest: such a user cannot log in with imapkit.
func TestReview40ABestEmojiPassword(t *testing.T) {
	srv := testserver.StartT(t, nil)
	const user, pass = "zzheart", "I\u2764\ufe0fmail"
	r40AddUser(t, srv, user, pass)

	plain := dial(t, srv, nil, nil)
	if err := plain.Authenticate(ctx10(t), auth.NewPlain("", user, pass)); err != nil {
		t.Fatalf("AUTHENTICATE PLAIN with the same password: %v", err)
	}
	c := dial(t, srv, nil, nil)
	mech, err := c.AuthenticateBest(ctx10(t), &auth.Credentials{Username: user, Password: pass})
	if err != nil {
		t.Fatalf("AuthenticateBest chose %s and failed, where PLAIN (offered) logs in: %v", mech, err)
	}
}

// TestReview40AChooseSkipsUnpreparableSCRAM: Choose passes over SCRAM when
// PRECIS refuses the password or the username, and still picks it for a
// password it accepts.
func TestReview40AChooseSkipsUnpreparableSCRAM(t *testing.T) {
	caps := []string{"IMAP4rev1", "AUTH=SCRAM-SHA-256", "AUTH=SCRAM-SHA-1", "AUTH=PLAIN"}
	for _, tc := range []struct{ user, pass, want string }{
		{"alice", "I\u2764\ufe0fmail", auth.Plain},             // variation selector
		{"alice", "fam\U0001F468\u200d\U0001F467", auth.Plain}, // zero-width joiner
		{"alice", "tab\there", auth.Plain},                     // a control character
		{"al\u200dice", "secret", auth.Plain},                  // the username
		{"alice", "Grüße", auth.SCRAMSHA256},
		{"alice", "secret", auth.SCRAMSHA256},
	} {
		got, _, err := auth.Choose(caps, &auth.Credentials{Username: tc.user, Password: tc.pass}, true)
		if err != nil || got != tc.want {
			t.Errorf("Choose(%q, %q) = %s, %v; want %s", tc.user, tc.pass, got, err, tc.want)
		}
	}
}
