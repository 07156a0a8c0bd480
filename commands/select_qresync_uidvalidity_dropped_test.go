package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// TestSelectManyChangesUIDValidityAfterThemNotChanged: an EXAMINE
// (QRESYNC, UIDVALIDITY 7 kept) answered with more changed messages than
// the result may keep (as in TestSelectManyChanges, defaults) and its
// [UIDVALIDITY 7] after the FETCHes (RFC 3501 sets no order among the
// untagged responses of a SELECT answer): the result keeps a prefix of
// the answer, without the UIDVALIDITY, though the server sent it and it
// is the one kept (the session read it: SelectedUIDValidity gives 7).
// Since "a QRESYNC select without UIDVALIDITY reports UIDValidityChanged"
// (mailbox.go resynced: st.UIDValidity != q.UIDValidity), the state says
// UIDValidityChanged and empties Changed, contrary to the doc ("the state
// is returned with the error, Changed holding those kept"): a caller that
// follows UIDValidityChanged's doc drops its whole cache of a mailbox
// whose UIDVALIDITY did not change. Defaults.
func TestSelectManyChangesUIDValidityAfterThemNotChanged(t *testing.T) {
	const n = manyChanges
	c, st, err := examineManyChanges(t, "* 225000 EXISTS\r\n* OK [HIGHESTMODSEQ 900] ok\r\n* VANISHED (EARLIER) 300001:300010\r\n", "* OK [UIDVALIDITY 7] ok\r\n")
	if st == nil || !errors.Is(err, session.ErrResultTooLarge) {
		t.Fatalf("SELECT (QRESYNC) with %d changes: %v, %v; want the state and ErrResultTooLarge", n, st, err)
	}
	_, v, _, _ := c.Session().SelectedUIDValidity()
	if st.UIDValidityChanged || len(st.Changed) == 0 {
		t.Errorf("QRESYNC UIDVALIDITY 7, answer with [UIDVALIDITY 7] after %d FETCH (past MaxResultBytes; session's UIDVALIDITY %d): UIDValidityChanged %v, %d changed kept, UIDValidity %d; want false, the changes kept",
			n, v, st.UIDValidityChanged, len(st.Changed), st.UIDValidity)
	}
}
