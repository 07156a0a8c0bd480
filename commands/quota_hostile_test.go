package commands_test

import (
	"testing"
)

// TestGetQuotaOtherRootNotTaken: GETQUOTA "" answered with the QUOTA of
// another root before the one asked for (an unsolicited QUOTA, RFC 9208
// lets a server send them). GetQuota returned the first QUOTA, whatever
// its root (Root "other", STORAGE 1 of 2), and dropped the answer to the
// question asked without an error.
func TestGetQuotaOtherRootNotTaken(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTA",
		`* QUOTA other (STORAGE 1 2)`,
		`* QUOTA "" (STORAGE 3 4)`)
	q, err := c.GetQuota(resCtx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if q.Root != "" || len(q.Resources) != 1 || q.Resources[0].Usage != 3 || q.Resources[0].Limit != 4 {
		t.Errorf("GetQuota(\"\") = %+v; want root \"\" with STORAGE 3 of 4", q)
	}
}

// TestGetQuotaRootOtherMailboxNotTaken: GETQUOTAROOT INBOX answered with
// the QUOTAROOT of another mailbox as well as INBOX's: GetQuotaRoot
// returned Other's root among INBOX's (roots [other-root user-root]), as
// GetACL takes another mailbox's ACL.
func TestGetQuotaRootOtherMailboxNotTaken(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT",
		`* QUOTAROOT Other other-root`,
		`* QUOTAROOT INBOX user-root`,
		`* QUOTA user-root (STORAGE 3 4)`)
	roots, _, err := c.GetQuotaRoot(resCtx(t), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || roots[0] != "user-root" {
		t.Errorf("GetQuotaRoot(INBOX) roots = %q; want [user-root]", roots)
	}
}
