//go:build linux

package main

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestImportLockOneSourceTwoNames: two names of one import source by a
// symbolic link (to the mbox, to a directory on its path, to a Maildir)
// share one import state and one lock: a run by either name refuses to
// start while a run by the other holds it. Before, each name had its own
// state and lock (beside the name as given): two runs by two names
// appended the same messages at once, and a run by the second name
// appended again everything the first had.
func TestImportLockOneSourceTwoNames(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.mbox")
	if err := os.WriteFile(real, []byte("From MAILER-DAEMON x\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "md")
	if err := os.Mkdir(md, 0o700); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("real.mbox", filepath.Join(dir, "sym.mbox")))
	dirlink := filepath.Join(t.TempDir(), "dirlink")
	must(os.Symlink(dir, dirlink))
	must(os.Symlink("md", filepath.Join(dir, "mdlink")))
	for _, tc := range []struct{ name, a, b string }{
		{"symlink to the mbox", real, filepath.Join(dir, "sym.mbox")},
		{"symlink on the path", real, filepath.Join(dirlink, "real.mbox")},
		{"symlink to the Maildir", md, filepath.Join(dir, "mdlink")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if a, b := importStatePath(tc.a), importStatePath(tc.b); a != b {
				t.Errorf("states %s and %s; want one", a, b)
			}
			la, err := lockImport(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			lb, err := lockImport(tc.b)
			var busy *stateBusyError
			if !errors.As(err, &busy) {
				lb.unlock()
				t.Errorf("lock of %s while %s holds its lock: %v; want busy", tc.b, tc.a, err)
			}
			la.unlock()
			lb, err = lockImport(tc.b)
			if err != nil {
				t.Errorf("lock of %s once %s is unlocked: %v", tc.b, tc.a, err)
			}
			lb.unlock()
		})
	}
}

// TestImportBySymlinkResumes: an import run again by a symbolic link to
// its mbox appends nothing again; a state an older imapkit kept beside
// the link's name is moved beside the file and taken up. Before, the
// link had a state of its own: the run by it appended every message a
// second time.
func TestImportBySymlinkResumes(t *testing.T) {
	d := startImportDst(t)
	real, _ := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	run := func(what, path, to string) {
		t.Helper()
		code, out, errs := runCLI(t, "", "import", d.url, path, "--to", to, "--ca-file", d.ca, "--timeout", "20s", "--quiet")
		if code != exitOK {
			t.Fatalf("%s: exit %d; want 0\nstdout: %s\nstderr: %s", what, code, out, errs)
		}
	}
	dir := filepath.Dir(real)
	sym := filepath.Join(dir, "sym.mbox")
	if err := os.Symlink(filepath.Base(real), sym); err != nil {
		t.Fatal(err)
	}
	run("import by the file", real, "Names")
	run("import by the symlink", sym, "Names")
	if got := subjectsOf(t, d.c, "Names"); got != "m1,m2" {
		t.Errorf("after an import by the file then by a symlink, the mailbox holds %q; want m1,m2 (each once)", got)
	}

	// An older imapkit's state, beside the link's name.
	oldLink := filepath.Join(dir, "oldlink.mbox")
	if err := os.Symlink(filepath.Base(real), oldLink); err != nil {
		t.Fatal(err)
	}
	run("first import to Legacy", oldLink, "Legacy")
	legacy := filepath.Clean(oldLink) + ".imapkit-import.json"
	if st := importStatePath(oldLink); st != legacy {
		if err := os.Rename(st, legacy); err != nil {
			t.Fatal(err)
		}
	}
	run("import by a link whose state is beside the link", oldLink, "Legacy")
	if got := subjectsOf(t, d.c, "Legacy"); got != "m1,m2" {
		t.Errorf("after an import by a link whose state an older imapkit kept beside it, the mailbox holds %q; want m1,m2 (each once)", got)
	}
	if _, err := os.Lstat(legacy); !errors.Is(err, os.ErrNotExist) && importStatePath(oldLink) != legacy {
		t.Errorf("the older state %s is still there (%v); want it moved beside the file", legacy, err)
	}
	if data, err := os.ReadFile(importStatePath(real)); err != nil || !strings.Contains(string(data), "Legacy") {
		t.Errorf("the file's state holds %q (%v); want Legacy's entry in it", data, err)
	}
}

// unwritableDir makes dir unwritable for the rest of the test: mode 0555
// and, as root (whom the mode does not stop), probeStateDir failing there
// with EACCES (the write itself is not stopped then: what the tests check
// is where the state goes).
func unwritableDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	orig := probeStateDir
	probeStateDir = func(d, base string) error {
		if d == dir {
			return &fs.PathError{Op: "open", Path: filepath.Join(d, base), Err: syscall.EACCES}
		}
		return orig(d, base)
	}
	t.Cleanup(func() { probeStateDir = orig })
}

// spoolTurningWritable makes dir unwritable, as unwritableDir does, until
// the returned function is called: then it can take files again (mode
// 0700, probeStateDir answering as for any directory). A test calls it
// from its server once a run connects, after the run took its lock: where
// the state goes changes amid the run.
func spoolTurningWritable(t *testing.T, dir string) (turn func()) {
	t.Helper()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	var writable atomic.Bool
	orig := probeStateDir
	probeStateDir = func(d, base string) error {
		if d == dir && !writable.Load() {
			return &fs.PathError{Op: "open", Path: filepath.Join(d, base), Err: syscall.EACCES}
		}
		return orig(d, base)
	}
	t.Cleanup(func() { probeStateDir = orig })
	return func() {
		os.Chmod(dir, 0o700)
		writable.Store(true)
	}
}

// TestImportStateAtLockedPathWhenSpoolTurnsWritable: an import by a link
// into a directory the user cannot write keeps its state beside the link
// (stateBeside); when that directory turns writable while a later run
// connects, after it took the lock beside the link, that run still reads
// and writes the state it locked, beside the link: it appends only the
// message added since. Before, the path was worked out again at the load
// and at each save: the run held the lock beside the link, read an empty
// state beside the file, and appended every message again.
func TestImportStateAtLockedPathWhenSpoolTurnsWritable(t *testing.T) {
	real, _ := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	link := filepath.Join(t.TempDir(), "in.mbox")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	turn := spoolTurningWritable(t, filepath.Dir(real))
	var turnOnConnect atomic.Bool
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}}
	addr := serveTCP(t, func(c net.Conn) {
		if turnOnConnect.Load() {
			turn()
		}
		fake.serve(c)
	})
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	importOnce := func(what string) {
		t.Helper()
		code, out, errs := runCLI(t, "", "import", "imap://alice@"+addr, link, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet")
		if code != exitOK {
			t.Fatalf("%s: exit %d; want 0\nstdout: %s\nstderr: %s", what, code, out, errs)
		}
	}
	importOnce("first import")
	locked := link + ".imapkit-import.json"
	if _, err := os.Stat(locked); err != nil {
		t.Fatalf("state of the first import beside the link: %v", err)
	}
	f, err := os.OpenFile(real, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.WriteString(f, "From a@example.com Sat Jan  3 01:05:34 2026\n"+strings.ReplaceAll(importSourceMsg(3, ""), "\r\n", "\n")+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	turnOnConnect.Store(true)
	importOnce("second import, the spool turning writable once it has its lock")

	fake.mu.Lock()
	ids := strings.Join(fake.boxes["INBOX"].ids, " ")
	fake.mu.Unlock()
	if want := "<m1@r44> <m2@r44> <m3@r44>"; ids != want {
		t.Errorf("the destination got %q; want %q, each once: the second run read the state it did not lock", ids, want)
	}
	var st importState
	if _, err := loadJSON(locked, &st); err != nil || len(st.Dests) != 1 {
		t.Fatalf("state beside the link: %+v, %v", st, err)
	}
	for k, ent := range st.Dests {
		if ent.Imported != 3 {
			t.Errorf("state beside the link, the lock's: %q imported %d; want 3, saved there by the second run", k, ent.Imported)
		}
	}
	if _, err := os.Lstat(real + ".imapkit-import.json"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a state beside the file, whose lock the run did not hold: %v; want none", err)
	}
}

// TestStateBesideLinkWhenFileDirUnwritable: an import from, or an export
// to, a symbolic link to a file whose directory the user cannot write (a
// mail spool: ~/in.mbox -> /var/mail/alice) keeps its state and lock
// beside the link's name, as before stop 60, and takes it up again. Once
// the file's directory can take it, that state is moved beside the file.
// Before, the state went beside the file: a permission error at once, where
// the run had worked.
func TestStateBesideLinkWhenFileDirUnwritable(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(spool, "alice")
	if err := os.WriteFile(real, []byte("From MAILER-DAEMON x\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "in.mbox")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	unwritableDir(t, spool)

	want := link + ".imapkit-import.json"
	if got := importStatePath(link); got != want {
		t.Errorf("import state of %s (a link into an unwritable directory): %s; want %s, beside the link", link, got, want)
	}
	l, err := lockImport(link)
	if err != nil {
		t.Fatalf("lock of an import by a link into an unwritable directory: %v; want it beside the link", err)
	}
	if _, err := os.Stat(want + ".lock"); err != nil {
		t.Errorf("lock file beside the link: %v", err)
	}
	if l2, err := lockImport(link); !errors.As(err, new(*stateBusyError)) {
		l2.unlock()
		t.Errorf("second lock by the same link: %v; want busy", err)
	}
	if err := saveJSON(want, &importState{Version: 1}); err != nil {
		t.Fatal(err)
	}
	l.unlock()
	if got := importStatePath(link); got != want {
		t.Errorf("import state once saved beside the link: %s; want %s", got, want)
	}
	wantExport := link + ".imapkit-export.json"
	if got := statePath(link); got != wantExport {
		t.Errorf("export state of %s (a link into an unwritable directory): %s; want %s, beside the link", link, got, wantExport)
	}
	le, err := lockExport(link)
	if err != nil {
		t.Fatalf("lock of an export by a link into an unwritable directory: %v", err)
	}
	le.unlock()

	// The spool made writable: the state beside the link is moved
	// beside the file, and kept there.
	os.Chmod(spool, 0o700)
	probeStateDir = func(d, base string) error { return nil }
	l, err = lockImport(link)
	if err != nil {
		t.Fatal(err)
	}
	l.unlock()
	if got := importStatePath(link); got != real+".imapkit-import.json" {
		t.Errorf("import state once the directory is writable: %s; want beside the file", got)
	}
	if _, err := os.Lstat(want); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state beside the link once the directory is writable: %v; want moved beside the file", err)
	}
}

// TestImportByLinkIntoUnwritableSpoolResumes (Dovecot): an import by a
// link to an mbox in a directory the user cannot write runs, and a
// second run appends nothing again: the state is kept beside the link.
func TestImportByLinkIntoUnwritableSpoolResumes(t *testing.T) {
	d := startImportDst(t)
	real, _ := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	link := filepath.Join(t.TempDir(), "in.mbox")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	unwritableDir(t, filepath.Dir(real))
	for _, what := range []string{"first import", "second import"} {
		code, out, errs := runCLI(t, "", "import", d.url, link, "--to", "Spool", "--ca-file", d.ca, "--timeout", "20s", "--quiet")
		if code != exitOK {
			t.Fatalf("%s by a link into an unwritable directory: exit %d; want 0\nstdout: %s\nstderr: %s", what, code, out, errs)
		}
	}
	if got := subjectsOf(t, d.c, "Spool"); got != "m1,m2" {
		t.Errorf("after two imports by a link into an unwritable directory, the mailbox holds %q; want m1,m2 (each once)", got)
	}
	if _, err := os.Stat(link + ".imapkit-import.json"); err != nil {
		t.Errorf("state beside the link: %v", err)
	}
}

// TestStateLockHeldWhenSpoolTurns: a run by a link into a spool keeps its
// state, and takes its lock, beside the file or beside the link
// (stateBeside), as the spool's directory can take it or not when the
// run starts. A second run of the same job that starts once the spool
// turned (writable, or unwritable) works out the other place; it must
// still be refused while the first runs, whether or not the first saved
// a state yet (a first run). Before, it took the lock of the other place
// and ran beside the first: both appended (exported) the same messages.
func TestStateLockHeldWhenSpoolTurns(t *testing.T) {
	for _, kind := range []struct {
		name string
		lock func(string) (*stateLock, error)
		make func(string) error
	}{
		{"import of an mbox", lockImport, func(p string) error { return os.WriteFile(p, []byte("From MAILER-DAEMON x\n\n"), 0o600) }},
		{"export to a Maildir", lockExport, func(p string) error { return os.Mkdir(p, 0o700) }},
	} {
		for _, toWritable := range []bool{true, false} {
			name := kind.name + ", spool turning unwritable"
			if toWritable {
				name = kind.name + ", spool turning writable"
			}
			t.Run(name, func(t *testing.T) {
				spool := filepath.Join(t.TempDir(), "spool")
				if err := os.Mkdir(spool, 0o700); err != nil {
					t.Fatal(err)
				}
				real := filepath.Join(spool, "alice")
				if err := kind.make(real); err != nil {
					t.Fatal(err)
				}
				link := filepath.Join(t.TempDir(), "alice")
				if err := os.Symlink(real, link); err != nil {
					t.Fatal(err)
				}
				var turn func()
				if toWritable {
					turn = spoolTurningWritable(t, spool)
				} else {
					turn = func() { unwritableDir(t, spool) }
				}
				first, err := kind.lock(link)
				if err != nil {
					t.Fatal(err)
				}
				defer first.unlock()
				turn()
				second, err := kind.lock(link)
				var busy *stateBusyError
				if !errors.As(err, &busy) {
					p := ""
					if second != nil {
						p = second.path
						second.unlock()
					}
					t.Errorf("second run, the spool turned after the first took the lock of %s: lock of %q, %v; want busy", first.path, p, err)
				}
			})
		}
	}
}

// TestImportStatesBesideLinkAndFile: a source with two states, one an
// older imapkit kept beside a symbolic link's name and one beside the
// file, is imported by the link from both: their entries of different
// destinations are made one state (the older one removed), and the
// mailbox the older one recorded gets nothing again. Two different
// entries of one destination stop the run (exit 1), naming both files,
// neither changed. Before, the older state was passed over silently
// whenever the file had one: the run appended again everything it
// recorded.
func TestImportStatesBesideLinkAndFile(t *testing.T) {
	// Waits on a Dovecot of its own (startImportDst) and on the runs.
	t.Parallel()
	d := startImportDst(t)
	real, _ := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	run := func(path, to string) (int, string, string) {
		return runCLI(t, "", "import", d.url, path, "--to", to, "--ca-file", d.ca, "--timeout", "20s", "--quiet")
	}
	link := filepath.Join(filepath.Dir(real), "link.mbox")
	if err := os.Symlink(filepath.Base(real), link); err != nil {
		t.Fatal(err)
	}
	legacy, st := legacyImportStatePath(link), importStatePath(real)
	// The older imapkit's import by the link, to Old: its state beside
	// the link. Then one by the file, to New: a state beside the file.
	if code, out, errs := run(link, "Old"); code != exitOK {
		t.Fatalf("import to Old: exit %d %q %q", code, out, errs)
	}
	if err := os.Rename(st, legacy); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(real, "New"); code != exitOK {
		t.Fatalf("import to New by the file: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := run(link, "Old"); code != exitOK {
		t.Errorf("import to Old by the link, a state beside the link and one beside the file: exit %d %q %q; want 0", code, out, errs)
	}
	if got := subjectsOf(t, d.c, "Old"); got != "m1,m2" {
		t.Errorf("Old holds %q; want m1,m2 (each once: the older state records them imported)", got)
	}
	data, err := os.ReadFile(st)
	if err != nil || !strings.Contains(string(data), "/Old") || !strings.Contains(string(data), "/New") {
		t.Errorf("the file's state: %q (%v); want the entries of Old and New", data, err)
	}
	if _, err := os.Lstat(legacy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the older state %s is still there (%v); want it removed once merged", legacy, err)
	}

	// Two entries of New that differ: one says nothing was imported.
	other := strings.Replace(string(data), `"imported": 2`, `"imported": 0`, 1)
	if other == string(data) {
		t.Fatalf("no \"imported\": 2 in %s", data)
	}
	if err := os.WriteFile(legacy, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(link, "New")
	if code != exitNo || !strings.Contains(errs, legacy) || !strings.Contains(errs, st) || !strings.Contains(errs, "record different imports to") || !strings.Contains(errs, "nothing done") {
		t.Errorf("import by the link, two different entries of one destination: exit %d %q %q; want %d, naming both files", code, out, errs, exitNo)
	}
	if got, _ := os.ReadFile(legacy); string(got) != other {
		t.Errorf("the older state was changed: %q", got)
	}
	if got, _ := os.ReadFile(st); string(got) != string(data) {
		t.Errorf("the file's state was changed: %q; want %q", got, data)
	}
	if got := subjectsOf(t, d.c, "New"); got != "m1,m2" {
		t.Errorf("New holds %q; want m1,m2 (nothing appended by the refused run)", got)
	}
}

// TestImportByHardLinkRefused: a first import by a name of an mbox that
// has others (hard links) and no state beside that name refuses to start
// (exit 1, naming the hard link: a retry finds the same names; before,
// exit 3, which a script retrying on it looped on), nothing appended, as
// export's first run does: another name may have a state of its own. The
// name whose state it has imports on. Before, a run by the hard link
// appended every message again.
func TestImportByHardLinkRefused(t *testing.T) {
	d := startImportDst(t)
	real, _ := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	run := func(path string) (int, string, string) {
		return runCLI(t, "", "import", d.url, path, "--to", "Hard", "--ca-file", d.ca, "--timeout", "20s", "--quiet")
	}
	if code, out, errs := run(real); code != exitOK {
		t.Fatalf("import by the file: exit %d %q %q", code, out, errs)
	}
	hard := filepath.Join(t.TempDir(), "hard.mbox")
	if err := os.Link(real, hard); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(hard); code != exitNo || !strings.Contains(errs, "has other names (it is a hard link)") {
		t.Errorf("first import by a hard link: exit %d %q %q; want %d, refused naming the hard link", code, out, errs, exitNo)
	}
	if _, err := os.Lstat(importStatePath(hard)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a state beside the hard link: %v; want none", err)
	}
	if code, out, errs := run(real); code != exitOK || !strings.Contains(out, "imported 0 messages") {
		t.Errorf("import by the file, which has the state: exit %d %q %q; want 0, nothing again", code, out, errs)
	}
	if got := subjectsOf(t, d.c, "Hard"); got != "m1,m2" {
		t.Errorf("the mailbox holds %q; want m1,m2 (each once)", got)
	}
}

// TestImportByHardLinkAllowed: a file of a backup tree whose snapshots
// hard-link it (rsnapshot, rsync --link-dest), no name of it imported
// from yet, is refused without --allow-hard-link (exit 1, nothing
// appended, the flag named in the advice); with it, it is imported by
// that name, a warning saying so, and its state kept beside that name:
// the next run by it, without the flag, imports nothing again. Before,
// there was no way through but a copy of the file.
func TestImportByHardLinkAllowed(t *testing.T) {
	d := startImportDst(t)
	snap0, _ := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	snap1 := filepath.Join(t.TempDir(), "daily.1.mbox")
	if err := os.Link(snap0, snap1); err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) (int, string, string) {
		return runCLI(t, "", append([]string{"import", d.url, snap0, "--to", "Snap", "--ca-file", d.ca, "--timeout", "20s", "--quiet"}, extra...)...)
	}
	if code, out, errs := run(); code != exitNo || !strings.Contains(errs, "has other names (it is a hard link)") || !strings.Contains(errs, "--allow-hard-link") {
		t.Errorf("first import by a hard-linked file: exit %d %q %q; want %d, refused naming the hard link and --allow-hard-link", code, out, errs, exitNo)
	}
	if code, out, errs := run("--allow-hard-link"); code != exitOK || !strings.Contains(out, "imported 2 messages") || !strings.Contains(errs, "its state is kept beside this name (--allow-hard-link)") {
		t.Errorf("import --allow-hard-link: exit %d %q %q; want 0, 2 imported, a warning", code, out, errs)
	}
	if _, err := os.Lstat(importStatePath(snap0)); err != nil {
		t.Errorf("the state beside the name imported by: %v", err)
	}
	if code, out, errs := run(); code != exitOK || !strings.Contains(out, "imported 0 messages") {
		t.Errorf("import again by the same name: exit %d %q %q; want 0, nothing again", code, out, errs)
	}
	if got := subjectsOf(t, d.c, "Snap"); got != "m1,m2" {
		t.Errorf("the mailbox holds %q; want m1,m2 (each once)", got)
	}
}
