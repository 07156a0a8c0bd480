package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// The tests of this file give UID Search, SearchIter and ESort the empty
// answers real servers send without the UID indicator: an ESEARCH that
// carries no numbers (no data, or COUNT alone) names no messages of either
// kind, so its indicator tells nothing, and "nothing matches" is the
// answer (codec.ESearch.NamesMessages; the session's routing and the
// commands' checks of the indicator look at it only when it does).

// TestUIDSearchEmptyESearchWithoutUIDIndicator: Cyrus 2.4 answers a UID
// SEARCH that matches nothing with `* ESEARCH (TAG "x")`, no UID indicator
// (cyrus-imapd issue #1725). It carries the command's tag and no numbers:
// the empty result, not a missing answer.
func TestUIDSearchEmptyESearchWithoutUIDIndicator(t *testing.T) {
	c := taggedSelected(t, "IMAP4rev1 ESEARCH", "UID SEARCH", `* ESEARCH (TAG "%s")`)
	res, err := c.Search(resCtx(t), nil, &commands.SearchOptions{UID: true})
	if err != nil {
		t.Fatalf("UID Search answered `* ESEARCH (TAG ...)` (Cyrus 2.4's empty result): %v; want an empty result", err)
	}
	if !res.All.IsEmpty() {
		t.Errorf("UID Search empty answer: All %v; want empty", res.All.Ranges())
	}
}

// TestUIDSearchBareESearchEmptyResult: Gmail answers an extended UID
// SEARCH that matches nothing with a bare "* ESEARCH" (no correlator, no
// UID indicator, no data: codec/testdata/quirks/gmail.txt). The session
// routes an untagged ESEARCH by its indicator only when it names
// messages, so this one reaches the UID SEARCH.
func TestUIDSearchBareESearchEmptyResult(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ESEARCH", "UID SEARCH", `* ESEARCH`)
	res, err := c.Search(resCtx(t), nil, &commands.SearchOptions{UID: true})
	if err != nil {
		t.Fatalf("UID Search answered with a bare `* ESEARCH` (Gmail's empty result): %v; want an empty result", err)
	}
	if !res.All.IsEmpty() {
		t.Errorf("UID Search empty answer: All %v; want empty", res.All.Ranges())
	}
}

// TestUIDESortEmptyESearchWithoutUIDIndicator: a UID ESort that matches
// nothing, answered in both of the real servers' forms without the UID
// indicator (Cyrus 2.4's `* ESEARCH (TAG "x")`, Gmail's bare `* ESEARCH`),
// is the empty result, not a *MissingError: an ESEARCH that names no
// messages is of either kind.
func TestUIDESortEmptyESearchWithoutUIDIndicator(t *testing.T) {
	for _, c := range []struct {
		name string
		c    *commands.Client
	}{
		{"tagged", taggedSelected(t, "IMAP4rev1 SORT ESORT", "UID SORT", `* ESEARCH (TAG "%s")`)},
		{"bare", resSelected(t, "IMAP4rev1 SORT ESORT", "UID SORT", `* ESEARCH`)},
	} {
		res, err := c.c.ESort(resCtx(t), []commands.SortKey{{Key: "DATE"}}, nil, &commands.SearchOptions{UID: true})
		if err != nil {
			t.Errorf("UID ESort answered with the %s empty ESEARCH without UID: %v; want an empty result", c.name, err)
			continue
		}
		if !res.All.IsEmpty() {
			t.Errorf("UID ESort %s empty answer: All %v; want empty", c.name, res.All.Ranges())
		}
	}
}

// TestUIDSearchCountOnlyESearchWithoutUIDIndicator: COUNT names no
// messages either, so an answer of COUNT alone without the indicator is
// taken (by Search and SearchIter), while one of numbers of the other kind
// is still refused (TestSearchESearchOtherKindRefused).
func TestUIDSearchCountOnlyESearchWithoutUIDIndicator(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ESEARCH", "UID SEARCH", `* ESEARCH COUNT 0`)
	res, err := c.Search(resCtx(t), nil, &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Count: true}})
	if err != nil || !res.HasCount || res.Count != 0 {
		t.Errorf("UID Search answered `* ESEARCH COUNT 0` = %+v, %v; want COUNT 0", res, err)
	}
	c = resSelected(t, "IMAP4rev1 ESEARCH", "UID SEARCH", `* ESEARCH`)
	for n, err := range c.SearchIter(resCtx(t), nil, &commands.SearchOptions{UID: true}) {
		t.Errorf("UID SearchIter answered a bare `* ESEARCH` yielded %d, %v; want nothing", n, err)
	}
}
