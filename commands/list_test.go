package commands_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestFetchGmailAttributes: FetchItems.Raw's own example is
// "X-GM-LABELS". Gmail answers with X-GM-LABELS, X-GM-MSGID and
// X-GM-THRID; the codec decodes all three (codec.Fetch.GmailLabels,
// GmailMsgID, GmailThreadID), so they are not in Message.Unknown, and
// Message has no field for them: the caller sees Has(FetchGmailLabels)
// true and no labels anywhere. Same for SAVEDATE (RFC 8514).
func TestFetchGmailAttributes(t *testing.T) {
	c, ctx := zqClient(t, "IMAP4rev1 X-GM-EXT-1", map[string]string{
		"UID FETCH": `* 1 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\Important "[Gmail]/Sent Mail" Work) UID 4 SAVEDATE "10-Jul-2026 06:02:11 +0000")` + "\r\n",
	})
	ms, err := c.FetchAll(ctx, commands.UIDs(4), &commands.FetchItems{UID: true, Raw: "X-GM-LABELS X-GM-MSGID X-GM-THRID SAVEDATE"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("FetchAll: %d messages, %v", len(ms), err)
	}
	m := ms[0]
	if !m.Has(codec.FetchGmailLabels) || !m.Has(codec.FetchGmailMsgID) || !m.Has(codec.FetchGmailThreadID) || !m.Has(codec.FetchSaveDate) {
		t.Fatalf("Items %b: the attributes are not even marked", m.Items)
	}
	// Wherever a fix puts them (new fields, Unknown), the values must be
	// somewhere in the Message.
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Work", "[Gmail]/Sent Mail", "Important", "1278455344230334865", "1266894439832287888", "10-Jul-2026|2026-07-10"} {
		found := false
		for _, w := range strings.Split(want, "|") {
			found = found || strings.Contains(string(js), w)
		}
		if !found {
			t.Errorf("the message says it has X-GM-LABELS, X-GM-MSGID, X-GM-THRID and SAVEDATE (Items %b), yet %q is nowhere in it: %s", m.Items, want, js)
		}
	}
}

// TestListedNameReachable: servers that do not encode mailbox names
// in modified UTF-7 (an unescaped "&" as in "R&D", raw UTF-8 without
// UTF8=ACCEPT; codec.DecodeMailboxLenient's own examples) list names that
// MailboxInfo.Name decodes leniently; passing that Name back to Select
// (or Status, Delete, ... and `imapkit copy`, which selects each listed
// name) re-encodes it into another name: "R&-D", "Tom &- Jerry". On such
// a server that is no mailbox (NO), or another one. The name the server
// listed must go back as it was listed.
func TestListedNameReachable(t *testing.T) {
	seen := make(chan string, 100)
	c, ctx := zqOpen(t, "* PREAUTH [CAPABILITY IMAP4rev1] fake", map[string]string{
		"LIST":   "* LIST (\\HasNoChildren) \"/\" \"R&D\"\r\n* LIST (\\HasNoChildren) \"/\" \"Tom & Jerry\"\r\n",
		"SELECT": "* 0 EXISTS\r\n",
	}, seen)
	boxes, err := c.List(ctx, "*", nil)
	if err != nil || len(boxes) != 2 {
		t.Fatalf("List: %v, %d", err, len(boxes))
	}
	for _, b := range boxes {
		if _, err := c.Select(ctx, b.Name, nil); err != nil {
			t.Fatalf("Select(%q): %v", b.Name, err)
		}
	}
	var selects []string
	for len(selects) < 2 {
		select {
		case l := <-seen:
			if strings.Contains(l, " SELECT ") {
				selects = append(selects, l)
			}
		case <-ctx.Done():
			t.Fatal("no SELECT seen")
		}
	}
	for i, b := range boxes {
		if want := string(b.Raw); !strings.Contains(selects[i], " "+want+"\r\n") && !strings.Contains(selects[i], ` "`+want+`"`) {
			t.Errorf("LIST gave %q (Name %q); Select(Name) sent %q: a name the server never listed", want, b.Name, selects[i])
		}
	}
}

// TestListOneBadLineKeepsOthers: one LIST line the codec cannot decode
// (here a delimiter sent as the quoted string "NIL", reported of Courier
// and SmarterMail; the codec takes NIL and "" for "no delimiter" but
// refuses a delimiter of three characters) makes List return no mailbox
// at all: every well-formed mailbox of the answer is dropped with it
// (commands/list.go: List returns nil on any error but
// ResultTooLargeError), where FetchAll keeps the messages it decoded and
// returns them with the error. `imapkit copy` and `list` then see an
// account with no mailbox but an error. The session survives.
func TestListOneBadLineKeepsOthers(t *testing.T) {
	c, ctx := zqOpen(t, "* PREAUTH [CAPABILITY IMAP4rev1] fake", map[string]string{
		"LIST": "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren) \"NIL\" \"Archive\"\r\n* LIST (\\HasNoChildren) \"/\" Sent\r\n",
	}, nil)
	boxes, err := c.List(ctx, "*", nil)
	names := map[string]bool{}
	for _, b := range boxes {
		names[b.Name] = true
	}
	if !names["INBOX"] || !names["Sent"] {
		t.Errorf("List returned %d mailboxes (%v), err %v: INBOX and Sent, well formed, are lost with the one odd line", len(boxes), names, err)
	}
	zqAlive(t, c, ctx)
}

// TestListPatternInvalidUTF8: a LIST or LSUB pattern or reference
// that is not valid UTF-8 went out with each bad byte as U+FFFD, so that
// List("Old\xff*") listed the mailboxes under "Old\uFFFD", names the caller
// never gave (and might then delete). Refused now, as mailbox arguments
// are (ErrMailboxName), before anything is sent; a NUL too.
func TestListPatternInvalidUTF8(t *testing.T) {
	c, srv, ctx := zzClient(t, "LIST-EXTENDED", true)
	calls := map[string]func() error{
		`List("Old\xff*")`: func() error { _, err := c.List(ctx, "Old\xff*", nil); return err },
		`List(reference "a\xc3")`: func() error {
			_, err := c.List(ctx, "*", &commands.ListOptions{Reference: "a\xc3"})
			return err
		},
		`List(Patterns "b\xfe%")`: func() error {
			_, err := c.List(ctx, "*", &commands.ListOptions{Patterns: []string{"b\xfe%"}})
			return err
		},
		`List("a\x00*")`:        func() error { _, err := c.List(ctx, "a\x00*", nil); return err },
		`LSub("x", "Old\xff*")`: func() error { _, err := c.LSub(ctx, "x", "Old\xff*"); return err },
		`LSub("\xff", "*")`:     func() error { _, err := c.LSub(ctx, "\xff", "*"); return err },
	}
	for what, call := range calls {
		zzRefused(t, srv, what, call)
		if err := call(); !errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("%s: %v; want ErrMailboxName", what, err)
		}
	}
	// Valid names still go: wildcards, non-ASCII in modified UTF-7.
	n := len(srv.sent())
	if _, err := c.List(ctx, "Grüße/%", &commands.ListOptions{Reference: ""}); err != nil {
		t.Fatalf("List(Grüße/%%): %v", err)
	}
	if l := srv.since(n); len(l) != 1 || !strings.HasSuffix(l[0], " LIST \"\" \"Gr&APwA3w-e/%\"\r\n") {
		t.Errorf("sent %q", l)
	}
}
