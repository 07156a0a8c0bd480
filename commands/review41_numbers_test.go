package commands_test

// Review round 41 (numbers at their limits): a message number 0 or a
// "*" where a server answer names messages.

import (
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// A SEARCH or SORT answer holds nz-numbers (RFC 9051 section 7.3.5:
// "SEARCH" *(SP nz-number); RFC 5256 likewise). A server that answers
// "* SEARCH 2 0" (broken or hostile) has its 0 taken as a number, and in
// codec.SeqSet and commands.Set 0 is "*": Search returns the set "2,*"
// (Count 0, Max 0, with HasCount and HasMax), SearchIter and Sort yield 0,
// and a Store, Copy, Move or Expunge of the result acts on the mailbox's
// last message, which the search did not match. Hostile bytes must give a
// typed error (THREAD already refuses a member 0).
func TestReview41ASearchZeroBecomesStar(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1 UIDPLUS SORT", func(cmd r38Cmd) string {
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
func TestReview41CESearchMinZero(t *testing.T) {
	c, ctx, _ := r38FakeClient(t, "IMAP4rev1 ESEARCH", func(cmd r38Cmd) string {
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
func TestReview41BESearchAllStar(t *testing.T) {
	c, ctx, _ := r38FakeClient(t, "IMAP4rev1 ESEARCH UIDPLUS", func(cmd r38Cmd) string {
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
