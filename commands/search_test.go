package commands_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/wire"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

// TestSearchCriteria checks the wire form of every key of Criteria.
func TestSearchCriteria(t *testing.T) {
	c, ctx := scripted(t, "search/criteria")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	set := commands.UIDs(1, 2, 3, 4, 5, 9, 0)
	set.UID = true
	res, err := c.Search(ctx, &commands.Criteria{
		Set:      &set,
		Flags:    []string{`\Seen`, "$Work"},
		NotFlags: []string{`\Deleted`, `\Recent`, "Junk"},
		Since:    day(2026, 1, 2), Before: day(2026, 2, 3), On: day(2026, 3, 4),
		SentSince: day(2026, 4, 5), SentBefore: day(2026, 5, 6), SentOn: day(2026, 6, 7),
		From: []string{"alice"}, To: []string{"b b"}, Cc: []string{"c"}, Bcc: []string{"d"},
		Subject: []string{`x"y`}, Body: []string{"body"}, Text: []string{"text"},
		Header: []commands.HeaderCriterion{{Name: "List-Id"}},
		Larger: 100, Smaller: 2000, ModSeq: 77, Younger: time.Hour, Older: time.Minute,
		EmailID: "M1", ThreadID: "T1", New: true, Old: true, Recent: true,
		Not: []commands.Criteria{{Flags: []string{`\Flagged`, `\Draft`}}},
		Or:  [][2]commands.Criteria{{{Flags: []string{`\Answered`}}, {}}},
		Raw: `X-GM-RAW "has:x"`,
	}, nil)
	if err != nil || res.All.String() != "1:2" || res.Count != 2 {
		t.Fatalf("SEARCH: %v %+v", err, res)
	}
	res, err = c.Search(ctx, &commands.Criteria{Subject: []string{"Grüße"}},
		&commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Min: true, Count: true, Save: true}})
	if err != nil || !res.FromESearch || res.Min != 4 || res.Count != 3 || !res.All.IsEmpty() {
		t.Fatalf("ESEARCH: %v %+v", err, res)
	}
	ms, err := c.FetchAll(ctx, commands.SavedUIDs(), &commands.FetchItems{Flags: true})
	if err != nil || len(ms) != 1 || ms[0].UID != 4 {
		t.Fatalf("FETCH $: %v %+v", err, ms)
	}
	nums, err := c.Sort(ctx, []commands.SortKey{{Key: "date", Reverse: true}, {Key: "SUBJECT"}}, nil, &commands.SearchOptions{UID: true})
	if err != nil || !slices.Equal(nums, []uint32{5, 3, 4}) {
		t.Fatalf("SORT: %v %v", err, nums)
	}
	th, err := c.Thread(ctx, "references", &commands.Criteria{From: []string{"bob"}}, nil)
	if err != nil || len(th) != 2 || th[0].Num != 1 || len(th[0].Children) != 2 || th[1].Num != 5 {
		t.Fatalf("THREAD: %v %+v", err, th)
	}
}

// TestSortModSeq: the MODSEQ of a SORT answer (RFC 7162 section 3.1.5,
// "* SORT 5 2 (MODSEQ 917)") is kept in SortResult.ModSeq, as a search's
// is in SearchResult.ModSeq and ESORT's MODSEQ item in ESort's; 0 when
// the answer has none. Sort, which returns the numbers only, gets the
// same numbers.
func TestSortModSeq(t *testing.T) {
	c, ctx := scripted(t, "search/sortmodseq")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.SortResult(ctx, []commands.SortKey{{Key: "ARRIVAL", Reverse: true}}, &commands.Criteria{ModSeq: 620162338}, &commands.SearchOptions{UID: true})
	if err != nil || !res.UID || !slices.Equal(res.Nums, []uint32{5, 2}) || res.ModSeq != 917 {
		t.Fatalf("UID SORT MODSEQ: %v %+v", err, res)
	}
	res, err = c.SortResult(ctx, []commands.SortKey{{Key: "SIZE"}}, nil, nil)
	if err != nil || res.UID || !slices.Equal(res.Nums, []uint32{3, 1, 2}) || res.ModSeq != 0 {
		t.Fatalf("SORT: %v %+v", err, res)
	}
	es, err := c.ESort(ctx, []commands.SortKey{{Key: "SIZE"}}, &commands.Criteria{ModSeq: 620162338}, &commands.SearchOptions{Return: &commands.SearchReturn{Min: true, Count: true}})
	if err != nil || es.Min != 2 || es.Count != 2 || es.ModSeq != 918 {
		t.Fatalf("ESORT MODSEQ: %v %+v", err, es)
	}
	nums, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE"}}, &commands.Criteria{ModSeq: 5}, nil)
	if err != nil || !slices.Equal(nums, []uint32{7}) {
		t.Fatalf("Sort: %v %v", err, nums)
	}
}

// TestSearchResultSet: SearchResult.Set is a Set of the kind searched
// for, with a copy of the numbers.
func TestSearchResultSet(t *testing.T) {
	for _, uid := range []bool{true, false} {
		r := &commands.SearchResult{UID: uid}
		r.All.AddRange(3, 5)
		s := r.Set()
		if s.UID != uid || s.String() != commands.SetOf(uid, r.All).String() {
			t.Fatalf("UID %v: %s", uid, s)
		}
		s.Nums.AddNum(9)
		if r.All.Contains(9) {
			t.Fatalf("UID %v: the Set shares the result's numbers", uid)
		}
	}
}

// TestSearchUnknownSystemFlagRefused: a typo in a system flag
// (Flags: {`\Seeen`}) went as "KEYWORD \Seeen", which is no keyword, and
// Dovecot answered OK with no message: "nothing is flagged". Now refused
// before anything is sent (Search, Sort, Thread, in Not and Or too), with
// an error wrapping wire.ErrInvalidAtom; system flags in any case and
// keywords go as before. From the newcomer API audit of 2026-12-04.
func TestSearchUnknownSystemFlagRefused(t *testing.T) {
	got := make(chan string, 16)
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 SORT THREAD=REFERENCES")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			got <- cmd.Line
			if err := c.Answer(cmd); err != nil {
				return err
			}
		}
	})
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	<-got
	bad := []*commands.Criteria{
		{Flags: []string{`\Seeen`}},
		{NotFlags: []string{`\flaged`}},
		{Not: []commands.Criteria{{Flags: []string{`\Sen`}}}},
		{Or: [][2]commands.Criteria{{{}, {NotFlags: []string{`\X`}}}}},
		{Flags: []string{"two words"}},
	}
	for i, cr := range bad {
		if _, err := c.Search(ctx, cr, nil); !errors.Is(err, wire.ErrInvalidAtom) {
			t.Errorf("Search, case %d: %v; want ErrInvalidAtom", i, err)
		}
		if _, err := c.Sort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, cr, nil); !errors.Is(err, wire.ErrInvalidAtom) {
			t.Errorf("Sort, case %d: %v; want ErrInvalidAtom", i, err)
		}
		if _, err := c.Thread(ctx, "REFERENCES", cr, nil); !errors.Is(err, wire.ErrInvalidAtom) {
			t.Errorf("Thread, case %d: %v; want ErrInvalidAtom", i, err)
		}
	}
	if _, err := c.Search(ctx, &commands.Criteria{Flags: []string{`\SEEN`, "$Junk"}, NotFlags: []string{`\recent`}}, nil); err != nil {
		t.Fatal(err)
	}
	if l := <-got; !strings.HasSuffix(l, "SEARCH SEEN KEYWORD $Junk NOT RECENT") {
		t.Errorf("the server got %q first; want the good search (the bad ones not sent)", l)
	}
}
