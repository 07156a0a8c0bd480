package commands_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestReview40RListedRawNameNULError: names a hostile LIST gives in literals, now
// sent as listed without checkMailboxName (encodeMailbox looks the raw name
// up first). One with CR LF and a command after it goes as a literal: no
// injection (checked, passes). One with a NUL byte is still refused, but by
// the wire encoder (wire.ErrNUL in an *EncodeError), not with an error
// wrapping ErrMailboxName as encodeMailbox's and ErrMailboxName's docs say
// and as before dd82aa3.
func TestReview40RListedRawNameNULError(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1", func(cmd r38Cmd) string {
		switch {
		case bytes.Contains(cmd.Raw, []byte(" LIST ")):
			return "* LIST () \"/\" {18}\r\nx\r\nZ9 DELETE INBOX\r\n" +
				"* LIST () \"/\" {3}\r\na\x00b\r\n" + cmd.Tag + " OK done\r\n"
		case bytes.Contains(cmd.Raw, []byte(" STATUS ")):
			return cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	l, err := c.List(ctx, "*", nil)
	if err != nil || len(l) != 2 {
		t.Fatalf("LIST: %v %+v", err, l)
	}
	// CR LF: the name goes as a literal, no command is injected.
	_, _ = c.Status(ctx, l[0].Name, commands.StatusMessages)
	for _, cmd := range f.commands() {
		if bytes.HasPrefix(cmd.Raw, []byte("Z9 ")) {
			t.Fatalf("a listed name injected a command: %q", f.commands())
		}
	}
	// NUL: refused before sending, but not as ErrMailboxName, which the
	// doc of encodeMailbox/ErrMailboxName promise for a name holding a NUL.
	_, err = c.Status(ctx, l[1].Name, commands.StatusMessages)
	if err == nil {
		t.Fatalf("Status(%q): sent", l[1].Name)
	}
	if !errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Status(%q), a listed name holding a NUL byte: %v; want an error wrapping ErrMailboxName", l[1].Name, err)
	}
}
