//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestConcurrentCopyDuplicates: two runs of the same copy job (same
// SRC, DST and --state-dir) overlap, as a scheduler that restarts a shard
// it believes dead does (docs/cli.md, "Accounts and shards": "every run is
// idempotent: a shard run twice ... copy nothing twice. So a fleet
// migration is many independent processes under any scheduler"). Run A
// is slow (held here at its second group); run B starts, reads the state
// A wrote, and copies everything; then A goes on from its in-memory state
// and appends again what B copied. Nothing stops the second run (no lock
// on the state file): the destination ends with duplicates that no later
// run removes. Want: each message once (the second run refusing to start
// while the first holds the state would do).
func TestConcurrentCopyDuplicates(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 130)
	b := testserver.StartT(t, nil)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, aURL := urls(a)
	_, bURL := urls(b)
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b),
		"--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}

	var mu sync.Mutex
	pending := 0
	paused, resume := make(chan struct{}), make(chan struct{})
	setTestHook(t, func(s string) error {
		if s != "pending" {
			return nil
		}
		mu.Lock()
		pending++
		k := pending
		mu.Unlock()
		if k == 2 { // run A, about to send its second group
			close(paused)
			<-resume
		}
		return nil
	})
	t.Cleanup(func() { setTestHook(t, nil) })

	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := runCLI(t, "", args...)
		done <- result{code, out, errs}
	}()
	select {
	case <-paused:
	case r := <-done:
		t.Fatalf("run A ended before its second group: %+v", r)
	case <-time.After(60 * time.Second):
		t.Fatal("run A never reached its second group")
	}
	// Run B, while A is still running.
	codeB, outB, errB := runCLI(t, "", args...)
	close(resume)
	var ra result
	select {
	case ra = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("run A did not end")
	}
	t.Logf("run A: exit %d %q %q; run B: exit %d %q %q", ra.code, ra.stdout, ra.stderr, codeB, outB, errB)
	setTestHook(t, nil)
	// A third run, after both: it must not need to fix anything, and
	// cannot remove duplicates anyway.
	runCLI(t, "", args...)

	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := bc.Status(ctx, "INBOX", 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 130 {
		t.Fatalf("destination INBOX holds %d messages after two overlapping runs of the same copy; want 130 (each source message once)", st.Messages)
	}
}

// TestStateLockBusy: while a run holds a job's state (here the
// test holds its lock), copy, import and export (mbox, Maildir, and
// export --accounts) refuse at once: exit 3, a line naming the state file,
// nothing sent.
func TestStateLockBusy(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 5)
	b := testserver.StartT(t, nil)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, aURL := urls(a)
	_, bURL := urls(b)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")

	st, err := parseURL(aURL)
	if err != nil {
		t.Fatal(err)
	}
	dt, err := parseURL(bURL)
	if err != nil {
		t.Fatal(err)
	}
	copyState := copyStatePath(stateDir, accountKey(st, st.user), accountKey(dt, dt.user))
	mbox := filepath.Join(dir, "inbox.mbox")
	md := filepath.Join(dir, "md")
	accts := filepath.Join(dir, "accounts")
	if err := os.WriteFile(accts, []byte(aURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	accPath := exportAccountPath(out, st, st.user, "INBOX", "mbox")
	if err := os.MkdirAll(filepath.Dir(accPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mbox, []byte("From a@b Thu Jan  1 00:00:00 2024\nSubject: x\n\nhi\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, state string
		args        []string
	}{
		{"copy", copyState, []string{"copy", aURL, bURL, "INBOX", "--dst-ca-file", writeCA(t, b), "--state-dir", stateDir, "--quiet"}},
		{"import", importStatePath(mbox), []string{"import", bURL, mbox, "--to", "INBOX", "--ca-file", writeCA(t, b), "--quiet"}},
		{"export mbox", statePath(mbox + ".out"), []string{"export", aURL, "INBOX", "--to", mbox + ".out", "--quiet"}},
		{"export maildir", statePath(md), []string{"export", aURL, "INBOX", "--to", md, "--format", "maildir", "--quiet"}},
		{"export accounts", statePath(accPath), []string{"export", "--accounts", accts, "INBOX", "--to", out, "--quiet"}},
	} {
		l, err := lockState(tc.state)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		args := tc.args
		if tc.name != "import" {
			args = append(args, cf...)
		}
		code, stdout, stderr := runCLI(t, "", args...)
		l.unlock()
		if code != exitConnFail || !strings.Contains(stderr, tc.state+": another imapkit is using it") {
			t.Errorf("%s while another run holds %s: exit %d, stderr %q; want exit 3 and the state file named as in use", tc.name, tc.state, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%s while another run holds its state: stdout %q", tc.name, stdout)
		}
		// Released: the same run now works.
		args = append(args, "--timeout", "20s")
		if code, _, stderr := runCLI(t, "", args...); code != 0 {
			t.Errorf("%s after the lock was released: exit %d %q", tc.name, code, stderr)
		}
	}
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s, err := bc.Status(ctx, "INBOX", 0); err != nil || s.Messages != 6 {
		t.Errorf("destination INBOX: %v messages (%v); want 6 (5 copied, 1 imported, each once)", s, err)
	}
}

// TestHelperStateLockHolder is not a test: run as a child by
// TestStateLockKilledHolder (with $IMAPKIT_TEST_LOCK), it takes a
// state's lock, says so and waits to be killed.
func TestHelperStateLockHolder(t *testing.T) {
	path := os.Getenv("IMAPKIT_TEST_LOCK")
	if path == "" {
		return
	}
	if _, err := lockState(path); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	os.Exit(1)
}

// TestStateLockKilledHolder: a run killed (SIGKILL) while it
// held its state's lock does not block the next run: the kernel drops a
// dead process's flock.
func TestStateLockKilledHolder(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 3)
	b := testserver.StartT(t, nil)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, aURL := urls(a)
	_, bURL := urls(b)
	st, _ := parseURL(aURL)
	dt, _ := parseURL(bURL)
	stateDir := t.TempDir()
	path := copyStatePath(stateDir, accountKey(st, st.user), accountKey(dt, dt.user))

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStateLockHolder$")
	cmd.Env = append(os.Environ(), "IMAPKIT_TEST_LOCK="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child did not take the lock: %q %v", line, err)
	}
	args := []string{"copy", aURL, bURL, "INBOX", "--dst-ca-file", writeCA(t, b), "--state-dir", stateDir, "--quiet"}
	args = append(args, cf...)
	if code, _, stderr := runCLI(t, "", args...); code != exitConnFail || !strings.Contains(stderr, "another imapkit is using it") {
		t.Errorf("copy while a live process holds its state: exit %d %q; want 3, in use", code, stderr)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child did not die by SIGKILL: %v", err)
	}
	code, out, stderr := runCLI(t, "", args...)
	if code != 0 || !strings.Contains(out, "copied 3 messages") {
		t.Fatalf("copy after the lock's holder was killed: exit %d %q %q; want it to run", code, out, stderr)
	}
}

// TestSaveJSONConcurrent: writers of one JSON file at once never
// fail (a fixed temporary name made one's rename find the other's file
// gone), and leave no temporary file.
func TestSaveJSONConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				if err := saveJSON(path, map[string]int{"writer": i, "n": j}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("after the saves the directory holds %v; want only state.json", names)
	}
}

// TestStateFileFIFORefused: a named pipe (FIFO) named as a state file
// (an export's, an import's, or an older imapkit's beside a link's name,
// moved by lockJob) is refused at once, an error wrapping
// errStateUnusable (exit 1) that names it, not opened to wait for a
// writer: before, its read (os.ReadFile) hung the run for ever before it
// did anything. The hang detector's bound is generous: a read that
// returns does so at once.
func TestStateFileFIFORefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "m.mbox.imapkit-export.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "st.imapkit-import.json")
	for _, c := range []struct {
		name string
		load func() error
	}{
		{"export's loadState", func() error { _, err := loadState(fifo); return err }},
		{"import's loadJSONMax", func() error { _, err := loadJSONMax(fifo, &importState{}, maxImportState); return err }},
		{"copy's loadJSON", func() error { _, err := loadJSON(fifo, &copyState{}); return err }},
		{"moveLegacyState", func() error { return moveLegacyState(fifo, st, maxImportState, mergeImportStates("", fifo, st)) }},
	} {
		done := make(chan error, 1)
		go func() { done <- c.load() }()
		select {
		case err := <-done:
			if !errors.Is(err, errStateUnusable) || !strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), fifo) {
				t.Errorf("%s of a FIFO: %v; want errStateUnusable naming it a named pipe", c.name, err)
			}
			if code := exitCode(nil, io.Discard, "export", err); code != exitNo {
				t.Errorf("%s of a FIFO: exit %d; want %d (a retry finds the same file)", c.name, code, exitNo)
			}
		case <-time.After(time.Minute):
			// Let the hung open go: a writer's open and close
			// give it end of file.
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			<-done
			t.Errorf("%s of a FIFO hung (waited for a writer)", c.name)
		}
	}
}

// TestStateFileLoopingLinkRefused: a symbolic link that loops at a state
// file's own path (an export's, an import's, a copy's, or an older
// imapkit's beside a link's name, moved by lockJob) is refused as a named
// pipe there is (TestStateFileFIFORefused) and as one at the lock's path
// (TestStateLockLoopingLinkRefused): an error wrapping errStateUnusable
// (exit 1: a retry finds the same link) that names the state by
// printable and says what it is. Before, the run stopped at the stat's
// error, "stat PATH: too many levels of symbolic links", its path raw,
// exit 3, as if a retry could help.
func TestStateFileLoopingLinkRefused(t *testing.T) {
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop\x1b.mbox.imapkit-export.json")
	if err := os.Symlink(filepath.Base(loop), loop); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "st.imapkit-import.json")
	for _, c := range []struct {
		name string
		load func() error
	}{
		{"export's loadState", func() error { _, err := loadState(loop); return err }},
		{"import's loadJSONMax", func() error { _, err := loadJSONMax(loop, &importState{}, maxImportState); return err }},
		{"copy's loadJSON", func() error { _, err := loadJSON(loop, &copyState{}); return err }},
		{"moveLegacyState", func() error { return moveLegacyState(loop, st, maxImportState, mergeImportStates("", loop, st)) }},
	} {
		err := c.load()
		var stderr strings.Builder
		code := exitCode(nil, &stderr, "export", err)
		if !errors.Is(err, errStateUnusable) || !strings.Contains(stderr.String(), printable(loop)+" is a symbolic link that loops") {
			t.Errorf("%s of a link that loops: %q; want errStateUnusable naming it (by printable) a link that loops", c.name, stderr.String())
		}
		if code != exitNo {
			t.Errorf("%s of a link that loops: exit %d; want %d (a retry finds the same link)", c.name, code, exitNo)
		}
	}
}

// TestStateLockFIFORefused: a named pipe (FIFO) at a lock file's path
// (the run's own, STATE.lock; an older imapkit's beside a link's name,
// which lockOthers takes too) is refused at once, an error wrapping
// errStateUnusable (exit 1) that names it, not opened blocking: the open
// of a FIFO for reading and writing is left open by POSIX, and on Linux
// the FIFO was locked as if it were the lock and the run went on. The
// hang detector's bound is generous: an open that returns does so at
// once.
func TestStateLockFIFORefused(t *testing.T) {
	dir := t.TempDir()
	mbox := filepath.Join(dir, "m.mbox")
	link := filepath.Join(dir, "link.mbox")
	if err := os.Symlink("m.mbox", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, fifo, by string
	}{
		{"the run's own lock", statePath(mbox) + ".lock", mbox},
		{"the lock beside the link's name", legacyStatePath(link) + ".lock", link},
	} {
		if err := syscall.Mkfifo(c.fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			l, err := lockExport(c.by)
			l.unlock()
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, errStateUnusable) || !strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), c.fifo) {
				t.Errorf("%s a FIFO: %v; want errStateUnusable naming it a named pipe", c.name, err)
			}
			if code := exitCode(nil, io.Discard, "export", err); code != exitNo {
				t.Errorf("%s a FIFO: exit %d; want %d (a retry finds the same file)", c.name, code, exitNo)
			}
		case <-time.After(leakcheck.Hang):
			// Let the hung open go: the other end's open.
			if w, err := os.OpenFile(c.fifo, os.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			<-done
			t.Errorf("%s a FIFO: the lock hung", c.name)
		}
		if err := os.Remove(c.fifo); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStateLockNotRegularRefused: a directory at the run's own lock's
// path (STATE.lock), or a symbolic link there to a directory, is refused
// as a named pipe is (TestStateLockFIFORefused): an error wrapping
// errStateUnusable (exit 1: a retry finds the same file) that names the
// lock and says what it is. Its open for writing fails (EISDIR) before
// openLockFile can look at the descriptor.
func TestStateLockNotRegularRefused(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		make func(lock string) error
	}{
		{"a directory", func(lock string) error { return os.Mkdir(lock, 0o700) }},
		{"a symbolic link to a directory", func(lock string) error { return os.Symlink(dir, lock) }},
	} {
		mbox := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".mbox")
		lock := statePath(mbox) + ".lock"
		if err := c.make(lock); err != nil {
			t.Fatal(err)
		}
		l, err := lockExport(mbox)
		l.unlock()
		if !errors.Is(err, errStateUnusable) || !strings.Contains(err.Error(), "a directory, not a regular file") || !strings.Contains(err.Error(), lock) {
			t.Errorf("the run's own lock %s: %v; want errStateUnusable naming it a directory", c.name, err)
		}
		if code := exitCode(nil, io.Discard, "export", err); code != exitNo {
			t.Errorf("the run's own lock %s: exit %d; want %d (a retry finds the same file)", c.name, code, exitNo)
		}
	}
}

// TestStateLockDescriptorsBlocking: the files a run holds locked (its
// own lock, and an export's mbox, which the export then writes through
// the same descriptor: takeData) are opened without waiting
// (openLockFile's O_NONBLOCK, so that a named pipe is not waited on) and
// put back to blocking once known to be regular files: none is left
// non-blocking for the run's writes.
func TestStateLockDescriptorsBlocking(t *testing.T) {
	mbox := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(mbox, []byte("From x Thu Jan  1 00:00:00 2024\n\nhi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := lockExport(mbox)
	if err != nil {
		t.Fatal(err)
	}
	defer l.unlock()
	for what, f := range map[string]*os.File{"the lock": l.f, "the mbox": l.data} {
		if f == nil {
			t.Errorf("%s: not held", what)
			continue
		}
		rc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var flags int
		var ferr error
		rc.Control(func(fd uintptr) {
			r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
			flags = int(r)
			if errno != 0 {
				ferr = errno
			}
		})
		if ferr != nil {
			t.Fatal(ferr)
		}
		if flags&syscall.O_NONBLOCK != 0 {
			t.Errorf("%s: its descriptor is left O_NONBLOCK; want it blocking once it is known to be a regular file", what)
		}
	}
}

// TestStateLockLoopingLinkRefused: a symbolic link that loops at the
// run's own lock's path (STATE.lock, a link to itself) is refused as a
// directory there is (TestStateLockNotRegularRefused): an error wrapping
// errStateUnusable (exit 1: a retry finds the same link) that names the
// lock by printable and says what it is. Its open fails with ELOOP.
func TestStateLockLoopingLinkRefused(t *testing.T) {
	dir := t.TempDir()
	mbox := filepath.Join(dir, "loop\x1b.mbox")
	lock := statePath(mbox) + ".lock"
	if err := os.Symlink(filepath.Base(lock), lock); err != nil {
		t.Fatal(err)
	}
	l, err := lockExport(mbox)
	l.unlock()
	var stderr strings.Builder
	code := exitCode(nil, &stderr, "export", err)
	if !errors.Is(err, errStateUnusable) || !strings.Contains(stderr.String(), printable(lock)+" is a symbolic link that loops") {
		t.Errorf("the run's own lock a link that loops: %q; want errStateUnusable naming it (by printable) a link that loops", stderr.String())
	}
	if code != exitNo {
		t.Errorf("the run's own lock a link that loops: exit %d; want %d (a retry finds the same link)", code, exitNo)
	}
}

// TestStateLockSymlinkRefused: a symbolic link at the run's own lock's
// path (STATE.lock), dangling or to a regular file, is refused, not
// followed (O_NOFOLLOW): an error wrapping errStateUnusable (exit 1: a
// retry finds the same link) that names the lock by printable and says
// it is a link, and nothing is created or opened where it points. Before,
// the open followed it: a dangling link had the run create the file it
// names (anywhere the user can write) and lock that, a link to a file
// had the run lock another file than the one other runs lock.
func TestStateLockSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "elsewhere")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(other, "kept")
	if err := os.WriteFile(kept, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, to string }{
		{"dangling", filepath.Join(other, "made")},
		{"to a regular file", kept},
	} {
		mbox := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+"\x1b.mbox")
		lock := statePath(mbox) + ".lock"
		if err := os.Symlink(c.to, lock); err != nil {
			t.Fatal(err)
		}
		l, err := lockExport(mbox)
		l.unlock()
		var stderr strings.Builder
		code := exitCode(nil, &stderr, "export", err)
		if !errors.Is(err, errStateUnusable) || !strings.Contains(stderr.String(), printable(lock)+" is a symbolic link") {
			t.Errorf("the run's own lock a link %s: %q; want errStateUnusable naming it (by printable) a symbolic link", c.name, stderr.String())
		}
		if code != exitNo {
			t.Errorf("the run's own lock a link %s: exit %d; want %d (a retry finds the same link)", c.name, code, exitNo)
		}
	}
	if _, err := os.Lstat(filepath.Join(other, "made")); err == nil {
		t.Errorf("a dangling link at the lock: the file it names was created")
	}
	if b, err := os.ReadFile(kept); err != nil || string(b) != "keep" {
		t.Errorf("a link at the lock to a file: the file holds %q, %v; want it as it was", b, err)
	}
}

// TestStateLockDirectoryNotMadeNamed: a state directory that cannot be
// made (a regular file where a directory above it should be) stops the
// run with a message naming the state's directory by printable, not only
// the directory above it whose mkdir failed (MkdirAll's error), exit 1
// (before, exit 3: a retry finds the same file in the way).
func TestStateLockDirectoryNotMadeNamed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain\x1bfile")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(file, "a", "b")
	l, err := lockState(filepath.Join(stateDir, "st.json"))
	l.unlock()
	var stderr strings.Builder
	code := exitCode(nil, &stderr, "copy", err)
	if err == nil || !strings.Contains(stderr.String(), "making the state directory "+printable(stateDir)+": ") {
		t.Errorf("a state directory under a regular file: %q; want the state directory named, by printable", stderr.String())
	}
	if code != exitNo {
		t.Errorf("a state directory under a regular file: exit %d; want %d (a retry finds the same file in the way)", code, exitNo)
	}
}

// TestStateLockRemovedBeforeLockedRetaken: a lock file removed between
// the run's open of it and its flock(2) (another run's cleanup, a user's
// rm: a run found it there and opened it, then it went) is not the lock:
// lockState takes its lock again, on the file the path names then, and
// a second run is refused (busy). Before, the run held the flock of a
// file no name reached any more, and the next run created a new lock at
// the path, locked it, and ran beside the first.
// Serial: openLock is replaced.
func TestStateLockRemovedBeforeLockedRetaken(t *testing.T) {
	mbox := filepath.Join(t.TempDir(), "m.mbox")
	lock := statePath(mbox) + ".lock"
	orig := openLock
	removed := 0
	openLock = func(path string, flag int) (*os.File, error) {
		f, err := orig(path, flag)
		if err == nil && path == lock && removed == 0 {
			removed++
			if err := os.Remove(path); err != nil {
				t.Error(err)
			}
		}
		return f, err
	}
	t.Cleanup(func() { openLock = orig })
	l, err := lockExport(mbox)
	if err != nil {
		t.Fatalf("lock with its file removed once before its flock: %v; want it taken again", err)
	}
	defer l.unlock()
	if removed != 1 || !sameFileAt(l.f, lock) {
		t.Errorf("lock file removed (%d times) between its open and its flock: the run holds the flock of a file %s does not name; want the one it names", removed, lock)
	}
	l2, err := lockExport(mbox)
	l2.unlock()
	var busy *stateBusyError
	if !errors.As(err, &busy) {
		t.Errorf("a second run, the first holding its lock: %v; want it refused, busy", err)
	}
}

// TestStateLockRemovedEveryTimeGivesUp: a lock file removed between
// each open and flock(2) of it (another process removing it over and
// over) stops the run after lockAttempts tries, exit 3, saying so and
// naming the lock by printable, no lock held: not a loop for ever, nor a
// run going on with the flock of a file no name reaches.
// Serial: openLock is replaced.
func TestStateLockRemovedEveryTimeGivesUp(t *testing.T) {
	mbox := filepath.Join(t.TempDir(), "m\x1b.mbox")
	lock := statePath(mbox) + ".lock"
	orig := openLock
	opens := 0
	openLock = func(path string, flag int) (*os.File, error) {
		if path != lock {
			return orig(path, flag)
		}
		opens++
		if opens > 2*lockAttempts {
			// A bound for the test: lockState did not give up.
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EIO}
		}
		f, err := orig(path, flag)
		if err == nil {
			if err := os.Remove(path); err != nil {
				t.Error(err)
			}
		}
		return f, err
	}
	t.Cleanup(func() { openLock = orig })
	l, err := lockExport(mbox)
	l.unlock()
	var stderr strings.Builder
	code := exitCode(nil, &stderr, "export", err)
	if opens != lockAttempts || err == nil || !strings.Contains(stderr.String(), printable(lock)+" was removed or replaced as it was locked, 5 times in a row") {
		t.Errorf("lock file removed at each of %d opens: %q; want the run stopped after %d, saying so, the lock named by printable", opens, stderr.String(), lockAttempts)
	}
	if code != exitConnFail {
		t.Errorf("lock file removed at each open: exit %d; want %d (another process's doing: a retry may find it gone)", code, exitConnFail)
	}
}

// readOnlyLocks makes lockState's open of a lock file under dir fail as
// on a file system mounted read-only (EROFS) for the rest of the test
// (openLock): one cannot be mounted without privileges. A test that calls
// it is serial.
func readOnlyLocks(t *testing.T, dir string) {
	t.Helper()
	orig := openLock
	openLock = func(path string, flag int) (*os.File, error) {
		if strings.HasPrefix(path, dir+string(filepath.Separator)) {
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EROFS}
		}
		return orig(path, flag)
	}
	t.Cleanup(func() { openLock = orig })
}

// TestStateLockReadOnlyAdvises: a state on a read-only file system (an
// older run's, beside an mbox on a disk now mounted read-only; copy's
// --state-dir there) stops the run before it connects, exit 1 (a retry
// finds the same file system), with a message that names the state and
// says what to do: make the directory writable, or, for an import, copy
// the source and its state to a writable directory; for a copy, another
// --state-dir; for an export, a PATH elsewhere. Before, it stopped every
// run at "open PATH.lock: read-only file system", exit 3, and said
// nothing of what to do.
func TestStateLockReadOnlyAdvises(t *testing.T) {
	dir := t.TempDir()
	readOnlyLocks(t, dir)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	// No server: the run stops before it connects.
	url := "imap://alice@127.0.0.1:1"
	mbox := filepath.Join(dir, "spool.mbox")
	if err := os.WriteFile(mbox, []byte("From x Thu Jan  1 00:00:00 2024\n\nhi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(importStatePath(mbox), []byte(`{"version":1,"destinations":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	for _, c := range []struct {
		name  string
		args  []string
		state string
		want  []string
	}{
		{"import", []string{"import", url, mbox, "--to", "X"}, importStatePath(mbox),
			[]string{"read-only file system", "remount it read-write", "copy " + mbox + " and its state spool.mbox.imapkit-import.json into one writable directory"}},
		{"export", []string{"export", url, "INBOX", "--to", filepath.Join(dir, "out.mbox")}, statePath(filepath.Join(dir, "out.mbox")),
			[]string{"read-only file system", "remount it read-write", "export to a PATH on a writable file system"}},
		{"copy", []string{"copy", url, url, "--state-dir", stateDir}, stateDir,
			[]string{"read-only file system", "remount it read-write", "give --state-dir a writable directory"}},
	} {
		code, _, stderr := runCLI(t, "", append(c.args, "--quiet")...)
		if code != exitNo {
			t.Errorf("%s: exit %d; want %d", c.name, code, exitNo)
		}
		if !strings.Contains(stderr, c.state) {
			t.Errorf("%s: %q; want the state (%s) named", c.name, stderr, c.state)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: %q; want %q", c.name, stderr, w)
			}
		}
	}
}

// TestStateLockOtherUsersAdvises: a lock file that is there but cannot
// be opened for writing (EACCES: another user's, left by a run as root,
// or made read-only) in a directory the user can write is named in the
// advice, the lock to make writable. Before, the advice was to make the
// directory writable (it was) or remount the file system read-write,
// which changed nothing, and every run stopped at the same message.
// Serial: openLock is replaced (root opens any file).
func TestStateLockOtherUsersAdvises(t *testing.T) {
	dir := t.TempDir()
	mbox := filepath.Join(dir, "m.mbox")
	lock := statePath(mbox) + ".lock"
	if err := os.WriteFile(lock, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	orig := openLock
	openLock = func(path string, flag int) (*os.File, error) {
		if path == lock {
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
		}
		return orig(path, flag)
	}
	t.Cleanup(func() { openLock = orig })
	l, err := lockExport(mbox)
	l.unlock()
	if !errors.Is(err, errStateUnwritable) || !strings.Contains(err.Error(), "make the lock "+lock+" writable") || strings.Contains(err.Error(), "remount") {
		t.Errorf("a lock another user made: %v; want errStateUnwritable advising to make the lock writable, not the directory", err)
	}
}

// TestStateFileTooLargeRefused: a state file larger than its job's bound
// (an export's maxExportState, an import's maxImportState; sparse here,
// nothing written) is refused with an error wrapping errStateUnusable
// (exit 1) that names it and its size, not read whole into memory. One
// within the bound is read.
func TestStateFileTooLargeRefused(t *testing.T) {
	dir := t.TempDir()
	big := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exp := big("e.imapkit-export.json", maxExportState+1)
	if _, err := loadState(exp); !errors.Is(err, errStateUnusable) || !strings.Contains(err.Error(), fmt.Sprintf("holds %d bytes, more than the %d", maxExportState+1, maxExportState)) {
		t.Errorf("loadState of a file over maxExportState: %v; want errStateUnusable naming its size and the bound", err)
	}
	imp := big("i.imapkit-import.json", maxImportState+1)
	if _, err := loadJSONMax(imp, &importState{}, maxImportState); !errors.Is(err, errStateUnusable) || !strings.Contains(err.Error(), imp) {
		t.Errorf("loading an import state over maxImportState: %v; want errStateUnusable naming it", err)
	}
	ok := filepath.Join(dir, "ok.imapkit-export.json")
	if err := os.WriteFile(ok, []byte(`{"version":1,"mailbox":"INBOX","format":"mbox","last_uid":3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := loadState(ok); err != nil || st.LastUID != 3 {
		t.Errorf("loadState of a small state: %+v, %v", st, err)
	}
}
