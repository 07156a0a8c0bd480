package commands_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
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
	const n = 225000
	b := make([]byte, 0, 128+n*56)
	b = append(b, "* 225000 EXISTS\r\n* OK [HIGHESTMODSEQ 900] ok\r\n* VANISHED (EARLIER) 300001:300010\r\n"...)
	for i := 1; i <= n; i++ {
		b = append(b, "* "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, " FETCH (UID "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, " FLAGS (\\Seen) MODSEQ ("...)
		b = strconv.AppendInt(b, int64(500+i%300), 10)
		b = append(b, "))\r\n"...)
	}
	b = append(b, "* OK [UIDVALIDITY 7] ok\r\n"...)
	answer := string(b)
	c, _, _ := selectedServer(t, "IMAP4rev1 ENABLE CONDSTORE QRESYNC UNSELECT", 1, func(cmd string) string {
		switch {
		case strings.HasPrefix(cmd, "EXAMINE Big"):
			return answer
		case cmd == "ENABLE QRESYNC":
			return "* ENABLED QRESYNC\r\n"
		}
		return ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard only
	defer cancel()
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Select(ctx, "Big", &commands.SelectOptions{ReadOnly: true, QResync: &commands.QResync{UIDValidity: 7, ModSeq: 400}})
	if st == nil || !errors.Is(err, session.ErrResultTooLarge) {
		t.Fatalf("SELECT (QRESYNC) with %d changes: %v, %v; want the state and ErrResultTooLarge", n, st, err)
	}
	_, v, _, _ := c.Session().SelectedUIDValidity()
	if st.UIDValidityChanged || len(st.Changed) == 0 {
		t.Errorf("QRESYNC UIDVALIDITY 7, answer with [UIDVALIDITY 7] after %d FETCH (past MaxResultBytes; session's UIDVALIDITY %d): UIDValidityChanged %v, %d changed kept, UIDValidity %d; want false, the changes kept",
			n, v, st.UIDValidityChanged, len(st.Changed), st.UIDValidity)
	}
}
