package commands_test

import "testing"

// TestNamespaceWithoutAnswerMissing: the package doc now says "A command
// whose RFC requires its untagged answer even when there is nothing to
// say returns a *MissingError without it, never an empty result made
// up". NAMESPACE is answered with a NAMESPACE response, "* NAMESPACE NIL
// NIL NIL" when there are none (RFC 2342 section 5, RFC 9051 section
// 6.3.10: a REQUIRED untagged response), yet Namespace answered OK
// without one returns no namespaces, made up (no personal namespace: a
// caller building names from its prefix takes ""), and no error.
// GetQuotaRoot likewise returns no roots for a GETQUOTAROOT answered
// without its QUOTAROOT. Either the doc's rule is narrowed to the
// commands it lists, or these follow it.
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
