//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchToRenameHoldsLock: writeFetched closed its temporary
// file (dropping its lock) before renaming it to UID.eml, so another
// run's removeFetchTemps could take the lock in between and remove the
// file: the rename failed ("no such file or directory") and the run
// exited 3. The rename comes while the lock is held now. Deterministic:
// the other run's sweep runs in the hook just before the rename.
func TestFetchToRenameHoldsLock(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2) here: nothing is swept")
	}
	dir := t.TempDir()
	swept := 0
	testFetchTempRename = func(name string) {
		swept++
		removeFetchTemps(dir) // another run's sweep, as it starts
	}
	t.Cleanup(func() { testFetchTempRename = nil })
	bodies := []string{copySourceBody(1, false), copySourceBody(2, false)}
	addr := unsendableSource(t, bodies)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "fetch", "imap://alice@"+addr, "INBOX", "1:2", "--to", dir, "--insecure-plaintext", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("fetch --to: exit %d; want 0\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if swept != len(bodies) {
		t.Errorf("the hook ran %d times; want %d", swept, len(bodies))
	}
	for i, want := range bodies {
		if got, err := os.ReadFile(fmt.Sprintf("%s/%d.eml", dir, i+1)); err != nil || string(got) != want {
			t.Errorf("%d.eml: %q, %v; want %q", i+1, got, err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, fetchTempPattern)); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestFetchToUserPartKept: fetch --to's sweep of stale temporary
// files removed every file of DIR matching ".fetch-*.part" whose lock it
// could take, so a user's own ".fetch-notes.part" (or an older imapkit's
// file, which held no lock) was deleted. The temporary files now have
// imapkit's mark and an exact form (".imapkit-fetch-" and 16 lowercase
// hexadecimal digits, ".part"), and the sweep takes only those: the
// user's files survive, whatever they look like; a stale file of ours
// goes; and every file a run creates is of the form the sweep knows.
func TestFetchToUserPartKept(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2) here: nothing is swept")
	}
	dir := t.TempDir()
	user := []string{".fetch-notes.part", ".fetch-1234.part", ".imapkit-fetch-notes.part",
		".imapkit-fetch-0123456789ABCDEF.part", ".imapkit-fetch-0123456789abcdef0.part", ".imapkit-fetch-0123456789abcde.part"}
	for _, n := range user {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stale := filepath.Join(dir, ".imapkit-fetch-0123456789abcdef.part")
	if err := os.WriteFile(stale, []byte("From: half a mess"), 0o600); err != nil {
		t.Fatal(err)
	}
	var created []string
	old := testFetchTempCreated
	testFetchTempCreated = func(name string) { created = append(created, name) }
	t.Cleanup(func() { testFetchTempCreated = old })
	bodies := []string{copySourceBody(1, false), copySourceBody(2, false)}
	addr := unsendableSource(t, bodies)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "fetch", "imap://alice@"+addr, "INBOX", "1:2", "--to", dir, "--insecure-plaintext", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("fetch --to: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	for _, n := range user {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != "mine" {
			t.Errorf("the user's %s: %q, %v; want it kept", n, b, err)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file of a killed run is still there (%v)", err)
	}
	if len(created) != len(bodies) {
		t.Errorf("created %q; want one temporary file a message", created)
	}
	for _, n := range created {
		if !isFetchTempName(filepath.Base(n)) {
			t.Errorf("created %s, which the sweep does not take for its own", n)
		}
	}
	for i, want := range bodies {
		if got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.eml", i+1))); err != nil || string(got) != want {
			t.Errorf("%d.eml: %q, %v; want %q", i+1, got, err, want)
		}
	}
}

// TestFetchToStalePartsRemoved: fetch --to streams each message
// into DIR/.imapkit-fetch-*.part (.fetch-*.part then) and renames it when whole; a run killed
// (SIGKILL) left its .part behind, and no later run removed it: they
// piled up in DIR for ever (the .eml files were right: a partial file is
// never named so). The next run removes a .part whose writer is gone (no
// process holds its lock), leaves one a running fetch holds (its lock
// held here, as a concurrent run's), and writes the messages whole,
// replacing an .eml of an earlier run.
func TestFetchToStalePartsRemoved(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2) here: stale .part files are left")
	}
	bodies := []string{copySourceBody(1, false), copySourceBody(2, false)}
	addr := unsendableSource(t, bodies)
	dir := t.TempDir()
	stale := filepath.Join(dir, ".imapkit-fetch-00000000000004d2.part")
	if err := os.WriteFile(stale, []byte("From: half a mess"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, ".imapkit-fetch-000000000000162e.part")
	lf, err := os.Create(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if busy, err := flockExclusive(lf); busy || err != nil {
		t.Fatalf("locking the live .part: busy %v, %v", busy, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1.eml"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	code, out, errs := runCLI(t, "", "fetch", "imap://alice@"+addr, "INBOX", "1:2", "--to", dir, "--insecure-plaintext", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("fetch --to: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale .part of a killed run is still there (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the .part a running fetch holds was removed: %v", err)
	}
	for i, want := range bodies {
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.eml", i+1)))
		if err != nil || string(got) != want {
			t.Errorf("%d.eml: %q, %v; want %q", i+1, got, err, want)
		}
	}
	parts, _ := filepath.Glob(filepath.Join(dir, fetchTempPattern))
	if len(parts) != 1 {
		t.Errorf(".part files left: %q; want only the live one", parts)
	}
}

// fetchTempHook sets testFetchTempCreated for the test. The tests that set it
// must not be parallel.
func fetchTempHook(t *testing.T, f func(name string)) {
	testFetchTempCreated = f
	t.Cleanup(func() { testFetchTempCreated = nil })
}

// checkLockHeld fails the test unless f, handed out by createFetchTemp,
// is still the file of its name and held by its lock (a probe from
// another open file finds it busy), as writeFetched needs it.
func checkLockHeld(t *testing.T, f *os.File) {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if ni, err := os.Stat(f.Name()); err != nil || !os.SameFile(fi, ni) {
		t.Fatalf("the file createFetchTemp handed out is no longer %s (%v): removed by a sweep", f.Name(), err)
	}
	probe, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if busy, err := flockExclusive(probe); err != nil || !busy {
		t.Fatalf("createFetchTemp handed out %s without holding its lock (probe: busy %v, %v): any run's sweep removes it while it is written", f.Name(), busy, err)
	}
}

// TestFetchTempSweepHoldsLock: another run's removeFetchTemps
// takes the lock of a .part fetch --to has just created, before the
// writer takes it, and then removes the file. createFetchTemp ignored the
// busy lock, found the file still in place and wrote the message into it
// unlocked; the sweep then removed it (the rename to UID.eml failed), or
// any later run's did. A busy file is left to the sweep now, and another
// created. Deterministic: the sweep's steps run in the hook between the
// creation and the lock.
func TestFetchTempSweepHoldsLock(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2)")
	}
	dir := t.TempDir()
	var held []*os.File
	fetchTempHook(t, func(name string) {
		if len(held) > 0 {
			return
		}
		// The sweep between its lock and its removal: the lock held.
		g, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Error(err)
			return
		}
		if busy, err := flockExclusive(g); err != nil || busy {
			t.Errorf("sweep's lock: busy %v, %v", busy, err)
		}
		held = append(held, g)
	})
	f, err := createFetchTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkLockHeld(t, f)
	// The sweep goes on: it removes the file it holds, not this one.
	for _, g := range held {
		os.Remove(g.Name())
		g.Close()
	}
	checkLockHeld(t, f)
}

// TestFetchTempSweptBeforeLock: the sweep locks and removes the
// new file before its writer locks it: another is created; and when every
// file created is swept so, createFetchTemp ends with an error after
// fetchTempTries files, where it handed out the third, removed (`|| try
// == 2`).
func TestFetchTempSweptBeforeLock(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2)")
	}
	dir := t.TempDir()
	swept := 0
	fetchTempHook(t, func(name string) {
		if swept < 2 {
			swept++
			removeFetchTemps(dir)
		}
	})
	f, err := createFetchTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkLockHeld(t, f)
	f.Close()
	os.Remove(f.Name())

	fetchTempHook(t, func(string) { removeFetchTemps(dir) })
	f, err = createFetchTemp(dir)
	if err == nil {
		defer f.Close()
		_, serr := os.Stat(f.Name())
		t.Fatalf("every file swept: createFetchTemp handed out %s (stat: %v), want an error", f.Name(), serr)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the directory", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, fetchTempPattern)); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
