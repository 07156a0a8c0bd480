package commands_test

import (
	"errors"

	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// qresyncSelectClient is a Client with QRESYNC enabled whose server
// answers its SELECT with lines (and the tagged OK), then serves.
func qresyncSelectClient(t *testing.T, lines ...string) *commands.Client {
	t.Helper()
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ENABLE CONDSTORE QRESYNC")
		cmd, err := c.Until("ENABLE")
		if err != nil {
			return err
		}
		if err := c.Lines("* ENABLED QRESYNC", cmd.Tag+" OK enabled"); err != nil {
			return err
		}
		if cmd, err = c.Expect("SELECT"); err != nil {
			return err
		}
		if err := c.Lines(append(lines[:len(lines):len(lines)], cmd.Tag+" OK [READ-WRITE] done")...); err != nil {
			return err
		}
		return c.Serve()
	})
	if _, err := c.Enable(resCtx(t), "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSelectQResyncNewUIDValidityReportsNoResync: a QRESYNC select whose
// server names another UIDVALIDITY than the client kept, and sends a
// VANISHED (EARLIER) and a changed message all the same (it must ignore
// the QRESYNC parameter then: RFC 7162 section 3.2.5), gives
// UIDValidityChanged with Vanished and Changed empty: the client's copy
// is void, and the server's UIDs of the new mailbox are no resync of it.
// Defaults.
func TestSelectQResyncNewUIDValidityReportsNoResync(t *testing.T) {
	c := qresyncSelectClient(t, "* 3 EXISTS", "* OK [UIDVALIDITY 9] new", "* OK [HIGHESTMODSEQ 50] x",
		"* VANISHED (EARLIER) 1:2", `* 1 FETCH (UID 3 FLAGS (\Seen) MODSEQ (40))`)
	st, err := c.Select(resCtx(t), "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 5, ModSeq: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if !st.UIDValidityChanged || !st.Vanished.IsEmpty() || len(st.Changed) != 0 {
		t.Errorf("UIDVALIDITY 5 kept, 9 now: UIDValidityChanged %v, Vanished %q, Changed %d; want true, empty, none",
			st.UIDValidityChanged, st.Vanished.String(), len(st.Changed))
	}
}

// TestSelectQResyncModSeqCodesAndUIDlessChange: a QRESYNC select answered
// with both [HIGHESTMODSEQ] and [NOMODSEQ] gives the last one only (never
// NoModSeq with a HighestModSeq to store for the next resync), and a
// changed message without a UID (Message.UID 0), which names nothing the
// client kept, is left out of Changed ("UID 0" itself is a decode error
// of the codec). Defaults.
func TestSelectQResyncModSeqCodesAndUIDlessChange(t *testing.T) {
	for _, tc := range []struct {
		codes []string
		hms   uint64
		no    bool
	}{
		{[]string{"* OK [HIGHESTMODSEQ 50] x", "* OK [NOMODSEQ] x"}, 0, true},
		{[]string{"* OK [NOMODSEQ] x", "* OK [HIGHESTMODSEQ 50] x"}, 50, false},
	} {
		lines := append([]string{"* 3 EXISTS", "* OK [UIDVALIDITY 5] x"}, tc.codes...)
		lines = append(lines, `* 2 FETCH (FLAGS (\Seen) MODSEQ (41))`,
			`* 3 FETCH (UID 7 FLAGS (\Seen) MODSEQ (42))`)
		c := qresyncSelectClient(t, lines...)
		st, err := c.Select(resCtx(t), "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 5, ModSeq: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if st.HighestModSeq != tc.hms || st.NoModSeq != tc.no {
			t.Errorf("%q: HighestModSeq %d, NoModSeq %v; want %d, %v", tc.codes, st.HighestModSeq, st.NoModSeq, tc.hms, tc.no)
		}
		var uids []uint32
		for _, m := range st.Changed {
			uids = append(uids, m.UID)
		}
		if len(uids) != 1 || uids[0] != 7 {
			t.Errorf("Changed UIDs %v; want [7] (the FETCH without UID left out)", uids)
		}
	}
}

// TestSelectUnannouncedReturnsState: a SELECT whose answer holds a FETCH
// for a message above its EXISTS ends with a *session.UnannouncedError,
// yet the mailbox is selected: Select returns the state with the error,
// as it does with a *ReadOnlyError, so that the caller knows what it
// selected (and can Bind to it). Defaults.
func TestSelectUnannouncedReturnsState(t *testing.T) {
	c := qresyncSelectClient(t, "* 3 EXISTS", "* OK [UIDVALIDITY 5] x", "* OK [HIGHESTMODSEQ 50] x",
		`* 7 FETCH (UID 9 FLAGS (\Seen) MODSEQ (42))`)
	st, err := c.Select(resCtx(t), "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 5, ModSeq: 10}})
	if !errors.Is(err, session.ErrUnannounced) {
		t.Fatalf("Select with a FETCH of message 7 of 3: %v; want an UnannouncedError", err)
	}
	if st == nil || st.Exists != 3 || st.UIDValidity != 5 || st.Selection == 0 {
		t.Fatalf("Select with an UnannouncedError returned state %+v; want the selected mailbox's (3 messages, UIDVALIDITY 5)", st)
	}
	if name, _ := c.Session().Mailbox(); name != "INBOX" {
		t.Errorf("selected mailbox %q; want INBOX", name)
	}
}

// TestSelectQResyncWithoutUIDValidityReportsNoResync: a QRESYNC select
// answered with no UIDVALIDITY (which RFC 3501 section 6.3.1 requires),
// or with one past 32 bits (unknown, 0), and a VANISHED (EARLIER) and a
// changed message: whether the UIDs the client kept still name the same
// messages cannot be known, so the answer resyncs nothing:
// UIDValidityChanged, with Vanished and Changed empty, as after a
// UIDVALIDITY change. Defaults.
func TestSelectQResyncWithoutUIDValidityReportsNoResync(t *testing.T) {
	for _, uidv := range []string{"", "* OK [UIDVALIDITY 4294967301] past 32 bits"} {
		lines := []string{"* 3 EXISTS", "* OK [HIGHESTMODSEQ 50] x"}
		if uidv != "" {
			lines = append(lines, uidv)
		}
		lines = append(lines, "* VANISHED (EARLIER) 1:2", `* 1 FETCH (UID 3 FLAGS (\Seen) MODSEQ (40))`)
		c := qresyncSelectClient(t, lines...)
		st, err := c.Select(resCtx(t), "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 5, ModSeq: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if !st.UIDValidityChanged || !st.Vanished.IsEmpty() || len(st.Changed) != 0 {
			t.Errorf("UIDVALIDITY 5 kept, answer %q: UIDValidityChanged %v, Vanished %q, Changed %d; want true, empty, none",
				uidv, st.UIDValidityChanged, st.Vanished.String(), len(st.Changed))
		}
	}
}
