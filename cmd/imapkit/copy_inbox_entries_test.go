//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyStateInboxEntriesFold (found by review): a state an older
// imapkit wrote holding INBOX under two names, "INBOX" and "inbox" (the
// name typed, taken for another mailbox). Both stayed: "inbox" was never
// used. When only one of them records copies, the other records nothing
// a run needs: it is dropped and the one with copies is INBOX's,
// whichever its name; the journal's lines of each reach their own entry
// first (the fold comes after the replay). When both record copies,
// both stay and dups names the other. Without a server.
func TestCopyStateInboxEntriesFold(t *testing.T) {
	load := func(t *testing.T, boxes map[string]*copyBox, journal string) *copyState {
		t.Helper()
		return readCopyState(t, writeOldState(t, boxes, journal))
	}
	data := func() *copyBox { return &copyBox{Dst: "InDst", UIDValidity: 7, LastUID: 3, Copied: 3} }
	empty := func() *copyBox { return &copyBox{Dst: "Other", UIDValidity: 7} }
	for _, tc := range []struct {
		what  string
		boxes map[string]*copyBox
	}{
		{"INBOX with copies, inbox none", map[string]*copyBox{"INBOX": data(), "inbox": empty()}},
		{"inbox with copies, INBOX none", map[string]*copyBox{"INBOX": empty(), "inbox": data()}},
		{"Inbox with copies, inbox none, no INBOX", map[string]*copyBox{"Inbox": data(), "inbox": empty()}},
	} {
		st := load(t, tc.boxes, "")
		if b := st.Mailboxes["INBOX"]; len(st.Mailboxes) != 1 || b == nil || b.LastUID != 3 || b.Dst != "InDst" || len(st.dups["INBOX"]) != 0 {
			t.Errorf("%s: entries %v, INBOX's %+v, dups %v; want only INBOX, the one with copies", tc.what, st.boxNames(), b, st.dups["INBOX"])
		}
	}
	// A UID map only, in the journal, for an entry whose state file
	// fields record no copies (LastUID 0, no group in flight): no run
	// writes that (a group's Pending is saved before its APPEND), and it
	// is not counted (recordsCopies): inbox is dropped, INBOX keeps its
	// own (no) map. Both stayed, inbox a dup, before
	// TestCopyStateInboxEntriesFoldKilledFirstSave.
	lean := &copyBox{Dst: "Other", UIDValidity: 7}
	st := load(t, map[string]*copyBox{"INBOX": data(), "inbox": lean}, `{"box":"inbox","v":9,"set":true,"map":[[1,1,2]]}`+"\n")
	if b := st.Mailboxes["INBOX"]; len(st.Mailboxes) != 1 || len(st.dups["INBOX"]) != 0 || b == nil || b.LastUID != 3 || b.UIDMap != nil {
		t.Errorf("inbox's map alone in the journal: entries %v, dups %v, INBOX %+v; want INBOX alone, its own entry", st.boxNames(), st.dups["INBOX"], b)
	}
	// Both with copies, no "INBOX": one of them is INBOX's, the other a dup.
	st = load(t, map[string]*copyBox{"Inbox": data(), "inbox": data()}, "")
	if st.Mailboxes["INBOX"] == nil || fmt.Sprint(st.dups["INBOX"]) != "[inbox]" || len(st.Mailboxes) != 2 {
		t.Errorf("Inbox and inbox with copies: entries %v, dups %v; want INBOX and inbox, inbox a dup", st.boxNames(), st.dups["INBOX"])
	}
}

// TestCopyStateInboxEntriesFoldKilledFirstSave (found by review): a
// state an older imapkit wrote holding INBOX under "inbox" (with copies,
// its map whole in the state file) and "INBOX" (recording none).
// foldInboxEntries keeps "inbox"'s entry as INBOX's. The run's first
// save writes the journal anew (a "set" line under "INBOX" with the kept
// map), then the state file; killed between the two, the next load
// replays that line over the state file's "INBOX" entry, the empty one.
// It then counted as recording copies (its UID map), "inbox" still did,
// and INBOX was refused for good (errInboxTwice), the only way on a
// restart copying INBOX whole again. Without a server.
func TestCopyStateInboxEntriesFoldKilledFirstSave(t *testing.T) {
	for _, compacted := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "copy-x.json")
		data := &copyBox{Dst: "InDst", UIDValidity: 7, LastUID: 3, Copied: 3}
		data.addPairs(9, []uint32{1, 2, 3}, []uint32{1, 2, 3})
		old := &copyState{Version: 1, Src: "s", Dst: "d", Mailboxes: map[string]*copyBox{
			"inbox": data,
			"INBOX": {Dst: "Other", UIDValidity: 7},
		}}
		save := saveJSON // compacted: maps whole, no journal
		if !compacted {
			// A run of the older imapkit killed: the state file lean,
			// inbox's map in the journal under "inbox".
			save = func(path string, v any) error { return v.(*copyState).save(path) }
		}
		if err := save(path, old); err != nil {
			t.Fatal(err)
		}
		if old.journal != nil {
			old.journal.Close()
		}
		run := readCopyState(t, path)
		if b := run.Mailboxes["INBOX"]; len(run.dups["INBOX"]) != 0 || b == nil || b.LastUID != 3 || b.UIDMap.lookup(2) != 2 {
			t.Fatalf("compacted %v: first load: entries %v, dups %v; want INBOX folded from inbox", compacted, run.boxNames(), run.dups["INBOX"])
		}
		// The run's first save (state.save): the journal written anew,
		// killed before the state file's write.
		next := killedFirstSave(t, path, run)
		got := next.Mailboxes["INBOX"]
		if len(next.dups["INBOX"]) != 0 || len(next.Mailboxes) != 1 || got == nil || got.LastUID != 3 || got.DstUIDValidity != 9 || got.UIDMap.lookup(2) != 2 {
			t.Errorf("compacted %v: after a kill inside the first save after the fold: entries %v, dups %v (INBOX refused: %v), INBOX %+v; want INBOX's entry alone, last UID 3 and its map, as the first load settled it", compacted, next.boxNames(), next.dups["INBOX"], len(next.dups["INBOX"]) > 0, got)
		}
	}
}

// TestCopyStateInboxTwiceRefused (found by review): a state holding
// INBOX under "INBOX" and "inbox", both with copies (an older imapkit
// copied INBOX twice, once per name). Which entry the copies follow
// cannot be told: INBOX is refused (exit 1, nothing copied, the state
// unchanged), the advice naming --restart-mailbox INBOX; a restart
// without --restart-unchanged is refused, its advice not offering a plain
// run (refused too); a restart into
// the destination mailbox holding the copies is refused without naming
// "inbox" as another source mailbox whose copies are there (it did); a
// restart into a new mailbox copies INBOX whole once and removes both
// entries. Against Dovecot.
func TestCopyStateInboxTwiceRefused(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX", "i", 2)
	e.mustRun("run 1", "INBOX", "--map", "INBOX=InDst")
	e.recordTwice("INBOX", "inbox")
	before, err := os.ReadFile(e.statePath())
	if err != nil {
		t.Fatal(err)
	}
	code, errs := e.run("INBOX", "--map", "INBOX=InDst")
	after, _ := os.ReadFile(e.statePath())
	if got := subjectsOf(t, e.c, "InDst"); code != exitNo || got != "i0,i1" || !strings.Contains(errs, "the state records INBOX twice") || !strings.Contains(errs, "--restart-mailbox INBOX --restart-unchanged --map INBOX=OTHER") {
		t.Errorf("two entries: exit %d, InDst holds %s; want %d, i0,i1, refused naming --restart-mailbox INBOX\nstderr: %s", code, got, exitNo, errs)
	}
	var b4, af copyState
	if json.Unmarshal(before, &b4) != nil || json.Unmarshal(after, &af) != nil || len(af.Mailboxes) != 2 || af.Mailboxes["inbox"] == nil || af.Mailboxes["INBOX"] == nil {
		t.Errorf("two entries: the state after the refusal holds %v, want INBOX and inbox as before", af.Mailboxes)
	}
	code, errs = e.run("INBOX", "--map", "INBOX=InDst", "--restart-mailbox", "INBOX")
	if code != exitNo || !strings.Contains(errs, "records INBOX under several names") || strings.Contains(errs, "a run without --restart-mailbox goes on") {
		t.Errorf("restart without --restart-unchanged: exit %d; want %d, refused, naming --restart-unchanged, not a plain run\nstderr: %s", code, exitNo, errs)
	}
	code, errs = e.run("INBOX", "--map", "INBOX=InDst", "--restart-mailbox", "INBOX", "--restart-unchanged")
	if got := subjectsOf(t, e.c, "InDst"); code != exitNo || got != "i0,i1" || !strings.Contains(errs, "not restarted: the destination mailbox InDst") || strings.Contains(errs, "copies of inbox") {
		t.Errorf("restart into InDst: exit %d, InDst holds %s; want %d, i0,i1, refused without naming inbox as another mailbox\nstderr: %s", code, got, exitNo, errs)
	}
	code, errs = e.run("INBOX", "--map", "INBOX=New", "--restart-mailbox", "INBOX", "--restart-unchanged")
	if got := subjectsOf(t, e.c, "New"); code != exitOK || got != "i0,i1" {
		t.Errorf("restart into New: exit %d, New holds %s; want 0, i0,i1\nstderr: %s", code, got, errs)
	}
	// The note names both entries removed (found by review: "INBOX"'s
	// only).
	if !strings.Contains(errs, `restarted (--restart-mailbox): its entry (`) || !strings.Contains(errs, `and its entry under "inbox" (`) {
		t.Errorf("restart into New: the note does not name both entries removed\nstderr: %s", errs)
	}
	var st copyState
	raw, _ := os.ReadFile(e.statePath())
	if err := json.Unmarshal(raw, &st); err != nil || len(st.Mailboxes) != 1 || st.Mailboxes["INBOX"] == nil || st.Mailboxes["INBOX"].Dst != "New" {
		t.Errorf("after the restart: entries %v; want INBOX's only, to New", st.Mailboxes)
	}
}

// TestCopyStateInboxTwiceRestartedEntry (found by review): a state
// holding INBOX under "inbox" (the older bug: copies to InDst) and
// "INBOX", the latter begun by a --restart-mailbox INBOX of an older
// imapkit (whose dropBox removed "INBOX" only) to New and stopped after
// its first message (killed, or a connection lost: Restarted, last UID
// 1). Both record copies: INBOX was refused (errInboxTwice), and the same
// restart command again (the advice followed, OTHER being New) was taken
// by restartCheck as "already restarted: going on where it stopped", then
// refused by inboxDupsError (now dupsError): the only way on was a third mailbox. The
// restart now goes on with its entry and removes "inbox" (its copies are
// not in New). When "inbox"'s copies are in New too, which of New's
// messages are whose cannot be told: not gone on with, refused while New
// holds messages, nothing copied. Against Dovecot.
func TestCopyStateInboxTwiceRestartedEntry(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX", "i", 2)
	e.mustRun("run 1", "INBOX", "--map", "INBOX=InDst")
	newUIDValidity := e.restartBegunToNew() // the restart to New, stopped after its first message
	restarted := func(inboxDst string) func(st map[string]any) {
		return func(st map[string]any) {
			boxes := st["mailboxes"].(map[string]any)
			in := boxes["INBOX"].(map[string]any)
			old := map[string]any{"dst": inboxDst, "uidvalidity": in["uidvalidity"], "last_uid": 2, "copied": 2}
			boxes["inbox"] = old
			boxes["INBOX"] = map[string]any{"dst": "New", "uidvalidity": in["uidvalidity"], "last_uid": 1, "copied": 1, "restarted": true, "dst_uidvalidity": newUIDValidity}
		}
	}
	editCopyState(t, e.statePath(), restarted("InDst"))
	code, errs := e.run("INBOX", "--map", "INBOX=New", "--restart-mailbox", "INBOX", "--restart-unchanged")
	if got := subjectsOf(t, e.c, "New"); code != exitOK || got != "i0,i1" || !strings.Contains(errs, `entry of it under "inbox" (2 copied to InDst, last UID 2) removed`) {
		t.Errorf("the restart to New again (the advice followed): exit %d, New holds %s; want 0, i0,i1 (the restart going on), inbox's entry removed\nstderr: %s", code, got, errs)
	}
	raw, st := e.stateFile()
	if len(st.Mailboxes) != 1 || st.Mailboxes["INBOX"] == nil || st.Mailboxes["INBOX"].LastUID != 2 {
		t.Errorf("the state after the restart: %s; want INBOX alone, last UID 2", raw)
	}

	// "inbox"'s copies in New too (the restart's destination): New's
	// messages cannot be told apart, the restart is one from INBOX's
	// start, refused (New holds messages).
	editCopyState(t, e.statePath(), restarted("New"))
	code, errs = e.run("INBOX", "--map", "INBOX=New", "--restart-mailbox", "INBOX", "--restart-unchanged")
	if got := subjectsOf(t, e.c, "New"); code != exitNo || got != "i0,i1" || !strings.Contains(errs, "not restarted: the destination mailbox New") {
		t.Errorf("inbox's copies in New too: exit %d, New holds %s; want %d, i0,i1, refused\nstderr: %s", code, got, exitNo, errs)
	}
}

// TestCopyStateInboxChildEntriesFold (found by review): a state an older
// imapkit wrote holding a child of INBOX under two names, "INBOX/Sub" and
// "inbox/Sub" (typed so, which Dovecot selects). nameMapper's
// foldInboxChildren moved "inbox/Sub" only when "INBOX/Sub" had no
// entry: both were kept, "inbox/Sub" never used (and named by the advice
// as another source mailbox). They are now settled as INBOX's: one
// recording nothing is dropped; both recording copies, the mailbox is
// refused (exit 1, nothing copied), and a restart into a new mailbox
// copies it whole once and removes both. Against Dovecot.
func TestCopyStateInboxChildEntriesFold(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX/Sub", "s", 2)
	e.mustRun("run 1", "INBOX/Sub", "--map", "INBOX/Sub=SubDst")
	entries := func() []string {
		_, st := e.stateFile()
		return st.boxNames()
	}
	editCopyState(t, e.statePath(), func(st map[string]any) {
		boxes := st["mailboxes"].(map[string]any)
		in := boxes["INBOX/Sub"].(map[string]any)
		boxes["inbox/Sub"] = map[string]any{"dst": "Other", "uidvalidity": in["uidvalidity"]}
	})
	code, errs := e.run("INBOX/Sub", "--map", "INBOX/Sub=SubDst")
	if got := subjectsOf(t, e.c, "SubDst"); code != exitOK || got != "s0,s1" || fmt.Sprint(entries()) != "[INBOX/Sub]" {
		t.Errorf("inbox/Sub recording nothing: exit %d, SubDst holds %s, entries %v; want 0, s0,s1, INBOX/Sub alone\nstderr: %s", code, got, entries(), errs)
	}
	e.recordTwice("INBOX/Sub", "inbox/Sub")
	code, errs = e.run("INBOX/Sub", "--map", "INBOX/Sub=SubDst")
	if got := subjectsOf(t, e.c, "SubDst"); code != exitNo || got != "s0,s1" || !strings.Contains(errs, "the state records INBOX/Sub twice") || !strings.Contains(errs, "--restart-mailbox INBOX/Sub --restart-unchanged --map INBOX/Sub=OTHER") || fmt.Sprint(entries()) != "[INBOX/Sub inbox/Sub]" {
		t.Errorf("both recording copies: exit %d, SubDst holds %s, entries %v; want %d, s0,s1, refused naming --restart-mailbox INBOX/Sub, the state unchanged\nstderr: %s", code, got, entries(), exitNo, errs)
	}
	code, errs = e.run("INBOX/Sub", "--map", "INBOX/Sub=New", "--restart-mailbox", "INBOX/Sub", "--restart-unchanged")
	if got := subjectsOf(t, e.c, "New"); code != exitOK || got != "s0,s1" || fmt.Sprint(entries()) != "[INBOX/Sub]" {
		t.Errorf("restart into New: exit %d, New holds %s, entries %v; want 0, s0,s1, INBOX/Sub alone\nstderr: %s", code, got, entries(), errs)
	}
}

// inboxTwiceRestartedState makes the state
// TestCopyStateInboxTwiceRestartedEntry starts from, with a mailbox Work
// copied before INBOX in the run (so that the map journal is begun, maps
// whole, before INBOX's turn): "inbox" records INBOX's copies to InDst
// (with its UID map), "INBOX" a --restart-mailbox INBOX to New an older
// imapkit began and stopped after its first message. It returns the
// command that goes on with that restart.
func inboxTwiceRestartedState(t *testing.T, e *restartEnv, n int) []string {
	t.Helper()
	e.fill("INBOX", "i", n)
	e.fill("Work", "w", 1)
	e.mustRun("run 1", "Work", "INBOX", "--map", "INBOX=InDst", "--map", "Work=WorkDst")
	newUIDValidity := e.restartBegunToNew()
	editCopyState(t, e.statePath(), func(st map[string]any) {
		boxes := st["mailboxes"].(map[string]any)
		in := boxes["INBOX"].(map[string]any)
		if in["uid_map"] == nil {
			t.Fatalf("run 1 recorded no UID map for INBOX: %v", in)
		}
		boxes["inbox"] = in // copies to InDst, its map (InDst's UIDs)
		boxes["INBOX"] = map[string]any{"dst": "New", "uidvalidity": in["uidvalidity"], "last_uid": 1, "copied": 1, "restarted": true,
			"dst_uidvalidity": newUIDValidity, "uid_map": [][3]uint32{{1, 1, 1}}}
	})
	return []string{"Work", "INBOX", "--map", "Work=WorkDst", "--map", "INBOX=New", "--restart-mailbox", "INBOX", "--restart-unchanged", "--no-multiappend"}
}

// runKilledAt runs args with the run "killed" at its k-th "appended"
// step: the state directory is put back as it was on disk then.
func runKilledAt(t *testing.T, e *restartEnv, k int, args []string) {
	t.Helper()
	var onDisk map[string][]byte
	seen := 0
	setTestHook(t, func(step string) error {
		if step == "appended" && onDisk == nil {
			if seen++; seen == k {
				onDisk = stateSnapshot(t, e.stateDir)
				return fmt.Errorf("stopped by the test")
			}
		}
		return nil
	})
	code, errs := e.run(args...)
	setTestHook(t, nil)
	if onDisk == nil {
		t.Fatalf("the run was not stopped at appended #%d: exit %d\n%s", k, code, errs)
	}
	stateRestore(t, e.stateDir, onDisk)
}

// TestCopyStateInboxTwiceRestartedKilled (found by review): restartCheck's
// "already restarted" shortcut removed "inbox" (a dup) from memory only.
// When a mailbox before INBOX in the run saved first, the map journal
// was begun with every map whole, "inbox"'s (InDst's UIDs and
// UIDVALIDITY) among them, and later saves appended only changes: the
// journal kept "set inbox". Killed after INBOX's next save (the state
// file now without "inbox"), the next load replayed that line onto
// "INBOX" (inboxVariant: the one entry differing in INBOX's case), and
// the same command again was refused as "the destination mailbox is not
// the one earlier runs appended to" (New's UIDVALIDITY is not InDst's),
// advising to delete New. New must hold each message once.
func TestCopyStateInboxTwiceRestartedKilled(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	args := inboxTwiceRestartedState(t, e, 2)
	runKilledAt(t, e, 1, args) // i1 appended to New, the state not saying so yet
	code, errs := e.run(args...)
	if got := subjectsOf(t, e.c, "New"); code != exitOK || got != "i0,i1" {
		t.Errorf("the same command after a kill: exit %d, New holds %s; want 0, i0,i1 (each once)\nstderr: %s", code, got, errs)
	}
}

// TestCopyStateInboxTwiceRestartedKilledMap (found by review): as
// TestCopyStateInboxTwiceRestartedKilled with three messages, killed at
// the second group: the journal's "set inbox" line, replayed onto
// "INBOX", set InDst's map and UIDVALIDITY, and INBOX's next pairs line
// (New's UIDVALIDITY) reset it: the pair of the message copied to New
// before (source UID 1, by the older restart) was lost, its flag changes
// never carried to New. Silent.
func TestCopyStateInboxTwiceRestartedKilledMap(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	args := inboxTwiceRestartedState(t, e, 3)
	runKilledAt(t, e, 2, args)
	code, errs := e.run(args...)
	if got := subjectsOf(t, e.c, "New"); code != exitOK || got != "i0,i1,i2" {
		t.Fatalf("the same command after a kill: exit %d, New holds %s; want 0, i0,i1,i2 (each once)\nstderr: %s", code, got, errs)
	}
	raw, st := e.stateFile()
	b := st.Mailboxes["INBOX"]
	if b == nil || len(st.Mailboxes) != 2 || b.UIDMap.lookup(1) == 0 || b.UIDMap.lookup(2) == 0 || b.UIDMap.lookup(3) == 0 {
		t.Errorf("the state after the restart ended: %s; want INBOX and Work, INBOX's source UIDs 1..3 mapped to New (UID 1's pair lost: its flag changes never carried)", strings.TrimSpace(string(raw)))
	}
}

// TestCopyStateInboxVariantsKilledFirstSave (found by review): as
// TestCopyStateInboxEntriesFoldKilledFirstSave, but the state holds
// INBOX under "Inbox" (with copies, its map in the older run's journal:
// the state file lean) and "inbox" (recording none), no "INBOX". The
// fold keeps "Inbox"'s entry as INBOX's; the run's first save writes the
// journal anew, its map under "INBOX". Killed before the state file's
// write, the next load found no "INBOX" entry for that line, and
// inboxVariant gave none (two entries differ from it in case only): the
// line was skipped, and the kept entry had no UID map (its flag changes
// never carried to the copies). The same for a child of INBOX, whose
// line under "INBOX/Sub" must reach the entry foldInboxChildren keeps.
// Without a server.
func TestCopyStateInboxVariantsKilledFirstSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "copy-x.json")
	data := &copyBox{Dst: "InDst", UIDValidity: 7, LastUID: 3, Copied: 3}
	data.addPairs(9, []uint32{1, 2, 3}, []uint32{1, 2, 3})
	data.mapLog = []mapRecord{{V: 9, Set: true, Map: data.UIDMap}}
	old := &copyState{Version: 1, Src: "s", Dst: "d", Mailboxes: map[string]*copyBox{
		"Inbox": data,
		"inbox": {Dst: "Other", UIDValidity: 7},
	}}
	if err := old.save(path); err != nil { // lean: the map in the journal
		t.Fatal(err)
	}
	old.journal.Close()
	run := readCopyState(t, path)
	if b := run.Mailboxes["INBOX"]; b == nil || len(run.Mailboxes) != 1 || b.UIDMap.lookup(2) != 2 {
		t.Fatalf("first load: entries %v, INBOX %+v; want INBOX folded from Inbox, its map", run.boxNames(), b)
	}
	next := killedFirstSave(t, path, run) // the first save's journal, killed before the state file's write
	if b := next.Mailboxes["INBOX"]; b == nil || len(next.Mailboxes) != 1 || b.LastUID != 3 || b.UIDMap.lookup(2) != 2 {
		t.Errorf("after a kill inside the first save after the fold: entries %v, INBOX %+v; want INBOX alone, last UID 3, its map (2 -> 2)", next.boxNames(), b)
	}

	// A child: the state file holding "inbox/Sub" (recording none) and
	// "Inbox/Sub" (with copies, its map not in the state file), the
	// journal a line under "INBOX/Sub" (the first save after
	// foldInboxChildren's fold). The load replays it onto "Inbox/Sub",
	// the entry the fold keeps.
	next = readCopyState(t, writeOldState(t, map[string]*copyBox{
		"Inbox/Sub": {Dst: "SubDst", UIDValidity: 7, LastUID: 3, Copied: 3},
		"inbox/Sub": {Dst: "Other", UIDValidity: 7},
	}, `{"box":"INBOX/Sub","v":9,"set":true,"map":[[1,1,3]]}`+"\n"))
	if b, o := next.Mailboxes["Inbox/Sub"], next.Mailboxes["inbox/Sub"]; b == nil || o == nil || b.UIDMap.lookup(2) != 2 || o.UIDMap != nil {
		t.Errorf("a child's line under INBOX/Sub: Inbox/Sub %+v, inbox/Sub %+v; want the map on Inbox/Sub, the one recording copies", b, o)
	}
}

// TestCopyStateInboxChildDupsAdviceTyped (found by review): the state
// holds a child of INBOX under "INBOX/Sub" and "inbox/Sub", both with
// copies (an older imapkit copied it once per name, the user typing
// "inbox/Sub"). The run, typed as before ("inbox/Sub"), is refused
// (dupsError) with the advice "--restart-mailbox INBOX/Sub
// --restart-unchanged --map INBOX/Sub=OTHER". Followed, the mailbox
// typed as before, it was a usage error before connecting (checkRestart
// compared the names as typed, before foldInboxChildren:
// "--restart-mailbox INBOX/Sub: not among the mailboxes named
// (inbox/Sub)"). Against Dovecot; New holds each message once.
func TestCopyStateInboxChildDupsAdviceTyped(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX/Sub", "s", 2)
	e.mustRun("run 1", "INBOX/Sub", "--map", "INBOX/Sub=SubDst")
	e.recordTwice("INBOX/Sub", "inbox/Sub")
	code, errs := e.run("inbox/Sub")
	if code != exitNo || !strings.Contains(errs, "--restart-mailbox INBOX/Sub --restart-unchanged --map INBOX/Sub=OTHER") {
		t.Fatalf("typed inbox/Sub: exit %d; want %d, the advice\n%s", code, exitNo, errs)
	}
	code, errs = e.run("inbox/Sub", "--restart-mailbox", "INBOX/Sub", "--restart-unchanged", "--map", "INBOX/Sub=New")
	if code != exitOK {
		t.Fatalf("the advice followed (the mailbox typed as before): exit %d; want 0 (copied whole to New)\nstderr: %s", code, errs)
	}
	if sub, nw := subjectsOf(t, e.c, "SubDst"), subjectsOf(t, e.c, "New"); sub != "s0,s1" || nw != "s0,s1" {
		t.Errorf("the advice followed (the mailbox typed as before): exit %d, SubDst %s, New %s; want 0, SubDst untouched, New s0,s1 (each once)\nstderr: %s", code, sub, nw, errs)
	}
	// The other way round: typed INBOX/Sub, restarted as inbox/Sub.
	code, errs = e.run("INBOX/Sub", "--restart-mailbox", "inbox/Sub", "--restart-unchanged", "--map", "INBOX/Sub=New2")
	if code != exitOK {
		t.Fatalf("typed INBOX/Sub, --restart-mailbox inbox/Sub: exit %d; want 0\nstderr: %s", code, errs)
	}
	if nw := subjectsOf(t, e.c, "New2"); nw != "s0,s1" {
		t.Errorf("typed INBOX/Sub, --restart-mailbox inbox/Sub: exit %d, New2 %s; want 0, s0,s1\nstderr: %s", code, nw, errs)
	}
}

// TestCopyStateDupsErrorNamesCopies (found by review): the refusal of a
// mailbox the state records under several names listed its entry under
// the folded name even when that one records nothing ("INBOX" with no
// copies, "inbox" and "Inbox" with copies): "0 copied to Other ... copied
// it again". Only the entries recording copies are named. Without a
// server.
func TestCopyStateDupsErrorNamesCopies(t *testing.T) {
	data := func() *copyBox { return &copyBox{Dst: "InDst", UIDValidity: 7, LastUID: 3, Copied: 3} }
	st := readCopyState(t, writeOldState(t, map[string]*copyBox{
		"INBOX": {Dst: "Other", UIDValidity: 7},
		"inbox": data(),
		"Inbox": data(),
	}, ""))
	if len(st.dups["INBOX"]) != 2 {
		t.Fatalf("dups %v, want inbox and Inbox", st.dups["INBOX"])
	}
	err := st.dupsError("INBOX")
	if !errors.Is(err, errInboxTwice) || strings.Contains(err.Error(), `"INBOX" (`) || !strings.Contains(err.Error(), `under "Inbox" (3 copied to InDst`) || !strings.Contains(err.Error(), `and "inbox" (3 copied`) {
		t.Errorf("dupsError: %v; want errInboxTwice naming Inbox and inbox, not INBOX (no copies)", err)
	}
}

// TestCopyRestartInboxPunctDovecot: "INBOX-x" named and
// "--restart-mailbox inbox-x", the source's delimiter "/". INBOX-x is no
// child of INBOX (only INBOX itself is case-insensitive, RFC 3501 5.1):
// inbox-x is another mailbox, not among those named. The check before
// connecting cannot tell ("-" may be a delimiter: maybeDelimiter) and let
// it pass; after connecting, the run refused it as a name the source does
// not list (exit 1), where "INBOXy ... --restart-mailbox inboxy" is a
// usage error (exit 2) before connecting. Now both are the usage error,
// in the same words; a child of INBOX typed in another case
// ("inbox/Sub") is still taken as named. Against Dovecot.
func TestCopyRestartInboxPunctDovecot(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX-x", "x", 1)
	e.fill("INBOX/Sub", "s", 1)
	for _, tc := range []struct{ named, restart string }{
		{"INBOX-x", "inbox-x"}, // refused once connected
		{"INBOXy", "inboxy"},   // refused before connecting
	} {
		code, errs := e.run(tc.named, "--restart-mailbox", tc.restart, "--restart-unchanged", "--map", tc.named+"=Dst")
		want := "--restart-mailbox " + tc.restart + ": not among the mailboxes named (" + tc.named + "): nothing done"
		if code != exitUsage || !strings.Contains(errs, want) {
			t.Errorf("%s named, --restart-mailbox %s: exit %d; want %d, %q\nstderr: %s", tc.named, tc.restart, code, exitUsage, want, errs)
		}
	}
	if n := subjectsOf(t, e.c, "INBOX-x"); n != "x0" {
		t.Errorf("INBOX-x holds %s; want x0 (nothing done)", n)
	}
	// A child of INBOX: taken as named, restarted (a first run: a note).
	if code, errs := e.run("INBOX/Sub", "--restart-mailbox", "inbox/Sub", "--restart-unchanged", "--map", "INBOX/Sub=SubDst"); code != exitOK {
		t.Errorf("INBOX/Sub named, --restart-mailbox inbox/Sub: exit %d; want 0\nstderr: %s", code, errs)
	}
	if got := subjectsOf(t, e.c, "SubDst"); got != "s0" {
		t.Errorf("SubDst holds %s; want s0", got)
	}
}
