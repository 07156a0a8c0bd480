package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// exportBatch is how many messages one UID FETCH asks for, and how often
// the state file is written.
const exportBatch = 100

// maxExportRetry bounds the UIDs an export keeps in its state to try again
// (exportState.Retry).
const maxExportRetry = 1000

var exportCommand = serverCmd{
	name: "export", args: "MAILBOX --to PATH --format mbox|maildir", min: 1, max: 1,
	summary: "export a mailbox to mbox or Maildir, incrementally",
	help: "Export the messages of MAILBOX to PATH, an mbox file (mboxrd, LF line ends) or a\n" +
		"Maildir directory (messages byte for byte, flags in the file names, up to 26\n" +
		"keywords as letters named in its dovecot-keywords file, as Dovecot does). Bodies are\n" +
		"streamed. The state file PATH.imapkit-export.json (beside the file PATH names\n" +
		"once its symbolic links are resolved) remembers UIDVALIDITY and the\n" +
		"last UID exported: the next run fetches only newer mail, and an interrupted run\n" +
		"resumes without duplicates. Progress goes to stderr: a bar on a terminal, else\n" +
		"plain lines. With --accounts FILE (and --shard i/n), MAILBOX of every account is\n" +
		"exported to --to DIR/USER@HOST_PORT/MAILBOX[.mbox].",
	flags: func(fs *flag.FlagSet) any {
		e := &exportOpts{}
		fs.StringVar(&e.to, "to", "", "the mbox file or Maildir directory to write (required)")
		fs.StringVar(&e.format, "format", "mbox", "mbox or maildir")
		fs.BoolVar(&e.quiet, "quiet", false, "no progress display")
		fs.StringVar(&e.accounts, "accounts", "", "export MAILBOX of every account listed in this `file` (no URL then; --to is a directory: see docs/cli.md)")
		fs.StringVar(&e.shard, "shard", "", "with --accounts, do only share `i/n` of the accounts (i from 1 to n)")
		return e
	},
	lock: func(_ []string, own any) (*stateLock, error) {
		e := own.(*exportOpts)
		if e.to == "" || e.accounts != "" || e.shard != "" {
			return nil, nil // refused by runExport
		}
		if err := exportPathUsable(e.format, e.to); err != nil {
			return nil, err
		}
		l, err := lockExport(e.to)
		if err == nil {
			e.state, e.lock = l.path, l
		}
		return l, err
	},
	run: runExport,
}

// exportOpts are export's own flags.
type exportOpts struct {
	to, format      string
	quiet           bool
	accounts, shard string
	// state is the state file of the run, the one its lock holds
	// (stateLock.path): set at lock time, never worked out again.
	state string
	// lock is the run's lock (lockExport), whose handle of the mbox
	// (stateLock.data), the one holding its flock, openMbox writes by.
	lock *stateLock
}

// exportState is the state file: what has been exported so far.
type exportState struct {
	Version     int    `json:"version"`
	Mailbox     string `json:"mailbox"`
	Format      string `json:"format"`
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
	// Size is the mbox's length after the last message counted in
	// LastUID: bytes past it are from an interrupted run, and cut off.
	Size     int64 `json:"size,omitempty"`
	Messages int64 `json:"messages"` // exported in all runs
	// Retry holds UIDs up to LastUID that were not exported: the server
	// answered with another section only, or sent the body as NIL (or
	// left it out) and still has the message. Each run tries them
	// first; the others of their batch were exported. At most
	// maxExportRetry: past them the export stops. (An imapkit older
	// than this field does not read it, and never retries them.)
	Retry []uint32 `json:"retry,omitempty"`
}

// exportTarget returns path with its symbolic links resolved: those of
// the file, followed even when the last one is dangling (a first export
// by a link to where the file is to be), and those of its directory. A
// path whose links cannot be resolved (a loop, a directory missing) is
// returned cleaned, as given.
func exportTarget(path string) string {
	p := filepath.Clean(path)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	for range 40 { // (as the kernel's bound on links in one lookup)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		t, err := os.Readlink(p)
		if err != nil {
			break
		}
		if !filepath.IsAbs(t) {
			// Relative to the directory the link is really in:
			// cleaned onto the name as given, a ".." of t would
			// undo a link on that name, where the kernel goes up
			// from its target.
			d := filepath.Dir(p)
			if r, err := filepath.EvalSymlinks(d); err == nil {
				d = r
			}
			t = filepath.Join(d, t)
		}
		p = filepath.Clean(t)
	}
	dir, base := filepath.Split(p)
	if r, err := filepath.EvalSymlinks(filepath.Clean(dir)); err == nil {
		return filepath.Join(r, base)
	}
	return p
}

// loadState reads the export state file spath (the run's: stateLock.path);
// nil when there is none yet. One that is not a regular file or holds
// more than maxExportState bytes is refused (readStateFile). Its Retry
// is sorted, each UID once, those not up to LastUID dropped; one that
// keeps more than maxExportRetry (edited by hand) is refused, an error
// wrapping errStateUnusable.
func loadState(spath string) (*exportState, error) {
	b, err := readStateFile(spath, exportJob.max)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st exportState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %v", printable(spath), err)
	}
	slices.Sort(st.Retry)
	st.Retry = slices.Compact(st.Retry)
	// A UID to try again is one up to LastUID (a run keeps only those
	// of batches it recorded). One above it (a state edited by hand, or
	// written by another tool) is one the new mail above LastUID holds
	// when the mailbox still has it: it is fetched once, there, in UID
	// order. Before, it was exported twice, once as a retry and once as
	// new. UID 0 names no message ("UID 0" is BAD).
	st.Retry = slices.DeleteFunc(st.Retry, func(u uint32) bool { return u == 0 || u > st.LastUID })
	if len(st.Retry) > maxExportRetry {
		// (Edited by hand, or written by another tool: a run keeps no
		// more.) Trimmed, the UIDs dropped were never exported, and
		// no run would try them again; kept, every batch of new mail
		// had no room for one more, and the bound was a fiction.
		return nil, fmt.Errorf("%w: %s keeps %d UIDs to try again (\"retry\"), more than the %d an export keeps: nothing done; keep at most %d there (fetch the others with imapkit fetch --to), or export to a new PATH", errStateUnusable, printable(spath), len(st.Retry), maxExportRetry, maxExportRetry)
	}
	return &st, nil
}

// save writes the state to the state file spath (the run's:
// stateLock.path) atomically and durably (saveJSON).
func (st *exportState) save(spath string) error {
	return saveJSON(spath, st)
}

// exportJob is export's state (lockJob): PATH.imapkit-export.json. Its
// lock also keeps a second export away from the mbox or Maildir, whose
// open cuts the mbox back and removes the Maildir's temporary files; the
// mbox itself is locked too (lockFile: a hard link to it, whose state is
// another, cannot export to it while this run does). Every name of the
// file by a symbolic link (to the file, to a directory on its path, or a
// dangling one to where the file is to be) shares one state and one lock
// (stateJob.statePath). Before, each name had its own: two runs by two
// names wrote one mbox at once, and each state cut the mbox back to its
// own length. (A hard link, a second name of the file itself, has no
// state beside it: a first export by it refuses to start,
// refuseHardLink.)
var exportJob = &stateJob{name: "export", suffix: ".imapkit-export.json", lockFile: true, max: maxExportState, merge: exportStatesTwice, unwritable: exportUnwritable}

// exportUnwritable is the advice of an export whose state spath cannot be
// locked where it is (stateUnwritableError): the export writes the mbox
// or Maildir there too.
func exportUnwritable(advice, target, _ string) string {
	return fmt.Sprintf("%s (the export writes %s there too); or export to a PATH on a writable file system", advice, printable(target))
}

// maxExportState bounds an export's state file (readStateFile): a few
// fields and at most maxExportRetry UIDs, some 15 KB; 1 MiB leaves room
// for a file edited by hand, and refuses one that is no state.
const maxExportState = 1 << 20

// lockExport takes the lock of the state of an export to path
// (lockJob); the run loads and saves the lock's path (exportOpts.state).
func lockExport(path string) (*stateLock, error) { return lockJob(exportJob, path) }

// exportStatesTwice is moveLegacyState's merge for an export to path:
// two states of one mbox or Maildir that differ cannot be made one (each
// records how far the file is written, and an mbox's length), so it
// returns the error that names both, what each records and what to do.
// Paths are printed by printable, as the messages near them: a name's
// control characters (a newline, an escape) broke the one-line error or
// drove the terminal.
func exportStatesTwice(path, legacy, st string) func(a, b []byte) ([]byte, error) {
	return func(a, b []byte) ([]byte, error) {
		says := func(b []byte) string {
			var s exportState
			if json.Unmarshal(b, &s) != nil {
				return "unreadable"
			}
			if s.Format == "mbox" {
				return fmt.Sprintf("%s to UID %d, %d bytes", printable(s.Mailbox), s.LastUID, s.Size)
			}
			return fmt.Sprintf("%s to UID %d", printable(s.Mailbox), s.LastUID)
		}
		size := ""
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			size = fmt.Sprintf("; the mbox has %d bytes", fi.Size())
		}
		return nil, fmt.Errorf("%w: %s (beside the link's name: %s) and %s (beside the file: %s) record different exports of %s%s: nothing done; keep the one that matches what it holds and remove the other",
			errStateTwice, printable(legacy), says(a), printable(st), says(b), printable(path), size)
	}
}

// sink is where exported messages go.
type sink interface {
	// write stores one message read from body.
	write(m *commands.Message, body io.Reader) (int64, error)
	// spoolTemp creates the temporary file a body whose UID comes after
	// it is spooled to: one the next run of the same export removes, if
	// this one is killed before it can (SIGKILL, a second signal).
	spoolTemp() (*os.File, error)
	// commit makes everything written so far durable and returns the
	// size to record in the state.
	commit() (int64, error)
	close() error
	// abandon closes the sink after a failed or interrupted run: what
	// was written since the last commit is dropped where it would be
	// left cut (an mbox's last message). Its error says what could not
	// be dropped.
	abandon() error
}

// runExport exports; its caller holds the state's lock (lockExport).
func runExport(ctx context.Context, cn *conn, args []string, own any, o *output) (err error) {
	e := own.(*exportOpts)
	mailbox := args[0]
	if e.to == "" {
		return usagef("export: --to PATH is required")
	}
	if e.accounts != "" || e.shard != "" {
		return usagef("export: --accounts and --shard take no URL")
	}
	if e.format != "mbox" && e.format != "maildir" {
		return usagef("export: --format must be mbox or maildir, not %q", e.format)
	}
	spath := e.state
	if spath == "" {
		return errors.New("export: internal error: run without the state's lock (lockExport)")
	}
	st, err := loadState(spath)
	if err != nil {
		return err
	}
	ms, err := cn.c.Examine(ctx, mailbox)
	if err != nil {
		return err
	}
	fresh := st == nil
	switch {
	case fresh:
		st = &exportState{Version: 1, Mailbox: mailbox, Format: e.format, UIDValidity: ms.UIDValidity}
	case st.Mailbox != mailbox || st.Format != e.format:
		return usagef("export: %s holds an export of %s as %s, not of %s as %s", printable(spath), printable(st.Mailbox), printable(st.Format), printable(mailbox), e.format)
	case st.UIDValidity != ms.UIDValidity:
		return fmt.Errorf("export: the UIDVALIDITY of %s changed (%d, now %d): the UIDs exported before no longer name the same messages; export to a new PATH", printable(mailbox), st.UIDValidity, ms.UIDValidity)
	}

	if fresh {
		// A first run must not cut an mbox it did not write; its state
		// is recorded before anything is written, so that an
		// interrupted first run resumes.
		if fi, err := os.Stat(e.to); err == nil && e.format == "mbox" && mboxUsable(e.to, fi) != nil {
			// Refused before a state is recorded for it (openMbox
			// refuses it again, by its descriptor).
			return mboxUsable(e.to, fi)
		} else if err == nil && e.format == "mbox" && fi.Size() > 0 {
			return fmt.Errorf("export: %s exists and is not from an export (no %s): refusing to change it", printable(e.to), printable(filepath.Base(spath)))
		} else if err == nil && e.format == "mbox" {
			// Another name of the file (a hard link) may have a
			// state of its own: two would cut the mbox back through
			// each other's messages.
			if err := refuseHardLink("export", e.to, spath, "export by the name whose state it has, or to a new PATH"); err != nil {
				return err
			}
		}
		if err := st.save(spath); err != nil {
			return err
		}
	}
	var sk sink
	if e.format == "mbox" {
		var ms *mboxSink
		if ms, err = openMbox(e.to, spath, st.Size, e.lock.takeData()); err == nil {
			ms.hook = func(step string) error { return hook(ctx, step) }
			sk = ms
		}
	} else {
		sk, err = openMaildir(e.to, st.UIDValidity, o.stderr)
	}
	if err != nil {
		return err
	}
	// closed: the run came to its end and closed the sink (below). Any
	// other way out, a panic (or runtime.Goexit) included, abandons it:
	// before, the defer abandoned it only when err was set, and a panic
	// had it closed, flushing what was written since the last commit (a
	// part of a message when the panic came amid one) into the mbox as
	// if exported.
	closed := false
	defer func() {
		if !closed {
			// Interrupted (Ctrl-C, SIGTERM), failed, or a panic: an
			// mbox goes back to what the state records (its last
			// commit), without the message being written. It was
			// flushed on close, the mbox ending in a cut message
			// until a next run. One that cannot be cut back is
			// named beside the error, which keeps its exit status.
			if aerr := sk.abandon(); aerr != nil && err != nil {
				err = fmt.Errorf("%w; and %v", err, aerr)
			}
		}
	}()

	// The UIDs to export: every one above the last exported. A UID
	// SEARCH for N:* also matches the highest UID when it is below N, so
	// filter.
	var all codec.SeqSet
	if ms.Exists > 0 && st.LastUID < math.MaxUint32 {
		// At the largest UID nothing can be new (LastUID+1 wrapped to 0:
		// "UID 0:*" is BAD, at every run).
		if all, err = searchUIDs(ctx, cn.c, []string{"UID", fmt.Sprintf("%d:*", st.LastUID+1)}); err != nil {
			return err
		}
	}
	uids := newUIDQueue(all, st.LastUID)
	md, _ := sk.(*maildirSink)
	total := uids.len()
	if md != nil {
		for u := range md.have {
			if u > st.LastUID && all.Contains(u) {
				total-- // written by a run that stopped (resume)
			}
		}
	}

	// (st.Retry is sorted, each UID once, each up to LastUID: loadState.)
	for _, u := range st.Retry {
		if md == nil || !md.have[u] {
			total++ // (one in the Maildir is not fetched)
		}
	}

	p := newProgress(o.stderr, e.quiet || o.json, "export "+mailbox, max(total, 0))
	// failed: the UIDs of this run not exported (st.Retry), the first
	// one's error kept for the exit status.
	var failed []uint32
	var failedErr error
	// exportUIDs exports batch, below LastUID when retry says so (the
	// UIDs of st.Retry), and records it.
	exportUIDs := func(batch []uint32, retry bool) error {
		fetch := batch
		if md != nil {
			// Those a run stopped after writing (resume) are there.
			fetch = md.missing(batch)
		}
		var written int
		var vanished []uint32
		notExported := map[uint32]error{}
		refused := map[uint32]error{}
		if len(fetch) > 0 {
			// A batch of new mail may add no more refused UIDs than
			// the state has room for (the bound below); one of
			// retries holds only UIDs kept already.
			room := len(fetch)
			if !retry {
				room = max(0, maxExportRetry-len(st.Retry))
			}
			var err error
			written, vanished, notExported, refused, err = exportRefusing(ctx, cn.c, fetch, sk, p, o.stderr, room)
			if err != nil {
				return err
			}
		}
		// A message whose FETCH the server refused alone (a tagged NO)
		// is one it no longer has (a server that answers so for an
		// expunged message, as RFC 2180 allows), or one it cannot
		// read (Dovecot's corrupt message file): the first is
		// skipped, the second not exported, kept to try again.
		for _, u := range slices.Sorted(maps.Keys(refused)) {
			if !retry && len(st.Retry)+len(notExported) > maxExportRetry {
				notExported[u] = &fetchRefusedError{uid: u, err: refused[u]} // the batch stops below
				continue
			}
			err := confirmExpunged(ctx, cn.c, u)
			var ne *notExpungedError
			if errors.As(err, &ne) {
				notExported[u] = &fetchRefusedError{uid: u, err: refused[u]}
				continue
			}
			if err != nil {
				return err
			}
			p.skip(1) // (as a vanished one: not counted)
			if retry {
				fmt.Fprintf(o.stderr, "imapkit export: UID %d, kept from an earlier run to try again, is no longer in %s: dropped (the server refused its FETCH: %v)\n", u, printable(mailbox), refused[u])
				continue
			}
			fmt.Fprintf(o.stderr, "imapkit export: UID %d was expunged during the export: skipped (the server refused its FETCH: %v)\n", u, refused[u])
		}
		// A message whose body came back NIL is skipped once the
		// server confirms that it is gone: then its UID never comes
		// back, and the state may move past it. One the server still
		// has is not exported, as one answered with another section
		// only: the others of the batch are, and it is kept to try
		// again (st.Retry). Before, either stopped the export, none of
		// the batch kept, and every run stopped at it.
		for _, u := range vanished {
			err := confirmExpunged(ctx, cn.c, u)
			var ne *notExpungedError
			if errors.As(err, &ne) {
				notExported[u] = err
				continue
			}
			if err != nil {
				return err
			}
			if retry {
				// Kept by an earlier run: it went between runs.
				fmt.Fprintf(o.stderr, "imapkit export: UID %d, kept from an earlier run to try again, is no longer in %s: dropped\n", u, printable(mailbox))
				continue
			}
			fmt.Fprintf(o.stderr, "imapkit export: UID %d was expunged during the export: skipped\n", u)
		}
		if kept := len(st.Retry) + len(notExported); !retry && len(notExported) > 0 && kept > maxExportRetry {
			// The state keeps at most maxExportRetry UIDs to try
			// again, and is written whole after every batch: past
			// them the export stops before this batch is recorded,
			// as at any error, and the next run fetches it again.
			// Before, a server that refused every message (a broken
			// proxy) grew the list without bound, the work of each
			// batch with it.
			first := slices.Min(slices.Collect(maps.Keys(notExported)))
			return fmt.Errorf("export: %d messages not exported, past the %d the state keeps to try again: stopped before UID %d (the next run fetches from there): %w", kept, maxExportRetry, batch[0], notExported[first])
		}
		size, err := sk.commit()
		if err != nil {
			return err
		}
		st.Size = size
		if !retry {
			st.LastUID = batch[len(batch)-1]
		} else {
			// (A batch past LastUID holds none of them.)
			st.Retry = slices.DeleteFunc(st.Retry, func(u uint32) bool { _, ok := slices.BinarySearch(batch, u); return ok })
		}
		for _, u := range slices.Sorted(maps.Keys(notExported)) {
			err := notExported[u]
			fmt.Fprintf(o.stderr, "imapkit export: UID %d not exported (the next run tries it again): %s\n", u, errorLine(err))
			st.Retry = append(st.Retry, u)
			failed = append(failed, u)
			if failedErr == nil {
				failedErr = err
			}
		}
		slices.Sort(st.Retry)
		st.Messages += int64(written)
		return st.save(spath)
	}
	for retry := slices.Clone(st.Retry); len(retry) > 0; {
		n := min(len(retry), exportBatch)
		if err := exportUIDs(retry[:n], true); err != nil {
			return err
		}
		retry = retry[n:]
	}
	for uids.len() > 0 {
		if err := exportUIDs(uids.take(exportBatch), false); err != nil {
			return err
		}
	}
	p.done()
	// Closed before the summary, its error the run's: before, it was
	// dropped, and a run whose close failed (a network file system's
	// write-back error) said it exported everything, exit 0. What the
	// state records was synced at its commit.
	closed = true
	cerr := sk.close()
	if herr := hook(ctx, "closed"); cerr == nil {
		cerr = herr // a test's planted failure
	}
	if cerr != nil {
		return fmt.Errorf("export: closing %s after the last message: %w", printable(e.to), cerr)
	}
	if o.json {
		// The messages left out still fail the run (exit 3), after
		// the summary of the others.
		if err := o.emit(struct {
			Mailbox     string `json:"mailbox"`
			Format      string `json:"format"`
			Path        string `json:"path"`
			UIDValidity uint32 `json:"uidvalidity"`
			LastUID     uint32 `json:"last_uid"`
			Exported    int    `json:"exported"`
			Bytes       int64  `json:"bytes"`
		}{mailbox, e.format, e.to, st.UIDValidity, st.LastUID, p.n, p.bytes}); err != nil {
			return err
		}
		return notExportedErr(failed, failedErr)
	}
	fmt.Fprintf(o.stdout, "exported %d messages (%d bytes) from %s to %s; last UID %d\n", p.n, p.bytes, printable(mailbox), e.to, st.LastUID)
	return notExportedErr(failed, failedErr)
}

// notExportedErr is the error of an export that left the messages of
// uids out (kept in its state to try again), err the first one's; nil
// for none.
func notExportedErr(uids []uint32, err error) error {
	if len(uids) == 0 {
		return nil
	}
	l := make([]string, 0, min(len(uids), 10))
	for _, u := range uids[:min(len(uids), 10)] {
		l = append(l, strconv.FormatUint(uint64(u), 10))
	}
	more := ""
	if len(uids) > 10 {
		more = ", ..."
	}
	return fmt.Errorf("%d messages not exported (UID %s%s; the others were, and the next run tries these again): %w", len(uids), strings.Join(l, ", "), more, err)
}

// exportBatchOf fetches the messages of uids (ascending) and writes them to
// sk in UID order. It returns how many it wrote, and the UIDs whose body
// the server sent as NIL (Dovecot's answer for a message another session
// expunged since this one last heard) or left out of its answer: those
// are not written (the caller confirms them gone). notExported holds those
// of uids the answer gave another section for and never the body (the
// caller keeps them to try again), with their errors. A body the answer
// holds twice for one UID (a broken or hostile server's) is written once,
// the first, and warn says so: both were written, a duplicate in an mbox,
// a Maildir file replaced by the second.
//
// A tagged NO to either FETCH that may be about a message (messageRefusal:
// Dovecot's answer when one message's file is corrupt or gone, "NO Mailbox
// is in inconsistent state", "NO [SERVERBUG] ...") ends the batch without
// an error: refused is the NO, and unanswered the UIDs of uids the answer
// gave nothing for (ascending), neither written nor taken for vanished;
// what came before the NO is written (exportRefusing fetches the others
// again).
func exportBatchOf(ctx context.Context, c *commands.Client, uids []uint32, sk sink, p *progress, warn io.Writer) (written int, vanished []uint32, notExported map[uint32]error, unanswered []uint32, refused error, err error) {
	set := commands.UIDs(uids...)
	// The metadata first, so that an mbox's From line and a Maildir's
	// file name do not depend on the order of the server's attributes.
	meta, err := c.FetchAll(ctx, set, &commands.FetchItems{UID: true, Flags: true, InternalDate: true})
	if messageRefusal(err) {
		return 0, nil, map[uint32]error{}, slices.Clone(uids), err, nil
	}
	if err != nil {
		return 0, nil, nil, nil, nil, err
	}
	byUID := make(map[uint32]*commands.Message, len(meta))
	for _, m := range meta {
		byUID[m.UID] = m
	}
	got := make(map[uint32]bool, len(uids))   // the UIDs the body FETCH answered for
	wrote := make(map[uint32]bool, len(uids)) // those whose body was written
	twice := func(m *commands.Message) bool {
		if !wrote[m.UID] {
			return false
		}
		fmt.Fprintf(warn, "imapkit export: UID %d: the server sent its body twice in one answer: the second is not written\n", m.UID)
		return true
	}
	// notAsked: the first section not asked for (BODY[HEADER] for
	// BODY[], say) of each UID the server sent no body with (yet): at
	// the end, one never written nor sent as NIL is not exported
	// (notExported), the others of the batch are. noted: a skipped
	// section was noted (once a batch).
	notAsked := make(map[uint32]error)
	nilBody := make(map[uint32]bool) // the UIDs whose body came as NIL
	noted := false
	note := func(uid uint32, skipped error) {
		if skipped != nil && !noted {
			noted = true
			if nilBody[uid] && !wrote[uid] {
				fmt.Fprintf(warn, "imapkit export: UID %d: %v: skipped (its body came as NIL)\n", uid, skipped)
			} else {
				fmt.Fprintf(warn, "imapkit export: UID %d: %v: skipped (the body came too, and is written)\n", uid, skipped)
			}
		}
	}
	// rest reads what is left of m's response: a section not asked for
	// is skipped, the body again is not written (warn says so).
	rest := func(m *commands.Message, skipped *error) error {
		again := false
		for {
			s, err := nextAsked(m, commands.WholeMessage, skipped)
			if err != nil {
				return err
			}
			if s == nil {
				break
			}
			again = again || !s.Nil
		}
		if again {
			fmt.Fprintf(warn, "imapkit export: UID %d: the server sent its body twice in one response: the second is not written\n", m.UID)
		}
		note(m.UID, *skipped)
		return nil
	}
	for m, err := range c.Fetch(ctx, set, &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: -1}) {
		if errors.Is(err, session.ErrMisrouted) {
			// A body streamed before its UID, which named no
			// message of this FETCH (the only command in flight):
			// a body not asked for, not written (above). The
			// messages asked that the answer did not give are
			// left out, below: confirmed gone, or kept to try
			// again. Before, the export stopped, at every run.
			fmt.Fprintf(warn, "imapkit export: %v: not written\n", err)
			break
		}
		if messageRefusal(err) {
			// The server refused the FETCH (one message it cannot
			// read): what it sent before is written, the others
			// are unanswered (below).
			refused = err
			break
		}
		if err != nil {
			return written, nil, nil, nil, nil, err
		}
		var skipped error
		s, err := nextAsked(m, commands.WholeMessage, &skipped)
		if err != nil {
			return written, nil, nil, nil, nil, err
		}
		if s == nil {
			// No body: a flag update, say, or only sections not
			// asked for, the message not exported unless the body
			// comes in another response (or came: its second copy).
			// The UID is known now that the response was read.
			if skipped == nil {
				continue
			}
			if m.UID == 0 {
				return written, nil, nil, nil, nil, fmt.Errorf("message %d: %w", m.SeqNum, skipped)
			}
			if wrote[m.UID] || nilBody[m.UID] {
				note(m.UID, skipped)
			} else if notAsked[m.UID] == nil && slices.Contains(uids, m.UID) {
				// (Of the UIDs asked only: a hostile answer of
				// others adds nothing.)
				notAsked[m.UID] = skipped
			}
			continue
		}
		if m.UID != 0 {
			got[m.UID] = true
		}
		if s.Nil {
			if m.UID != 0 {
				nilBody[m.UID] = true // for rest's note
			}
			if err := rest(m, &skipped); err != nil {
				return written, nil, nil, nil, nil, err
			}
			if m.UID == 0 {
				return written, nil, nil, nil, nil, fmt.Errorf("the server sent message %d's body as NIL, without its UID", m.SeqNum)
			}
			nilBody[m.UID] = true
			got[m.UID] = true
			// Vanished once, however often the NIL comes, and not
			// when its body was written (a NIL after it).
			if !wrote[m.UID] && !slices.Contains(vanished, m.UID) {
				vanished = append(vanished, m.UID)
				p.skip(1)
			}
			continue
		}
		if m.UID != 0 && twice(m) {
			if err := rest(m, &skipped); err != nil {
				return written, nil, nil, nil, nil, err
			}
			continue
		}
		var body io.Reader = s
		var sp *spooled
		if m.UID == 0 {
			// A server that sends the UID after the body ("BODY[] {n} ...
			// UID 7)", Domino's order): a body streamed before it is read
			// leaves the UID unknown until the section's end, and the
			// file's name, flags and date depend on it. Spool it first
			// (with the rest of the response).
			sp, err = spool(sk.spoolTemp, m, s)
			if err != nil {
				return written, nil, nil, nil, nil, err
			}
			if m.UID == 0 {
				// Its UID never came: the session gave the
				// response's end, whose UID named no message
				// asked, to no command (ErrMisrouted follows), or
				// the server left it out. Not written, and the
				// export goes on: an asked message it may have
				// been is then one left out of the answer,
				// confirmed gone or kept to try again. Before, the
				// export stopped here, none of the batch kept, at
				// every run. (A FETCH whose UID, read before its
				// body, names no message asked never comes here:
				// the session routes it by that UID, away.)
				sp.Close()
				fmt.Fprintf(warn, "imapkit export: message %d: the server sent a body whose UID never came (a message not asked for, or one it left the UID out of): not written\n", m.SeqNum)
				continue
			}
			if twice(m) {
				sp.Close()
				continue
			}
			body = sp
			got[m.UID] = true
		}
		if md := byUID[m.UID]; md != nil {
			m.Flags, m.InternalDate = md.Flags, md.InternalDate
		}
		n, err := sk.write(m, body)
		if sp != nil {
			sp.Close()
		}
		if err != nil {
			return written, nil, nil, nil, nil, err
		}
		wrote[m.UID] = true
		written++
		p.add(n)
		if err := rest(m, &skipped); err != nil {
			return written, nil, nil, nil, nil, err
		}
		if err := hook(ctx, "exported"); err != nil {
			return written, nil, nil, nil, nil, err
		}
	}
	// A UID the server sent other sections of and never its body is not
	// exported (notExported; the caller's error, exit 3, once the others
	// are). One whose body came as NIL is one that vanished (confirmed
	// gone by the caller), its other sections noted: before, a section
	// not asked for in another response than the NIL stopped the export,
	// none of the batch kept, at every run.
	notExported = make(map[uint32]error)
	for uid, skipped := range notAsked {
		if wrote[uid] || nilBody[uid] {
			note(uid, skipped)
		} else {
			notExported[uid] = fmt.Errorf("UID %d: %w", uid, skipped)
		}
	}
	// A NIL and the body both came (in either order): the body is
	// written, and the message is no vanished one.
	vanished = slices.DeleteFunc(vanished, func(u uint32) bool { return wrote[u] })
	// A message the answer left out (no NIL body: Dovecot's answer for
	// one expunged between the search and this FETCH) is one more to
	// confirm gone before the state moves past it: the state moved past
	// it silently, and a message a server left out for another reason
	// was never exported.
	// After a NO, the server said why it left them out: they are
	// unanswered, for the caller to fetch again.
	for _, u := range uids {
		if !got[u] && notExported[u] == nil {
			if refused != nil {
				unanswered = append(unanswered, u)
				continue
			}
			vanished = append(vanished, u)
			p.skip(1)
		}
	}
	return written, vanished, notExported, unanswered, refused, nil
}

// messageRefusal reports whether err is a tagged NO that may be about a
// message of the FETCH: one with no response code, or with a code of a
// message (SERVERBUG, CORRUPTION, EXPUNGEISSUED, ...). A code RFC 5530
// gives to a condition of the server or the session (UNAVAILABLE: a
// backend down; LIMIT: a bandwidth limit reached; OVERQUOTA, INUSE,
// NOPERM, ...) is not: it stops the export, none of the batch kept (exit
// 1), as any NO did before stop 60. Taken for a message's, every message
// was fetched again alone, confirmed, and kept to try again, up to the
// 1,000 the state keeps, some 6,000 commands at every run while the
// server stayed so.
func messageRefusal(err error) bool {
	var se *session.StatusError
	if !errors.Is(err, session.ErrNo) || !errors.As(err, &se) || se.Code() == nil {
		return errors.Is(err, session.ErrNo)
	}
	switch se.Code().Kind {
	case codec.CodeUnavailable, codec.CodeLimit, codec.CodeOverQuota, codec.CodeInUse, codec.CodeNoPerm,
		codec.CodeAuthorizationFailed, codec.CodeAuthenticationFailed, codec.CodeExpired,
		codec.CodePrivacyRequired, codec.CodeContactAdmin:
		return false
	}
	return true
}

// exportRefusing exports the messages of uids as exportBatchOf does, and
// where the server refuses a FETCH of several with a tagged NO, fetches
// those it left unanswered again: the first alone, then the rest
// together, and so on (two commands for each refused message, when the
// server sends the messages before it, as Dovecot does, and when it
// sends none). A message whose FETCH alone is refused is in refused,
// with the NO, for the caller to confirm gone or keep to try again (a
// *fetchRefusedError). Before, the NO stopped the export, none of its batch
// kept, at every run: one message the server could not read kept the
// export from ever getting past it. Once room messages are refused, a
// refused FETCH of several is not split: its unanswered messages are all
// refused (a server that refuses every FETCH costs two commands a
// message up to room, and the caller then stops).
func exportRefusing(ctx context.Context, c *commands.Client, uids []uint32, sk sink, p *progress, warn io.Writer, room int) (written int, vanished []uint32, notExported, refused map[uint32]error, err error) {
	notExported = map[uint32]error{}
	refused = map[uint32]error{}
	todo, alone := uids, false
	for len(todo) > 0 {
		batch := todo
		if alone {
			batch = todo[:1]
		}
		w, v, ne, unanswered, no, err := exportBatchOf(ctx, c, batch, sk, p, warn)
		written += w
		vanished = append(vanished, v...)
		maps.Copy(notExported, ne)
		if err != nil {
			return written, vanished, notExported, refused, err
		}
		todo, alone = todo[len(batch):], false
		switch {
		case no == nil:
		case len(unanswered) == 0:
			fmt.Fprintf(warn, "imapkit export: the server refused the FETCH after answering for every message asked (written): %v\n", no)
		case len(batch) == 1 || len(refused) >= room:
			for _, u := range unanswered {
				refused[u] = no
			}
		default:
			// (todo is empty: the batch was all of it.)
			todo, alone = unanswered, true
		}
	}
	return written, vanished, notExported, refused, nil
}

// fetchRefusedError is the error of a message whose FETCH the server
// refused with a tagged NO, err. It does not unwrap to it: an export that
// leaves the message out to try again exits 3, as for the other
// messages not exported, not 1 (a NO).
type fetchRefusedError struct {
	uid uint32
	err error
}

func (e *fetchRefusedError) Error() string {
	return fmt.Sprintf("UID %d: the server refused to fetch it: %v", e.uid, e.err)
}

// spool reads s, a section of m, whole into a temporary file that temp
// creates (removed when closed; see sink.spoolTemp), and the rest of m's
// response, and returns it rewound: m's attributes after the section (its
// UID) are known then. The sections after s are skipped.
func spool(temp func() (*os.File, error), m *commands.Message, s io.Reader) (*spooled, error) {
	f, err := temp()
	if err != nil {
		return nil, err
	}
	// Unlinked at once where the system lets an open file be removed
	// (as append's spool of stdin is): a run killed while it spools
	// (SIGKILL, a second Ctrl-C) leaves nothing. Elsewhere the file is
	// removed when closed, and its name tells whose it is.
	sp := &spooled{File: f, unlinked: os.Remove(f.Name()) == nil}
	if _, err := io.Copy(f, s); err != nil {
		sp.Close()
		return nil, err
	}
	// The attributes after the section are read with the response's
	// end: the sections after it (another the server sent beside the
	// one asked for, or the same again) are skipped, or the UID after
	// them was not read yet.
	for {
		_, err := m.NextSection()
		if err == io.EOF {
			break
		}
		if err != nil {
			sp.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		sp.Close()
		return nil, err
	}
	return sp, nil
}

// spooled is a spooled body: a temporary file, unlinked once made or
// removed when closed.
type spooled struct {
	*os.File
	unlinked bool // removed from its directory while open
}

func (s *spooled) Close() error {
	err := s.File.Close()
	if !s.unlinked {
		os.Remove(s.Name())
	}
	return err
}

// mboxSink appends messages to an mbox file in the mboxrd format, with LF
// line ends but for a line whose text ends in CR (see write); import's
// mboxReader gives the messages back.
type mboxSink struct {
	f    *os.File
	w    *bufio.Writer
	path string // the mbox's path, as given
	// state is the export's state file (stateLock.path): spoolTemp's
	// files go beside it, where the next run's lock removes them.
	state string
	// committed is the mbox's size at the last commit (or open): what
	// the state records, and what abandon cuts it back to.
	committed int64
	// hook is the run's test hook (hook: "mbox synced" after commit's
	// sync, "mbox cut back" after abandon's truncate; its error is
	// theirs), or nil.
	hook func(step string) error
}

// step calls s's test hook at step, if any (hook), and returns its error.
func (s *mboxSink) step(step string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(step)
}

// openMbox opens the mbox at path, whose export's state file is state,
// for appending, cutting it back to size: what lies past it was written
// by an interrupted run after its last recorded state, and is fetched
// again. held, when not nil, is the mbox open for reading and writing,
// its flock(2) taken (the run's lock's: stateLock.takeData): the mbox is
// written by it, and closed with the sink (whose close releases the
// lock). Else (the mbox not there yet when the run took its lock) it is
// opened, or created, and locked here, on the handle that writes it
// (busy: a *stateBusyError naming it), as is the file path names when
// held is no longer it (replaced by a rename since). Before, the lock was held on a
// second descriptor of its own: over SMB/CIFS, where a lock is the
// handle's and binds the others (mandatory, as Windows servers keep
// them), it could refuse or hold up the export's own writes by another.
func openMbox(path, state string, size int64, held *os.File) (*mboxSink, error) {
	f := held
	if f != nil && !sameFileAt(f, path) {
		// Replaced since the lock was taken (a mail client's rewrite,
		// renamed over it while the run logged in): held is a file no
		// name reaches any more. Written by it, the run's messages were
		// lost, the state recording them exported.
		closeLocked(f)
		f = nil
	}
	if f == nil {
		var err error
		if f, err = openMboxFile(path); err != nil {
			return nil, err
		}
		if stateLocking {
			if err := flockOrClose(f, path); err != nil {
				return nil, err
			}
		}
	}
	// From here f is locked (held, or flockOrClose): an error closes it
	// by closeLocked, as the sink's close and abandon do. It was closed
	// alone, its lock then held while a child another goroutine was
	// starting kept a copy of the descriptor.
	fi, err := f.Stat()
	if err != nil {
		closeLocked(f)
		return nil, err
	}
	if fi.Size() < size {
		closeLocked(f)
		return nil, fmt.Errorf("%s is shorter (%d bytes) than its export state says (%d): was it changed?", printable(path), fi.Size(), size)
	}
	if fi.Size() > size {
		if err := f.Truncate(size); err != nil {
			closeLocked(f)
			return nil, err
		}
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		closeLocked(f)
		return nil, err
	}
	return &mboxSink{f: f, w: bufio.NewWriterSize(f, 64<<10), path: path, state: state, committed: size}, nil
}

// openMboxFile opens (or creates) the mbox at path for reading and
// writing (openMbox), or returns why not: one that is not a regular file
// (mboxUsable) is refused, an error wrapping errMboxUnusable that names
// it. It is opened as openLockFile opens a lock: without waiting
// (openNonblock), checked by its descriptor, and only then put back to
// blocking. Before, it was opened blocking whatever it was: a named pipe
// at the mbox's path was opened (where an open for reading and writing of
// one waits, as POSIX allows, the run hung there; on Linux the run went on
// to fail at its seek, exit 3), and a directory stopped the run at the
// open's error, exit 3, as if a retry could help.
func openMboxFile(path string) (*os.File, error) {
	return openRegular(path, os.O_RDWR|os.O_CREATE, mboxUsable, func(path string) error {
		return fmt.Errorf("%w: %s is %s: export writes an mbox as a regular file; move it away, or export to another PATH", errMboxUnusable, printable(path), loopingLink)
	})
}

// mboxUsable returns the error (wrapping errMboxUnusable) of the mbox
// path, of info fi, that an export cannot write: one that is not a
// regular file. A named pipe could hold the run up (and keeps nothing), a
// directory or a socket cannot be written, a block device is a disk. A
// character device (/dev/null, a terminal: /dev/stdout at one) is refused
// too: an export's mbox is one it appends to at later runs, its size
// recorded in the state at each commit, synced, and cut back to it when a
// run stops amid a message, and a device has no size, no sync and no cut
// (/dev/null's fsync fails, EINVAL; a terminal's seek, ESPIPE). Before,
// one was taken, and the run failed there, exit 3, once it had fetched
// the first batch: at every run. (To see messages, fetch writes them to
// stdout.) Else nil.
func mboxUsable(path string, fi os.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%w: %s is %s: export writes an mbox as a regular file; move it away, or export to another PATH", errMboxUnusable, printable(path), notRegular(fi))
}

// exportPathUsable returns the error of an export's PATH that its
// format cannot be written to, when something is there; else nil. The
// export checks it before it takes its lock: the lock (and later the
// state) goes beside the file the path names, and a run as root to
// /dev/null made /dev/null.imapkit-export.json.lock and its state in /dev
// before the PATH was refused. An mbox is refused by mboxUsable; a
// directory passes here: it may be a Maildir whose state says so, and the
// run then says that the state is of a Maildir (a usage error), once it
// has read it. A Maildir that is neither a directory nor a regular file
// (a character device, a named pipe, a socket) is refused (an error
// wrapping errDirNotMade, exit 1): before, the run took its lock, made
// its state beside it, logged in, and failed at the Maildir's mkdir. A
// regular file passes, as a directory does for an mbox.
func exportPathUsable(format, path string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return nil // none yet (or named by the open's error), or a directory
	}
	if format == "mbox" {
		return mboxUsable(path, fi)
	}
	if fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%w: the Maildir %s is %s, not a directory: move it away, or export to another PATH", errDirNotMade, printable(path), strings.TrimSuffix(notRegular(fi), ", not a regular file"))
}

// errMboxUnusable is the error of an mbox path an export cannot write
// (mboxUsable: a named pipe, a directory): exit 1, nothing exported, until
// the user moves it away (a retry finds the same file).
var errMboxUnusable = errors.New("unusable mbox")

// spoolTemp creates PATH.imapkit-export.json.spool-*.tmp beside the
// export's state: named after the export it belongs to, and, where a run
// killed while spooling left it (a system where spool could not unlink it
// at once), removed by the next run once it holds the state's lock
// (removeStateTemps). Before, it was "spool-*.imapkit" in the mbox's
// directory, named after nothing, never removed.
func (s *mboxSink) spoolTemp() (*os.File, error) {
	return os.CreateTemp(filepath.Dir(s.state), filepath.Base(s.state)+".spool-*.tmp")
}

func (s *mboxSink) write(m *commands.Message, body io.Reader) (int64, error) {
	d := m.InternalDate
	if d.IsZero() {
		d = time.Unix(0, 0)
	}
	fmt.Fprintf(s.w, "From MAILER-DAEMON %s\n", d.UTC().Format("Mon Jan _2 15:04:05 2006"))
	r := bufio.NewReaderSize(body, 32<<10)
	var n int64
	// A line's CRLF is written as LF, but for a line whose text itself
	// ends in CR (CR CR LF in the message): its CRLF stays, since import
	// takes a CR before an LF for the line end's (as mbox readers do) and
	// would otherwise lose the text's CR. A line longer than the buffer
	// comes in chunks: the CRs at a chunk's end (two at most are needed to
	// tell) wait for the next chunk. lastCR: the last byte written of
	// this line is a CR.
	lineStart, lastCR, held := true, false, 0
	var joined []byte
	for {
		chunk, err := r.ReadSlice('\n')
		n += int64(len(chunk))
		if len(chunk) > 0 {
			if lineStart && isFromLine(chunk) {
				s.w.WriteByte('>')
			}
			if held > 0 {
				joined = append(append(joined[:0], "\r\r"[:held]...), chunk...)
				chunk, held = joined, 0
			}
			if chunk[len(chunk)-1] == '\n' {
				text := chunk[:len(chunk)-1]
				if k := len(text); k > 0 && text[k-1] == '\r' {
					if !(k > 1 && text[k-2] == '\r' || k == 1 && lastCR) {
						text = text[:k-1] // CRLF becomes LF
					}
				}
				s.w.Write(text)
				s.w.WriteByte('\n')
				lineStart, lastCR = true, false
			} else {
				for held < 2 && held < len(chunk) && chunk[len(chunk)-1-held] == '\r' {
					held++
				}
				if w := chunk[:len(chunk)-held]; len(w) > 0 {
					s.w.Write(w)
					lastCR = w[len(w)-1] == '\r'
				}
				lineStart = false
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if !lineStart {
		// A last line without a line end gets one: CRLF when its text
		// ends in CR, which an LF alone would make the line end's.
		s.w.WriteString("\r\r"[:held])
		if held > 0 || lastCR {
			s.w.WriteByte('\r')
		}
		s.w.WriteByte('\n')
	}
	s.w.WriteByte('\n')
	return n, nil
}

// isFromLine reports whether a line is ">*From " and needs one more ">"
// (mboxrd).
func isFromLine(b []byte) bool {
	i := 0
	for i < len(b) && b[i] == '>' {
		i++
	}
	return strings.HasPrefix(string(b[i:min(len(b), i+5)]), "From ")
}

func (s *mboxSink) commit() (int64, error) {
	if err := s.w.Flush(); err != nil {
		return 0, err
	}
	err := s.f.Sync()
	if err == nil {
		err = s.step("mbox synced")
	}
	if err != nil {
		return 0, err
	}
	n, err := s.f.Seek(0, io.SeekCurrent)
	if err == nil {
		s.committed = n
	}
	return n, err
}

// close flushes and closes the mbox, and returns the first error. Its
// flock (openMbox) is released first, as stateLock.unlock does: closing
// alone left it held while a child another goroutine was starting had a
// copy of the descriptor.
func (s *mboxSink) close() error {
	ferr := s.w.Flush()
	if err := closeLocked(s.f); ferr == nil {
		ferr = err
	}
	return ferr
}

// abandon drops what was buffered and cuts the mbox back to its last
// commit (the size the state records), then closes it. It returns the
// error of a cut that failed: the mbox may then end in a part of a
// message, which the next export to it cuts back (openMbox).
func (s *mboxSink) abandon() error {
	s.w.Reset(io.Discard)
	err := s.f.Truncate(s.committed)
	if err == nil {
		err = s.step("mbox cut back")
	}
	closeLocked(s.f)
	if err != nil {
		return fmt.Errorf("%s could not be cut back to its last commit (%d bytes), and may end in a part of a message until the next export to it: %w", printable(s.path), s.committed, err)
	}
	return nil
}

// maildirSink writes each message to a file of a Maildir: tmp, then
// renamed into cur with the flags in its name. The name holds the
// mailbox's UIDVALIDITY and the UID, so a message already there is never
// written twice.
type maildirSink struct {
	dir         string
	uidValidity uint32
	have        map[uint32]bool // UIDs already in cur (this UIDVALIDITY)
	// Keywords are lowercase info letters, 'a' for keywords[0] and so
	// on, named in the dovecot-keywords file (Dovecot's Maildir format;
	// 26 at most).
	keywords []string
	dropped  map[string]bool // keywords past the 26th, not written
	// stderr is the run's, where close notes the dropped keywords (it
	// wrote to os.Stderr, past a caller's own); nil: no note.
	stderr io.Writer
}

// openMaildir opens the Maildir dir for an export, its notes to stderr.
func openMaildir(dir string, uidValidity uint32, stderr io.Writer) (*maildirSink, error) {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := makeDir("the Maildir's "+sub+" directory", filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
	}
	md := &maildirSink{dir: dir, uidValidity: uidValidity, have: map[uint32]bool{}, dropped: map[string]bool{}, stderr: stderr}
	kw, err := readMaildirKeywords(dir)
	if err != nil {
		return nil, err
	}
	md.keywords = kw
	ents, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil {
		return nil, err
	}
	tag := fmt.Sprintf(".V%d.imapkit", uidValidity)
	for _, e := range ents {
		name := e.Name()
		i := strings.Index(name, tag)
		if i < 0 {
			continue
		}
		if j := strings.LastIndex(name[:i], ".U"); j >= 0 {
			if u, err := strconv.ParseUint(name[j+2:i], 10, 32); err == nil {
				md.have[uint32(u)] = true
			}
		}
	}
	// Leftovers of an interrupted run.
	tmps, _ := filepath.Glob(filepath.Join(dir, "tmp", "*.imapkit"))
	for _, t := range tmps {
		os.Remove(t)
	}
	return md, nil
}

// missing returns the UIDs not in the Maildir yet.
func (md *maildirSink) missing(uids []uint32) []uint32 {
	out := uids[:0:0]
	for _, u := range uids {
		if !md.have[u] {
			out = append(out, u)
		}
	}
	return out
}

// spoolTemp creates a file in the Maildir's tmp/, whose open removes
// what a killed run left there.
func (md *maildirSink) spoolTemp() (*os.File, error) {
	return os.CreateTemp(filepath.Join(md.dir, "tmp"), "spool-*.imapkit")
}

func (md *maildirSink) write(m *commands.Message, body io.Reader) (int64, error) {
	d := m.InternalDate
	if d.IsZero() {
		d = time.Now()
	}
	base := fmt.Sprintf("%d.U%d.V%d.imapkit", d.Unix(), m.UID, md.uidValidity)
	tmp := filepath.Join(md.dir, "tmp", base)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return n, err
	}
	letters, err := md.keywordLetters(m.Flags)
	if err != nil {
		os.Remove(tmp)
		return n, err
	}
	name := filepath.Join(md.dir, "cur", base+":2,"+maildirFlags(m.Flags)+letters)
	if err := os.Rename(tmp, name); err != nil {
		return n, err
	}
	os.Chtimes(name, d, d)
	md.have[m.UID] = true
	return n, nil
}

// maildirKeywordMax is how many keywords a Maildir's info letters can
// name: a to z.
const maildirKeywordMax = 26

// readMaildirKeywords reads the dovecot-keywords file of a Maildir (lines
// "N keyword", N from 0 to 25 for the letters a to z); none is no
// keyword.
func readMaildirKeywords(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "dovecot-keywords"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var kw []string
	for _, line := range strings.Split(string(b), "\n") {
		num, name, ok := strings.Cut(strings.TrimRight(line, "\r"), " ")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || i < 0 || i >= maildirKeywordMax || name == "" {
			continue
		}
		for len(kw) <= i {
			kw = append(kw, "")
		}
		kw[i] = name
	}
	return kw, nil
}

// keywordLetters returns the info letters of the keywords among flags,
// sorted, adding the new ones to dovecot-keywords first (written whole to
// a temporary file and renamed, so that a letter is never in a name
// before it is in the file). Keywords past the 26th are left out.
func (md *maildirSink) keywordLetters(flags []string) (string, error) {
	var letters []byte
	added := false
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) || f == "" {
			continue
		}
		i := slices.IndexFunc(md.keywords, func(k string) bool { return strings.EqualFold(k, f) })
		if i < 0 {
			if len(md.keywords) >= maildirKeywordMax {
				md.dropped[f] = true
				continue
			}
			md.keywords = append(md.keywords, f)
			i, added = len(md.keywords)-1, true
		}
		letters = append(letters, byte('a'+i))
	}
	if added {
		var b strings.Builder
		for i, k := range md.keywords {
			if k != "" {
				fmt.Fprintf(&b, "%d %s\n", i, k)
			}
		}
		tmp := filepath.Join(md.dir, "tmp", "dovecot-keywords.imapkit")
		if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, filepath.Join(md.dir, "dovecot-keywords")); err != nil {
			return "", err
		}
	}
	slices.Sort(letters)
	return string(slices.Compact(letters)), nil
}

// maildirFlags returns the Maildir info letters of IMAP flags, sorted.
func maildirFlags(flags []string) string {
	var l []string
	for _, f := range flags {
		switch strings.ToLower(f) {
		case `\draft`:
			l = append(l, "D")
		case `\flagged`:
			l = append(l, "F")
		case `\answered`:
			l = append(l, "R")
		case `\seen`:
			l = append(l, "S")
		case `\deleted`:
			l = append(l, "T")
		}
	}
	sort.Strings(l)
	return strings.Join(l, "")
}

func (md *maildirSink) commit() (int64, error) {
	d, err := os.Open(filepath.Join(md.dir, "cur"))
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return 0, d.Sync()
}

// abandon closes: a message is renamed into cur only whole, and its
// temporary file is removed when its write fails.
func (md *maildirSink) abandon() error { return md.close() }

func (md *maildirSink) close() error {
	if len(md.dropped) > 0 && md.stderr != nil {
		names := slices.Sorted(maps.Keys(md.dropped))
		fmt.Fprintf(md.stderr, "imapkit: export: a Maildir names 26 keywords at most; left out of the file names: %s\n", printable(strings.Join(names, " ")))
	}
	return nil
}
