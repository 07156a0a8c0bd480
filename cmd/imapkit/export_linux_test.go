//go:build linux

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// TestExportAbandonTruncateFailureReported: an mbox export that stops on
// an error and then cannot cut its mbox back to its last commit says so
// (the mbox may end in a part of a message until the next export to it
// cuts it back), beside the error that stopped it, whose exit status
// stays. The run's test hook fails the mbox's fsync and its ftruncate
// ("mbox synced", "mbox cut back": EIO), as a file system gone read-only
// or a network file system that lost its server fails them. (It was
// /dev/null, by a symlink, before a character device was refused as an
// mbox: TestExportMboxNotRegularRefused.) Before, abandon dropped the
// truncate's error: the user was told nothing of a cut message left.
func TestExportAbandonTruncateFailureReported(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	bodies := []string{"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n"}
	url := exportServer(t, bodies, bodiesAnswer(bodies))
	to := filepath.Join(t.TempDir(), "x.mbox")
	setTestHook(t, func(step string) error {
		switch step {
		case "mbox synced":
			return &fs.PathError{Op: "sync", Path: to, Err: syscall.EIO}
		case "mbox cut back":
			return &fs.PathError{Op: "truncate", Path: to, Err: syscall.EIO}
		}
		return nil
	})
	code, out, errs := runCLI(t, "", "export", url, "INBOX", "--to", to, "--quiet")
	if code != exitConnFail || !strings.Contains(errs, "sync") || !strings.Contains(errs, "could not be cut back to its last commit (0 bytes)") {
		t.Errorf("export to an mbox that cannot be synced or cut back: exit %d, stdout %q, stderr %q; want exit %d, the sync's error and the cut's", code, out, errs, exitConnFail)
	}
}

// TestOpenMboxErrorReleasesLock: openMbox handed the mbox locked
// (stateLock.takeData) that stops at an error (here the mbox shorter than
// its state says) releases the lock before closing it, as the sink's
// close and abandon do: a copy of the descriptor (a child another
// goroutine was starting, before its exec closed it; here a dup) does
// not keep it held. Before, its error paths closed it alone, and the
// next run in the process found the mbox busy.
func TestOpenMboxErrorReleasesLock(t *testing.T) {
	mbox := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(mbox, []byte("From MAILER-DAEMON x\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(mbox, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if busy, err := flockExclusive(f); busy || err != nil {
		t.Fatalf("locking %s: busy %v, %v", mbox, busy, err)
	}
	child, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(child)
	if _, err := openMbox(mbox, mbox+".imapkit-export.json", 1<<20, f); err == nil || !strings.Contains(err.Error(), "is shorter") {
		t.Fatalf("openMbox of an mbox shorter than its state: %v; want the error saying so", err)
	}
	g, err := os.OpenFile(mbox, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if busy, err := flockExclusive(g); busy || err != nil {
		t.Errorf("after openMbox's error, locking %s again: busy %v, %v; want it free (released before the close, whatever copies of the descriptor there are)", mbox, busy, err)
	}
}

// TestExportMboxNotRegularRefused: an export whose mbox path is a named
// pipe (FIFO), a directory or a character device (/dev/null, by a link:
// it has no size to record, no sync, no cut; before, one was taken, and
// the run failed at its sync, exit 3, at every run) is refused at once,
// exit 1 (a retry finds the same file), the message naming it and what it
// is, and nothing written:
// a first run before it records a state, and openMbox (a later run's,
// the FIFO put where its mbox was) by the descriptor it opened without
// waiting. Before, the mbox was opened blocking whatever it was (an open
// for reading and writing of a FIFO, which POSIX leaves unspecified, may
// wait for ever; on Linux it went on to fail at its seek, exit 3). The
// hang detector's bound is generous: a run that returns does so at once.
func TestExportMboxNotRegularRefused(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	bodies := []string{"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n"}
	url := exportServer(t, bodies, bodiesAnswer(bodies))
	dir := t.TempDir()
	for _, c := range []struct {
		name, what string
		make       func(path string) error
	}{
		{"a named pipe", "a named pipe (FIFO), not a regular file", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"a directory", "a directory, not a regular file", func(p string) error { return os.Mkdir(p, 0o700) }},
		{"a character device", "a character device, not a regular file", func(p string) error { return os.Symlink(os.DevNull, p) }},
	} {
		to := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".mbox")
		if err := c.make(to); err != nil {
			t.Fatal(err)
		}
		// Beside /dev/null (the state's place for a link to it) an
		// older run as root may have left a state and a lock: what the
		// run did is what changed.
		before := map[string]os.FileInfo{}
		for _, p := range []string{statePath(to), statePath(to) + ".lock"} {
			before[p], _ = os.Lstat(p)
		}
		type result struct {
			code     int
			out, err string
		}
		done := make(chan result, 1)
		go func() {
			code, out, errs := runCLI(t, "", "export", url, "INBOX", "--to", to, "--quiet")
			done <- result{code, out, errs}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(leakcheck.Hang):
			releaseFIFO(to)
			r = <-done
			t.Errorf("export to %s hung", c.name)
		}
		if r.code != exitNo || !strings.Contains(r.err, "unusable mbox: "+to+" is "+c.what) {
			t.Errorf("export to %s: exit %d, stdout %q, stderr %q; want exit %d, refused naming it %s", c.name, r.code, r.out, r.err, exitNo, c.what)
		}
		if changed(before[statePath(to)], statePath(to)) {
			t.Errorf("export to %s: a state %s was made or written; want none", c.name, statePath(to))
		}
		// A directory is refused once the state is read (it may be a
		// Maildir's, a usage error then): after the lock.
		if lock := statePath(to) + ".lock"; c.name != "a directory" && changed(before[lock], lock) {
			t.Errorf("export to %s: %s was made or written; want nothing there (the mbox refused before the lock)", c.name, lock)
		}
	}
	// A later run's openMbox: the FIFO is where its mbox was.
	fifo := filepath.Join(dir, "a-named-pipe.mbox")
	errc := make(chan error, 1)
	go func() {
		sk, err := openMbox(fifo, statePath(fifo), 0, nil)
		if err == nil {
			sk.close()
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, errMboxUnusable) || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("openMbox of a FIFO: %v; want errMboxUnusable naming it a named pipe", err)
		}
	case <-time.After(leakcheck.Hang):
		releaseFIFO(fifo)
		<-errc
		t.Errorf("openMbox of a FIFO hung")
	}
}

// changed reports whether the file at path was made or written since
// its Lstat gave before (nil: it was not there).
func changed(before os.FileInfo, path string) bool {
	after, err := os.Lstat(path)
	if err != nil {
		return false
	}
	return before == nil || !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size()
}

// releaseFIFO lets an open of the named pipe path that waits for the
// other end go: that end's open, without waiting.
func releaseFIFO(path string) {
	if f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// TestExportMaildirDeviceRefusedBeforeLock: an export to a Maildir whose
// PATH is a character device (/dev/null, by a link) is refused before
// the run takes its lock, exit 1, naming it: nothing is made beside the
// device (a run as root made /dev/null.imapkit-export.json.lock in /dev,
// then logged in and failed at the Maildir's mkdir), as for an mbox
// (TestExportMboxNotRegularRefused).
func TestExportMaildirDeviceRefusedBeforeLock(t *testing.T) {
	t.Parallel() // waits on a scripted server over TCP
	bodies := []string{"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n"}
	url := exportServer(t, bodies, bodiesAnswer(bodies))
	to := filepath.Join(t.TempDir(), "md")
	if err := os.Symlink(os.DevNull, to); err != nil {
		t.Fatal(err)
	}
	st, lock := statePath(to), statePath(to)+".lock"
	before, _ := os.Lstat(lock)
	beforeState, _ := os.Lstat(st)
	code, out, stderr := runCLI(t, "", "export", url, "INBOX", "--to", to, "--format", "maildir", "--quiet")
	if code != exitNo || !strings.Contains(stderr, to+" is a character device, not a directory") {
		t.Errorf("export to a Maildir that is a character device: exit %d, stdout %q, stderr %q; want exit %d, refused naming it a character device", code, out, stderr, exitNo)
	}
	if changed(before, lock) {
		t.Errorf("export to a Maildir that is a character device: %s was made or written; want nothing there (refused before the lock)", lock)
	}
	if changed(beforeState, st) {
		t.Errorf("export to a Maildir that is a character device: a state %s was made or written; want none", st)
	}
}
