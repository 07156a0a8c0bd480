package commands_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestSelectManyChangesStateAfterChanges: a QRESYNC select whose changed
// messages pass MaxResultBytes, from a server that sends the mailbox's
// state (EXISTS, [UIDVALIDITY], [HIGHESTMODSEQ], VANISHED (EARLIER)) after
// the FETCHes (RFC 9051 fixes no order for a SELECT's untagged responses).
// Select documents that it returns the state "with the Changed it kept":
// the state is not a part of what the bound cuts. Since the collecting
// Run keeps a prefix of the answer (1482ed4), the state responses after
// the first dropped FETCH are dropped too: Select reports
// UIDValidityChanged (the caller throws its cache away) though the
// UIDVALIDITY is the one asked, Exists 0 though the session counts n, and
// no Vanished. Before 1482ed4 they were kept (they fit the room left).
// Defaults: the bound is what the test is about, at its default. (Since
// stop 60 Select takes its answer as it comes, and only the changes are
// bounded: TestSelectManyChangesVanishedAfterKept checks the VANISHED
// (EARLIER) after them.)
func TestSelectManyChangesStateAfterChanges(t *testing.T) {
	const n = manyChanges
	c, st, err := examineManyChanges(t, "", "* 225000 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n* VANISHED (EARLIER) 300001:300010\r\n")
	if st == nil {
		t.Fatalf("SELECT (QRESYNC) with %d changes: no state, %v", n, err)
	}
	if k, known := c.Exists(); !known || k != n {
		t.Fatalf("session's Exists after: %d %v", k, known)
	}
	if !errors.Is(err, session.ErrResultTooLarge) || st.UIDValidityChanged || st.UIDValidity != 7 || st.Exists != n ||
		st.HighestModSeq != 900 || len(st.Changed) == 0 {
		t.Fatalf("SELECT (QRESYNC) with %d changes, the state after them: %v; UIDValidityChanged %v, UIDValidity %d, exists %d (the session counts %d), highestmodseq %d, vanished %q, %d changed",
			n, err, st.UIDValidityChanged, st.UIDValidity, st.Exists, n, st.HighestModSeq, st.Vanished.String(), len(st.Changed))
	}
}

// manyChanges is how many changed messages examineManyChanges's answer
// reports: their FETCHes pass the default MaxResultBytes (64 MiB).
const manyChanges = 225000

// examineManyChanges answers a QRESYNC EXAMINE of "Big" (UIDVALIDITY 7
// known, with the library's defaults) with before, manyChanges changed
// FETCHes and after, and returns the Client, the state and the error.
func examineManyChanges(t *testing.T, before, after string) (*commands.Client, *commands.MailboxState, error) {
	t.Helper()
	// Appended number by number into a buffer sized once: fmt.Fprintf
	// a line into a growing strings.Builder was a fifth of the test's CPU
	// under -race.
	b := make([]byte, 0, len(before)+len(after)+manyChanges*56)
	b = append(b, before...)
	for i := 1; i <= manyChanges; i++ {
		b = append(b, "* "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, " FETCH (UID "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, " FLAGS (\\Seen) MODSEQ ("...)
		b = strconv.AppendInt(b, int64(500+i%300), 10)
		b = append(b, "))\r\n"...)
	}
	answer := string(append(b, after...))
	c, _ := qresyncEnabled(t, nil, answer, nil)
	// A hang detector only: 300,000 FETCH responses (before stop 45)
	// under -race took up to 32 s on a loaded 2-core machine, past
	// selectedServer's 20 s context (ran out in 1 run of 5).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := c.Select(ctx, "Big", &commands.SelectOptions{ReadOnly: true, QResync: &commands.QResync{UIDValidity: 7, ModSeq: 400}})
	return c, st, err
}
