package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestAnswerMatchingRealFormsDovecot: the answer matching of GetQuotaRoot
// and GetMetadata, and the ESEARCH checks of Search and ESort, against
// what Dovecot sends for legitimate requests in the forms a caller may
// spell them: "inbox" in lower case, an entry name in another case, a
// DEPTH infinity over a subtree, empty searches of both kinds.
func TestAnswerMatchingRealFormsDovecot(t *testing.T) {
	ctx := dvCtx(t)
	tiny := dvClient(t, testserver.TinyUser, nil)
	roots, qs, err := tiny.GetQuotaRoot(ctx, "inbox")
	if err != nil || len(roots) != 1 || len(qs) != 1 {
		t.Errorf("GetQuotaRoot(inbox) = %q %+v %v; want a root and its quota", roots, qs, err)
	}
	c := dvClient(t, testserver.Alice, nil)
	mb := dvMailbox(t, testserver.Alice, 2)
	if err := c.SetMetadata(ctx, mb, []commands.MetadataEntry{{Name: "/private/comment", Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		entry string
		depth int
	}{{"/private/Comment", 0}, {"/private", -1}, {"/PRIVATE", 1}} {
		md, _, err := c.GetMetadata(ctx, mb, []string{tc.entry}, &commands.MetadataOptions{Depth: tc.depth})
		if err != nil || len(md) != 1 {
			t.Errorf("GetMetadata(%s, DEPTH %d) = %+v, %v; want /private/comment", tc.entry, tc.depth, md, err)
		}
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	none := &commands.Criteria{Flags: []string{`\Flagged`}, NotFlags: []string{`\Flagged`}}
	for _, uid := range []bool{false, true} {
		res, err := c.Search(ctx, none, &commands.SearchOptions{UID: uid})
		if err != nil || !res.All.IsEmpty() {
			t.Errorf("Search (UID %v) matching nothing = %v, %v; want empty", uid, res, err)
		}
		es, err := c.ESort(ctx, []commands.SortKey{{Key: "DATE"}}, none, &commands.SearchOptions{UID: uid})
		if err != nil || !es.All.IsEmpty() {
			t.Errorf("ESort (UID %v) matching nothing = %v, %v; want empty", uid, es, err)
		}
		so, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE"}}, none, &commands.SearchOptions{UID: uid})
		if err != nil || len(so) != 0 {
			t.Errorf("Sort (UID %v) matching nothing = %v, %v; want empty", uid, so, err)
		}
	}
}

// TestAnswerMatchingRealFormsCyrus: as TestAnswerMatchingRealFormsDovecot,
// against Cyrus 3: "inbox" in lower case for GetQuotaRoot and MyRights, an
// entry name in another case, empty searches of both kinds.
func TestAnswerMatchingRealFormsCyrus(t *testing.T) {
	ctx := dvCtx(t)
	_, c := cyAlice(t)
	if _, _, err := c.GetQuotaRoot(ctx, "inbox"); err != nil {
		t.Errorf("GetQuotaRoot(inbox): %v", err)
	}
	if r, err := c.MyRights(ctx, "inbox"); err != nil || r == "" {
		t.Errorf("MyRights(inbox) = %q, %v", r, err)
	}
	if err := c.SetMetadata(ctx, "INBOX", []commands.MetadataEntry{{Name: "/private/comment", Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	for _, mb := range []string{"INBOX", "inbox"} {
		md, _, err := c.GetMetadata(ctx, mb, []string{"/private/Comment"}, nil)
		if err != nil || len(md) != 1 {
			t.Errorf("GetMetadata(%s, /private/Comment) = %+v, %v; want /private/comment", mb, md, err)
		}
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	none := &commands.Criteria{Flags: []string{`\Flagged`}, NotFlags: []string{`\Flagged`}}
	for _, uid := range []bool{false, true} {
		res, err := c.Search(ctx, none, &commands.SearchOptions{UID: uid})
		if err != nil || !res.All.IsEmpty() {
			t.Errorf("Search (UID %v) matching nothing = %v, %v; want empty", uid, res, err)
		}
		so, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE"}}, none, &commands.SearchOptions{UID: uid})
		if err != nil || len(so) != 0 {
			t.Errorf("Sort (UID %v) matching nothing = %v, %v; want empty", uid, so, err)
		}
	}
}
