package commands_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestMoveFallbackStopsAtUIDValidityChange: Move on a server without MOVE
// (the UIDPLUS fallback: UID SEARCH, UID COPY, UID STORE +FLAGS
// (\Deleted), UID EXPUNGE) whose answer to the UID COPY carries an
// untagged "OK [UIDVALIDITY 99]": the source mailbox's UIDs were
// renumbered (RFC 9051 section 2.3.1.1), so UIDs 1:3 read before may now
// name other messages, or none. Nothing in the session or the client
// follows a UIDVALIDITY after the SELECT (no code but mailboxState reads
// CodeUIDValidity), and the fallback went on to flag \Deleted and expunge
// UIDs 1:3 of the new validity: messages that were never copied, lost.
// The fallback should stop before the STORE (a *MoveIncompleteError
// saying the copy was done and nothing removed).
func TestMoveFallbackStopsAtUIDValidityChange(t *testing.T) {
	var mu sync.Mutex
	var stores, expunges []string
	keep := func(args string) string { return args }
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS", on: handlers{
		"UID SEARCH": answer("* SEARCH 1 2 3"),
		"UID COPY": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines("* OK [UIDVALIDITY 99] UIDs renumbered", cmd.Tag+" OK [COPYUID 7 1:3 10:12] copied")
		},
		"UID STORE":   record(&mu, &stores, keep),
		"UID EXPUNGE": record(&mu, &expunges, keep),
	}})
	_, err := c.Move(ctx, commands.UIDs(1, 2, 3), "Dst")
	mu.Lock()
	defer mu.Unlock()
	if len(stores) > 0 || len(expunges) > 0 {
		t.Errorf("after the source's UIDVALIDITY changed, Move's fallback sent UID STORE %q and UID EXPUNGE %q of UIDs of the old validity (Move returned %v)", stores, expunges, err)
	}
	var inc *commands.MoveIncompleteError
	if !errors.As(err, &inc) || !errors.Is(err, commands.ErrUIDValidity) || !inc.Deleted.IsEmpty() || inc.Unknown {
		t.Errorf("Move = %v; want a *MoveIncompleteError matching ErrUIDValidity, nothing flagged \\Deleted", err)
	}
}

// TestMoveFallbackNoExpungeAfterUIDValidityChange: the UIDVALIDITY change
// comes in the answer to the fallback's UID STORE (the messages of UIDs
// 1:3 flagged \Deleted): the UID EXPUNGE of 1:3 would remove messages of
// the new validity. It is not sent; the error says the copy was done and
// which UIDs (of the old validity) were left flagged.
func TestMoveFallbackNoExpungeAfterUIDValidityChange(t *testing.T) {
	var mu sync.Mutex
	var expunges []string
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS", on: handlers{
		"UID SEARCH": answer("* SEARCH 1 2 3"),
		"UID COPY":   answer(),
		"UID STORE": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines("* OK [UIDVALIDITY 99] UIDs renumbered", cmd.Tag+" OK stored")
		},
		"UID EXPUNGE": record(&mu, &expunges, func(a string) string { return a }),
	}})
	_, err := c.Move(ctx, commands.UIDs(1, 2, 3), "Dst")
	mu.Lock()
	defer mu.Unlock()
	if len(expunges) > 0 {
		t.Errorf("Move's fallback sent UID EXPUNGE %q after the UIDVALIDITY changed in its STORE's answer (Move returned %v)", expunges, err)
	}
	var inc *commands.MoveIncompleteError
	if !errors.As(err, &inc) || !errors.Is(err, commands.ErrUIDValidity) || inc.Deleted.String() != "UID 1:3" || inc.Unknown {
		t.Errorf("Move = %v; want a *MoveIncompleteError matching ErrUIDValidity, Deleted 1:3", err)
	}
}

// TestUIDValidityInSelectAnswerNotAChange: the UIDVALIDITY of a SELECT's
// answer is the mailbox's, not a change: Move's fallback right after it
// runs to the end.
func TestUIDValidityInSelectAnswerNotAChange(t *testing.T) {
	var mu sync.Mutex
	var expunges []string
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS", on: handlers{
		"SELECT":      answer("* 3 EXISTS", "* OK [UIDVALIDITY 5] ok"),
		"UID SEARCH":  answer("* SEARCH 1 2 3"),
		"UID COPY":    answer(),
		"UID STORE":   answer(),
		"UID EXPUNGE": record(&mu, &expunges, func(a string) string { return a }),
	}})
	if n := c.Session().UIDValidityChanges(); n != 0 {
		t.Errorf("UIDValidityChanges = %d after a SELECT answered with its UIDVALIDITY; want 0", n)
	}
	if _, err := c.Move(ctx, commands.UIDs(1, 2, 3), "Dst"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(expunges) != 1 {
		t.Errorf("UID EXPUNGEs sent: %q; want one", expunges)
	}
}

// TestSplitUIDExpungeStopsAtUIDValidityChange: a UID EXPUNGE of a set
// sent in parts (one after the other) whose first part's answer brings a
// UIDVALIDITY change: the later parts, UIDs of the old validity, are not
// sent (a *SplitError matching ErrUIDValidity). (The parts of a UID STORE
// or UID COPY go pipelined: those already sent when the change is read
// cannot be held back.)
func TestSplitUIDExpungeStopsAtUIDValidityChange(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS", on: handlers{
		"UID EXPUNGE": func(hc *hostile.Conn, cmd *hostile.Command) error {
			mu.Lock()
			sent = append(sent, cmd.Args)
			first := len(sent) == 1
			mu.Unlock()
			if first {
				return hc.Lines("* OK [UIDVALIDITY 99] UIDs renumbered", cmd.Tag+" OK expunged")
			}
			return hc.Reply(cmd.Tag, "OK expunged")
		},
	}})
	c.SetMaxSetLength(8)
	uids := commands.UIDs(1, 3, 5, 7, 9, 11)
	_, err := c.Expunge(ctx, &uids)
	var split *commands.SplitError
	if !errors.As(err, &split) || !errors.Is(err, commands.ErrUIDValidity) {
		t.Errorf("UID EXPUNGE in parts across a UIDVALIDITY change = %v; want a *SplitError matching ErrUIDValidity", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 {
		t.Errorf("UID EXPUNGE parts sent: %q; want the first alone", sent)
	}
}
