//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestExportLockOneFileTwoNames: two names of one mbox or Maildir, a
// symbolic link to it (to the file, to a directory on its path, or a
// dangling one to where it is to be) or a hard link to the mbox, share
// one export lock: a run by either name refuses to start while a run by
// the other holds it, and the symbolic links share the state too.
// Before, each name had its own state file and lock: two runs wrote to
// one mbox at once, and two states each cut the mbox back to their own
// length, through the messages the other recorded.
func TestExportLockOneFileTwoNames(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.mbox")
	if err := os.WriteFile(real, []byte("From MAILER-DAEMON x\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	mustLink := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustLink(os.Symlink("real.mbox", filepath.Join(dir, "sym.mbox")))
	dirlink := filepath.Join(t.TempDir(), "dirlink")
	mustLink(os.Symlink(dir, dirlink))
	mustLink(os.Link(real, filepath.Join(dir, "hard.mbox")))
	mustLink(os.Symlink(filepath.Join(dir, "sub", "later.mbox"), filepath.Join(dir, "dangling.mbox")))
	for _, tc := range []struct {
		name, a, b string
		sameState  bool
	}{
		{"symlink to the file", real, filepath.Join(dir, "sym.mbox"), true},
		{"symlink on the path", real, filepath.Join(dirlink, "real.mbox"), true},
		{"dangling symlink", filepath.Join(dir, "sub", "later.mbox"), filepath.Join(dir, "dangling.mbox"), true},
		{"hard link", real, filepath.Join(dir, "hard.mbox"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			la, err := lockExport(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			lb, err := lockExport(tc.b)
			var busy *stateBusyError
			if !errors.As(err, &busy) {
				lb.unlock()
				t.Errorf("lock of %s while %s holds its lock: %v; want busy", tc.b, tc.a, err)
			}
			la.unlock()
			lb, err = lockExport(tc.b)
			if err != nil {
				t.Errorf("lock of %s once %s is unlocked: %v", tc.b, tc.a, err)
			}
			lb.unlock()
			if same := statePath(tc.a) == statePath(tc.b); same != tc.sameState {
				t.Errorf("states %s and %s: same %v; want %v", statePath(tc.a), statePath(tc.b), same, tc.sameState)
			}
		})
	}
}

// TestExportBySymlinkResumes: an export run again by a symbolic link to
// its mbox resumes from its state: nothing exported twice, exit 0; a
// state an older imapkit kept beside the link is taken over. A first
// export by a hard link to an mbox another name exports to, even an
// empty one, refuses to start (it would make a second state for the
// file), exit 1: a retry finds the same (before, exit 3). Before, the link had a state of its own: a run by it refused
// the mbox (exists and is not from an export), or, the mbox empty,
// exported everything again.
func TestExportBySymlinkResumes(t *testing.T) {
	url := bodyStatusURL(t, fiveBodies, wholeAnswer(fiveBodies), nil)
	export := func(to string) (int, string, string) {
		return runCLI(t, "", "export", url, "INBOX", "--to", to, "--quiet")
	}
	dir := t.TempDir()
	real, sym := filepath.Join(dir, "real.mbox"), filepath.Join(dir, "sym.mbox")
	if code, out, errs := export(real); code != 0 {
		t.Fatalf("first export: exit %d %q %q", code, out, errs)
	}
	if err := os.Symlink("real.mbox", sym); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := export(sym); code != 0 || !strings.Contains(out, "exported 0 messages") {
		t.Errorf("export by the symlink: exit %d %q %q; want 0, nothing exported again", code, out, errs)
	}
	if got := exportedSubjects(t, real, "mbox"); got != "m1×1 m2×1 m3×1 m4×1 m5×1" {
		t.Errorf("mbox: %q; want each message once", got)
	}

	// An older imapkit's state, beside the link's name.
	old, oldLink := filepath.Join(dir, "old.mbox"), filepath.Join(dir, "oldlink.mbox")
	if err := os.Symlink("old.mbox", oldLink); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := export(oldLink); code != 0 {
		t.Fatalf("export by a link: exit %d %q %q", code, out, errs)
	}
	if err := os.Rename(statePath(old), filepath.Clean(oldLink)+".imapkit-export.json"); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := export(oldLink); code != 0 || !strings.Contains(out, "exported 0 messages") {
		t.Errorf("export by a link whose state is beside the link: exit %d %q %q; want 0, nothing exported again", code, out, errs)
	}

	// A hard link to an mbox with a state: no second state.
	empty, hard := filepath.Join(dir, "empty.mbox"), filepath.Join(dir, "hard.mbox")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(empty, hard); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := export(hard); code != exitNo || !strings.Contains(errs, "hard link") {
		t.Errorf("first export by a hard link: exit %d %q %q; want %d (a retry finds the same), refused naming the hard link", code, out, errs, exitNo)
	}
}

// TestExportFileLockOpenForWriting: the descriptor lockExport holds the
// mbox's flock(2) on is open for writing. Over NFS, Linux emulates flock
// with a byte-range lock of the whole file, and an exclusive one needs
// the file open for writing (flock(2), "NFS details"): on a read-only
// descriptor it fails with EBADF, and every export to an existing mbox
// there stopped at its lock ("locking ...: bad file descriptor", exit 3).
// Checked on the descriptor itself (/proc/self/fdinfo), the test having
// no NFS mount to run on.
func TestExportFileLockOpenForWriting(t *testing.T) {
	dir := t.TempDir()
	mbox := filepath.Join(dir, "real.mbox")
	if err := os.WriteFile(mbox, []byte("From MAILER-DAEMON x\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := lockExport(mbox)
	if err != nil {
		t.Fatal(err)
	}
	defer l.unlock()
	if l.data == nil {
		t.Fatalf("lockExport(%s) holds no lock of the mbox itself", mbox)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", l.data.Fd()))
	if err != nil {
		t.Skipf("no /proc/self/fdinfo: %v", err)
	}
	var flags int64 = -1
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, _ = strconv.ParseInt(strings.TrimSpace(v), 8, 64)
		}
	}
	if flags < 0 || flags&syscall.O_ACCMODE != syscall.O_RDWR {
		t.Errorf("the flock of %s is held on a descriptor with flags %#o: want it open for reading and writing (O_RDWR): over NFS an exclusive flock of a file open read-only fails (EBADF)", mbox, flags)
	}
}

// TestExportTargetDanglingLinkRelative: a dangling symbolic link whose
// relative target climbs out of its directory ("../out/x.mbox"), reached
// through a symbolic link to that directory, names the file the kernel
// creates by it: the target is taken from the directory the link is
// really in. Before, it was joined to the link's directory as named and
// cleaned, "a/../out" becoming "out" where the kernel goes to
// "b/c/../out": the first export by the link kept its state and lock in
// another directory (made for them), and its state moved beside the file
// once the file was there.
func TestExportTargetDanglingLinkRelative(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"b/c", "b/out"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join("b", "c"), filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "a", "sym.mbox")
	if err := os.Symlink(filepath.Join("..", "out", "x.mbox"), link); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "b", "out", "x.mbox")
	before := exportTarget(link)
	if err := os.WriteFile(link, nil, 0o600); err != nil { // as openMbox creates it
		t.Fatal(err)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("the kernel did not create %s by the link: %v", want, err)
	}
	if after := exportTarget(link); before != want || after != want {
		t.Errorf("exportTarget(%s): %s before the file is there, %s after; want %s both times (where the kernel puts it)", link, before, after, want)
	}
}

// TestExportAdoptsLegacyStateAcrossFilesystems: a state an older imapkit
// kept beside a symbolic link whose mbox is on another file system (a
// link in the home directory to a file on another disk, the usual use of
// a link) is taken over: the run resumes, nothing exported again.
// Before, it was moved with rename(2), which fails across file systems
// (EXDEV): every run by the link stopped there, exit 3.
func TestExportAdoptsLegacyStateAcrossFilesystems(t *testing.T) {
	other, linkDir := twoFileSystems(t)
	url := bodyStatusURL(t, fiveBodies, wholeAnswer(fiveBodies), nil)
	export := func(to string) (int, string, string) {
		return runCLI(t, "", "export", url, "INBOX", "--to", to, "--quiet")
	}
	mbox, link := filepath.Join(other, "x.mbox"), filepath.Join(linkDir, "x.mbox")
	if err := os.Symlink(mbox, link); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := export(link); code != 0 {
		t.Fatalf("first export: exit %d %q %q", code, out, errs)
	}
	// Where an older imapkit kept it: beside the link's name.
	st, err := os.ReadFile(statePath(mbox))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(legacyStatePath(link), st, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(statePath(mbox)); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := export(link); code != 0 || !strings.Contains(out, "exported 0 messages") {
		t.Errorf("export by a link to another file system, its state beside the link: exit %d %q %q; want 0, nothing exported again", code, out, errs)
	}
	if got := exportedSubjects(t, mbox, "mbox"); got != "m1×1 m2×1 m3×1 m4×1 m5×1" {
		t.Errorf("mbox: %q; want each message once", got)
	}
}

// twoFileSystems returns two new directories on two file systems, one in
// /dev/shm (removed at the test's end) and a t.TempDir, or skips t.
func twoFileSystems(t *testing.T) (other, here string) {
	t.Helper()
	other, err := os.MkdirTemp("/dev/shm", "imapkit-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	here = t.TempDir()
	var a, b syscall.Stat_t
	if syscall.Stat(other, &a) != nil || syscall.Stat(here, &b) != nil || a.Dev == b.Dev {
		t.Skipf("%s and %s are not on two file systems", other, here)
	}
	return other, here
}

// TestMoveLegacyStateAcrossFilesystems: the older state an import or an
// export takes over (moveLegacyState, one helper for both) is moved from
// beside a link to beside a file on another file system, where rename(2)
// fails with EXDEV: import's move was a rename, and every import by such
// a link failed.
func TestMoveLegacyStateAcrossFilesystems(t *testing.T) {
	other, linkDir := twoFileSystems(t)
	legacy, st := filepath.Join(linkDir, "in.mbox.imapkit-import.json"), filepath.Join(other, "in.mbox.imapkit-import.json")
	if err := os.WriteFile(legacy, []byte(`{"old":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := moveLegacyState(legacy, st, maxImportState, mergeImportStates("", legacy, st)); err != nil {
		t.Fatalf("moveLegacyState across file systems: %v", err)
	}
	if got, err := os.ReadFile(st); err != nil || string(got) != `{"old":1}` {
		t.Errorf("the state beside the file: %q, %v; want the older state", got, err)
	}
	if _, err := os.Lstat(legacy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the older state beside the link is still there (%v)", err)
	}
}

// TestExportStateAtLockedPathWhenSpoolTurnsWritable: an export by a link
// to an mbox in a directory the user cannot write keeps its state beside
// the link (stateBeside); when that directory turns writable while a
// later run connects, after it took the lock beside the link, that run
// still reads and writes the state it locked, beside the link: it exports
// only the message that is new. Before, the path was worked out again at
// the load and at each save: the run held the lock beside the link, found
// no state beside the file, and refused the mbox as not from an export.
func TestExportStateAtLockedPathWhenSpoolTurnsWritable(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(spool, "alice")
	if err := os.WriteFile(real, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "out.mbox")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	turn := spoolTurningWritable(t, spool)
	var second atomic.Bool
	first, then := scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": fiveBodies[:2]}),
		scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": fiveBodies[:3]})
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		if second.Load() {
			turn()
			return then(c)
		}
		return first(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	exportOnce := func(what, exported string) {
		t.Helper()
		code, out, errs := runCLI(t, "", "export", "imap://alice@"+src.Addr(), "INBOX", "--to", link, "--quiet")
		if code != exitOK || !strings.Contains(out, exported) {
			t.Fatalf("%s: exit %d; want 0, %s\nstdout: %s\nstderr: %s", what, code, exported, out, errs)
		}
	}
	exportOnce("first export", "exported 2 messages")
	locked := link + ".imapkit-export.json"
	if _, err := os.Stat(locked); err != nil {
		t.Fatalf("state of the first export beside the link: %v", err)
	}
	second.Store(true)
	exportOnce("second export, the spool turning writable once it has its lock", "exported 1 message")

	if got := exportedSubjects(t, real, "mbox"); got != "m1×1 m2×1 m3×1" {
		t.Errorf("mbox: %q; want m1×1 m2×1 m3×1", got)
	}
	st, err := loadState(locked)
	if err != nil || st == nil || st.LastUID != 3 || st.Messages != 3 {
		t.Errorf("state beside the link, the lock's: %+v, %v; want last UID 3, 3 messages, saved there by the second run", st, err)
	}
	if _, err := os.Lstat(real + ".imapkit-export.json"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a state beside the file, whose lock the run did not hold: %v; want none", err)
	}
}

// TestExportStatesBesideLinkAndFile: an export by a symbolic link whose
// mbox has a state beside the file and one an older imapkit kept beside
// the link: the same state twice (a move whose removal failed) is one,
// the older removed; two that differ stop the run (exit 1), naming both
// files and what each records, neither changed, the mbox untouched.
// Before, the older state was passed over silently.
func TestExportStatesBesideLinkAndFile(t *testing.T) {
	t.Parallel() // waits on Dovecot, which is its own
	srv, cf := dovecot(t, 3)
	plain, _ := urls(srv)
	dir := t.TempDir()
	mbox, link := filepath.Join(dir, "x.mbox"), filepath.Join(dir, "link.mbox")
	if err := os.Symlink("x.mbox", link); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"export", plain, "INBOX", "--to", link, "--quiet"}, cf...)
	cli(t, "", exitOK, args...)
	st, legacy := statePath(mbox), legacyStatePath(link)
	data, err := os.ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(legacy, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errs := cli(t, "", exitOK, args...); !strings.Contains(out, "exported 0 messages") {
		t.Errorf("export with the same state beside the link and the file: %q %q; want 0 exported", out, errs)
	}
	if _, err := os.Lstat(legacy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the older state %s, the same as the file's, is still there (%v); want it removed", legacy, err)
	}

	old, err := loadState(st)
	if err != nil || old == nil {
		t.Fatal(old, err)
	}
	old.LastUID, old.Size = 1, 0
	if err := old.save(legacy); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(mbox)
	code, out, errs := runCLI(t, "", args...)
	if code != exitNo || !strings.Contains(errs, legacy) || !strings.Contains(errs, st) || !strings.Contains(errs, "record different exports") || !strings.Contains(errs, "INBOX to UID 1, 0 bytes") {
		t.Errorf("export with two different states: exit %d %q %q; want %d, naming both files and what each records", code, out, errs, exitNo)
	}
	if got, _ := os.ReadFile(st); string(got) != string(data) {
		t.Errorf("the file's state was changed: %q; want %q", got, data)
	}
	if got, _ := os.ReadFile(mbox); string(got) != string(before) {
		t.Errorf("the mbox was changed (%d bytes, %d before)", len(got), len(before))
	}
	if _, err := os.Lstat(legacy); err != nil {
		t.Errorf("the older state was removed: %v", err)
	}
}

// TestExportMboxLockedOnWritingHandle: while an export writes its mbox,
// the one descriptor it has open on the mbox holds the mbox's flock(2):
// in a first run, which creates the mbox, and in a later one, which
// locks the mbox as it takes its lock (lockExport). Before, the lock was
// held on a second descriptor of its own and the mbox written by
// another: over SMB/CIFS, where a lock is the handle's and binds the
// others (mandatory), that could refuse or hold up the export's own
// writes. Checked on the descriptors themselves (/proc/self/fd and
// fdinfo, whose "lock:" lines are those of that open file), the test
// having no SMB mount to run on.
func TestExportMboxLockedOnWritingHandle(t *testing.T) {
	if _, err := os.Stat("/proc/self/fdinfo"); err != nil {
		t.Skipf("no /proc/self/fdinfo: %v", err)
	}
	t.Parallel() // waits on Dovecot, which is its own
	srv, cf := dovecot(t, 2)
	plain, _ := urls(srv)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mbox := filepath.Join(dir, "x.mbox")
	args := append([]string{"export", plain, "INBOX", "--to", mbox, "--quiet"}, cf...)
	var seen []string // what each "exported" step found wrong, or ""
	setTestHook(t, func(step string) error {
		if step != "exported" {
			return nil
		}
		fds, _ := os.ReadDir("/proc/self/fd")
		var open, locked int
		for _, fd := range fds {
			if p, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err != nil || p != mbox {
				continue
			}
			open++
			info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
			if err == nil && strings.Contains(string(info), "FLOCK") {
				locked++
			}
		}
		seen = append(seen, fmt.Sprintf("%d descriptors open on the mbox, %d holding its flock", open, locked))
		return nil
	})
	want := "1 descriptors open on the mbox, 1 holding its flock"
	check := func(what string, n int) {
		t.Helper()
		if len(seen) != n {
			t.Fatalf("%s: %d messages written (%q); want %d", what, len(seen), seen, n)
		}
		for _, s := range seen {
			if s != want {
				t.Errorf("%s, as a message is written: %s; want %s (the descriptor that writes)", what, s, want)
			}
		}
		seen = nil
	}
	cli(t, "", exitOK, args...)
	check("first export (the mbox created)", 2)
	msg := []byte("From: a@example.com\r\nSubject: new\r\n\r\nnew\r\n")
	if err := srv.SeedMailbox("alice", "INBOX", [][]byte{msg}); err != nil {
		t.Fatal(err)
	}
	cli(t, "", exitOK, args...)
	check("second export (the mbox locked with the state)", 1)
}

// TestExportMboxReplacedAfterLockWritten: an mbox replaced by a rename
// between the run's lock (lockExport, which opens and locks it) and
// openMbox (a mail client that rewrites an mbox into a new file and
// renames it over the old one, while the run connects and logs in) is
// written by its name: what the run exports lands in the file PATH
// names, locked there. Writing by the lock's handle alone put it in the
// replaced file, which no name reached any more, while the state
// recorded it exported.
func TestExportMboxReplacedAfterLockWritten(t *testing.T) {
	dir := t.TempDir()
	mbox := filepath.Join(dir, "x.mbox")
	first := []byte("From MAILER-DAEMON Thu Jan  1 00:00:00 1970\nSubject: m1\n\nbody\n\n")
	if err := os.WriteFile(mbox, first, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := lockExport(mbox)
	if err != nil {
		t.Fatal(err)
	}
	defer l.unlock()
	// The mail client's rewrite: the same bytes, a new file.
	if err := os.WriteFile(mbox+".new", first, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(mbox+".new", mbox); err != nil {
		t.Fatal(err)
	}
	sk, err := openMbox(mbox, l.path, int64(len(first)), l.takeData())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sk.write(&commands.Message{}, strings.NewReader("Subject: m2\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := sk.commit(); err != nil {
		t.Fatal(err)
	}
	if stateLocking {
		if busy, err := flockExclusive(mustOpen(t, mbox)); err != nil || !busy {
			t.Errorf("the mbox PATH names, as the run writes it: flock busy %v (%v); want held by the run", busy, err)
		}
	}
	if err := sk.close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mbox); !strings.Contains(string(b), "Subject: m2") {
		t.Errorf("mbox replaced after the lock, then a message written: %q; want it to end in m2 (written to the replaced file, which no name reaches)", b)
	}
}

// mustOpen opens path for reading and writing, closed at the test's end.
func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestExportOlderStateNotRemovableStops: an older state beside a link's
// name, the same as the file's, that cannot be removed (its directory
// append-only: chattr +a, which holds for root too) stops the run, named,
// as a move or a merge whose removal fails does. Before, the run went on
// and moved the file's state past it: the next run found two states that
// differ and refused for good, asking the user to remove a file it could
// not.
func TestExportOlderStateNotRemovableStops(t *testing.T) {
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("no chattr")
	}
	dir, linkDir := t.TempDir(), t.TempDir()
	mbox, link := filepath.Join(dir, "x.mbox"), filepath.Join(linkDir, "link.mbox")
	if err := os.WriteFile(mbox, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mbox, link); err != nil {
		t.Fatal(err)
	}
	st := &exportState{Version: 1, Mailbox: "INBOX", Format: "mbox", UIDValidity: 7}
	legacy := legacyStatePath(link)
	for _, p := range []string{statePath(mbox), legacy} {
		if err := st.save(p); err != nil {
			t.Fatal(err)
		}
	}
	// The lock file an older imapkit left beside it (lockState opens it).
	if err := os.WriteFile(legacy+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(chattr, "+a", linkDir).CombinedOutput(); err != nil {
		t.Skipf("chattr +a: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-a", linkDir).Run() })
	if err := os.Remove(legacy); err == nil {
		t.Fatal("removed in an append-only directory")
	}
	l, err := lockExport(link)
	l.unlock()
	if err == nil || !strings.Contains(err.Error(), legacy) {
		t.Errorf("export by the link, an older state the same as the file's that cannot be removed: %v; want an error naming %s", err, legacy)
	}
}

// TestStatesTwiceErrorPathsPrintable: the errors of a file with two
// states that cannot be made one (export's exportStatesTwice, import's
// mergeImportStates, its unreadable state's too) print the paths as the
// messages near them do (printable): a name holding a newline or an
// escape neither breaks the one-line error nor drives the terminal.
// Before, they were printed raw.
func TestStatesTwiceErrorPathsPrintable(t *testing.T) {
	dir := "/tmp/odd\x1b[2J\nname"
	path, legacy, st := dir+"/m.mbox", dir+"/link.mbox.imapkit-export.json", dir+"/m.mbox.imapkit-export.json"
	_, errExport := exportStatesTwice(path, legacy, st)(
		[]byte(`{"version":1,"mailbox":"INBOX","format":"mbox","last_uid":1}`),
		[]byte(`{"version":1,"mailbox":"INBOX","format":"mbox","last_uid":2}`))
	ilegacy, ist := dir+"/link.mbox.imapkit-import.json", dir+"/m.mbox.imapkit-import.json"
	_, errImport := mergeImportStates("", ilegacy, ist)(
		[]byte(`{"version":1,"destinations":{"INBOX":{"format":"mbox","imported":1}}}`),
		[]byte(`{"version":1,"destinations":{"INBOX":{"format":"mbox","imported":2}}}`))
	_, errUnreadable := mergeImportStates("", ilegacy, ist)([]byte(`{`), []byte(`{}`))
	for _, c := range []struct {
		name  string
		err   error
		paths []string
	}{
		{"export's two states", errExport, []string{path, legacy, st}},
		{"import's two states", errImport, []string{ilegacy, ist}},
		{"import's unreadable older state", errUnreadable, []string{ilegacy}},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := c.err.Error()
		if strings.ContainsAny(msg, "\n\x1b") {
			t.Errorf("%s: %q; want no newline or escape (paths by printable)", c.name, msg)
		}
		for _, p := range c.paths {
			if !strings.Contains(msg, printable(p)) {
				t.Errorf("%s: %q; want %q named", c.name, msg, printable(p))
			}
		}
	}
}
