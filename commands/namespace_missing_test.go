package commands_test

import "testing"

// TestNamespaceWithoutAnswerMissing: NAMESPACE is answered with a
// NAMESPACE response, "* NAMESPACE NIL NIL NIL" when there are none (RFC
// 2342 section 5, RFC 9051 section 6.3.10: a REQUIRED untagged response).
// Namespace answered OK without one returned no namespaces, made up (no
// personal namespace: a caller building names from its prefix took ""),
// and no error; it is a *MissingError, as the package doc says.
func TestNamespaceWithoutAnswerMissing(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 NAMESPACE", "NAMESPACE")
	ns, err := c.Namespace(resCtx(t))
	wantMissing(t, "Namespace", err, "NAMESPACE")
	if ns != nil {
		t.Errorf("Namespace without an answer = %+v; want nil", ns)
	}
	c = resSelected(t, "IMAP4rev1 NAMESPACE", "NAMESPACE", "* NAMESPACE NIL NIL NIL")
	if ns, err := c.Namespace(resCtx(t)); err != nil || ns == nil {
		t.Errorf("Namespace answered \"* NAMESPACE NIL NIL NIL\" = %+v, %v; want none, no error", ns, err)
	}
}

// TestGetQuotaRootWithoutQuotaRootMissing: GETQUOTAROOT INBOX answered OK
// with no QUOTAROOT, or only another mailbox's, returned no roots and no
// error: "INBOX is under no quota" made up, the case GetACL refuses ("*
// ACL Other bob lr" alone). RFC 9208 (and RFC 2087) answer GETQUOTAROOT
// with a QUOTAROOT naming the mailbox, "* QUOTAROOT INBOX" for one under
// no root: without it, a *MissingError.
func TestGetQuotaRootWithoutQuotaRootMissing(t *testing.T) {
	for _, lines := range [][]string{nil, {"* QUOTAROOT Other r", "* QUOTA r (STORAGE 1 2)"}} {
		c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT", lines...)
		roots, qs, err := c.GetQuotaRoot(resCtx(t), "INBOX")
		wantMissing(t, "GetQuotaRoot(INBOX)", err, "QUOTAROOT")
		if roots != nil || qs != nil {
			t.Errorf("GetQuotaRoot(INBOX) answered %q = %q, %+v; want nil", lines, roots, qs)
		}
	}
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT", "* QUOTAROOT INBOX")
	if roots, _, err := c.GetQuotaRoot(resCtx(t), "INBOX"); err != nil || len(roots) != 0 {
		t.Errorf("GetQuotaRoot(INBOX) answered \"* QUOTAROOT INBOX\" = %q, %v; want no roots, no error", roots, err)
	}
}
