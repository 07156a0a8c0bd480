package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The state-file fixtures of the copy tests that need no server (moved out
// of copy_restart_test.go, which builds on Linux only, so that
// copy_compact_test.go builds everywhere).

// alphaBetaState is the state the dropBox tests start from, two
// mailboxes each with its UID map (Alpha 1..2 -> 1..2, Beta 1..3 ->
// 5..7), and the path of its state file, not written yet.
func alphaBetaState(t *testing.T) (string, *copyState) {
	return filepath.Join(t.TempDir(), "copy-x.json"), &copyState{Version: 1, Src: "imap://a@src", Dst: "imap://a@dst", Mailboxes: map[string]*copyBox{
		"Alpha": {Dst: "Alpha", UIDValidity: 1, LastUID: 2, Copied: 2, DstUIDValidity: 7, UIDMap: uidMap{{Src: 1, Dst: 1, N: 2}}},
		"Beta":  {Dst: "Beta", UIDValidity: 2, LastUID: 3, Copied: 3, DstUIDValidity: 8, UIDMap: uidMap{{Src: 1, Dst: 5, N: 3}}},
	}}
}

// readCopyState reads the state file at path and its map journal as a run
// does (loadCopyState), stopping the test on an error.
func readCopyState(t *testing.T, path string) *copyState {
	t.Helper()
	st := &copyState{Mailboxes: map[string]*copyBox{}}
	if err := loadCopyState(path, st); err != nil {
		t.Fatal(err)
	}
	return st
}

// writeOldState writes, in a new directory, a state file holding boxes
// whole (as an older imapkit left it) and, unless journal is "", journal
// as its map journal. It returns the state file's path.
func writeOldState(t *testing.T, boxes map[string]*copyBox, journal string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy-x.json")
	if err := saveJSON(path, &copyState{Version: 1, Src: "s", Dst: "d", Mailboxes: boxes}); err != nil {
		t.Fatal(err)
	}
	if journal != "" {
		if err := os.WriteFile(mapJournalPath(path), []byte(journal), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// killedFirstSave is run's first save killed between its two writes: the
// map journal written anew (logMaps), the state file at path not. It
// returns what the next load reads.
func killedFirstSave(t *testing.T, path string, run *copyState) *copyState {
	t.Helper()
	if err := run.logMaps(path); err != nil {
		t.Fatal(err)
	}
	run.journal.Close()
	return readCopyState(t, path)
}
