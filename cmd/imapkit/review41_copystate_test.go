//go:build linux

package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview41UCopyStateQuadratic: copy keeps a source-UID ->
// destination-UID map in its state, as runs of consecutive UIDs, and
// saved the whole state file (MarshalIndent, fsync) twice per APPEND group
// of 50 messages (copyBatch). A run needs consecutive source UIDs, so a
// source mailbox with a gap after every message (UIDs 1, 3, 5...: mail was
// deleted in between, an ordinary history) has one run per message, and
// each save cost O(messages copied so far): copying n messages cost O(n^2)
// in state writes (100,000 messages: minutes; 1,000,000: hours). This
// replays what copyBatch does for each group (the pending save, then
// mapAppended and the save that moves past the group) up to 10,000
// messages and counts the bytes the two saves of one group write (state
// file and map journal) at 2,500, 5,000 and 10,000 messages: they must
// not grow with the messages copied so far. Then, as after a kill, the
// state is read back from the files and must map every message; and once
// compacted (the end of a run) the state file holds the map whole and the
// journal is gone.
//
// The audit's version asserted that the map held one run per APPEND group
// at most, as copy_flags.go said; the map still holds a run per message
// for such a source (its information cannot take less), and the comment
// now says so: what is bounded is the work of each save.
func TestReview41UCopyStateQuadratic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	jpath := mapJournalPath(path)
	box := &copyBox{Dst: "INBOX", UIDValidity: 1}
	st := &copyState{Version: 1, Src: "imap://a@src", Dst: "imap://a@dst", Mailboxes: map[string]*copyBox{"INBOX": box}}
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	// group copies messages first..first+49 and returns the bytes its two
	// saves wrote.
	group := func(first int) int64 {
		src := make([]uint32, 0, groupMessages)
		dst := make([]uint32, 0, groupMessages)
		for i := first; i < first+groupMessages; i++ {
			src = append(src, uint32(2*i+1)) // a gap after every message
			dst = append(dst, uint32(i+1))   // the destination's UIDs follow each other
		}
		j0 := size(jpath)
		box.Pending, box.PendingUID, box.PendingSrc = &pendingAppend{DstUIDValidity: 9, DstUIDNext: dst[0], Count: len(src)}, src[len(src)-1], src
		if err := st.save(path); err != nil {
			t.Fatal(err)
		}
		written := size(path)
		box.mapAppended(9, src, dst)
		box.LastUID, box.Pending, box.PendingUID, box.PendingSrc = src[len(src)-1], nil, 0, nil
		box.Copied += int64(len(src))
		if err := st.save(path); err != nil {
			t.Fatal(err)
		}
		return written + size(path) + size(jpath) - j0
	}
	start := time.Now()
	var per []int64
	copied := 0
	for _, n := range []int{2500, 5000, 10000} {
		for copied+groupMessages < n {
			group(copied)
			copied += groupMessages
		}
		per = append(per, group(copied))
		copied += groupMessages
		t.Logf("%6d messages copied: %d runs in the UID map; the two saves of one group wrote %d bytes", copied, len(box.UIDMap), per[len(per)-1])
	}
	t.Logf("%d groups saved in %v", copied/groupMessages, time.Since(start))
	if per[2] > 2*per[0] {
		t.Errorf("the saves of one APPEND group wrote %d bytes at 2,500 messages copied, %d at 10,000: the state written per group grows with the messages copied, O(n^2) for a copy of n", per[0], per[2])
	}
	want := func(st *copyState, when string) {
		t.Helper()
		b := st.Mailboxes["INBOX"]
		if b == nil || b.DstUIDValidity != 9 || b.LastUID != uint32(2*copied-1) || b.Copied != int64(copied) {
			t.Fatalf("%s: box %+v", when, b)
		}
		for i := 0; i < copied; i++ {
			if d := b.UIDMap.lookup(uint32(2*i + 1)); d != uint32(i+1) {
				t.Fatalf("%s: UID %d maps to %d, want %d", when, 2*i+1, d, i+1)
			}
		}
	}
	// As after a kill: the state file and the journal, its last line cut
	// short by the kill.
	f, err := os.OpenFile(jpath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"box":"INBOX","v":9,"pairs":[[99`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	killed := &copyState{}
	if err := loadCopyState(path, killed); err != nil {
		t.Fatal(err)
	}
	want(killed, "read back after a kill")
	if err := st.compact(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(jpath); !os.IsNotExist(err) {
		t.Fatalf("the map journal is left after the end of the run: %v", err)
	}
	var whole copyState
	if _, err := loadJSON(path, &whole); err != nil {
		t.Fatal(err)
	}
	want(&whole, "the state file after the run")
	// Killed after the compaction but before the journal's removal: the
	// journal replays over the compacted state to the same map.
	if err := writeFileAtomic(jpath, []byte(`{"box":"INBOX","v":9,"pairs":[[1,1],[3,2]]}`+"\n")); err != nil {
		t.Fatal(err)
	}
	again := &copyState{}
	if err := loadCopyState(path, again); err != nil {
		t.Fatal(err)
	}
	want(again, "the journal replayed over the compacted state")
}

// TestReview41UCopyKilledRunJournal: a copy killed mid-run leaves its
// state file without the UID maps and the map journal; the next run reads
// both and ends with the maps whole in the state file, no journal, and no
// duplicate. The kill is taken as the files are when the second group has
// landed and the state does not say so yet (a snapshot of the state
// directory at the "appended" hook).
func TestReview41UCopyKilledRunJournal(t *testing.T) {
	a, cf := dovecot(t, 130)
	b := testserver.StartT(t, nil)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, aURL := urls(a)
	_, bURL := urls(b)
	stateDir, killedDir := t.TempDir(), t.TempDir()
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", stateDir, "--timeout", "20s"}
	seen := 0
	testHook = func(s string) error {
		if s != "appended" {
			return nil
		}
		if seen++; seen < 2 {
			return nil
		}
		ents, err := os.ReadDir(stateDir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			data, err := os.ReadFile(filepath.Join(stateDir, e.Name()))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(killedDir, e.Name()), data, 0o600); err != nil {
				return err
			}
		}
		return errors.New("stopped by the test")
	}
	t.Cleanup(func() { testHook = nil })
	cli(t, "", 3, args...)
	testHook = nil
	name := mustOne(t, killedDir)
	if _, err := os.Stat(filepath.Join(killedDir, name+".uidmap")); err != nil {
		t.Fatalf("no map journal in the state directory mid-run: %v", err)
	}
	var lean copyState
	if _, err := loadJSON(filepath.Join(killedDir, name), &lean); err != nil {
		t.Fatal(err)
	}
	if m := lean.Mailboxes["INBOX"].UIDMap; len(m) != 0 {
		t.Errorf("the state file mid-run holds the UID map %v: it is rewritten at each save", m)
	}
	args[9] = killedDir
	copyReport(t, 0, args...)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	sameMail(t, "after the killed run and the next", mailOf(t, bc, "INBOX"), mailOf(t, ac, "INBOX"))
	if _, err := os.Stat(filepath.Join(killedDir, name+".uidmap")); !os.IsNotExist(err) {
		t.Errorf("the map journal is left after a complete run: %v", err)
	}
	var st copyState
	if _, err := loadJSON(filepath.Join(killedDir, name), &st); err != nil {
		t.Fatal(err)
	}
	for u := uint32(1); u <= 130; u++ {
		if d := st.Mailboxes["INBOX"].UIDMap.lookup(u); d != u {
			t.Fatalf("UID map %v: UID %d maps to %d, not itself", st.Mailboxes["INBOX"].UIDMap, u, d)
		}
	}
}
