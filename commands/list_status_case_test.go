package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestListStatusOtherCaseMailboxNotMerged: LIST-STATUS on a server whose
// delimiter is "/" (Cyrus 3.6 with unixhierarchysep): "INBOX.x" and
// "inbox.x" are two top-level mailboxes (only INBOX itself is case
// insensitive, RFC 9051 section 5.1). A NOTIFY STATUS event of inbox.x
// coming after INBOX.x's STATUS was merged into INBOX.x's Status (99
// messages instead of 1), and a MYRIGHTS of inbox.x likewise: listOnce
// matches with codec.SameMailbox, whose doc says it is not for routing
// ("inbox.x" and "INBOX.x" are the same to it whatever the delimiter);
// the session routes STATUS with codec.ExactMailbox for this reason
// (TestStatusOtherMailboxNotTaken's cousin).
func TestListStatusOtherCaseMailboxNotMerged(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 LIST-EXTENDED LIST-STATUS NOTIFY", "LIST",
		`* LIST () "/" INBOX.x`,
		`* STATUS INBOX.x (MESSAGES 1)`,
		`* STATUS inbox.x (MESSAGES 99)`)
	got, err := c.List(resCtx(t), "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Status == nil {
		t.Fatalf("List = %+v; want INBOX.x with its STATUS", got)
	}
	if m := got[0].Status.Messages; m != 1 {
		t.Errorf("List: INBOX.x (delimiter \"/\") has Messages %d; want 1 (99 is inbox.x's, another mailbox)", m)
	}
}
