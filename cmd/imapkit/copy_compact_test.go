package main

import (
	"path/filepath"
	"testing"
)

// TestCopyCompactKilledStaleJournal (found by review): a run that saved
// nothing (its mailbox failed before its first save, a destination check
// failed say) but replayed the journal a killed run had left, ends with
// the state file written whole (compact). Killed before the journal's
// removal, the old journal's lines were replayed over that newer state:
// a map the run had reset (the destination mailbox created by this run
// for another source mailbox: last UID 0, no map, no destination
// UIDVALIDITY) came back with the old destination UIDVALIDITY, and the
// next run refused the mailbox as "not the one earlier runs appended
// to". The journal is now written anew before the state file
// (writeWhole). The last UID and the count are the state file's either
// way: no mail is copied twice. Without a server.
func TestCopyCompactKilledStaleJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "copy-x.json")
	st := &copyState{Version: 1, Src: "s", Dst: "d", Mailboxes: map[string]*copyBox{}}
	b := &copyBox{Dst: "X", UIDValidity: 7, LastUID: 3, Copied: 3}
	b.addPairs(5, []uint32{1, 2, 3}, []uint32{1, 2, 3})
	st.Mailboxes["A"] = b
	// A run killed: the state file lean, the map in the journal.
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
	st.journal.Close()

	run := readCopyState(t, path)
	// As copyMailbox resets it for a destination mailbox this run
	// created (mailboxTry.dstFresh), the mailbox then failing before
	// its save.
	a := run.Mailboxes["A"]
	a.LastUID, a.HighestModSeq = 0, 0
	a.resetMap(0)
	// compact, killed before the journal's removal.
	if err := run.writeWhole(path); err != nil {
		t.Fatal(err)
	}

	next := readCopyState(t, path)
	if got := next.Mailboxes["A"]; got == nil || got.LastUID != 0 || got.DstUIDValidity != 0 || len(got.UIDMap) != 0 {
		t.Errorf("after a kill between the state's whole write and the journal's removal: A's entry %+v; want the state the run wrote (last UID 0, no map, no destination UIDVALIDITY)", got)
	}
}
