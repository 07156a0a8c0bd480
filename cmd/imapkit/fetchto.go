package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/commands"
)

// fetchOpts are fetch's own flags.
type fetchOpts struct {
	section *string
	seq     *bool
	to      *string
	text    *bool
	parts   *bool
	decode  *bool
}

func fetchFlags(fs *flag.FlagSet) any {
	return &fetchOpts{
		section: fs.String("section", "", "the section: HEADER, TEXT, 1, 1.2.MIME, \"HEADER.FIELDS (FROM SUBJECT)\"; default the whole message"),
		seq:     setFlag(fs),
		to:      fs.String("to", "", "write each message (or section) to `DIR`/UID.eml instead of stdout; SET may then hold many messages"),
		text:    fs.Bool("text", false, "print the message's text (its text/plain part, else its text/html part) decoded to UTF-8"),
		parts:   fs.Bool("parts", false, "list the message's parts: number, type, size, encoding, charset, disposition, file name"),
		decode:  fs.Bool("decode", false, "with --section N (a part number): write the part with its transfer encoding (base64, quoted-printable) undone"),
	}
}

// checkFetch checks fetch's arguments before connecting: one message to
// stdout, a set only with --to.
func checkFetch(args []string, own any) error {
	fo := own.(*fetchOpts)
	if _, err := parseSection(*fo.section); err != nil {
		return err
	}
	if *fo.text && (*fo.section != "" || *fo.to != "" || *fo.parts || *fo.decode) {
		return usagef("fetch --text prints one message's text: not with --section, --to, --parts or --decode")
	}
	if *fo.parts && (*fo.section != "" || *fo.to != "" || *fo.decode) {
		return usagef("fetch --parts lists one message's parts: not with --section, --to or --decode")
	}
	if *fo.decode {
		sec, _ := parseSection(*fo.section)
		if len(sec.Part) == 0 || sec.Specifier != "" || *fo.to != "" {
			return usagef("fetch --decode writes one part of one message: give --section N with a part number alone, such as 2 or 1.2 (see --parts), and no --to")
		}
	}
	if *fo.to == "" {
		if n, err := strconv.ParseUint(args[1], 10, 32); err == nil && n > 0 {
			return nil
		}
		if _, err := parseSet(args[1], *fo.seq); err == nil {
			return usagef("fetch: a set of messages (%q) goes to files: give --to DIR", args[1])
		}
		what := "UID"
		if *fo.seq {
			what = "sequence number"
		}
		return usagef("bad %s %q: a number from 1 (or a set such as 1:5,7 with --to DIR)", what, args[1])
	}
	_, err := parseSet(args[1], *fo.seq)
	return err
}

// jsonFetched is one line of fetch --to --json.
type jsonFetched struct {
	UID  uint32 `json:"uid"`
	Seq  uint32 `json:"seq"`
	Size int64  `json:"size"` // bytes written
	File string `json:"file"`
}

// runFetchTo writes every message of the set (or the section asked for)
// to DIR/UID.eml: streamed into a temporary file in DIR, then renamed, so
// that a file by that name is always whole. The temporary files a killed
// run left in DIR are removed first (removeFetchTemps).
func runFetchTo(ctx context.Context, cn *conn, args []string, fo *fetchOpts, o *output) error {
	set, err := o.readSet(ctx, args[1], *fo.seq)
	if err != nil {
		return err
	}
	sec, err := parseSection(*fo.section)
	if err != nil {
		return err
	}
	dir := *fo.to
	if err := makeDir("the --to directory", dir); err != nil {
		return err
	}
	removeFetchTemps(dir)
	if _, err := cn.c.Examine(ctx, args[0]); err != nil {
		return err
	}
	n := 0
	var bytes int64
	// The UIDs written by this run: a server that sends one twice does
	// not have its second body replace the first (a map: one entry a
	// file written, where a SeqSet costs O(ranges) a UID out of order).
	written := make(map[uint32]bool)
	items := &commands.FetchItems{UID: true, Sections: []commands.FetchSection{sec}, BufferMax: -1}
	// notAsked: the first section not asked for of each UID the server
	// sent no section asked for with (yet); an error at the end for one
	// never written. noted: a skipped section was noted (once a run).
	notAsked := make(map[uint32]error)
	noted := false
	note := func(uid uint32, skipped error) {
		if !noted {
			noted = true
			fmt.Fprintf(o.stderr, "imapkit fetch: UID %d: %v: skipped (the section asked for came too, and is written)\n", uid, skipped)
		}
	}
	for m, err := range cn.c.Fetch(ctx, set, items) {
		if err != nil {
			return err
		}
		j, ok, skipped, err := writeFetched(dir, m, sec, written, o.stderr)
		var gone *nilSectionError
		var twice *twiceSentError
		if errors.As(err, &gone) || errors.As(err, &twice) {
			fmt.Fprintf(o.stderr, "imapkit fetch: %v: not written\n", err)
			if skipped != nil {
				note(m.UID, skipped)
			}
			continue
		}
		if err != nil {
			return err
		}
		if skipped != nil {
			// A UID written before: its second copy, another
			// section, is skipped (as a copy of the section asked
			// for is, above); not written: it may come yet.
			if !ok && !written[m.UID] {
				if notAsked[m.UID] == nil {
					notAsked[m.UID] = skipped
				}
			} else {
				note(m.UID, skipped)
			}
		}
		if !ok {
			continue
		}
		n++
		bytes += j.Size
		if o.json {
			err = o.emit(j)
		} else {
			_, err = fmt.Fprintf(o.stdout, "UID %d: %s (%d bytes)\n", j.UID, printable(j.File), j.Size)
		}
		if err != nil {
			return err
		}
	}
	// A UID the server sent other sections of and never the one asked
	// for is an error (exit 3), the lowest's named; the others were
	// written.
	var failed uint32
	for uid, skipped := range notAsked {
		if written[uid] {
			note(uid, skipped)
		} else if failed == 0 || uid < failed {
			failed = uid
		}
	}
	if failed != 0 {
		return fmt.Errorf("UID %d: %w", failed, notAsked[failed])
	}
	if n == 0 {
		return fmt.Errorf("no message of %s in %s: %w", printable(args[1]), printable(args[0]), errNotFound)
	}
	if !o.json {
		_, err = fmt.Fprintf(o.stdout, "fetched %d messages (%d bytes) to %s\n", n, bytes, printable(dir))
	}
	return err
}

// nilSectionError is writeFetched's error for a message whose section the
// server sent as NIL (Dovecot's answer for a message another session
// expunged since this one last heard): nothing is written for it, and the
// others are.
type nilSectionError struct{ uid, seq uint32 }

func (e *nilSectionError) Error() string {
	if e.uid == 0 {
		return fmt.Sprintf("message %d: the server sent it as NIL (expunged meanwhile?)", e.seq)
	}
	return fmt.Sprintf("UID %d: the server sent it as NIL (expunged meanwhile?)", e.uid)
}

// twiceSentError is writeFetched's error for a message whose UID this
// run has written already: a server that sent it twice in its answer (or
// at two sequence numbers). The first is kept: the second is not
// written over it.
type twiceSentError struct{ uid, seq uint32 }

func (e *twiceSentError) Error() string {
	return fmt.Sprintf("UID %d (message %d): the server sent it twice", e.uid, e.seq)
}

// writeFetched streams m's section into DIR/UID.eml and adds its UID to
// written. ok is false when the server sent the message without the
// section (nothing is written); the error is a *nilSectionError when it
// sent the section as NIL, a *twiceSentError when written holds its UID
// (nothing is written: the file of the first stays). A section of the
// response that is not want (Yandex's BODY[2.MIME] beside BODY[2]) is
// skipped, and skipped is the sectionMismatch error of the first: the
// caller notes it when the section asked for came, and fails with it
// when that never comes. Of a response that holds the section twice (a
// broken or hostile server's) the first is written, and warn says so:
// both were written, one after the other, as if one message.
func writeFetched(dir string, m *commands.Message, want commands.FetchSection, written map[uint32]bool, warn io.Writer) (j jsonFetched, ok bool, skipped, err error) {
	tmp, err := createFetchTemp(dir)
	if err != nil {
		return j, false, nil, err
	}
	defer func() {
		if tmp != nil {
			// Removed while its lock is held, then closed: closed
			// first, a sweep could take the lock in between, and
			// the name could be another's file by the removal.
			os.Remove(tmp.Name())
			tmp.Close()
		}
	}()
	sawNil, extra := false, false
	for {
		s, err := nextAsked(m, want, &skipped)
		if err != nil {
			return j, false, skipped, err
		}
		if s == nil {
			break
		}
		if s.Nil {
			sawNil = true
			continue
		}
		if ok {
			extra = true // skipped when the loop moves on
			continue
		}
		ok = true
		n, err := io.Copy(tmp, s)
		j.Size += n
		if err != nil {
			return j, false, skipped, err
		}
	}
	if !ok {
		if sawNil {
			return j, false, skipped, &nilSectionError{m.UID, m.SeqNum}
		}
		if skipped != nil && m.UID == 0 {
			return j, false, skipped, fmt.Errorf("message %d: %w", m.SeqNum, skipped)
		}
		return j, false, skipped, nil
	}
	// The UID is known once every section has been read, whatever the
	// order the server sent the items in.
	if m.UID == 0 {
		return j, false, skipped, fmt.Errorf("the server sent message %d without its UID", m.SeqNum)
	}
	if written[m.UID] {
		return j, false, skipped, &twiceSentError{m.UID, m.SeqNum}
	}
	if extra {
		fmt.Fprintf(warn, "imapkit fetch: UID %d: the server sent the section asked for (%s) twice in one response: the first is written\n", m.UID, want)
	}
	if err := tmp.Sync(); err != nil {
		return j, false, skipped, err
	}
	j.UID, j.Seq = m.UID, m.SeqNum
	j.File = filepath.Join(dir, strconv.FormatUint(uint64(m.UID), 10)+".eml")
	// Renamed while the file's lock is held, then closed: closed first
	// (which drops the lock), another run's removeFetchTemps could take
	// the lock in between and remove the file, and the rename then
	// failed ("no such file or directory", exit 3). Where there is no
	// flock(2) there is no lock and no sweep, and the file is closed
	// first (Windows does not rename a file held open).
	name := tmp.Name()
	if !stateLocking {
		f := tmp
		tmp = nil
		if err := f.Close(); err != nil {
			os.Remove(name)
			return j, false, skipped, err
		}
	}
	if testFetchTempRename != nil {
		testFetchTempRename(name)
	}
	if err := os.Rename(name, j.File); err != nil {
		if tmp == nil {
			os.Remove(name)
		}
		return j, false, skipped, err
	}
	written[m.UID] = true
	if tmp != nil {
		f := tmp
		tmp = nil
		if err := f.Close(); err != nil {
			return j, false, skipped, err
		}
	}
	return j, true, skipped, nil
}

// testFetchTempRename, set by tests only, runs in writeFetched just
// before a whole temporary file is renamed to UID.eml (where another
// run's sweep may come).
var testFetchTempRename func(name string)

// fetchTempPattern matches the names of the temporary files of fetch --to
// in DIR: ".imapkit-fetch-" and 16 hexadecimal digits (isFetchTempName),
// then ".part". A name with imapkit's own mark and an exact form, so that
// the sweep (removeFetchTemps) takes no file of the user's: the earlier
// ".fetch-*.part" removed a user's ".fetch-notes.part" from DIR, and an
// older imapkit's files, which a newer one running beside it took for
// stale (the older one held no lock).
const fetchTempPattern = ".imapkit-fetch-*.part"

// fetchTempPrefix and fetchTempSuffix frame a temporary file's name.
const (
	fetchTempPrefix = ".imapkit-fetch-"
	fetchTempSuffix = ".part"
)

// isFetchTempName reports whether name (a base name) is one
// openFetchTemp makes.
func isFetchTempName(name string) bool {
	mid, ok := strings.CutPrefix(name, fetchTempPrefix)
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, fetchTempSuffix)
	if !ok || len(mid) != 16 {
		return false
	}
	for i := 0; i < len(mid); i++ {
		if c := mid[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// openFetchTemp creates a new temporary file in dir, of the name
// isFetchTempName knows (16 random hexadecimal digits), readable by the
// user alone.
func openFetchTemp(dir string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, fmt.Sprintf("%s%016x%s", fetchTempPrefix, rand.Uint64(), fetchTempSuffix))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}

// createFetchTemp creates a temporary file in dir for writeFetched and
// holds an exclusive flock(2) on it until it is closed (renamed, or
// removed): removeFetchTemps of a later run tells by it that its writer
// is alive. Another run's removeFetchTemps may take the new file's lock
// before this does, for a moment, and then removes the file: a file whose
// lock is busy, or that is no longer the one of its name once locked, is
// left (to that run) and another is created; after fetchTempTries such
// files, an error. A file is handed out only locked and still in place.
func createFetchTemp(dir string) (*os.File, error) {
	if !stateLocking {
		return openFetchTemp(dir)
	}
	for try := 0; try < fetchTempTries; try++ {
		f, err := openFetchTemp(dir)
		if err != nil {
			return nil, err
		}
		if testFetchTempCreated != nil {
			testFetchTempCreated(f.Name())
		}
		busy, err := flockExclusive(f)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("locking %s: %w", printable(f.Name()), err)
		}
		if busy {
			// A sweep holds it, and removes it: not removed here
			// (by its name, which by then may be another's).
			f.Close()
			continue
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		if ni, err := os.Stat(f.Name()); err == nil && os.SameFile(fi, ni) {
			return f, nil
		}
		f.Close() // removed by a sweep before it was locked
	}
	return nil, fmt.Errorf("creating a temporary file in %s: %d created were taken by other runs' removal of stale %s files", printable(dir), fetchTempTries, fetchTempPattern)
}

// fetchTempTries bounds the files createFetchTemp creates for one
// message: a sweep takes a file only when its lock is taken in the moment
// between the creation and the lock, and a run sweeps once.
const fetchTempTries = 8

// testFetchTempCreated, set by tests only, runs in createFetchTemp between
// a file's creation and its lock (where another run's sweep may come).
var testFetchTempCreated func(name string)

// removeFetchTemps removes the temporary files of fetch --to in dir that
// no running fetch holds: a run killed (SIGKILL, a crash, the machine
// down) while writing a message leaves its file behind, and no later run
// removed it, so that they piled up. A file whose lock is held is a
// running fetch's, and stays; the kernel drops the lock of a process that
// ends however it ends. Where there is no flock(2), nothing is removed.
// The .eml files need no such care: a file of that name is only ever a
// whole one, renamed into place.
func removeFetchTemps(dir string) {
	if !stateLocking {
		return
	}
	names, _ := filepath.Glob(filepath.Join(dir, fetchTempPattern))
	for _, name := range names {
		if !isFetchTempName(filepath.Base(name)) {
			continue // the pattern's form, not ours: a user's file
		}
		if li, err := os.Lstat(name); err != nil || !li.Mode().IsRegular() {
			continue // not one of ours (a symbolic link, a FIFO)
		}
		// Opened without waiting and checked by its descriptor
		// (openLockFile): a FIFO renamed in since the Lstat is
		// passed over, not waited on.
		f, err := openLockFile(name, os.O_RDWR)
		if err != nil {
			continue
		}
		if busy, err := flockExclusive(f); err == nil && !busy {
			os.Remove(name)
		}
		f.Close()
	}
}
