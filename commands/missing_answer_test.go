package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// The tests of this file answer a command OK without the untagged
// response its RFC requires even when there is nothing to say ("* SEARCH",
// "* SORT", "* THREAD", "* ACL INBOX"): the typed result is not made up
// ("nothing matches"), the call ends with a *commands.MissingError naming
// the response. The empty answer is still the empty result.

// wantMissing fails t unless err is a *commands.MissingError for response.
func wantMissing(t *testing.T, what string, err error, response string) {
	t.Helper()
	var miss *commands.MissingError
	if !errors.As(err, &miss) || miss.Response != response {
		t.Errorf("%s answered OK without %s: error %v; want a *MissingError for %s", what, response, err, response)
	}
}

// TestSearchWithoutSearchResponseMissing: a plain SEARCH (no ESEARCH)
// answered OK with no "* SEARCH" was taken for "nothing matches".
func TestSearchWithoutSearchResponseMissing(t *testing.T) {
	for _, name := range []string{"SEARCH", "UID SEARCH"} {
		opts := &commands.SearchOptions{UID: name == "UID SEARCH"}
		c := resSelected(t, "IMAP4rev1", name)
		res, err := c.Search(resCtx(t), nil, opts)
		wantMissing(t, "Search "+name, err, "SEARCH")
		if res != nil {
			t.Errorf("Search %s without an answer = %+v; want nil", name, res)
		}
		c = resSelected(t, "IMAP4rev1", name)
		var iterErr error
		for _, err := range c.SearchIter(resCtx(t), nil, opts) {
			iterErr = err
		}
		wantMissing(t, "SearchIter "+name, iterErr, "SEARCH")

		c = resSelected(t, "IMAP4rev1", name, "* SEARCH")
		res, err = c.Search(resCtx(t), nil, opts)
		if err != nil || res == nil || res.Count != 0 {
			t.Errorf("Search %s answered \"* SEARCH\" = %+v, %v; want the empty result", name, res, err)
		}
	}
}

// TestSortWithoutSortResponseMissing: SORT answered OK with no "* SORT"
// (and no ESEARCH) was taken for "nothing matches".
func TestSortWithoutSortResponseMissing(t *testing.T) {
	keys := []commands.SortKey{{Key: "ARRIVAL"}}
	c := resSelected(t, "IMAP4rev1 SORT", "SORT")
	nums, err := c.Sort(resCtx(t), keys, nil, nil)
	wantMissing(t, "Sort", err, "SORT")
	if nums != nil {
		t.Errorf("Sort without an answer = %v; want nil", nums)
	}
	c = resSelected(t, "IMAP4rev1 SORT", "SORT")
	var iterErr error
	for _, err := range c.SortIter(resCtx(t), keys, nil, nil) {
		iterErr = err
	}
	wantMissing(t, "SortIter", iterErr, "SORT")

	c = resSelected(t, "IMAP4rev1 SORT", "SORT", "* SORT")
	if nums, err := c.Sort(resCtx(t), keys, nil, nil); err != nil || len(nums) != 0 {
		t.Errorf("Sort answered \"* SORT\" = %v, %v; want none, no error", nums, err)
	}
}

// TestThreadWithoutThreadResponseMissing: THREAD answered OK with no
// "* THREAD" was taken for "no threads".
func TestThreadWithoutThreadResponseMissing(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 THREAD=REFERENCES", "THREAD")
	threads, err := c.Thread(resCtx(t), "REFERENCES", nil, nil)
	wantMissing(t, "Thread", err, "THREAD")
	if threads != nil {
		t.Errorf("Thread without an answer = %v; want nil", threads)
	}
	c = resSelected(t, "IMAP4rev1 THREAD=REFERENCES", "THREAD", "* THREAD")
	if threads, err := c.Thread(resCtx(t), "REFERENCES", nil, nil); err != nil || len(threads) != 0 {
		t.Errorf("Thread answered \"* THREAD\" = %v, %v; want none, no error", threads, err)
	}
}

// TestGetACLWithoutACLResponseMissing: GETACL INBOX answered OK with no
// ACL, or only another mailbox's, returned an empty list: an ACL no one
// has rights in, made up.
func TestGetACLWithoutACLResponseMissing(t *testing.T) {
	for _, lines := range [][]string{nil, {"* ACL Other bob lr"}} {
		c := resSelected(t, "IMAP4rev1 ACL", "GETACL", lines...)
		got, err := c.GetACL(resCtx(t), "INBOX")
		wantMissing(t, "GetACL(INBOX)", err, "ACL")
		if got != nil {
			t.Errorf("GetACL(INBOX) answered %q = %+v; want nil", lines, got)
		}
	}
	c := resSelected(t, "IMAP4rev1 ACL", "GETACL", "* ACL INBOX")
	if got, err := c.GetACL(resCtx(t), "INBOX"); err != nil || len(got) != 0 {
		t.Errorf("GetACL(INBOX) answered \"* ACL INBOX\" = %+v, %v; want empty, no error", got, err)
	}
}
