package commands_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestUnauthenticateForgetsListedNamesWhenContextEnds: Unauthenticate
// forgets the previous user's listed raw names (rawNames) only when it
// returns nil (commands/misc.go, Unauthenticate). When its context ends
// after UNAUTHENTICATE was sent, the server still runs it and answers OK:
// the session goes to NONAUTH (transition, which also clears what ENABLE
// turned on and the kept responses), yet the Client keeps the names, and
// after the next user's LOGIN a Status on the previous user's name sends
// their listed bytes where it refuses the name (ErrMailboxName) after an
// Unauthenticate that returned nil. The same happens with
// Do(ctx, "UNAUTHENTICATE", nil), the escape hatch. Defaults; no timing:
// the server answers only once Unauthenticate has returned.
func TestUnauthenticateForgetsListedNamesWhenContextEnds(t *testing.T) {
	uctx, ucancel := context.WithCancel(context.Background())
	defer ucancel()
	returned := make(chan struct{})
	c, ctx, _ := rawClient(t, "IMAP4rev1 UNAUTHENTICATE", func(cmd rawCmd) string {
		switch {
		case bytes.Contains(cmd.Raw, []byte(" LIST ")):
			return "* LIST () \"/\" {4}\r\nCaf\xe9\r\n" + cmd.Tag + " OK done\r\n"
		case bytes.Contains(cmd.Raw, []byte(" UNAUTHENTICATE")):
			ucancel()
			<-returned
		}
		return ""
	})
	l, err := c.List(ctx, "*", nil)
	if err != nil || len(l) != 1 {
		t.Fatalf("LIST: %v %v", err, l)
	}
	err = c.Unauthenticate(uctx)
	close(returned)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Unauthenticate: %v; want context.Canceled", err)
	}
	// LOGIN waits for UNAUTHENTICATE (both run alone) and needs NONAUTH:
	// it succeeding shows the server's OK was taken.
	if err := c.Login(ctx, "bob", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx, l[0].Name, commands.StatusMessages); !errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Status(%q) after an UNAUTHENTICATE whose context ended (the server answered OK) and another LOGIN: %v; want ErrMailboxName (the previous user's listed name forgotten, as after an Unauthenticate returning nil)", l[0].Name, err)
	}
}

// TestDoUnauthenticateForgetsListedNames: UNAUTHENTICATE sent through the
// escape hatch (Do) forgets the previous user's listed raw names as
// Unauthenticate does: the forget follows the session's NONAUTH
// transition, not the typed call.
func TestDoUnauthenticateForgetsListedNames(t *testing.T) {
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
	if _, err := c.Do(ctx, "UNAUTHENTICATE", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, "bob", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx, l[0].Name, commands.StatusMessages); !errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Status(%q) after Do(UNAUTHENTICATE) and another LOGIN: %v; want ErrMailboxName", l[0].Name, err)
	}
}
