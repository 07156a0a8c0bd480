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
// the response. The empty answer is still the empty result. SEARCH is the
// exception: answered with no search response at all, it is the empty
// result (iCloud's quirk); with only another command's ESEARCH, missing.

// wantMissing fails t unless err is a *commands.MissingError for response.
func wantMissing(t *testing.T, what string, err error, response string) {
	t.Helper()
	var miss *commands.MissingError
	if !errors.As(err, &miss) || miss.Response != response {
		t.Errorf("%s answered OK without %s: error %v; want a *MissingError for %s", what, response, err, response)
	}
}

// TestSearchOnlyAnotherESearchMissing: a SEARCH answered OK with no
// search response at all is the empty result (iCloud's quirk:
// TestSearchEmptyAnswerICloudNotRefused), but one answered with an
// ESEARCH that is not its own (tagged for another command, or untagged
// with the other kind of numbers) and none of its own ends with a
// *MissingError, in either form (plain, or ESEARCH's) and in SearchIter
// too: its own answer may be the one misdirected.
func TestSearchOnlyAnotherESearchMissing(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1", "IMAP4rev1 ESEARCH"} {
		response := "SEARCH"
		if caps != "IMAP4rev1" {
			response = "ESEARCH"
		}
		for _, name := range []string{"SEARCH", "UID SEARCH"} {
			opts := &commands.SearchOptions{UID: name == "UID SEARCH"}
			otherKind := "* ESEARCH UID ALL 100:103"
			if opts.UID {
				otherKind = "* ESEARCH ALL 1:3"
			}
			for _, line := range []string{`* ESEARCH (TAG "ZZZ") ALL 1:3`, otherKind} {
				what := caps + ": " + name + " answered " + line
				c := resSelected(t, caps, name, line)
				res, err := c.Search(resCtx(t), nil, opts)
				wantMissing(t, "Search "+what, err, response)
				if res != nil {
					t.Errorf("Search %s = %+v; want nil", what, res)
				}
				c = resSelected(t, caps, name, line)
				var iterErr error
				for n, err := range c.SearchIter(resCtx(t), nil, opts) {
					if n != 0 {
						t.Errorf("SearchIter %s yielded %d", what, n)
					}
					iterErr = err
				}
				wantMissing(t, "SearchIter "+what, iterErr, response)
			}
		}
		c := resSelected(t, caps, "SEARCH", "* SEARCH")
		res, err := c.Search(resCtx(t), nil, nil)
		if err != nil || res == nil || res.Count != 0 {
			t.Errorf("%s: Search answered \"* SEARCH\" = %+v, %v; want the empty result", caps, res, err)
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

// TestIDWithoutIDResponseMissing: ID answered OK with no "* ID" (RFC 2971
// section 3.2: the server MUST send one, NIL when it has nothing to say)
// returned nil, nil, which a caller could not tell from "* ID NIL". Both
// ID and IDFields end with a *MissingError; "* ID NIL" is still nil, no
// error.
func TestIDWithoutIDResponseMissing(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ID", "ID")
	m, err := c.ID(resCtx(t), nil)
	wantMissing(t, "ID", err, "ID")
	if m != nil {
		t.Errorf("ID without an answer = %v; want nil", m)
	}
	c = resSelected(t, "IMAP4rev1 ID", "ID")
	fields, err := c.IDFields(resCtx(t), map[string]string{"name": "imapkit"})
	wantMissing(t, "IDFields", err, "ID")
	if fields != nil {
		t.Errorf("IDFields without an answer = %v; want nil", fields)
	}
	c = resSelected(t, "IMAP4rev1 ID", "ID", "* ID NIL")
	if m, err := c.ID(resCtx(t), nil); err != nil || m != nil {
		t.Errorf("ID answered \"* ID NIL\" = %v, %v; want nil, no error", m, err)
	}
}
