package commands_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
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

// TestGetQuotaSeveralQuotaResponsesMerged: GETQUOTA "" answered with
// the root's resources in several QUOTA responses (RFC 9208 does not say
// one): GetQuota returned the first (STORAGE alone) and lost MESSAGE
// without a word; GetQuotaRoot returned the root twice and SetQuota the
// first. The responses are merged into one Quota now, a resource named
// again taking the later values in its first place.
func TestGetQuotaSeveralQuotaResponsesMerged(t *testing.T) {
	lines := []string{
		`* QUOTA "" (STORAGE 1 2)`,
		`* QUOTA other (MAILBOX 9 9)`,
		`* QUOTA "" (MESSAGE 3 4)`,
		`* QUOTA "" (storage 5 6)`,
	}
	want := []commands.QuotaResource{{Name: "STORAGE", Usage: 5, Limit: 6}, {Name: "MESSAGE", Usage: 3, Limit: 4}}
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTA", lines...)
	q, err := c.GetQuota(resCtx(t), "")
	if err != nil || q.Root != "" || !slices.Equal(q.Resources, want) {
		t.Errorf("GetQuota(\"\") = %+v, %v; want root \"\" with %+v", q, err, want)
	}
	c = resSelected(t, "IMAP4rev1 QUOTA", "SETQUOTA", lines...)
	q, err = c.SetQuota(resCtx(t), "", map[string]uint64{"STORAGE": 6})
	if err != nil || q == nil || !slices.Equal(q.Resources, want) {
		t.Errorf("SetQuota(\"\") = %+v, %v; want root \"\" with %+v", q, err, want)
	}
	c = resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT", append([]string{`* QUOTAROOT INBOX ""`}, lines...)...)
	roots, qs, err := c.GetQuotaRoot(resCtx(t), "INBOX")
	if err != nil || len(roots) != 1 || len(qs) != 1 || !slices.Equal(qs[0].Resources, want) {
		t.Errorf("GetQuotaRoot(INBOX) = %q, %+v, %v; want one root \"\" with %+v", roots, qs, err, want)
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

// TestGetQuotaRootManyRootsLinear: GETQUOTAROOT INBOX answered with a
// QUOTAROOT of 120,000 roots (840 KB, one line under MaxLineLength) and
// 120,000 QUOTA responses of roots not among them (2.2 MB, within
// MaxResultBytes), then the QUOTA of one of INBOX's roots. GetQuotaRoot
// looked for each QUOTA's root in the list of roots, one by one: 1.4e10
// comparisons, a core for about a minute, for 3 MB sent. The roots are
// looked up in a set now.
//
// What is checked is the work: the roots each QUOTA's root is compared
// with (commands.OnQuotaRootCompares), one lookup per QUOTA response, not
// the CPU time (this test bounded it at 5 s, which a loaded machine could
// pass) nor the wall clock. Serial: it sets a package variable.
func TestGetQuotaRootManyRootsLinear(t *testing.T) {
	const n = 120000
	var root strings.Builder
	root.WriteString("* QUOTAROOT INBOX")
	for i := range n {
		fmt.Fprintf(&root, " r%06d", i)
	}
	lines := make([]string, 0, n+2)
	lines = append(lines, root.String())
	for i := range n {
		lines = append(lines, fmt.Sprintf("* QUOTA q%06d ()", i))
	}
	lines = append(lines, "* QUOTA r000007 (STORAGE 3 4)")
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT", lines...)
	var compares, quotaResponses int
	commands.OnQuotaRootCompares(t, func(k int) { compares += k; quotaResponses++ })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	roots, qs, err := c.GetQuotaRoot(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if quotaResponses != n+1 || compares > quotaResponses {
		t.Fatalf("GetQuotaRoot compared %d roots for %d QUOTA responses (want %d responses, one lookup each); matching the QUOTA responses to the roots must be linear in what the server sent", compares, quotaResponses, n+1)
	}
	if len(roots) != n || len(qs) != 1 || qs[0].Root != "r000007" || len(qs[0].Resources) != 1 || qs[0].Resources[0].Usage != 3 {
		t.Errorf("GetQuotaRoot(INBOX) = %d roots, %d quotas (first %+v); want %d roots, the QUOTA of r000007 alone", len(roots), len(qs), firstQuota(qs), n)
	}
}

// firstQuota returns qs[0], nil if there is none.
func firstQuota(qs []*commands.Quota) *commands.Quota {
	if len(qs) == 0 {
		return nil
	}
	return qs[0]
}

// TestGetQuotaResourceNamesUpperASCII: resource names are upper-cased in
// ASCII only, as SetQuota sends them: strings.ToUpper made a server's
// "\u017ftorage" (long s) "STORAGE", and the merge of a root's resources
// took its usage and limit for STORAGE's.
func TestGetQuotaResourceNamesUpperASCII(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTA", "* QUOTA \"\" (STORAGE 1 10 \u017ftorage 9 9)")
	q, err := c.GetQuota(resCtx(t), "")
	want := []commands.QuotaResource{{Name: "STORAGE", Usage: 1, Limit: 10}, {Name: "\u017fTORAGE", Usage: 9, Limit: 9}}
	if err != nil || q == nil || !slices.Equal(q.Resources, want) {
		t.Errorf("GetQuota(\"\") = %+v, %v; want %+v", q, err, want)
	}
}

// TestGetQuotaRootRootsOnce: a root the QUOTAROOT answer names twice (in
// one response, or in two of the mailbox) is one root, as its QUOTA
// responses make one Quota: GetQuotaRoot returned it as often as it was
// named, beside a single Quota.
func TestGetQuotaRootRootsOnce(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTAROOT",
		`* QUOTAROOT INBOX "" user`,
		`* QUOTAROOT INBOX user ""`,
		`* QUOTA "" (STORAGE 1 2)`,
		`* QUOTA user (MESSAGE 3 4)`)
	roots, qs, err := c.GetQuotaRoot(resCtx(t), "INBOX")
	if err != nil || !slices.Equal(roots, []string{"", "user"}) || len(qs) != 2 {
		t.Errorf("GetQuotaRoot(INBOX) = %q, %d quotas, %v; want the roots \"\" and user once each, and their 2 quotas", roots, len(qs), err)
	}
}

// TestGetQuotaManyResourcesLinear: a QUOTA naming a line's worth of
// resources (60,000), then another QUOTA of the same root naming them all
// again with other values (RFC 9208 sets no limit to either), is merged
// with one lookup per resource read: searching the resources kept for
// each would be 1.8*10^9 comparisons. The later values are taken, in the
// first places. Counted (OnQuotaResourceCompares), not timed.
func TestGetQuotaManyResourcesLinear(t *testing.T) {
	const n = 60000
	quota := func(usage int) string {
		var b strings.Builder
		b.WriteString(`* QUOTA "" (`)
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "R%06d %d %d", i, usage, 100)
		}
		b.WriteByte(')')
		return b.String()
	}
	c := resSelected(t, "IMAP4rev1 QUOTA", "GETQUOTA", quota(1), quota(2))
	var compares, lookups int
	commands.OnQuotaResourceCompares(t, func(k int) { compares += k; lookups++ })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q, err := c.GetQuota(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if lookups != 2*n || compares > lookups {
		t.Fatalf("GetQuota compared %d resources in %d lookups for 2 QUOTA responses of %d resources each (want %d lookups, one compare each): merging a root's resources must be linear in what the server sent",
			compares, lookups, n, 2*n)
	}
	if q == nil {
		t.Fatal("GetQuota(\"\"): no quota")
	}
	if len(q.Resources) != n || q.Resources[0] != (commands.QuotaResource{Name: "R000000", Usage: 2, Limit: 100}) ||
		q.Resources[n-1].Name != fmt.Sprintf("R%06d", n-1) || q.Resources[n-1].Usage != 2 {
		t.Errorf("GetQuota(\"\"): %d resources, first %+v; want %d, the later values in the first places", len(q.Resources), q.Resources[0], n)
	}
}
