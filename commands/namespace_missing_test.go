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
// with only another mailbox's QUOTAROOT returned no roots and no error:
// "INBOX is under no quota" made up, the case GetACL refuses ("* ACL
// Other bob lr" alone): now a *MissingError. With no QUOTAROOT at all it
// is no roots, no error: Dovecot 2.3 answers so for a mailbox under no
// quota ("OK No quota."; TestAttributionDovecot), where RFC 9208 would
// send "* QUOTAROOT INBOX".
func TestGetQuotaRootWithoutQuotaRootMissing(t *testing.T) {
	for _, lines := range [][]string{{"* QUOTAROOT Other r", "* QUOTA r (STORAGE 1 2)"}, {"* QUOTAROOT inbox.x r"}} {
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
	// Dovecot 2.3 answers a GETQUOTAROOT of a mailbox under no quota with
	// the tagged OK alone ("OK No quota."): no roots, no error.
	c = resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT")
	if roots, qs, err := c.GetQuotaRoot(resCtx(t), "INBOX"); err != nil || roots != nil || qs != nil {
		t.Errorf("GetQuotaRoot(INBOX) answered with the tagged OK alone (Dovecot's \"OK No quota.\") = %q, %+v, %v; want no roots, no error", roots, qs, err)
	}
}
