package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestSearchSeqExpungeInsideAnswer: RFC 9051 section 5.5 forbids an
// EXPUNGE while the server answers a SEARCH, as it does for FETCH and
// STORE. A hostile server sends "* SEARCH 2 3", then "* 1 EXPUNGE", then
// its OK: the numbers Search returns (2, 3) name other messages once the
// EXPUNGE is read (the ones that were 3 and 4). Fetch and Store report
// that case as ErrRenumbered (session.Pending.RenumberedInFlight,
// TestStoreSeqExpungeInsideAnswer); Search by sequence numbers checks
// the count only between its parts (searchCommands' check), never for
// the EXPUNGE read inside a part's answer, and returns the stale numbers
// with no error. Defaults.
func TestSearchSeqExpungeInsideAnswer(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 4, on: handlers{
		"SEARCH": answer(`* SEARCH 2 3`, `* 1 EXPUNGE`),
	}})
	res, err := c.Search(ctx, &commands.Criteria{}, nil)
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Errorf("SEARCH (by sequence numbers) answered \"* SEARCH 2 3\", \"* 1 EXPUNGE\", OK: result %v, err %v; want an error wrapping ErrRenumbered (2 and 3 now name other messages)", res, err)
	}
}
