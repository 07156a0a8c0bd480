package commands_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestReview39ZMoveSplitExpungePartlyDone: Move's fallback whose long UID EXPUNGE
// went in two parts, the first done (the server expunged UID 1, OK), the
// second refused (NO [INUSE]): the MoveIncompleteError says "messages
// copied but not removed from the source", Unknown false, and lists UID 1
// as "left flagged \Deleted in the source", while UID 1 is gone from the
// source. By its doc ("the messages are in both mailboxes, unless
// Unknown"), a caller that rolls the move back by expunging the copies
// (UID 101 in Archive) loses message 1 for good: the mistake 750e28c and
// 060e93a fixed for a lost answer, left for a part that succeeded.
func TestReview39ZMoveSplitExpungePartlyDone(t *testing.T) {
	answer := func(c r38Cmd) string {
		switch {
		case bytes.Contains(c.Raw, []byte(" SELECT ")):
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n" + c.Tag + " OK [READ-WRITE] ok\r\n"
		case bytes.Contains(c.Raw, []byte(" UID SEARCH ")):
			return "* SEARCH 1 3\r\n" + c.Tag + " OK done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID COPY 1 ")):
			return c.Tag + " OK [COPYUID 9 1 101] done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID COPY 3 ")):
			return c.Tag + " OK [COPYUID 9 3 103] done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID EXPUNGE 1")):
			return "* 1 EXPUNGE\r\n" + c.Tag + " OK expunged\r\n"
		case bytes.Contains(c.Raw, []byte(" UID EXPUNGE 3")):
			return c.Tag + " NO [INUSE] try again\r\n"
		}
		return c.Tag + " OK done\r\n"
	}
	c, ctx, _ := r38FakeClient(t, "IMAP4rev1 UIDPLUS", answer)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	c.SetMaxSetLength(1) // parts "1" and "3"
	_, err := c.Move(ctx, commands.UIDs(1, 3), "Archive")
	t.Logf("Move: %v", err)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Fatalf("want a *MoveIncompleteError, got %v", err)
	}
	if !mi.Unknown && mi.Deleted.Nums.Contains(1) {
		t.Errorf("UID 1 was expunged (its UID EXPUNGE part said OK), yet the error says it is left in the source: Unknown=%v Expunged=%v Deleted=%v: %q", mi.Unknown, mi.Expunged, mi.Deleted.Nums.String(), mi.Error())
	}
	if !mi.Unknown && strings.Contains(mi.Error(), "not removed from the source") {
		t.Errorf("the error says the messages were not removed from the source, yet UID 1 was: %q", mi.Error())
	}
}
