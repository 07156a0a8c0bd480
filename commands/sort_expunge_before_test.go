package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestSortThreadExpungeBeforeNumbersNotRenumbered: RFC 9051 section 7.5.1
// forbids an EXPUNGE while answering FETCH, STORE or SEARCH only: during
// SORT and THREAD (RFC 5256) a server may send one, and the numbers of
// every response after it are in the new numbering (the EXPUNGE takes
// effect at once). A SORT answered "* 1 EXPUNGE", "* SORT 2 1", OK gives
// numbers that name the right messages now; only numbers read before an
// EXPUNGE are stale. runNumbered/sortIter (7f07dd9) ask
// Pending.RenumberedInFlight, which is set by an EXPUNGE anywhere in the
// answer, and fail a legal answer with ErrRenumbered (Fetch checks each
// response as read: session.Item.Renumbered). Defaults.
func TestSortThreadExpungeBeforeNumbersNotRenumbered(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 SORT THREAD=REFERENCES", exists: 4, on: handlers{
		"SORT":   answer(`* 1 EXPUNGE`, `* SORT 2 1`),
		"THREAD": answer(`* 1 EXPUNGE`, `* THREAD (2)(1)`),
	}})
	nums, err := c.Sort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, nil, nil)
	if errors.Is(err, commands.ErrRenumbered) {
		t.Errorf("SORT answered \"* 1 EXPUNGE\", \"* SORT 2 1\", OK: %v, %v; want [2 1] and no ErrRenumbered (the numbers follow the EXPUNGE: current)", nums, err)
	}
	threads, err := c.Thread(ctx, "REFERENCES", nil, nil)
	if errors.Is(err, commands.ErrRenumbered) {
		t.Errorf("THREAD answered \"* 1 EXPUNGE\", \"* THREAD (2)(1)\", OK: %d threads, %v; want no ErrRenumbered (the numbers follow the EXPUNGE)", len(threads), err)
	}
}
