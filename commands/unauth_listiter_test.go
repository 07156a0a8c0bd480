package commands_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestUnauthenticateDuringListIterForgetsLaterNames: a ListIter loop whose
// body runs UNAUTHENTICATE (and the next user's LOGIN) after the first
// mailbox: the LIST's answer, read for the previous user, is still handed
// out, but its later names are the previous user's too, and must not be
// remembered (rawNames) under the new NONAUTH count (the third is read
// after the loop body ran for the first: a mailbox is handed out when the
// next one's LIST has come, which may bring its STATUS): after the loop,
// a Status on any listed name (Latin-1 bytes, which do not encode back)
// is refused (ErrMailboxName), before anything is sent, as any such
// name is for the new user.
func TestUnauthenticateDuringListIterForgetsLaterNames(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1 UNAUTHENTICATE", func(cmd rawCmd) string {
		if bytes.Contains(cmd.Raw, []byte(" LIST ")) {
			return "* LIST () \"/\" {4}\r\nCaf\xe9\r\n* LIST () \"/\" {3}\r\nTh\xe9\r\n* LIST () \"/\" {3}\r\nN\xe9e\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	var names []string
	for m, err := range c.ListIter(ctx, "*", nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.Name)
		if len(names) == 1 {
			if err := c.Unauthenticate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.Login(ctx, "bob", "pw"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(names) != 3 {
		t.Fatalf("ListIter: %q; want three mailboxes", names)
	}
	for _, name := range names {
		if _, err := c.Status(ctx, name, commands.StatusMessages); !errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("Status(%q) after a ListIter during which UNAUTHENTICATE and another LOGIN ran: %v; want ErrMailboxName (the previous user's listed name not remembered)", name, err)
		}
	}
}
