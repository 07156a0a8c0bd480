package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
)

// TestFetchGmailExtra: FetchItems' SaveDate and Gmail items are sent, and
// their values come in Message.Extra, under Borrow too; a Clone of a lent
// message keeps them after the iteration moved on (its labels, more than a
// MessageExtra holds inline, included), and a message without them has no
// Extra.
func TestFetchGmailExtra(t *testing.T) {
	seen := make(chan string, 100)
	c, ctx := zqOpen(t, "* PREAUTH [CAPABILITY IMAP4rev1 X-GM-EXT-1] fake", map[string]string{
		"SELECT": "* 3 EXISTS\r\n",
		"UID FETCH": "* 1 FETCH (UID 4 X-GM-MSGID 11 X-GM-THRID 12 X-GM-LABELS (\\Inbox a b c d \"e f\") SAVEDATE \"10-Jul-2026 06:02:11 +0000\")\r\n" +
			"* 2 FETCH (UID 5 X-GM-MSGID 21 X-GM-THRID 22 X-GM-LABELS (\\Sent) SAVEDATE NIL)\r\n" +
			"* 3 FETCH (UID 6)\r\n",
	}, seen)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var kept []*commands.Message
	for m, err := range c.Fetch(ctx, commands.UIDs(4, 5, 6), &commands.FetchItems{SaveDate: true, GmailMsgID: true, GmailThreadID: true, GmailLabels: true, Borrow: true}) {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, m.Clone())
	}
	sent := ""
	for len(seen) > 0 {
		if l := <-seen; strings.Contains(l, "UID FETCH") {
			sent = l
		}
	}
	if !strings.Contains(sent, "(SAVEDATE X-GM-MSGID X-GM-THRID X-GM-LABELS)") {
		t.Errorf("sent %q", sent)
	}
	if len(kept) != 3 {
		t.Fatalf("%d messages", len(kept))
	}
	x := kept[0].Extra
	if x == nil || x.GmailMsgID != 11 || x.GmailThreadID != 12 || strings.Join(x.GmailLabels, "|") != `\Inbox|a|b|c|d|e f` ||
		!x.SaveDate.Equal(time.Date(2026, 7, 10, 6, 2, 11, 0, time.UTC)) {
		t.Errorf("message 1: Extra %+v", x)
	}
	x = kept[1].Extra
	if x == nil || x.GmailMsgID != 21 || x.GmailThreadID != 22 || strings.Join(x.GmailLabels, "|") != `\Sent` || !x.SaveDate.IsZero() {
		t.Errorf("message 2: Extra %+v", x)
	}
	if kept[2].Extra != nil {
		t.Errorf("message 3: Extra %+v; want nil", kept[2].Extra)
	}
}
