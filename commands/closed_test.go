package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestSelectClosedCode: with QRESYNC enabled, a SELECT while another
// mailbox is selected gets "* OK [CLOSED]" (RFC 7162 section 3.2.11): what
// comes before it concerns the mailbox being closed (here UID 7 of A
// expunged, UID 2 of A flagged) and is not the new mailbox's. Select put
// both in B's MailboxState (Vanished, Changed): a caller would have
// deleted B's UID 7 and changed B's UID 2. Found by the synchronisation
// audit of 2026-12-04.
func TestSelectClosedCode(t *testing.T) {
	st := selectBAfterA(t, "* VANISHED 7", `* 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (101))`, "* OK [CLOSED] A closed",
		`* FLAGS (\Seen \Flagged \Deleted)`, "* 20 EXISTS", "* OK [UIDVALIDITY 5] x", "* OK [UIDNEXT 21] x",
		"* OK [HIGHESTMODSEQ 500] x", "* VANISHED (EARLIER) 3")
	if st.Vanished.String() != "3" || len(st.Changed) != 0 || st.Exists != 20 || st.UIDValidity != 5 || st.HighestModSeq != 500 {
		t.Fatalf("B: vanished %q, changed %d (UID %d); want vanished 3 and nothing changed: A's responses before [CLOSED] taken for B's",
			st.Vanished.String(), len(st.Changed), func() uint32 {
				if len(st.Changed) > 0 {
					return st.Changed[0].UID
				}
				return 0
			}())
	}
}

// TestSelectClosedCodeForgetsVanishedCut: a QRESYNC select of B (known
// UIDs 1:20) while A is selected, answered "* VANISHED (EARLIER) 1:30"
// before "* OK [CLOSED]" (A's, left out) and the same line after it
// (B's). A known range a line covered whole is given once an answer
// (the cut of VANISHED (EARLIER) to the known UIDs): what was given
// before [CLOSED] was forgotten with A's responses, and B's line, cut to
// the same range, must give it again, or Vanished misses B's expunges.
func TestSelectClosedCodeForgetsVanishedCut(t *testing.T) {
	st := selectBAfterA(t, "* VANISHED (EARLIER) 1:30", "* OK [CLOSED] A closed",
		"* 20 EXISTS", "* OK [UIDVALIDITY 5] x", "* OK [HIGHESTMODSEQ 500] x",
		"* VANISHED (EARLIER) 1:30")
	if got := st.Vanished.String(); got != "1:20" {
		t.Errorf("B (known 1:20) answered VANISHED (EARLIER) 1:30 before [CLOSED] and after: Vanished %q; want \"1:20\", B's line cut to the known UIDs", got)
	}
}

// TestSelectClosedCodeAgainHighestModSeqAgrees: a QRESYNC select of B
// while A is selected, answered with A's [HIGHESTMODSEQ 100], the
// [CLOSED] boundary, B's [HIGHESTMODSEQ 500], then a second [CLOSED] (a
// hostile server's: RFC 7162 section 3.2.11 has one), and after the
// tagged OK, in a NOOP's answer, a third one outside any SELECT's
// answer. B's HIGHESTMODSEQ is 500 for both the session
// (Client.HighestModSeq, what a sync client stores for its next
// QRESYNC) and the select's MailboxState: one rule (the answer's first
// [CLOSED] is the boundary, any other means nothing) in one place, the
// session's. The session forgot 500 at each [CLOSED] while the select
// honoured only the first.
func TestSelectClosedCodeAgainHighestModSeqAgrees(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, c := selectBAfterAThen(t, []string{"* OK [HIGHESTMODSEQ 100] A's", "* OK [CLOSED] A closed",
		"* 20 EXISTS", "* OK [UIDVALIDITY 5] x", "* OK [HIGHESTMODSEQ 500] x", "* OK [CLOSED] again"},
		"* OK [CLOSED] stray")
	ms, ok := c.HighestModSeq()
	if st.HighestModSeq != 500 || st.NoModSeq || ms != 500 || !ok {
		t.Fatalf("B answered [CLOSED], HIGHESTMODSEQ 500, [CLOSED]: MailboxState.HighestModSeq %d (NoModSeq %v), Client.HighestModSeq %d, %v; want 500 for both",
			st.HighestModSeq, st.NoModSeq, ms, ok)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if ms, ok := c.HighestModSeq(); ms != 500 || !ok {
		t.Fatalf("a [CLOSED] outside a SELECT's answer: Client.HighestModSeq %d, %v; want 500, true: it closes no mailbox", ms, ok)
	}
}

// TestSelectNoCodeHighestModSeqAgrees: a SELECT's answer with B's
// [HIGHESTMODSEQ 500] then "* NO [HIGHESTMODSEQ 99]" and "* BAD
// [NOMODSEQ]" (a NO's or BAD's code is a warning, no state: the session
// leaves it out). The select's MailboxState took them (99, then
// NoModSeq) where Client.HighestModSeq kept 500.
func TestSelectNoCodeHighestModSeqAgrees(t *testing.T) {
	st, c := selectBAfterAThen(t, []string{"* OK [CLOSED] A closed", "* 20 EXISTS", "* OK [UIDVALIDITY 5] x",
		"* OK [HIGHESTMODSEQ 500] x", "* NO [HIGHESTMODSEQ 99] not so", "* BAD [NOMODSEQ] nor so"})
	ms, ok := c.HighestModSeq()
	if st.HighestModSeq != 500 || st.NoModSeq || ms != 500 || !ok {
		t.Fatalf("B answered HIGHESTMODSEQ 500, then a NO's HIGHESTMODSEQ 99 and a BAD's NOMODSEQ: MailboxState.HighestModSeq %d (NoModSeq %v), Client.HighestModSeq %d, %v; want 500 for both",
			st.HighestModSeq, st.NoModSeq, ms, ok)
	}
}

// TestSelectClosedCodeForgetsUIDValidity: a SELECT of B answered with
// A's "* OK [UIDVALIDITY 1]" before the [CLOSED] boundary, then B's
// EXISTS and no UIDVALIDITY of B's. What came before the boundary was
// A's: the select's MailboxState forgets it (UIDValidity 0), and so must
// the session, whose SelectedUIDValidity an APPENDUID to B is checked
// against (a correct one dropped as stale when it said A's 1).
func TestSelectClosedCodeForgetsUIDValidity(t *testing.T) {
	st, c := selectBAfterAThen(t, []string{"* OK [UIDVALIDITY 1] A's", "* OK [CLOSED] A closed", "* 20 EXISTS"})
	if _, v, _, ok := c.Session().SelectedUIDValidity(); ok || st.UIDValidity != 0 {
		t.Fatalf("B answered A's [UIDVALIDITY 1] before [CLOSED] and none of its own: MailboxState.UIDValidity %d, session's SelectedUIDValidity %d, %v; want none for both",
			st.UIDValidity, v, ok)
	}
}

// TestSelectClosedCodeForgetsExists: a SELECT of B answered with A's
// "* 7 EXISTS" before the [CLOSED] boundary, then B's UIDVALIDITY and no
// EXISTS of B's (a hostile server's). What came before the boundary was
// A's: the select's MailboxState has no count of B's (Exists 0), and the
// session's count (Client.Exists, against which FETCH responses are
// checked) must not keep A's 7 for B.
func TestSelectClosedCodeForgetsExists(t *testing.T) {
	st, c := selectBAfterAThen(t, []string{"* 7 EXISTS", "* OK [CLOSED] A closed", "* OK [UIDVALIDITY 5] x"})
	if n, known := c.Exists(); n != st.Exists || known {
		t.Fatalf("B answered A's 7 EXISTS before [CLOSED] and none of its own: MailboxState.Exists %d, Client.Exists %d, %v; want 0 and not known: no count of B's was read",
			st.Exists, n, known)
	}
}

// TestSelectClosedCodeForgetsReadOnly: a SELECT of B answered "* OK
// [READ-ONLY]" before its [CLOSED] boundary (A's, the mailbox closed) and
// a tagged OK without a code opens B writable, for the MailboxState and
// the session alike: a STORE goes.
func TestSelectClosedCodeForgetsReadOnly(t *testing.T) {
	c, ctx := scripted(t, "mailbox/select_closed_read_only_before")
	if _, err := c.Select(ctx, "A", nil); err != nil {
		t.Fatal(err)
	}
	st, err := c.Select(ctx, "B", nil)
	if _, ro := c.Session().Mailbox(); err != nil || st.ReadOnly || ro {
		t.Fatalf("B answered A's [READ-ONLY] before [CLOSED]: error %v, MailboxState.ReadOnly %v, session's %v; want writable for both", err, st != nil && st.ReadOnly, ro)
	}
	if _, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{`\Seen`}, nil); err != nil {
		t.Fatalf("Store in B: %v", err)
	}
}

// selectBAfterA selects A, then B with QRESYNC (UIDVALIDITY 5, MODSEQ
// 400, known UIDs 1:20), and returns B's state: the server answers the
// SELECT of B with b and a tagged OK.
func selectBAfterA(t *testing.T, b ...string) *commands.MailboxState {
	t.Helper()
	st, _ := selectBAfterAThen(t, b)
	return st
}

// selectBAfterAThen is selectBAfterA, and returns the client too; with
// lines after, the server answers the client's next command, a NOOP, with
// them and a tagged OK.
func selectBAfterAThen(t *testing.T, b []string, after ...string) (*commands.MailboxState, *commands.Client) {
	t.Helper()
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ENABLE CONDSTORE QRESYNC UIDPLUS")
		cmd, err := c.Until("ENABLE")
		if err != nil {
			return err
		}
		c.Lines("* ENABLED QRESYNC", cmd.Tag+" OK enabled")
		if cmd, err = c.Expect("SELECT"); err != nil {
			return err
		}
		c.Lines(`* FLAGS (\Seen \Flagged \Deleted)`, "* 9 EXISTS", "* OK [UIDVALIDITY 1] x", "* OK [UIDNEXT 10] x",
			"* OK [HIGHESTMODSEQ 100] x", cmd.Tag+" OK [READ-WRITE] selected A")
		if cmd, err = c.Expect("SELECT"); err != nil {
			return err
		}
		c.Lines(append(b, cmd.Tag+" OK [READ-WRITE] selected B")...)
		if len(after) > 0 {
			if cmd, err = c.Expect("NOOP"); err != nil {
				return err
			}
			c.Lines(append(after, cmd.Tag+" OK done")...)
		}
		return c.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	enableQResyncSelect(t, ctx, c, "A")
	st, err := c.Select(ctx, "B", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 5, ModSeq: 400, KnownUIDs: commands.UIDRange(1, 20).Nums}})
	if err != nil {
		t.Fatal(err)
	}
	return st, c
}
