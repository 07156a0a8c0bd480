package commands_test

import (
	"testing"
)

// The tests of this file feed the ACL commands (RFC 4314) answers that
// name another mailbox than the one asked about: a quirky or hostile
// server's, or an unsolicited one (an ACL change notice). MyRights keeps
// only its mailbox's MYRIGHTS; GetACL and ListRights took whatever came.

// TestGetACLOtherMailboxNotTaken: GETACL INBOX answered with the ACL of
// "Other" besides INBOX's. ACLEntry carries no mailbox, so the entries of
// Other (bob with every right) came back as INBOX's: a caller granting or
// auditing INBOX saw rights no one has there.
func TestGetACLOtherMailboxNotTaken(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ACL", "GETACL",
		"* ACL Other bob lrswipkxtecda",
		"* ACL INBOX alice lr")
	got, err := c.GetACL(resCtx(t), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if e.Identifier == "bob" {
			t.Errorf("GetACL(INBOX) = %+v: holds bob's rights on Other", got)
		}
	}
	if len(got) != 1 || got[0].Identifier != "alice" || got[0].Rights != "lr" {
		t.Errorf("GetACL(INBOX) = %+v; want [{alice lr}]", got)
	}
}

// TestListRightsOtherMailboxNotTaken: LISTRIGHTS INBOX alice answered
// first with the LISTRIGHTS of another mailbox and identifier: ListRights
// returned that one (required "a" for bob on Other), not INBOX's for
// alice, which came second.
func TestListRightsOtherMailboxNotTaken(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ACL", "LISTRIGHTS",
		"* LISTRIGHTS Other bob a b c",
		"* LISTRIGHTS INBOX alice lr x")
	got, err := c.ListRights(resCtx(t), "INBOX", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Required != "lr" || len(got.Optional) != 1 || got.Optional[0] != "x" {
		t.Errorf("ListRights(INBOX, alice) = %+v; want Required lr, Optional [x] (INBOX's for alice)", got)
	}
}
