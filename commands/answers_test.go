package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// The tests of this file give commands about one mailbox answers that
// name another one spelt alike: "inbox.x" beside "INBOX.x", two
// mailboxes on a server whose delimiter is "/" (only INBOX alone is case
// insensitive, RFC 9051 section 5.1). codec.SameMailbox calls them the
// same; the answer is the response that names the mailbox as sent, when
// there is one.

// TestMyRightsOtherCaseMailboxNotTaken: MYRIGHTS INBOX.x answered with
// inbox.x's rights first: MyRights returned them (lr), not INBOX.x's.
func TestMyRightsOtherCaseMailboxNotTaken(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ACL", "MYRIGHTS",
		"* MYRIGHTS inbox.x lr",
		"* MYRIGHTS INBOX.x lrswi")
	got, err := c.MyRights(resCtx(t), "INBOX.x")
	if err != nil {
		t.Fatal(err)
	}
	if got != "lrswi" {
		t.Errorf("MyRights(INBOX.x) = %q; want lrswi (lr is inbox.x's, another mailbox)", got)
	}
}

// TestMyRightsInboxHeadCaseTaken: MYRIGHTS inbox/x answered in the
// server's spelling, INBOX/x (Dovecot), and no other: that is the answer.
func TestMyRightsInboxHeadCaseTaken(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ACL", "MYRIGHTS", "* MYRIGHTS INBOX/x lr")
	got, err := c.MyRights(resCtx(t), "inbox/x")
	if err != nil || got != "lr" {
		t.Errorf("MyRights(inbox/x) = %q, %v; want lr (INBOX/x, the server's spelling)", got, err)
	}
}

// TestGetMetadataOtherCaseMailboxNotMerged: GETMETADATA INBOX.x answered
// with the entry of inbox.x as well as INBOX.x's: GetMetadata returned
// both, inbox.x's first.
func TestGetMetadataOtherCaseMailboxNotMerged(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 METADATA", "GETMETADATA",
		`* METADATA inbox.x (/private/comment "other")`,
		`* METADATA INBOX.x (/private/comment "mine")`)
	got, _, err := c.GetMetadata(resCtx(t), "INBOX.x", []string{"/private/comment"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].Value) != "mine" {
		t.Errorf("GetMetadata(INBOX.x) = %q; want the one entry \"mine\" (\"other\" is inbox.x's)", got)
	}
}

// TestGetMetadataDepthSubtreeKept: the entries within the asked DEPTH are
// the answer (RFC 5464 section 4.2.2), the entry names in the server's
// case: DEPTH 1 keeps an immediate child and drops a grandchild and an
// entry that only begins like the one asked for; infinity keeps the
// grandchild.
func TestGetMetadataDepthSubtreeKept(t *testing.T) {
	line := `* METADATA INBOX (/private/Comment "c" /private/comment/a "a" /private/comment/a/b "ab" /private/commentary "no")`
	for _, tc := range []struct {
		depth int
		want  []string
	}{
		{1, []string{"/private/Comment", "/private/comment/a"}},
		{-1, []string{"/private/Comment", "/private/comment/a", "/private/comment/a/b"}},
	} {
		c := resSelected(t, "IMAP4rev1 METADATA", "GETMETADATA", line)
		got, _, err := c.GetMetadata(resCtx(t), "INBOX", []string{"/private/comment"}, &commands.MetadataOptions{Depth: tc.depth})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got {
			names = append(names, e.Name)
		}
		if len(names) != len(tc.want) {
			t.Errorf("GetMetadata(/private/comment, DEPTH %d) = %q; want %q", tc.depth, names, tc.want)
			continue
		}
		for i := range names {
			if names[i] != tc.want[i] {
				t.Errorf("GetMetadata(/private/comment, DEPTH %d) = %q; want %q", tc.depth, names, tc.want)
				break
			}
		}
	}
}

// TestGetQuotaRootOtherRootQuotaNotTaken: GETQUOTAROOT INBOX answered
// with INBOX's root and its QUOTA, and the QUOTA of a root INBOX is not
// under (unsolicited, RFC 9208): the quotas are those of INBOX's roots.
func TestGetQuotaRootOtherRootQuotaNotTaken(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT",
		`* QUOTA other-root (STORAGE 1 2)`,
		`* QUOTAROOT INBOX user-root`,
		`* QUOTA user-root (STORAGE 3 4)`)
	roots, qs, err := c.GetQuotaRoot(resCtx(t), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || len(qs) != 1 || qs[0].Root != "user-root" {
		t.Errorf("GetQuotaRoot(INBOX) = %q, %+v; want [user-root] and its quota only", roots, qs)
	}
}

// TestIDLastAnswerWins: two ID responses, a list then NIL: the last is
// the answer, as documented. The NIL was skipped and the first list
// returned.
func TestIDLastAnswerWins(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ID", "ID", `* ID ("name" "first")`, `* ID NIL`)
	got, err := c.IDFields(resCtx(t), nil)
	if err != nil || got != nil {
		t.Errorf("IDFields after ID (...) then ID NIL = %+v, %v; want nil (the last, NIL)", got, err)
	}
}

// TestNamespaceLastAnswerWins: two NAMESPACE responses, and an extension
// named twice: the last of each is kept, as documented.
func TestNamespaceLastAnswerWins(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 NAMESPACE", "NAMESPACE",
		`* NAMESPACE (("A/" "/")) NIL NIL`,
		`* NAMESPACE (("B/" "/" "X" ("1") "X" ("2"))) NIL NIL`)
	ns, err := c.Namespace(resCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ns.Personal) != 1 || ns.Personal[0].Prefix != "B/" || ns.Personal[0].Extensions["X"] != `("2")` {
		t.Errorf("Namespace = %+v; want the last answer, B/ with X (\"2\")", ns.Personal)
	}
}

// TestListRightsIdentifierCase: LISTRIGHTS INBOX Alice answered for
// "alice" (a server that folds identifiers) and no other: that is the
// answer; one for the identifier as sent is preferred when both come.
func TestListRightsIdentifierCase(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ACL", "LISTRIGHTS",
		"* LISTRIGHTS INBOX alice lr x")
	got, err := c.ListRights(resCtx(t), "INBOX", "Alice")
	if err != nil || got.Required != "lr" {
		t.Errorf("ListRights(INBOX, Alice) = %+v, %v; want Required lr (alice's, the server's spelling)", got, err)
	}
	c = resSelected(t, "IMAP4rev1 ACL", "LISTRIGHTS",
		"* LISTRIGHTS INBOX alice lr x",
		"* LISTRIGHTS INBOX Alice l")
	got, err = c.ListRights(resCtx(t), "INBOX", "Alice")
	if err != nil || got.Required != "l" {
		t.Errorf("ListRights(INBOX, Alice) = %+v, %v; want Required l (Alice's, as sent)", got, err)
	}
}
