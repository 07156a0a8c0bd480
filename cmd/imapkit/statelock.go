package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A stateLock is held on a state file (copy's, import's, export's) for the
// whole run of a job: a second run of the same job (a scheduler that
// restarts a shard it believes dead, a cron job that overlaps the last
// one) refuses to start instead of working from a state the first one is
// about to move past, which appended the same mail twice. The lock is a
// kernel lock (flock(2)) on a file next to the state, STATE.lock: the state
// file itself is replaced by a rename at every save, which would lose a
// lock on it. The kernel drops the lock when the process ends however it
// ends (SIGKILL, a crash), so a dead run never blocks the next one; the
// lock file stays, empty.
//
// The flock(2) is the file's, not its name's: lockState checks, once it
// holds it, that the name still gives that file (one removed or replaced
// between its open and its flock is locked again). The limit left: a
// lock file removed while a run holds it is not noticed by that run, and
// a run started after the removal creates and locks a new one and runs
// beside it (docs/cli.md asks users to leave the .lock files alone).
type stateLock struct {
	// path is the state file locked (lockState's path): worked out once,
	// at lock time, and the one every load and save of the run uses.
	// Where the state goes (stateBeside) can change during a run (the
	// spool directory made writable, a state appearing beside the
	// file): worked out again at each load and save, a run held the lock
	// of one path and read or wrote another, and an import read an empty
	// state and appended every message again.
	path string
	f    *os.File
	// data is the locked file the state is of (lockFile), or nil.
	data *os.File
	// others are the locks of the other places the state of this file
	// could be kept (lockOthers).
	others []*os.File
}

// A stateJob is a kind of job whose state is kept beside a file (an
// import's source, an export's mbox or Maildir), for lockJob.
type stateJob struct {
	name   string // "import", "export": its errors' prefix
	suffix string // the state file's name after the file's (".imapkit-import.json")
	// lockFile: the file itself is locked too (stateLock.lockFile).
	lockFile bool
	// max is the most bytes a state file of the job may hold
	// (readStateFile).
	max int64
	// merge is moveLegacyState's merge of two states of the file path:
	// legacy's and st's.
	merge func(path, legacy, st string) func(legacy, st []byte) ([]byte, error)
	// unwritable returns the advice of a *stateUnwritableError of the
	// state spath of the file target (its links resolved): advice is
	// lockState's (make the directory writable), which it adds to.
	unwritable func(advice, target, spath string) string
}

// statePath is where the state of the job on path is kept (stateBeside):
// beside the file path names once its symbolic links are resolved
// (exportTarget), so that every name of it by a symbolic link shares one
// state and one lock; or beside path when that file's directory cannot
// take it (an mbox in a mail spool).
func (j *stateJob) statePath(path string) string {
	return stateBeside(exportTarget(path), path, j.suffix)
}

// legacy is where an imapkit before stop 60 kept the state of the job on
// path: beside path as given.
func (j *stateJob) legacy(path string) string { return filepath.Clean(path) + j.suffix }

// lockJob takes the lock of the state of the job j on path (lockState),
// and the file's own when j says so (lockFile); then moves beside the
// file a state an older imapkit kept beside a symbolic link's name
// (moveLegacyState: when the file has one too, the two are made one
// state or the run stops, naming both; left there, the older was not
// read, and an import appended everything again), and takes the locks of
// the other places the state could be (lockOthers). Where the state is
// kept (j.statePath) is worked out once, here: the lock's path, which the
// run loads and saves. Export's and import's were two functions of the
// same steps.
func lockJob(j *stateJob, path string) (*stateLock, error) {
	target, legacy := exportTarget(path), j.legacy(path)
	l, err := lockState(j.statePath(path))
	var ue *stateUnwritableError
	if errors.As(err, &ue) && j.unwritable != nil {
		ue.advice = j.unwritable(ue.advice, target, ue.path)
	}
	if err != nil {
		return nil, err
	}
	if j.lockFile {
		if err := l.lockFile(target); err != nil {
			l.unlock()
			return nil, err
		}
	}
	if err := moveLegacyState(legacy, l.path, j.max, j.merge(path, legacy, l.path)); err != nil {
		l.unlock()
		return nil, fmt.Errorf("%s: %w", j.name, err)
	}
	if err := l.lockOthers(legacy, target+j.suffix); err != nil {
		l.unlock()
		return nil, err
	}
	return l, nil
}

// refuseHardLink returns the error of a first run of job (its state
// spath not there yet) on path when path is a regular file with other
// names (hard links): another name may have a state of its own, and two
// would work through each other's (an export's cutting the mbox back
// through the other's messages, an import's appending again what the
// other did); advice says what to do instead. Else nil. The error wraps
// errHardLinked: exit 1, as a retry finds the same file with the same
// names (exit 3 had a script retrying on it loop for ever).
func refuseHardLink(job, path, spath, advice string) error {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || linkCount(fi) <= 1 {
		return nil
	}
	return fmt.Errorf("%s: %s has other names (%w) and no %s: %s", job, printable(path), errHardLinked, printable(filepath.Base(spath)), advice)
}

// errHardLinked is the error of a first run by a name of a file with
// other names (refuseHardLink): exit 1, nothing done; a retry finds the
// same names.
var errHardLinked = errors.New("it is a hard link")

// lockOthers takes for the run, too, the locks of the other places the
// state could be kept (stateBeside: beside the file, beside the link's
// name), those of paths that are not l.path and whose lock file is there
// (a run made it), or returns a *stateBusyError naming one another run
// holds. Where the state goes can change between two runs (the spool's
// directory turning writable, or unwritable): a second run of the same
// job then locked the other place and ran beside the first, when the
// first had saved no state yet, and both appended the same messages.
// Each run takes its own lock before it looks at the others: of two
// runs, one sees the other's. A lock file that cannot be opened for
// writing could not have been locked by a run (lockState opens it so):
// it is passed over, and so is l's own lock file by another name (a
// symbolic link to a directory on the path). One that is not a regular
// file (a named pipe, a directory) stops the run, as lockState's own
// does (openLockFile).
func (l *stateLock) lockOthers(paths ...string) error {
	for _, p := range paths {
		if l.f == nil || p == l.path {
			continue
		}
		f, err := openLockFile(p+".lock", os.O_RDWR)
		if errors.Is(err, errStateUnusable) {
			return err
		}
		if err != nil {
			continue
		}
		if sameFile(f, l.f) {
			f.Close() // l's own, by a link on the path
			continue
		}
		if err := flockOrClose(f, p); err != nil {
			return err
		}
		l.others = append(l.others, f)
	}
	return nil
}

// lockFile locks the file at path too, when it is a regular file, with
// the same flock(2) (busy: a *stateBusyError naming it): a lock held
// however the file is named, a hard link included. Nothing where l does
// not lock (no flock) or the file is not there (yet) or not a regular
// file (a Maildir), also when it turned into one between the check and
// the open (openLockFile opens it without waiting, then checks).
func (l *stateLock) lockFile(path string) error {
	if l.f == nil {
		return nil
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	// Open for writing: over NFS, flock(2) is a byte-range lock of the
	// whole file, and an exclusive one of a file open read-only fails
	// (EBADF). The export writes the file anyway.
	f, err := openLockFile(path, os.O_RDWR)
	if errors.Is(err, errStateUnusable) {
		return nil // replaced meanwhile: not a regular file any more
	}
	if err != nil {
		return err
	}
	if err := flockOrClose(f, path); err != nil {
		return err
	}
	l.data = f
	return nil
}

// takeData hands over the locked file (lockFile), its flock(2) held, to a
// caller that writes it and closes it (openMbox), or returns nil (none,
// or l nil): l no longer releases nor closes it.
func (l *stateLock) takeData() *os.File {
	if l == nil {
		return nil
	}
	f := l.data
	l.data = nil
	return f
}

// moveLegacyState moves the state file legacy (where an older imapkit
// kept it: beside a symbolic link's name) to st (beside the file the
// link names), when they differ and legacy is there. When st is there
// too, the two are one state when their bytes are the same (the
// leftover of a move whose removal failed: legacy is removed, and the
// run stops when it cannot be); else merge makes one of them (legacy's
// bytes, then st's) or returns why it cannot (an error wrapping
// errStateTwice, naming both files), which the run stops at, both files
// left as they are. Before, legacy was passed over silently whenever st
// was there: what it recorded was lost (an import by the link appended
// again everything it recorded).
// Both are read by readStateFile (limit: the job's bound): one that is
// not a regular file or holds more than limit bytes stops the run.
// It takes legacy's lock while it does: an older imapkit running by
// that name holds it, and the move is refused (a *stateBusyError
// naming legacy). The caller holds st's lock. Where there is no
// flock(2) it is moved all the same (lockState does nothing there). It
// is copied, then removed: the file is often on another file system
// than the link (a link to another disk), where rename(2) fails
// (EXDEV). Should the removal fail, the run stops, naming legacy, at
// every run until it is removed: st, left beside it, would move on,
// and the two would differ.
func moveLegacyState(legacy, st string, limit int64, merge func(legacy, st []byte) ([]byte, error)) error {
	if legacy == st {
		return nil
	}
	if _, err := os.Lstat(legacy); err != nil {
		return nil // none: the usual case
	}
	l, err := lockState(legacy)
	if err != nil {
		return err
	}
	defer l.unlock()
	b, err := readStateFile(legacy, limit)
	if errors.Is(err, os.ErrNotExist) {
		return nil // gone meanwhile
	}
	var cur []byte
	if err == nil {
		cur, err = readStateFile(st, limit)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = writeFileAtomic(st, b)
	case err != nil:
	case bytes.Equal(b, cur):
		// (The leftover of a move whose removal failed.) One that
		// cannot be removed stops the run, as below: left there
		// while the run moved st on, it made two states that differ,
		// and every later run stopped at them.
	default:
		m, merr := merge(b, cur)
		if merr != nil {
			return merr
		}
		err = writeFileAtomic(st, m)
	}
	if err == nil {
		err = os.Remove(legacy)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("moving the state an older imapkit kept at %s to %s: %w", printable(legacy), printable(st), err)
	}
	return nil
}

// readStateFile reads the state file path whole, or returns why not:
// an error wrapping os.ErrNotExist when there is none, and one wrapping
// errStateUnusable when it is not a regular file (a named pipe: its open
// waited for a writer, and the run hung before it had done anything) or
// holds more than limit bytes (limit > 0; read whole into memory before,
// whatever its size). It is opened without waiting (openNonblock) and
// checked by its descriptor too: replaced by a pipe between the checks,
// it is refused, not waited on. A symbolic link that loops at path (its
// stat or open fails with ELOOP) is refused too, an error wrapping
// errStateUnusable that names it by printable: before, the run stopped
// at the stat's error, its path raw, exit 3, as if a retry could help.
func readStateFile(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, stateStatError(path, err)
	}
	if err := stateFileUsable(path, fi, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, stateStatError(path, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := stateFileUsable(path, fi, limit); err != nil {
		return nil, err
	}
	r := io.Reader(f)
	if limit > 0 {
		r = io.LimitReader(f, limit+1)
	}
	b, err := io.ReadAll(r)
	if err == nil && limit > 0 && int64(len(b)) > limit {
		return nil, stateTooBig(path, int64(len(b)), limit) // grew while read
	}
	return b, err
}

// stateStatError returns err, of a stat or an open of the state file
// path, or the error wrapping errStateUnusable that names path a
// symbolic link that loops when err is ELOOP.
func stateStatError(path string, err error) error {
	if errors.Is(err, errLoop) {
		return fmt.Errorf("%w: %s is %s: imapkit writes its states as regular files; move it away", errStateUnusable, printable(path), loopingLink)
	}
	return err
}

// stateFileUsable returns the error (wrapping errStateUnusable) of the
// state file path, of info fi, that is not a regular file or holds more
// than limit bytes (limit > 0); else nil.
func stateFileUsable(path string, fi os.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is %s: imapkit writes its states as regular files; move it away", errStateUnusable, printable(path), notRegular(fi))
	}
	if limit > 0 && fi.Size() > limit {
		return stateTooBig(path, fi.Size(), limit)
	}
	return nil
}

// notRegular says what kind of file fi is, one that is not a regular
// file: "a named pipe (FIFO), not a regular file".
func notRegular(fi os.FileInfo) string {
	switch t := fi.Mode().Type(); {
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO), not a regular file"
	case t&fs.ModeDir != 0:
		return "a directory, not a regular file"
	case t&fs.ModeCharDevice != 0:
		return "a character device, not a regular file"
	case t&fs.ModeDevice != 0:
		return "a device, not a regular file"
	case t&fs.ModeSocket != 0:
		return "a socket, not a regular file"
	}
	return "not a regular file"
}

// openLockFile opens the lock file path (flag: os.O_RDWR, with
// os.O_CREATE for the run's own) for its flock(2), or returns why not:
// one that is not a regular file is refused, an error wrapping
// errStateUnusable that names it and says to move it away. It is opened
// without waiting (openNonblock), checked by its descriptor, and only
// then put back to blocking: a named pipe planted at the lock's path
// (POSIX leaves an O_RDWR open of one unspecified; an O_RDONLY or
// O_WRONLY one waits for the other end) was opened blocking before, and
// on Linux locked as if it were the lock, and the run went on. A
// directory (or a symbolic link to one), whose open for writing fails
// (EISDIR), is refused the same way: before, the run stopped at "open
// PATH.lock: is a directory", exit 3, as if a retry could help.
//
// A symbolic link that loops at the lock's path (its open fails with
// ELOOP) is refused the same way, named by printable: before, the run
// stopped at the open's error, its path raw, exit 3.
//
// No symbolic link at the lock's path is followed (openNoFollow, where
// there is flock(2)): one is refused the same way, dangling or not
// ("PATH.lock is a symbolic link, not a regular file"). Before, the open
// followed it: a dangling one had the run create the file it named,
// wherever that was, and lock it; one to another file had the run lock
// that file. A link to a directory is named a directory (its stat says
// so first), as before. Links among the directories above the lock are
// followed, as everywhere.
func openLockFile(path string, flag int) (*os.File, error) {
	return openRegular(path, flag|openNoFollow, func(path string, fi os.FileInfo) error {
		if fi.Mode().IsRegular() {
			return nil
		}
		return notRegularLock(path, fi)
	}, func(path string) error {
		what := loopingLink
		if _, err := os.Stat(path); !errors.Is(err, errLoop) {
			what = "a symbolic link, not a regular file (imapkit follows no link at its lock's path)"
		}
		return fmt.Errorf("%w: %s is %s: imapkit keeps its locks as regular files (empty ones); move it away", errStateUnusable, printable(path), what)
	})
}

// openRegular opens path with flag for a file the run writes in place (a
// lock, an export's mbox) without waiting (openNonblock), checks what it
// opened by its descriptor with usable (nil: it may be used), and only
// then puts it back to blocking. When the open fails, what is at path is
// checked with usable too (a directory fails an open for writing), and a
// symbolic link that was not opened is refused with link's error: one
// that loops (ELOOP), or any, flag holding openNoFollow (whose error
// differs by system: ELOOP on Linux, EMLINK on FreeBSD, EFTYPE on NetBSD).
func openRegular(path string, flag int, usable func(path string, fi os.FileInfo) error, link func(path string) error) (*os.File, error) {
	f, err := os.OpenFile(path, flag|openNonblock, 0o600)
	if err != nil {
		if fi, serr := os.Stat(path); serr == nil {
			if uerr := usable(path, fi); uerr != nil {
				return nil, uerr
			}
		}
		if errors.Is(err, errLoop) {
			return nil, link(path)
		}
		if flag&openNoFollow != 0 {
			if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
				return nil, link(path)
			}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = usable(path, fi)
	}
	if err == nil {
		err = clearNonblock(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// loopingLink says what a path whose open failed with ELOOP is.
const loopingLink = "a symbolic link that loops (too many levels of symbolic links), not a regular file"

// notRegularLock is the error (wrapping errStateUnusable) of the lock
// file path, of info fi, that is not a regular file.
func notRegularLock(path string, fi os.FileInfo) error {
	return fmt.Errorf("%w: %s is %s: imapkit keeps its locks as regular files (empty ones); move it away", errStateUnusable, printable(path), notRegular(fi))
}

// stateTooBig is the error of the state file path of size bytes, more
// than limit.
func stateTooBig(path string, size, limit int64) error {
	return fmt.Errorf("%w: %s holds %d bytes, more than the %d a state file of this job may hold: not one imapkit wrote; move it away", errStateUnusable, printable(path), size, limit)
}

// errStateUnusable is the error of a state file that cannot be read as
// one (readStateFile: not a regular file, or too large): exit 1, nothing
// done, until the user moves it away (a retry finds the same file).
var errStateUnusable = errors.New("unusable state file")

// errStateTwice is the error of a file with two states that cannot be
// made one (moveLegacyState): exit 1, nothing done, until the user
// removes one (a retry finds the same two).
var errStateTwice = errors.New("two states of one file")

// stateBeside returns where the state of a file (an import's source, an
// export's mbox or Maildir) is kept: beside the file its name given names
// once its symbolic links are resolved (resolved, exportTarget), so that
// every name of one file shares one state and one lock; suffix names the
// state (".imapkit-import.json"). When that file's directory cannot take
// the state (a permission error, a read-only file system: a mail spool
// such as /var/mail that only delivery writes, imported by a link in the
// user's home) and holds none, the state is kept beside the name as
// given, where an imapkit before stop 60 kept it, when that directory
// can take it. Before, such a run failed at once (permission denied)
// where it had worked. Each name of such a file then has a state and a
// lock of its own, as before stop 60. A state beside the file wins
// wherever it is, and one beside the name is moved beside the file once
// its directory can take it (moveLegacyState).
func stateBeside(resolved, given, suffix string) string {
	st := resolved + suffix
	given = filepath.Clean(given)
	if resolved == given {
		return st
	}
	if _, err := os.Lstat(st); err == nil {
		return st
	}
	if !unwritable(probeStateDir(filepath.Dir(st), filepath.Base(st))) {
		return st
	}
	old := given + suffix
	if _, err := os.Lstat(old); err == nil {
		return old
	}
	if probeStateDir(filepath.Dir(old), filepath.Base(old)) == nil {
		return old
	}
	return st // neither can take it: the error names the file's directory
}

// unwritable reports whether err (of a file created in a directory) says
// that the directory cannot take a file: a permission error or a
// read-only file system. A missing directory can be made (lockState).
func unwritable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, errReadOnlyFS)
}

// probeStateDir creates and removes a file in dir, named as a temporary
// file of the state base (removeStateTemps removes one left by a kill),
// and returns the creation's error: whether dir can take the state. Tests
// replace it: a directory cannot be made unwritable for root.
var probeStateDir = func(dir, base string) error {
	f, err := os.CreateTemp(dir, base+".probe-*.tmp")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// stateBusyError reports that another process holds the lock of a state
// file: exit code 3, nothing done.
type stateBusyError struct {
	path string
}

func (e *stateBusyError) Error() string {
	return fmt.Sprintf("%s: another imapkit is using it (a run of the same job is under way): nothing done", printable(e.path))
}

// stateUnwritableError reports that the lock of the state file path
// cannot be made or opened for writing (a read-only file system, a
// directory the user cannot write: unwritable): exit 1, nothing done, the
// same at every run until the user acts, which advice says how. It wraps
// errStateUnwritable and the file system's error. Before, the run stopped
// at "open PATH.lock: read-only file system" (exit 3, as if a retry could
// help), and a state an older imapkit left on what is now a read-only
// file system stopped every run with no word of what to do.
type stateUnwritableError struct {
	path   string // the state file
	err    error  // the file system's (of its directory or its lock)
	advice string // what to do
}

func (e *stateUnwritableError) Error() string {
	why := e.err.Error()
	var pe *fs.PathError
	if errors.As(e.err, &pe) {
		why = pe.Err.Error() // its path is printed below, by printable
	}
	return fmt.Sprintf("%s: %s: its lock %s cannot be created or opened for writing (%s): a run locks its state and records in it, as it goes, what it did, and cannot where it cannot write: nothing done; %s",
		errStateUnwritable, printable(e.path), printable(filepath.Base(e.path)+".lock"), why, e.advice)
}

func (e *stateUnwritableError) Unwrap() []error { return []error{errStateUnwritable, e.err} }

// errStateUnwritable is the error of a state whose lock cannot be made
// or opened for writing (stateUnwritableError).
var errStateUnwritable = errors.New("the state cannot be written")

// openLock opens a state's lock file for lockState (openLockFile). Tests
// replace it: a file system cannot be made read-only, nor a directory
// unwritable for root, without privileges.
var openLock = openLockFile

// lockState takes the lock of the state file path, creating its directory
// and lock file when missing, or returns a *stateBusyError at once when
// another run holds it, or a *stateUnwritableError when the lock cannot
// be made or opened for writing there (its advice: make the directory
// writable, or the lock when it is there and its mode or owner refuses;
// lockJob's and copy's say more). Once held, temporary files of earlier runs
// (saveJSON's, left by a kill between its write and its rename) are
// removed. Where the system has no flock (Windows, Plan 9, ...) it does
// nothing: runs of the same job must not overlap there.
func lockState(path string) (*stateLock, error) {
	if !stateLocking {
		return &stateLock{path: path}, nil
	}
	err := os.MkdirAll(filepath.Dir(path), 0o700)
	if err != nil && !unwritable(err) {
		// (A file where a directory of the path should be, say.)
		// MkdirAll's error names the directory it failed to make,
		// which may be one above the state's: the state's is named
		// too, by printable.
		return nil, &dirNotMadeError{what: "the state directory", dir: filepath.Dir(path), err: err}
	}
	for attempt := 1; ; attempt++ {
		f, err := openStateLock(path, err)
		if err != nil {
			return nil, err
		}
		if err := flockOrClose(f, path); err != nil {
			return nil, err
		}
		// The path still names the file locked: one removed (or
		// replaced) between the open and the flock is no lock, the
		// next run creating another at the path. Before, the run went
		// on holding the flock of a file no name reached, and the next
		// run ran beside it.
		if sameFileAt(f, path+".lock") {
			removeStateTemps(path)
			return &stateLock{path: path, f: f}, nil
		}
		closeLocked(f)
		if attempt == lockAttempts {
			return nil, fmt.Errorf("locking %s: its lock %s was removed or replaced as it was locked, %d times in a row: another process is removing it; nothing done", printable(path), printable(path+".lock"), lockAttempts)
		}
	}
}

// lockAttempts is how many times lockState takes a lock whose file is
// removed or replaced as it is locked before it gives up.
const lockAttempts = 5

// openStateLock opens (or creates) the lock file of the state path for
// lockState, or returns why not: mkdirErr (MkdirAll's of the state's
// directory, nil or unwritable) or the open's, a *stateUnwritableError
// when the lock cannot be made or opened for writing.
func openStateLock(path string, mkdirErr error) (*os.File, error) {
	var f *os.File
	err := mkdirErr
	if err == nil {
		f, err = openLock(path+".lock", os.O_RDWR|os.O_CREATE)
	}
	if unwritable(err) {
		advice := fmt.Sprintf("make %s writable (a file system mounted read-only: remount it read-write)", printable(filepath.Dir(path)))
		if fi, lerr := os.Lstat(path + ".lock"); lerr == nil && fi.Mode().IsRegular() && errors.Is(err, fs.ErrPermission) {
			// The lock is there and the directory can be searched:
			// the lock's own mode or owner is what refuses (a run as
			// another user, root say, made it). Making the directory
			// writable would not help.
			advice = fmt.Sprintf("make the lock %s writable for you (another user's, a run as root say, or made read-only)", printable(path+".lock"))
		}
		return nil, &stateUnwritableError{path: path, err: err, advice: advice}
	}
	return f, err
}

// makeDir makes the directory dir, and those above it that are missing
// (os.MkdirAll, mode 0700), for what ("the Maildir", "the --to
// directory"), or returns a *dirNotMadeError naming dir. Before, the
// callers (writeFileAtomic, export's Maildir and --accounts, fetch --to)
// returned MkdirAll's error alone, which names the directory it failed to
// make (one above dir, maybe) raw, and exit 3 whatever the cause.
func makeDir(what, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &dirNotMadeError{what: what, dir: dir, err: err}
	}
	return nil
}

// dirNotMadeError reports that the directory dir, wanted for what, could
// not be made: "making the Maildir DIR: mkdir DIR/cur: not a directory",
// dir by printable (errorLine shows the wrapped error's path so too). It
// wraps the file system's error, and errDirNotMade (exit 1) when a retry
// would find the same (dirNotMadeLasting): a file in the way, a
// permission or a read-only file system; else (a full disk, an I/O
// error) exit 3.
type dirNotMadeError struct {
	what, dir string
	err       error
}

func (e *dirNotMadeError) Error() string {
	return fmt.Sprintf("making %s %s: %v", e.what, printable(e.dir), e.err)
}

func (e *dirNotMadeError) Unwrap() []error {
	if dirNotMadeLasting(e.err) {
		return []error{e.err, errDirNotMade}
	}
	return []error{e.err}
}

// dirNotMadeLasting reports whether err, MkdirAll's, is one a retry finds
// again until the user acts: a file where a directory should be, a
// permission, a read-only file system.
func dirNotMadeLasting(err error) bool {
	return errors.Is(err, errNotDir) || errors.Is(err, fs.ErrExist) || unwritable(err)
}

// errDirNotMade is the error of a directory that cannot be made until the
// user acts (dirNotMadeError): exit 1, nothing done there.
var errDirNotMade = errors.New("the directory cannot be made")

// unlock releases the lock, then closes its file. Closing alone did not
// release it at once: a child another goroutine was starting at that moment
// (os/exec) had a copy of the descriptor until its exec closed it, and the
// lock, which belongs to the open file, not to the descriptor, stayed held
// until then; the next run of the same job in this process (the tests run
// copy twice in a row beside parallel tests that start servers) found it
// busy.
func (l *stateLock) unlock() {
	if l == nil {
		return
	}
	for _, f := range l.others {
		closeLocked(f)
	}
	l.others = nil
	if l.data != nil {
		closeLocked(l.data)
		l.data = nil
	}
	if l.f != nil {
		closeLocked(l.f)
		l.f = nil
	}
}

// closeLocked releases f's flock(2), then closes f, and returns the
// close's error: every file a lock is held on (the lock files, an
// export's mbox) is closed so (unlock, openMbox, mboxSink). Closing alone
// left the lock held while a child another goroutine was starting had a
// copy of the descriptor (see unlock): openMbox's error paths did so, and
// the next run found the mbox busy.
func closeLocked(f *os.File) error {
	funlock(f)
	return f.Close()
}

// removeStateTemps removes the temporary files saveJSON leaves next to
// path when a run is killed between writing one and renaming it (and the
// fixed PATH.tmp of older imapkits), and the bodies an export to an mbox
// spooled there (mboxSink.spoolTemp) where spool could not unlink them
// at once. Only the holder of the lock may: a
// temporary file is another run's work in progress otherwise.
func removeStateTemps(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, base+".") && strings.HasSuffix(name, ".tmp") && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// sameFileAt reports whether f is open on the file path names.
func sameFileAt(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// sameFile reports whether a and b are open on one file.
func sameFile(a, b *os.File) bool {
	ai, err := a.Stat()
	if err != nil {
		return false
	}
	bi, err := b.Stat()
	return err == nil && os.SameFile(ai, bi)
}

// flockOrClose takes f's lock (flock(2)), the lock of path's state (or
// of the file path), or closes f and returns why not: a *stateBusyError
// naming path when another process holds it.
func flockOrClose(f *os.File, path string) error {
	busy, err := flockExclusive(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("locking %s: %w", printable(path), err)
	}
	if busy {
		f.Close()
		return &stateBusyError{path: path}
	}
	return nil
}
