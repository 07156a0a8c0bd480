//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestCopyRestartShortcutFailedCompacts: restartCheck's "already
// restarted: going on where it stopped" shortcut removes the mailbox's
// entries under other names (dups: "inbox" beside "INBOX") in memory, and
// closes the map journal a mailbox before it in the run (Work) began,
// marking the state replayed so that compact writes it whole at the run's
// end (a save of the mailbox would write the journal anew; none may come).
// Here INBOX fails before its first save (its destination's UIDVALIDITY is
// not the one recorded: errDstChanged): the run must still end with the
// state file written whole (the maps in it, "inbox" gone) and no journal.
// Without the mark compact did nothing: the lean state file Work's save
// wrote stayed, "inbox" in it, and the journal beside it, which the next
// run replays: over an entry the user put right as the refusal advises,
// it brought the wrong destination UIDVALIDITY back, and that run was
// refused too. Against Dovecot.
func TestCopyRestartShortcutFailedCompacts(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	args := inboxTwiceRestartedState(t, e, 2)
	var dstUIDV any
	editCopyState(t, e.statePath(), func(st map[string]any) {
		in := st["mailboxes"].(map[string]any)["INBOX"].(map[string]any)
		dstUIDV = in["dst_uidvalidity"]
		in["dst_uidvalidity"] = dstUIDV.(float64) + 1 // New is not the mailbox recorded
	})
	code, errs := e.run(args...)
	if code != exitNo || !strings.Contains(errs, `entry of it under "inbox"`) || !strings.Contains(errs, errDstChanged.Error()) {
		t.Fatalf("INBOX failing after the shortcut: exit %d; want %d, inbox's entry removed, then %q\nstderr: %s", code, exitNo, errDstChanged, errs)
	}
	if _, err := os.Stat(mapJournalPath(e.statePath())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the map journal after the run: %v; want none (compact removes it)", err)
	}
	var st copyState
	raw, _ := os.ReadFile(e.statePath())
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	in, work := st.Mailboxes["INBOX"], st.Mailboxes["Work"]
	if len(st.Mailboxes) != 2 || in == nil || work == nil || in.UIDMap.lookup(1) == 0 || work.UIDMap.lookup(1) == 0 {
		t.Errorf("the state file after the run: %s; want INBOX and Work alone, their maps in it (written whole)", strings.TrimSpace(string(raw)))
	}

	// The entry put right by hand, as the advice says: what the next
	// run loads is that (a journal left would be replayed over it).
	editCopyState(t, e.statePath(), func(st map[string]any) {
		st["mailboxes"].(map[string]any)["INBOX"].(map[string]any)["dst_uidvalidity"] = dstUIDV
	})
	var next copyState
	if err := loadCopyState(e.statePath(), &next); err != nil {
		t.Fatal(err)
	}
	want := uint32(dstUIDV.(float64))
	if b := next.Mailboxes["INBOX"]; b == nil || b.DstUIDValidity != want || next.Mailboxes["inbox"] != nil {
		got := uint32(0)
		if b != nil {
			got = b.DstUIDValidity
		}
		t.Errorf("the next run's state, INBOX's entry put right: entries %v, INBOX's destination UIDVALIDITY %d; want INBOX and Work, %d", next.boxNames(), got, want)
	}
}
