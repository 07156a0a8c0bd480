package auth_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/internal/testserver"
)

// addPlainUser adds a user with a {PLAIN} password to a Dovecot's passwd-file
// (Dovecot reads it again when it changes).
func addPlainUser(t *testing.T, srv *testserver.Server, user, pass string) {
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

// TestBestEmojiPassword: a Dovecot user whose password holds an emoji
// with its variation selector ("I❤️mail": U+2764 U+FE0F) logs in with
// LOGIN, PLAIN and the LOGIN mechanism, as imaplib and mail clients do.
// AuthenticateBest ("the strongest mechanism that the server offers and
// the credentials ... allow") picks SCRAM-SHA-256, whose PRECIS
// OpaqueString preparation refuses U+FE0F (a default-ignorable code
// point; so are ZWJ emoji sequences and characters newer than Unicode
// 15), so the exchange is cancelled and AuthenticateBest fails without
// trying PLAIN, which Dovecot offers and which would have worked. The CLI
// logs in with AuthenticateBest: such a user cannot log in with imapkit.
func TestBestEmojiPassword(t *testing.T) {
	srv := testserver.StartT(t, nil)
	const user, pass = "zzheart", "I\u2764\ufe0fmail"
	addPlainUser(t, srv, user, pass)

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

// TestChooseSkipsUnpreparableSCRAM: Choose passes over SCRAM when
// PRECIS refuses the password or the username, and still picks it for a
// password it accepts.
func TestChooseSkipsUnpreparableSCRAM(t *testing.T) {
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

// TestBestPasswordPRECISChanges: 0323ea5 made Choose skip SCRAM when
// PRECIS OpaqueString refuses the password, but not when it accepts and
// changes it. OpaqueString maps a non-ASCII space (U+00A0, typed with
// Option-Space on a Mac) to an ASCII space and normalises to NFC; a server
// whose SCRAM keys come from the password as stored (Dovecot) then refuses
// the proof, while PLAIN and LOGIN, which it also offers, log in with the
// same password. AuthenticateBest (and so the CLI) fails for such a user.
func TestBestPasswordPRECISChanges(t *testing.T) {
	srv := testserver.StartT(t, nil)
	passes := []string{"pass\u00a0word", "Cafe\u0301"}
	users := []string{"zznbsp", "zznfd"}
	for i := range passes {
		addPlainUser(t, srv, users[i], passes[i])
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
