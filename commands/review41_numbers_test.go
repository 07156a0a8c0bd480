package commands_test

// Review round 41 (numbers at their limits): a message number 0 or a
// "*" where a server answer names messages.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
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

// TestReview41DVanishedStar: VANISHED holds known-uids, where RFC 7162
// (section 7) forbids "*"; MODIFIED lists the messages that failed
// UNCHANGEDSINCE, and "*" is none of them. A server that sent
// "* VANISHED (EARLIER) 3:*" to a QRESYNC Select had it end in
// MailboxState.Vanished as 3:* with no error (a caller dropping those
// UIDs from its cache drops every message from UID 3 on, and the set's
// length is unknown); the same for a Fetch's OnVanished and for
// "[MODIFIED 2:*]" in StoreResult.Modified (a retry of Modified stores
// every message from UID 2 on). Each must be a typed error.
func TestReview41DVanishedStar(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1 ENABLE CONDSTORE QRESYNC", func(cmd r38Cmd) string {
		s := string(cmd.Raw)
		switch {
		case strings.Contains(s, " ENABLE "):
			return "* ENABLED QRESYNC\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(s, " SELECT "):
			vanished := ""
			if strings.Contains(s, "QRESYNC") {
				vanished = "* VANISHED (EARLIER) 3:*\r\n"
			}
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n* OK [HIGHESTMODSEQ 90] x\r\n" +
				vanished + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(s, " FETCH "):
			return "* VANISHED (EARLIER) 4,7:*\r\n* 1 FETCH (UID 1 FLAGS () MODSEQ (80))\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(s, " STORE "):
			return "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (91))\r\n" + cmd.Tag + " OK [MODIFIED 2:*] some were modified\r\n"
		}
		return ""
	})
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	var bad []string
	st, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 5, ModSeq: 10}})
	if err == nil && st.Vanished.Dynamic() {
		bad = append(bad, "Select: no error, MailboxState.Vanished = "+st.Vanished.String())
	} else if de := (*codec.DecodeError)(nil); !errors.As(err, &de) {
		bad = append(bad, fmt.Sprintf("Select: %v; want a *codec.DecodeError", err))
	}
	if err != nil {
		// The SELECT failed on the VANISHED: select again, plainly,
		// for the commands below.
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
	}
	var vanished codec.SeqSet
	_, err = c.FetchAll(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true, ChangedSince: 10, Vanished: true,
		OnVanished: func(uids codec.SeqSet, earlier bool) { vanished.AddRanges(uids.Ranges()...) }})
	if err == nil && vanished.Dynamic() {
		bad = append(bad, "Fetch: no error, OnVanished got "+vanished.String())
	} else if de := (*codec.DecodeError)(nil); !errors.As(err, &de) {
		bad = append(bad, fmt.Sprintf("Fetch: %v; want a *codec.DecodeError", err))
	}
	res, err := c.Store(ctx, commands.UIDs(1, 2, 3), commands.AddFlags, []string{commands.FlagSeen}, &commands.StoreOptions{UnchangedSince: 90})
	if err == nil && res.Modified.Nums.Dynamic() {
		bad = append(bad, "Store: no error, StoreResult.Modified = "+res.Modified.String())
	} else if de := (*codec.DecodeError)(nil); !errors.As(err, &de) {
		// Not a code dropped as text either: an empty Modified says
		// every message was stored.
		bad = append(bad, fmt.Sprintf("Store: %v (Modified %v); want a *codec.DecodeError", err, res))
	}
	if len(bad) > 0 {
		for _, cm := range f.commands() {
			bad = append(bad, "  sent "+strings.TrimSpace(string(cm.Raw)))
		}
		t.Fatal(strings.Join(bad, "\n"))
	}
}
