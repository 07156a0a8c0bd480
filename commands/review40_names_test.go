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
	listedLatin1NameStatus(t, "IMAP4rev1")
}

// listedLatin1NameStatus lists "Caf\xe9" as raw 8-bit bytes from a fake
// server offering caps, asks for its STATUS by the listed Name, and fails
// unless the Client sends the name as listed and reads the answer.
func listedLatin1NameStatus(t *testing.T, caps string) {
	t.Helper()
	c, ctx, f := r38FakeClient(t, caps, func(cmd r38Cmd) string {
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
		t.Fatalf("Status(%q), a Name LIST gave: refused before sending (caps %s): %v", name, caps, err)
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

// TestReview40CRev2OnlyServerGetsModifiedUTF7: against a server that offers
// IMAP4rev2 and not IMAP4rev1, the session speaks IMAP4rev2 from the start
// (RFC 9051 section 6.1.1: "If IMAP4rev1 capability is not advertised, no
// capabilities, beyond the base IMAP4rev2 set ... are enabled without
// explicit client action"), and "in IMAP4rev2, mailbox names are encoded
// in Net-Unicode" (section 5.1); modified UTF-7 "is not required for
// IMAP4rev2-only clients and servers" (appendix A.1). The Client still
// encodes names in modified UTF-7 (it switches to UTF-8 only after an
// ENABLE that such a server need not answer with ENABLED IMAP4rev2), so
// Create("Grüße") makes a mailbox named "Gr&APwA3w-e" there, and
// Select("Grüße") does not open the "Grüße" the server lists.
func TestReview40CRev2OnlyServerGetsModifiedUTF7(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev2", nil)
	if v := c.Session().ProtocolVersion(); v != "IMAP4rev2" {
		t.Fatalf("ProtocolVersion %q", v)
	}
	if err := c.Create(ctx, "Grüße", nil); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range f.commands() {
		if bytes.Contains(cmd.Raw, []byte(" CREATE ")) && !bytes.Contains(cmd.Raw, []byte("Grüße")) {
			t.Fatalf("CREATE to an IMAP4rev2-only server sent %q: the name in modified UTF-7, not UTF-8", cmd.Raw)
		}
	}
}

// TestReview40CRev2OnlyNamesEveryWay: on an IMAP4rev2-only server the
// names a LIST gives are taken as UTF-8 ("&AOk-" is a name of its own, not
// "é"), STATUS and LIST-STATUS answers are matched to the names asked for,
// and APPEND does not use RFC 6855's UTF8 form, which needs ENABLE
// UTF8=ACCEPT, though the server offers it. When the capabilities later
// offer IMAP4rev1 too (CAPABILITY data), names go in modified UTF-7 again:
// such a server is IMAP4rev1 until ENABLE.
func TestReview40CRev2OnlyNamesEveryWay(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev2 UTF8=ACCEPT", func(cmd r38Cmd) string {
		switch {
		case bytes.Contains(cmd.Raw, []byte(" LIST ")):
			return "* LIST () \"/\" \"Grüße\"\r\n* STATUS \"Grüße\" (MESSAGES 4)\r\n" +
				"* LIST () \"/\" \"&AOk-\"\r\n* STATUS \"&AOk-\" (MESSAGES 5)\r\n" + cmd.Tag + " OK done\r\n"
		case bytes.Contains(cmd.Raw, []byte(" STATUS ")):
			return "* STATUS \"Grüße\" (MESSAGES 3)\r\n" + cmd.Tag + " OK done\r\n"
		case bytes.Contains(cmd.Raw, []byte(" NOOP")):
			return "* CAPABILITY IMAP4rev1 IMAP4rev2 UTF8=ACCEPT\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	if !c.Session().UTF8Enabled() || c.Session().Enabled("UTF8=ACCEPT") {
		t.Fatalf("UTF8Enabled %v, Enabled(UTF8=ACCEPT) %v; want true, false", c.Session().UTF8Enabled(), c.Session().Enabled("UTF8=ACCEPT"))
	}
	l, err := c.List(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages})
	if err != nil || len(l) != 2 || l[0].Name != "Grüße" || l[1].Name != "&AOk-" ||
		l[0].Status == nil || l[0].Status.Messages != 4 || l[1].Status == nil || l[1].Status.Messages != 5 {
		t.Fatalf("LIST-STATUS: %v %+v", err, l)
	}
	st, err := c.Status(ctx, "Grüße", commands.StatusMessages)
	if err != nil || st.Messages != 3 {
		t.Fatalf("STATUS: %v %+v", err, st)
	}
	if _, err := c.AppendBytes(ctx, "Grüße", []byte("Subject: x\r\n\r\nx\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Session().UTF8Enabled() {
		t.Fatal("UTF8Enabled with IMAP4rev1 offered and nothing enabled")
	}
	if err := c.Create(ctx, "Grüße2", nil); err != nil {
		t.Fatal(err)
	}
	var app, create []byte
	for _, cmd := range f.commands() {
		switch {
		case bytes.Contains(cmd.Raw, []byte(" APPEND ")):
			app = cmd.Raw
		case bytes.Contains(cmd.Raw, []byte(" CREATE ")):
			create = cmd.Raw
		}
	}
	if !bytes.Contains(app, []byte(` APPEND "Grüße" `)) || bytes.Contains(app, []byte("UTF8")) {
		t.Fatalf("APPEND sent %q; want the name in UTF-8, no UTF8 form", app)
	}
	if !bytes.Contains(create, []byte(" CREATE Gr&APwA3w-e2")) {
		t.Fatalf("CREATE after the capabilities offered IMAP4rev1 sent %q; want modified UTF-7", create)
	}
}
