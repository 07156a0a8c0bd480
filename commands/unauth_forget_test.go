package commands_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestUnauthenticateForgetsKeptResponses: UNAUTHENTICATE (RFC 8437)
// ends one user's session so that the connection serves another (a
// pool, a proxy). What the session kept for Session.Responses
// (imaplib's response(code)) from the first user's commands, an ALERT
// naming their mailbox, the EXISTS of their INBOX, is still handed out
// after it, to whoever logs in next: a transition to NONAUTH clears
// the selection and what ENABLE turned on (session/read.go transition,
// case ToNonAuth) but not the kept responses, as a SELECT does
// (session/write.go, clearStoreLocked).
func TestUnauthenticateForgetsKeptResponses(t *testing.T) {
	c, srv, ctx := zzSelected(t, "UNAUTHENTICATE")
	srv.extra = func(cmd string) []string {
		if strings.Contains(cmd, " NOOP") {
			return []string{"* OK [ALERT] alice: your mailbox alice-private is 98% full"}
		}
		return nil
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Unauthenticate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ALERT", "OK", "EXISTS"} {
		if rs := c.Session().Responses(name); len(rs) > 0 {
			var l []string
			for _, r := range rs {
				l = append(l, fmt.Sprintf("%+v", r))
			}
			t.Errorf("Responses(%q) after UNAUTHENTICATE: %s; want the previous user's forgotten", name, strings.Join(l, "; "))
		}
	}
}

// TestUnauthenticateForgetsListedNames: a name the previous user's LIST
// gave that does not encode back (Latin-1 bytes, sent back as listed:
// rawNames) is not remembered for the next user: after UNAUTHENTICATE
// the Client refuses it as it refuses any such name a caller makes up
// (ErrMailboxName), before anything is sent, where it sent the previous
// user's bytes before.
func TestUnauthenticateForgetsListedNames(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1 UNAUTHENTICATE", func(cmd rawCmd) string {
		if bytes.Contains(cmd.Raw, []byte(" LIST ")) {
			return "* LIST () \"/\" {4}\r\nCaf\xe9\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	l, err := c.List(ctx, "*", nil)
	if err != nil || len(l) != 1 {
		t.Fatalf("LIST: %v %v", err, l)
	}
	if err := c.Unauthenticate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, "bob", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx, l[0].Name, commands.StatusMessages); !errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Status(%q) after UNAUTHENTICATE and another LOGIN: %v; want ErrMailboxName (the previous user's listed name forgotten)", l[0].Name, err)
	}
}
