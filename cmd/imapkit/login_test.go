//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginEmojiPassword: the CLI logs in with AuthenticateBest; a
// Dovecot user whose password holds "❤️" (U+2764 U+FE0F) cannot log in:
// SCRAM-SHA-256 is chosen, its PRECIS preparation refuses U+FE0F, and no
// other mechanism is tried, though Dovecot offers PLAIN (which takes the
// password, as the library's own Authenticate(NewPlain(...)) shows).
// imapkit exits 3 with "the password cannot be prepared".
func TestLoginEmojiPassword(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	f, err := os.OpenFile(filepath.Join(srv.Dir, "users"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("zzheart:{PLAIN}I\u2764\ufe0fmail::::::\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "I\u2764\ufe0fmail")
	_, tls := urls(srv)
	url := strings.Replace(tls, "alice@", "zzheart@", 1)
	code, out, errs := runCLI(t, "", append([]string{"list", url}, cf...)...)
	if code != 0 || !strings.Contains(out, "INBOX") {
		t.Fatalf("imapkit list as a user whose password holds an emoji: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// The same password by --sasl PLAIN works.
	code, _, errs = runCLI(t, "", append([]string{"list", url, "--sasl", "PLAIN"}, cf...)...)
	if code != 0 {
		t.Fatalf("--sasl PLAIN: exit %d: %s", code, errs)
	}
}
