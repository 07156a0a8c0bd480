package commands_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestReview41MRev2OnlyListedLatin1Name: dd82aa3 made a listed Name that is not
// valid UTF-8 ("Caf\xe9", a server that stores names as file names) go
// back as listed, but only outside UTF-8 mode (encodeMailbox looks at
// rawNames only when !utf8, and listInfo notes raw names only then).
// 759b709 turned UTF-8 mode on from the start for a server offering
// IMAP4rev2 without IMAP4rev1: the same LIST answer now gives a Name that
// every command refuses with ErrMailboxName before sending, though
// MailboxInfo.Name's doc says to pass it to the commands as it is.
func TestReview41MRev2OnlyListedLatin1Name(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev2", func(cmd r38Cmd) string {
		switch {
		case bytes.Contains(cmd.Raw, []byte(" LIST ")):
			return "* LIST () \"/\" {4}\r\nCaf\xe9\r\n" + cmd.Tag + " OK done\r\n"
		case bytes.Contains(cmd.Raw, []byte(" STATUS ")):
			return "* STATUS {4}\r\nCaf\xe9 (MESSAGES 3)\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	l, err := c.List(ctx, "*", nil)
	if err != nil || len(l) != 1 {
		t.Fatalf("LIST: %v %v", err, l)
	}
	name := l[0].Name
	st, err := c.Status(ctx, name, commands.StatusMessages)
	if errors.Is(err, commands.ErrMailboxName) {
		t.Fatalf("Status(%q), a Name LIST gave (IMAP4rev2-only server): refused before sending: %v", name, err)
	}
	if err != nil || st.Messages != 3 {
		t.Fatalf("Status(%q): %v %+v; sent %q", name, err, st, f.commands())
	}
}
