package commands_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestReview40BListedLatin1NameUnusable: a server without UTF8=ACCEPT that lists
// a mailbox name in raw 8-bit bytes that are not UTF-8 (a Latin-1 "Café",
// as servers that store names as file names do) gives a MailboxInfo.Name
// that DecodeMailboxLenient passed through unchanged ("Caf\xe9"). The
// doc of MailboxInfo.Name says to pass it to the Client's commands as it
// is, and that the Client sends such a Name as the server listed it
// (rawNames). But every command refuses it before sending
// (ErrMailboxName: "not valid UTF-8"), so the mailbox cannot be
// selected, asked for its STATUS, copied or deleted at all; imapkit copy
// fails it at every run.
func TestReview40BListedLatin1NameUnusable(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1", func(cmd r38Cmd) string {
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
		t.Fatalf("Status(%q), a Name LIST gave: refused before sending: %v", name, err)
	}
	if err != nil || st.Messages != 3 {
		t.Fatalf("Status(%q): %v %+v", name, err, st)
	}
	var sent bool
	for _, cmd := range f.commands() {
		if bytes.Contains(cmd.Raw, []byte(" STATUS ")) && bytes.Contains(cmd.Raw, []byte("Caf\xe9")) {
			sent = true
		}
	}
	if !sent {
		t.Fatalf("STATUS did not send the name as listed: %q", f.commands())
	}
}

// TestReview40BListedNULNameUsable: a name listed as "&AAA-" decodes to
// "\x00", which encodes back to "&AAA-" but which the commands refuse from
// a caller (a NUL): the Client remembers it as listed and sends it so. A
// name the caller makes up is still refused before anything is sent.
func TestReview40BListedNULNameUsable(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1", func(cmd r38Cmd) string {
		switch {
		case bytes.Contains(cmd.Raw, []byte(" LIST ")):
			return "* LIST () \"/\" \"&AAA-\"\r\n" + cmd.Tag + " OK done\r\n"
		case bytes.Contains(cmd.Raw, []byte(" STATUS ")):
			return "* STATUS \"&AAA-\" (MESSAGES 2)\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	l, err := c.List(ctx, "*", nil)
	if err != nil || len(l) != 1 || l[0].Name != "\x00" {
		t.Fatalf("LIST: %v %+v", err, l)
	}
	st, err := c.Status(ctx, l[0].Name, commands.StatusMessages)
	if err != nil || st.Messages != 2 {
		t.Fatalf("Status(%q): %v %+v", l[0].Name, err, st)
	}
	var sent bool
	for _, cmd := range f.commands() {
		if bytes.Contains(cmd.Raw, []byte(" STATUS &AAA- ")) || bytes.Contains(cmd.Raw, []byte(` STATUS "&AAA-" `)) {
			sent = true
		}
	}
	if !sent {
		t.Fatalf("STATUS did not send the name as listed: %q", f.commands())
	}
	for _, name := range []string{"Old\xff", "a\x00b"} {
		if _, err := c.Status(ctx, name, commands.StatusMessages); !errors.Is(err, commands.ErrMailboxName) {
			t.Fatalf("Status(%q), a name nobody listed: %v; want ErrMailboxName", name, err)
		}
	}
}
