package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestFetchVanishedEarlierStarSetNotCut: UID FETCH 101:* (FLAGS)
// (CHANGEDSINCE 5 VANISHED) in a mailbox whose largest UID is now 94
// (95:100 were expunged since the client's last sync). RFC 9051 section
// 9 ("seq-range"): "*" is the largest UID in use, and 101:* is the range
// 94:101, so the server reports "* VANISHED (EARLIER) 95:100", all of
// them UIDs of the set as the server reads it (RFC 7162 section 3.2.6).
// Fetch cuts VANISHED (EARLIER) to the set with codec.SeqSet's model of
// "*" (x:* holds every n >= x): 95:100 is dropped whole and OnVanished
// never learns that UIDs its cache holds are gone. A set holding "*" is
// not a set of known UIDs: the cut should leave it whole (as for "$").
func TestFetchVanishedEarlierStarSetNotCut(t *testing.T) {
	c, ctx := qresyncSelected(t, "IMAP4rev1 ENABLE CONDSTORE QRESYNC", "UID FETCH", `* VANISHED (EARLIER) 95:100`, `* 3 FETCH (UID 94 FLAGS () MODSEQ (9))`)
	var vanished codec.SeqSet
	set := commands.Set{UID: true}
	set.Nums.AddRange(101, 0) // 101:*
	items := &commands.FetchItems{Flags: true, ChangedSince: 5, Vanished: true,
		OnVanished: func(uids codec.SeqSet, _ bool) { vanished.AddRanges(uids.Ranges()...) }}
	for _, err := range c.Fetch(ctx, set, items) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := vanished.String(); got != "95:100" {
		t.Errorf("UID FETCH %s VANISHED answered VANISHED (EARLIER) 95:100 (largest UID 94: the set is 94:101): OnVanished got %q; want 95:100", set.Nums.String(), got)
	}
}
