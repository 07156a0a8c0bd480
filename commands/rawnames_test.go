package commands_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/wire"
)

// TestMailboxNameInvalidUTF8: without UTF8=ACCEPT, a mailbox name
// that is not valid UTF-8 has each bad byte replaced by U+FFFD
// (codec.EncodeMailbox) and is sent without an error: Delete("Old\xff")
// deletes the mailbox "Old\uFFFD", another mailbox than the one asked
// for, and Create/Rename make a name the caller never gave.
func TestMailboxNameInvalidUTF8(t *testing.T) {
	c, srv, ctx := zzClient(t, "", true)
	zzRefused(t, srv, `Delete("Old\xff")`, func() error { return c.Delete(ctx, "Old\xff") })
	zzRefused(t, srv, `Create("a\xc3")`, func() error { return c.Create(ctx, "a\xc3", nil) })
	zzRefused(t, srv, `Rename("a", "b\xfe")`, func() error { return c.Rename(ctx, "a", "b\xfe") })
	// What goes for "Old\xff" is what names "Old\uFFFD".
	n := len(srv.sent())
	c.Delete(ctx, "Old\xff")
	c.Delete(ctx, "Old\uFFFD")
	if l := srv.since(n); len(l) == 2 && l[0][3:] == l[1][3:] {
		t.Errorf("Delete(%q) and Delete(%q) send the same name: %q", "Old\xff", "Old\uFFFD", l)
	}
}

// TestMailboxNameNUL: a NUL in a mailbox name is refused with
// wire.ErrNUL once UTF8=ACCEPT is on, but before (the default) it went
// out encoded as "&AAA-": the same call was an error or not depending on
// the session's mode. Now refused in both (ErrMailboxName and
// wire.ErrNUL). So are the other control characters a caller gives
// (RFC 9051 section 5.1; TestMailboxNameControlRefused has Dovecot's
// echo of one), but a mailbox another client made with one stays
// reachable through the Name a LIST gave ("a\r\nb" goes back as the
// server listed it, "a&AA0ACg-b").
func TestMailboxNameNUL(t *testing.T) {
	c, srv, ctx := zzClient(t, "", true)
	zzRefused(t, srv, `Create("a\x00b")`, func() error { return c.Create(ctx, "a\x00b", nil) })
	if err := c.Create(ctx, "a\x00b", nil); !errors.Is(err, commands.ErrMailboxName) || !errors.Is(err, wire.ErrNUL) {
		t.Errorf("Create(NUL): %v; want ErrMailboxName and wire.ErrNUL", err)
	}
	zzRefused(t, srv, `Create("a\r\nb")`, func() error { return c.Create(ctx, "a\r\nb", nil) })
	if err := c.Create(ctx, "a\r\nb", nil); !errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Create(CR LF): %v; want ErrMailboxName", err)
	}

	lc, lctx, rs := rawClient(t, "IMAP4rev1", func(cmd rawCmd) string {
		if bytes.Contains(cmd.Raw, []byte(" LIST ")) {
			return "* LIST () \"/\" a&AA0ACg-b\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	l, err := lc.List(lctx, "*", nil)
	if err != nil || len(l) != 1 || l[0].Name != "a\r\nb" {
		t.Fatalf("List: %v %v", l, err)
	}
	if _, err := lc.Status(lctx, l[0].Name, commands.StatusMessages); err != nil && errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Status of a listed name holding CR LF: %v", err)
	}
	cmds := rs.commands()
	if last := string(cmds[len(cmds)-1].Raw); !strings.Contains(last, "STATUS a&AA0ACg-b ") {
		t.Errorf("sent %q, want the name as listed", last)
	}
}

// TestRawNamesBoundedBytes: rawNames (commands/rawnames.go) bounds the
// NUMBER of remembered names (4,096) but not their bytes. A name in a
// LIST line can be as long as a line (1 MiB by default), so a hostile
// server answering one ListIter (which "keeps nothing and has no bound")
// with lines whose names do not round-trip makes the Client keep about
// 2 bytes per name byte (the decoded key and the raw value) for the life
// of the Client: 4,096 such names is about 8 GiB. Here 48 names of
// 1 MB are kept after the loop has dropped every MailboxInfo (16 now).
func TestRawNamesBoundedBytes(t *testing.T) {
	const n, size = 16, 1000 << 10 // 16 MB: under -race on a loaded machine 48 passed the fake client's 10 s
	pad := strings.Repeat("x", size)
	c, _, _ := rawClient(t, "IMAP4rev1", func(cmd rawCmd) string {
		if !bytes.Contains(cmd.Raw, []byte(" LIST ")) {
			return ""
		}
		// Sized once: fmt.Fprintf of 1 MB lines into a growing
		// strings.Builder (copied at each doubling) was a sixth of the
		// test's CPU under -race.
		var b strings.Builder
		b.Grow(n*(len(pad)+32) + 32)
		for i := range n {
			b.WriteString("* LIST () \"/\" \"R&D")
			b.WriteString(strconv.Itoa(i))
			b.WriteString(pad)
			b.WriteString("\"\r\n")
		}
		b.WriteString(cmd.Tag + " OK done\r\n")
		return b.String()
	})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := 0
	lctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // 16 MB under -race on a loaded machine
	defer cancel()
	for m, err := range c.ListIter(lctx, "*", nil) {
		if err != nil {
			t.Fatalf("ListIter: %v", err)
		}
		if len(m.Raw) > size {
			got++
		}
	}
	if got != n {
		t.Fatalf("listed %d long names, want %d", got, n)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(c)
	if kept > 8<<20 {
		t.Errorf("after a ListIter that kept nothing, the Client holds %d MiB more heap (%d names of %d KiB that do not round-trip, remembered by rawNames with no byte bound); 4,096 such names would be ~8 GiB", kept>>20, n, size>>10)
	}
	if err := c.Noop(lctx); err != nil {
		t.Fatal(err)
	}
}

// TestListedLatin1NameUsable: a server without UTF8=ACCEPT that lists
// a mailbox name in raw 8-bit bytes that are not UTF-8 (a Latin-1 "Café",
// as servers that store names as file names do) gives a MailboxInfo.Name
// that DecodeMailboxLenient passed through unchanged ("Caf\xe9"). The
// doc of MailboxInfo.Name says to pass it to the Client's commands as it
// is, and that the Client sends such a Name as the server listed it
// (rawNames). But every command refuses it before sending
// (ErrMailboxName: "not valid UTF-8"), so the mailbox cannot be
// selected, asked for its STATUS, copied or deleted at all; imapkit copy
// fails it at every run.
func TestListedLatin1NameUsable(t *testing.T) {
	listedLatin1NameStatus(t, "IMAP4rev1")
}

// listedLatin1NameStatus lists "Caf\xe9" as raw 8-bit bytes from a fake
// server offering caps, asks for its STATUS by the listed Name, and fails
// unless the Client sends the name as listed and reads the answer.
func listedLatin1NameStatus(t *testing.T, caps string) {
	t.Helper()
	c, ctx, f := rawClient(t, caps, func(cmd rawCmd) string {
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

// TestListedNULNameUsable: a name listed as "&AAA-" decodes to
// "\x00", which encodes back to "&AAA-" but which the commands refuse from
// a caller (a NUL): the Client remembers it as listed and sends it so. A
// name the caller makes up is still refused before anything is sent.
func TestListedNULNameUsable(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1", func(cmd rawCmd) string {
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

// TestRev2OnlyServerGetsUTF8Names: against a server that offers
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
func TestRev2OnlyServerGetsUTF8Names(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev2", nil)
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

// TestRev2OnlyNamesEveryWay: on an IMAP4rev2-only server the
// names a LIST gives are taken as UTF-8 ("&AOk-" is a name of its own, not
// "é"), STATUS and LIST-STATUS answers are matched to the names asked for,
// and APPEND does not use RFC 6855's UTF8 form, which needs ENABLE
// UTF8=ACCEPT, though the server offers it. When the capabilities later
// offer IMAP4rev1 too (CAPABILITY data), names go in modified UTF-7 again:
// such a server is IMAP4rev1 until ENABLE.
func TestRev2OnlyNamesEveryWay(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev2 UTF8=ACCEPT", func(cmd rawCmd) string {
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

// TestListedRawNameNULError: names a hostile LIST gives in literals, now
// sent as listed without checkMailboxName (encodeMailbox looks the raw name
// up first). One with CR LF and a command after it went as a literal: no
// injection (checked, passes; since TestListedNameControlBytesNotSent it
// is not sent at all). One with a NUL byte is still refused, but by
// the wire encoder (wire.ErrNUL in an *EncodeError), not with an error
// wrapping ErrMailboxName as encodeMailbox's and ErrMailboxName's docs say
// and as before dd82aa3.
func TestListedRawNameNULError(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1", func(cmd rawCmd) string {
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

// TestRev2OnlyListedLatin1Name: dd82aa3 made a listed Name that is not
// valid UTF-8 ("Caf\xe9", a server that stores names as file names) go
// back as listed, but only outside UTF-8 mode (encodeMailbox looks at
// rawNames only when !utf8, and listInfo notes raw names only then).
// 759b709 turned UTF-8 mode on from the start for a server offering
// IMAP4rev2 without IMAP4rev1: the same LIST answer now gives a Name that
// every command refuses with ErrMailboxName before sending, though
// MailboxInfo.Name's doc says to pass it to the commands as it is.
func TestRev2OnlyListedLatin1Name(t *testing.T) {
	listedLatin1NameStatus(t, "IMAP4rev2")
}

// TestListedNameControlBytesNotSent: a LIST that gives names holding raw
// C0 control bytes in literals ("a\r\nb", "a\tb"). The Client remembered
// them and sent each back as listed, a literal holding a raw CR LF or tab,
// while the same name typed by a caller, or given by STATUS or NOTIFY, or
// listed past rawNames' bounds, was refused with ErrMailboxName: which
// of the two a caller got hung on where the name came from. Such a name
// is refused now whatever its source, before anything is sent. A name the
// server lists in modified UTF-7 ("a&AAo-b", a line feed once decoded)
// has no control byte on the wire: it still goes back as listed. In
// UTF-8 mode (an IMAP4rev2-only server) the same.
func TestListedNameControlBytesNotSent(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1", "IMAP4rev2"} {
		c, ctx, f := rawClient(t, caps, func(cmd rawCmd) string {
			switch {
			case bytes.Contains(cmd.Raw, []byte(" LIST ")):
				return "* LIST () \"/\" {4}\r\na\r\nb\r\n* LIST () \"/\" {3}\r\na\tb\r\n* LIST () \"/\" \"a&AAo-b\"\r\n" + cmd.Tag + " OK done\r\n"
			case bytes.Contains(cmd.Raw, []byte(" STATUS ")):
				return cmd.Tag + " OK done\r\n"
			}
			return ""
		})
		l, err := c.List(ctx, "*", nil)
		if err != nil || len(l) != 3 {
			t.Fatalf("%s: LIST: %v %+v", caps, err, l)
		}
		for _, m := range l[:2] {
			_, err := c.Status(ctx, m.Name, commands.StatusMessages)
			if !errors.Is(err, commands.ErrMailboxName) || !strings.Contains(err.Error(), "control character") {
				t.Errorf("%s: Status(%q), a listed name with a raw control byte: %v; want ErrMailboxName naming the control character", caps, m.Name, err)
			}
		}
		for _, cmd := range f.commands() {
			if bytes.Contains(cmd.Raw, []byte(" STATUS ")) && (bytes.Contains(cmd.Raw, []byte("a\r\nb")) || bytes.Contains(cmd.Raw, []byte("a\tb"))) {
				t.Errorf("%s: a name with a raw control byte was sent: %q", caps, cmd.Raw)
			}
		}
		if caps == "IMAP4rev1" {
			if _, err := c.Status(ctx, l[2].Name, commands.StatusMessages); errors.Is(err, commands.ErrMailboxName) {
				t.Errorf("Status(%q), listed as \"a&AAo-b\": %v; want it sent as listed", l[2].Name, err)
			}
		}
	}
}

// TestUTF8NamesDecodingAlikeTwoMailboxes: in UTF-8 mode (UTF8=ACCEPT) "&"
// is a character of a name, and "R&D" and "R&-D" are two mailboxes, as
// the Client sends them. The session decoded the names it kept from
// modified UTF-7 in UTF-8 mode too, which made the two one: with "R&D"
// selected, the APPENDUID of an APPEND to "R&-D" was checked against
// "R&D"'s UIDVALIDITY and dropped (a zero result), and a DELETE of "R&-D"
// took the selected name (SelectedUIDValidity none), so that a stale
// APPENDUID to "R&D" itself was then returned as sent.
func TestUTF8NamesDecodingAlikeTwoMailboxes(t *testing.T) {
	c, ctx := scripted(t, "utf8/names_decoding_alike")
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "R&D", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.AppendBytes(ctx, "R&-D", []byte("x\r\n"), nil)
	if err != nil || *res != (commands.AppendResult{UIDValidity: 9, UID: 1}) {
		t.Errorf("APPEND to R&-D (another mailbox than the selected R&D) answered APPENDUID 9 1: %v, %+v; want it returned", err, res)
	}
	if err := c.Delete(ctx, "R&-D"); err != nil {
		t.Fatal(err)
	}
	if name, v, _, ok := c.Session().SelectedUIDValidity(); !ok || name != "R&D" || v != 5 {
		t.Errorf("after a DELETE of R&-D, SelectedUIDValidity %q %d %v; want R&D 5 (its name was not taken)", name, v, ok)
	}
	res, err = c.AppendBytes(ctx, "R&D", []byte("x\r\n"), nil)
	if err != nil || *res != (commands.AppendResult{}) {
		t.Errorf("APPEND to the selected R&D (UIDVALIDITY 5) answered APPENDUID 8 2: %v, %+v; want the stale APPENDUID dropped", err, res)
	}
}

// TestUTF8RenameParentOfSelectedListedInUTF7: in UTF-8 mode, a server
// that still writes names in modified UTF-7 answers the LIST "" Rename
// asks for the selected "Wörk/Inbox" with "W&APY-rk/Inbox". The session
// kept names as sent only, so the response named no selected mailbox,
// its delimiter was not learnt, and the RENAME of the parent "Wörk" was
// not known to take the selected name: SelectedUIDValidity still gave 5
// for it, against which an APPENDUID to a new "Wörk/Inbox" is checked.
func TestUTF8RenameParentOfSelectedListedInUTF7(t *testing.T) {
	c, ctx := scripted(t, "utf8/rename_parent_listed_in_utf7")
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "Wörk/Inbox", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, "Wörk", "Old"); err != nil {
		t.Fatal(err)
	}
	if name, v, _, ok := c.Session().SelectedUIDValidity(); ok {
		t.Errorf("after a RENAME of Wörk (listed as W&APY-rk), SelectedUIDValidity %q %d; want none (the name may be a new mailbox's)", name, v)
	}
}
