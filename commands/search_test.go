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
			if cmd.Name == "SEARCH" {
				// Nothing matches: "* SEARCH", which the RFC requires.
				err = c.Lines("* SEARCH", cmd.Tag+" OK done")
			} else {
				err = c.Answer(cmd)
			}
			if err != nil {
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

// TestSearchDateOutOfRange: a search date is date-day "-"
// date-month "-" date-year, year 4DIGIT. Criteria.Since in year 10000
// goes as the atom "1-Jan-10000", in year -1 as "1-Jan--0001", without an
// error (Go's Format writes what it can; nothing checks the year).
func TestSearchDateOutOfRange(t *testing.T) {
	c, srv, ctx := zzSelected(t, "")
	for _, d := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		zzRefused(t, srv, "Search(Since "+d.String()+")", func() error {
			_, err := c.Search(ctx, &commands.Criteria{Since: d}, nil)
			return err
		})
		zzRefused(t, srv, "Search(SentBefore "+d.String()+")", func() error {
			_, err := c.Search(ctx, &commands.Criteria{SentBefore: d}, nil)
			return err
		})
	}
}

// TestSearchNegativeSize: Criteria.Smaller is "0 for no bound";
// a negative Smaller (no message is smaller than -1 bytes) is dropped
// like 0 and the search sent as ALL: it matches every message where the
// caller asked for none, and no error says so. (A negative Larger is
// dropped too, harmlessly.)
func TestSearchNegativeSize(t *testing.T) {
	c, srv, ctx := zzSelected(t, "")
	zzRefused(t, srv, "Search(Smaller -1)", func() error {
		_, err := c.Search(ctx, &commands.Criteria{Smaller: -1}, nil)
		return err
	})
}

// TestSearchWithinSubSecond: WITHIN's YOUNGER and OLDER take an
// nz-number of seconds (RFC 5032). A positive Younger or Older below one
// second is truncated to 0 and sent as "YOUNGER 0", which is not valid
// syntax, and is not what was asked (Dovecot would match nothing or
// refuse); no error.
func TestSearchWithinSubSecond(t *testing.T) {
	c, srv, ctx := zzSelected(t, "WITHIN")
	zzRefused(t, srv, "Search(Younger 500ms)", func() error {
		_, err := c.Search(ctx, &commands.Criteria{Younger: 500 * time.Millisecond}, nil)
		return err
	})
}

// A server without ESEARCH that announces 4294967295 messages (a hostile
// EXISTS): Search with no Set cuts the mailbox into parts of
// MaxNumbers (2^21) sequence numbers, start += chunk in uint32; the last
// part's start+chunk wraps to 1 and the loop never ends, appending parts
// without bound, deaf to the context. It must return (an answer or an
// error) promptly.
func TestSearchHugeExistsEnds(t *testing.T) {
	// Serial: its child has 8 s in all (runInChild's bound), which the
	// package's parallel tests, run beside it, took from it on a loaded
	// machine.
	out, ended := runInChild(t, 8*time.Second, func(t *testing.T) {
		c, ctx, _ := rawClient(t, "IMAP4rev1", func(cmd rawCmd) string {
			raw := string(cmd.Raw)
			switch {
			case strings.Contains(raw, " SELECT "):
				return "* 4294967295 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
			case strings.Contains(raw, " SEARCH"):
				return "* SEARCH\r\n" + cmd.Tag + " OK done\r\n"
			}
			return ""
		})
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		res, err := c.Search(ctx, &commands.Criteria{Flags: []string{`\Seen`}}, nil)
		t.Logf("Search: %v, %v", res, err)
	})
	if !ended {
		t.Fatalf("Search after EXISTS 4294967295 never returned (the part loop of searchCommands wraps):\n%s", out)
	}
}

// The same check refuses a search date that IMAP writes: SINCE
// 31-Dec-9999 (a search date has no zone; it is written in t's own).
func TestSearchDateYearEdgeAccepted(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1", func(cmd rawCmd) string {
		raw := string(cmd.Raw)
		switch {
		case strings.Contains(raw, " SELECT "):
			return "* 3 EXISTS\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(raw, "SEARCH"):
			return "* SEARCH\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	d := time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600))
	if _, err := c.Search(ctx, &commands.Criteria{Since: d}, nil); err != nil {
		t.Errorf("Search SINCE %s (sent as SINCE %s): %v", d, d.Format("2-Jan-2006"), err)
	}
}

// A SEARCH or SORT answer holds nz-numbers (RFC 9051 section 7.3.5:
// "SEARCH" *(SP nz-number); RFC 5256 likewise). A server that answers
// "* SEARCH 2 0" (broken or hostile) has its 0 taken as a number, and in
// codec.SeqSet and commands.Set 0 is "*": Search returns the set "2,*"
// (Count 0, Max 0, with HasCount and HasMax), SearchIter and Sort yield 0,
// and a Store, Copy, Move or Expunge of the result acts on the mailbox's
// last message, which the search did not match. Hostile bytes must give a
// typed error (THREAD already refuses a member 0).
func TestSearchZeroRefused(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1 UIDPLUS SORT", func(cmd rawCmd) string {
		s := string(cmd.Raw)
		switch {
		case strings.Contains(s, " SELECT "):
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(s, " SORT "):
			return "* SORT 2 0\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(s, " SEARCH "):
			return "* SEARCH 2 0\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var bad []string
	crit := &commands.Criteria{Flags: []string{commands.FlagDeleted}}
	res, err := c.Search(ctx, crit, &commands.SearchOptions{UID: true})
	if err == nil && (res.All.Dynamic() || res.All.Contains(0)) {
		bad = append(bad, "Search of \"* SEARCH 2 0\": no error, All = "+res.All.String()+" (0 taken as \"*\")")
		if _, err := c.Store(ctx, res.Set(), commands.AddFlags, []string{commands.FlagSeen}, nil); err == nil {
			for _, cm := range f.commands() {
				if strings.Contains(string(cm.Raw), "STORE") {
					bad = append(bad, "then Store of the result sent "+strings.TrimSpace(string(cm.Raw)))
				}
			}
		}
	}
	for u, err := range c.SearchIter(ctx, crit, &commands.SearchOptions{UID: true}) {
		if err == nil && u == 0 {
			bad = append(bad, "SearchIter yielded UID 0 with no error")
		}
	}
	nums, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE"}}, crit, &commands.SearchOptions{UID: true})
	if err == nil && slices.Contains(nums, 0) {
		bad = append(bad, "Sort of \"* SORT 2 0\": no error, numbers include 0")
	}
	if len(bad) > 0 {
		t.Fatal(strings.Join(bad, "\n"))
	}
}

// ESEARCH's MIN and MAX are nz-numbers (RFC 4731); the codec reads them
// with num32, which takes 0, and Search hands out HasMin with Min 0,
// which UIDs(res.Min) turns into "*", the last message.
func TestESearchMinZero(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1 ESEARCH", func(cmd rawCmd) string {
		s := string(cmd.Raw)
		switch {
		case strings.Contains(s, " SELECT "):
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(s, " SEARCH "):
			return "* ESEARCH (TAG \"" + cmd.Tag + "\") UID MIN 0 MAX 0\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ctx, &commands.Criteria{Flags: []string{commands.FlagDeleted}}, &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Min: true, Max: true}})
	if err == nil && (res.HasMin && res.Min == 0 || res.HasMax && res.Max == 0) {
		t.Fatalf("Search of ESEARCH \"MIN 0 MAX 0\": no error, HasMin %v Min %d, HasMax %v Max %d (UIDs(0) is \"*\")", res.HasMin, res.Min, res.HasMax, res.Max)
	}
}

// An ESEARCH "ALL 2:*" (RFC 4731; the grammar's sequence-set lets "*"
// through, though no server of ours sends it and "*" is no number that
// matched) goes into SearchResult.All as the dynamic set 2:*, and the
// fields Search derives from All (o.Return == nil: the default) say the
// opposite of it: HasCount true with Count 0 (Len fails on a dynamic set
// and its 0 is kept), HasMax true with Max 0 (the "*"). SearchIter, for
// the same answer, yields nothing at all (All skips "*" ranges), and
// imapkit search drops such ranges. A caller that trusts Count (0: none
// matched) or Max, or acts on Result.Set() (a Store of it sends "UID
// STORE 2:*", every message from UID 2 on), gets three different
// answers; the library should refuse the answer with a typed error (or at
// least not claim a count it does not have).
func TestESearchAllStar(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1 ESEARCH UIDPLUS", func(cmd rawCmd) string {
		s := string(cmd.Raw)
		switch {
		case strings.Contains(s, " SELECT "):
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(s, " SEARCH "):
			return "* ESEARCH (TAG \"" + cmd.Tag + "\") UID ALL 2:*\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	crit := &commands.Criteria{Flags: []string{commands.FlagDeleted}}
	res, err := c.Search(ctx, crit, &commands.SearchOptions{UID: true})
	if err != nil {
		return // refused: fine
	}
	iterated := 0
	for _, err := range c.SearchIter(ctx, crit, &commands.SearchOptions{UID: true}) {
		if err == nil {
			iterated++
		}
	}
	var bad []string
	if !res.All.IsEmpty() && res.HasCount && res.Count == 0 {
		bad = append(bad, "HasCount with Count 0 for the non-empty All "+res.All.String())
	}
	if res.HasMax && res.Max == 0 {
		bad = append(bad, "HasMax with Max 0 (UIDs(0) is \"*\")")
	}
	if !res.All.IsEmpty() && iterated == 0 {
		bad = append(bad, "SearchIter yields no UID for the same answer")
	}
	if len(bad) > 0 {
		t.Fatal("Search of ESEARCH \"ALL 2:*\" returned no error and: " + strings.Join(bad, "; "))
	}
}
