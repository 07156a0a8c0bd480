package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/wire"
)

var importCommand = serverCmd{
	name: "import", args: "PATH --to MAILBOX [--format mbox|maildir]", min: 1, max: 1,
	summary: "import an mbox or a Maildir into a mailbox, by APPEND",
	help: "Append the messages of PATH, an mbox file (mboxrd or mboxo, LF or CRLF) or a\n" +
		"Maildir directory, to MAILBOX (created when missing), one message at a time,\n" +
		"streamed from the file (MULTIAPPEND and LITERAL+ when offered). Flags are kept\n" +
		"(a Maildir's info letters, keywords named in its dovecot-keywords file; an\n" +
		"mbox's Status and X-Status headers), and so are\n" +
		"internal dates (the mbox From line's date; the Maildir file's modification\n" +
		"time). mbox lines are sent with CRLF ends and >From unquoted. The state file\n" +
		"PATH.imapkit-import.json (beside the file PATH names once its symbolic links\n" +
		"are resolved; beside PATH when that file's directory cannot take it, as a\n" +
		"mail spool) records what is imported: a second run appends only\n" +
		"what is new, and a stopped run resumes with no duplicate. A message the server\n" +
		"cannot take (over its APPENDLIMIT, or holding a NUL byte when it lacks BINARY\n" +
		"or refuses it even as literal8) stops the import at it, named; --skip-unsendable\n" +
		"skips it with a warning and records it in the state, so no run sends it again.",
	flags: func(fs *flag.FlagSet) any {
		i := &importOpts{}
		fs.StringVar(&i.to, "to", "", "the mailbox to append to (required)")
		fs.StringVar(&i.format, "format", "auto", "auto, mbox or maildir")
		fs.BoolVar(&i.quiet, "quiet", false, "no progress display")
		fs.BoolVar(&i.noMulti, "no-multiappend", false, "one APPEND per message even when MULTIAPPEND is offered")
		fs.BoolVar(&i.skipUnsendable, "skip-unsendable", false, "skip, with a warning, a message the server cannot take (over its APPENDLIMIT, or holding a NUL byte when it lacks BINARY or refuses it even as literal8), and record it in the state as skipped (without it, such a message stops the import)")
		fs.BoolVar(&i.allowHardLink, "allow-hard-link", false, "start a first import by a name of a file that has other names (hard links: a backup tree made by rsnapshot or rsync --link-dest), its state kept beside this name: a run by another name does not read it and would append everything again (without it, such a run is refused)")
		return i
	},
	lock: func(args []string, own any) (*stateLock, error) {
		l, err := lockImport(args[0])
		if err == nil {
			own.(*importOpts).state = l.path
		}
		return l, err
	},
	run: runImport,
}

// importOpts are import's own flags.
type importOpts struct {
	to, format     string
	quiet, noMulti bool
	// skipUnsendable: a message the server cannot take is skipped and
	// recorded (importEntry.Skipped, SkippedOffsets), not a failure.
	skipUnsendable bool
	// allowHardLink: a first import by a name of a file with other
	// names (hard links) goes on, the state beside this name the one
	// that counts, instead of being refused (refuseHardLink).
	allowHardLink bool
	// state is the state file of the run, the one its lock holds
	// (stateLock.path): set at lock time, never worked out again.
	state string
}

// importState is the state file of imports from one PATH: one entry per
// destination (server account and mailbox).
type importState struct {
	Version int                     `json:"version"`
	Dests   map[string]*importEntry `json:"destinations"`
}

// importEntry is what was imported from PATH to one mailbox.
type importEntry struct {
	Format   string `json:"format"`
	Imported int64  `json:"imported"` // messages, in all runs
	// Offset is, for an mbox, where the first message not imported yet
	// starts.
	Offset int64 `json:"offset,omitempty"`
	// Done is, for a Maildir, the unique names (before ":") of the files
	// imported.
	Done    []string       `json:"done,omitempty"`
	Pending *pendingAppend `json:"pending,omitempty"`
	// PendingOffset and PendingDone are what Offset and Done become when
	// the pending group landed.
	PendingOffset int64    `json:"pending_offset,omitempty"`
	PendingDone   []string `json:"pending_done,omitempty"`
	// Skipped are, for a Maildir, the unique names of the files the
	// server cannot take, skipped by --skip-unsendable (over its
	// APPENDLIMIT, holding a NUL byte without BINARY or refused even as
	// literal8); SkippedOffsets are, for an mbox, the offsets where such
	// messages end (as errors name them). No run sends them again, even
	// one that imports the whole PATH again (a mailbox deleted since).
	Skipped        []string `json:"skipped,omitempty"`
	SkippedOffsets []int64  `json:"skipped_offsets,omitempty"`
	// DstUIDValidity is the UIDVALIDITY of the mailbox imported to: a
	// run that finds another (the mailbox deleted and created again)
	// does not take Offset and Done for what it holds (appender.checkDst).
	DstUIDValidity uint32 `json:"dst_uidvalidity,omitempty"`
}

// importPendingHint is the advice that ends errPendingUnknown for ent,
// the entry key (under "destinations") of the state file spath, of an
// import of path to mailbox: which messages are pending, and what to
// edit, for ent's format only. It named "the entry of PATH", which is no
// key of the file, and gave both formats' edits.
func importPendingHint(mailbox, path, key, spath string, ent *importEntry) string {
	// The entry is named by its JSON path (stateKeyPath), as copy's
	// advice does: "the entry "KEY" under "destinations"" had the user
	// find it.
	entry := stateKeyPath("destinations", key)
	var which, landed string
	if ent.Format == "mbox" {
		which = fmt.Sprintf("those of %s from offset %d to %d", printable(path), ent.Offset, ent.PendingOffset)
		landed = fmt.Sprintf(`set %s.offset to its "pending_offset", %d, and remove %s.pending`, entry, ent.PendingOffset, entry)
	} else {
		names := ent.PendingDone
		const show = 3
		list := make([]string, 0, show+1)
		for i, n := range names {
			if i == show && len(names) > show+1 {
				list = append(list, fmt.Sprintf("and %d more", len(names)-show))
				break
			}
			list = append(list, printable(n))
		}
		which = fmt.Sprintf("the files of %s named in its \"pending_done\" (%s)", printable(path), strings.Join(list, ", "))
		landed = fmt.Sprintf(`add the names of %s.pending_done to %s.done, and remove %s.pending`, entry, entry, entry)
	}
	return fmt.Sprintf(`check %s: if the messages of the pending group, %s, are not there, remove %s.pending from %s (the next run imports them); if they are, %s`,
		printable(mailbox), which, entry, printable(spath), landed)
}

// importDstChangedHint is the advice that ends checkDst's refusal
// (errDstChanged) of the mailbox to, imported to from path before: delete
// it (the run creates it anew and imports path whole again; INBOX, which
// cannot be deleted, is emptied), or import path whole to a mailbox that
// does not exist yet with --to, a new entry of the state (keyed by the
// mailbox), as copy's advice offers --restart-mailbox with --map. It told
// the user to remove .destinations["KEY"] from the state file by hand,
// which imported everything again next to the messages the mailbox held,
// what of it was there already then there twice
// (TestImportDstChangedExit, found by review).
func importDstChangedHint(to, path string) string {
	const other = "a mailbox that does not exist yet (--to OTHER: this command creates it; keep it in later runs)"
	if strings.EqualFold(to, "INBOX") {
		return fmt.Sprintf("check INBOX on the server: empty it to import %s whole again (INBOX cannot be deleted), or import it whole to %s", printable(path), other)
	}
	return fmt.Sprintf("check %s on the server: delete it to import %s whole again (this command creates it anew), or import it whole to %s", printable(to), printable(path), other)
}

// importJob is import's state (lockJob): PATH.imapkit-import.json, one
// state and one lock for every name of one source by a symbolic link (to
// the mbox or Maildir, or to a directory on its path: stateJob.statePath).
// Before, each name had its own, beside the name as given: a run by a
// second name appended again everything a run by the first had, and two
// runs by two names appended at once. The source itself is not locked (lockFile): the run only reads it, often a
// mail spool the user cannot open for writing, whose deliveries a lock
// held for the whole import would hold up (an MDA that takes flock(2) on
// the spool). A hard link to it has no state of its own: a first import
// by any name of a file with others refuses to start (refuseHardLink).
var importJob = &stateJob{name: "import", suffix: ".imapkit-import.json", max: maxImportState, merge: mergeImportStates, unwritable: importUnwritable}

// importUnwritable is the advice of an import whose state spath cannot
// be locked where it is (stateUnwritableError): a source on a file system
// mounted read-only, with a state an earlier run wrote there, is imported
// by a copy, its state beside it (the state is read beside the file, and
// records offsets and names, not the file's path).
func importUnwritable(advice, target, spath string) string {
	if _, err := os.Lstat(spath); err != nil {
		return fmt.Sprintf("%s; or copy %s into a writable directory and import the copy", advice, printable(target))
	}
	return fmt.Sprintf("%s; or copy %s and its state %s into one writable directory and import the copy: it goes on where this state stopped", advice, printable(target), printable(filepath.Base(spath)))
}

// maxImportState bounds an import's state file (readStateFile): a
// Maildir's entry lists the unique name of every file imported, some 80
// bytes each, so 256 MiB holds some three million of them; a larger file
// is refused rather than read whole into memory.
const maxImportState = 256 << 20

// lockImport takes the lock of the state of imports from path
// (lockJob); the run loads and saves the lock's path (importOpts.state).
func lockImport(path string) (*stateLock, error) { return lockJob(importJob, path) }

// mergeImportStates is moveLegacyState's merge for imports: the state
// files legacy and st of one source hold one entry per destination
// (account and mailbox), and their entries are made one state: those of
// one file only are kept, those of both kept once when they are the
// same. Two different entries of one destination cannot both be right
// (each says how much of the source that mailbox has): an error wrapping
// errStateTwice names them and both files, neither changed. Entries are
// merged as they are written, fields unknown to this imapkit included.
// Paths are printed by printable, as the messages near them.
func mergeImportStates(_, legacy, st string) func(a, b []byte) ([]byte, error) {
	return func(a, b []byte) ([]byte, error) {
		legacy, st := printable(legacy), printable(st)
		var fa, fb map[string]json.RawMessage
		var da, db map[string]json.RawMessage
		if err := json.Unmarshal(a, &fa); err != nil {
			return nil, fmt.Errorf("%s: %v", legacy, err)
		}
		if err := json.Unmarshal(b, &fb); err != nil {
			return nil, fmt.Errorf("%s: %v", st, err)
		}
		if err := unmarshalDests(fa, &da); err != nil {
			return nil, fmt.Errorf("%s: %v", legacy, err)
		}
		if err := unmarshalDests(fb, &db); err != nil {
			return nil, fmt.Errorf("%s: %v", st, err)
		}
		if db == nil {
			db = map[string]json.RawMessage{}
		}
		var both []string
		for k, v := range da {
			w, ok := db[k]
			if !ok {
				db[k] = v
				continue
			}
			var cv, cw bytes.Buffer
			if json.Compact(&cv, v) != nil || json.Compact(&cw, w) != nil || !bytes.Equal(cv.Bytes(), cw.Bytes()) {
				both = append(both, k)
			}
		}
		if len(both) > 0 {
			slices.Sort(both)
			return nil, fmt.Errorf("%w: %s (beside the link's name) and %s (beside the file) record different imports to %s: nothing done; check what the mailbox holds, keep the file whose entry (under \"destinations\") matches it, and remove that entry from the other",
				errStateTwice, legacy, st, strings.Join(quoteAll(both), ", "))
		}
		d, err := json.Marshal(db)
		if err != nil {
			return nil, err
		}
		if fb == nil {
			fb = map[string]json.RawMessage{}
		}
		fb["destinations"] = d
		m, err := json.MarshalIndent(fb, "", "  ")
		return append(m, '\n'), err
	}
}

// unmarshalDests reads the "destinations" of a state file's fields f
// into d (nil when there is none).
func unmarshalDests(f map[string]json.RawMessage, d *map[string]json.RawMessage) error {
	if raw, ok := f["destinations"]; ok && string(raw) != "null" {
		return json.Unmarshal(raw, d)
	}
	return nil
}

// importMsg is one message of the source.
type importMsg struct {
	open  func() io.Reader // the message's bytes as they are appended
	size  int64            // their count; -1 until measured
	flags []string
	date  time.Time
	// end is the mbox offset after it; name its Maildir unique name.
	end  int64
	name string
	// blank: the message was empty, and is appended as a blank line;
	// warned: stderr said so.
	blank, warned bool
	// nul: the message holds a NUL byte (once looked: looked).
	nul, looked bool
	// bareLFs counts its LFs without a CR before them (once looked,
	// and when it holds no NUL): a Maildir file with LF line ends is
	// sent as it is, and Dovecot's RFC822.SIZE counts them CRLF
	// (pendingMsg.CRLFSize). An mbox's are sent CRLF: 0.
	bareLFs int64
	// badFrom is, for an mbox, the From line (its first 120 bytes) when
	// it has no date fromLineDate reads.
	badFrom string
}

// importMailbox returns the destination mailbox import appends to for
// --to name, named as copy names it: INBOX in any case is "INBOX", and a
// child of INBOX written "Inbox"+delimiter (Outlook.com's spelling) is
// "INBOX"+delimiter (inboxChild), unless the server lists the name as
// given (a server that keeps the case of such a child: the mailbox an
// earlier run filled). Dovecot and Cyrus take "Inbox/Sub" for
// "INBOX/Sub", one mailbox; the state's entry, keyed by the name as
// given, was another for each spelling, and a run with the other
// spelling imported everything again next to what was there
// (TestImportInboxChildNamed).
func importMailbox(ctx context.Context, c *commands.Client, name string) (string, error) {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	if len(name) <= 5 || !strings.EqualFold(name[:5], "INBOX") || name[:5] == "INBOX" {
		return name, nil
	}
	_, delim, _, err := personal(ctx, c)
	if err != nil {
		return "", err
	}
	n := inboxChild(name, delim)
	if n == name {
		return name, nil
	}
	boxes, err := c.List(ctx, name, nil)
	if err != nil {
		return "", err
	}
	for _, b := range boxes {
		if b.Name == name {
			return name, nil
		}
	}
	return n, nil
}

// takeOverSpellings moves to prefix+to (to as importMailbox named it) the
// state's entries of the same account (prefix: keyOf("")) recorded under
// another spelling of that mailbox: INBOX in another case, or a child of
// INBOX spelled "Inbox"+delimiter, as an imapkit before importMailbox
// keyed them (by --to as given). Looked for under keyOf(given) alone, an
// old "Inbox/Sub" entry was not found by a run with --to INBOX/Sub, the
// canonical spelling, which imported everything again
// (TestImportOldStateKeyOtherSpelling). A child spelling the server lists
// as given is a mailbox of its own (a server that keeps its case): its
// entry is left. When two or more entries name the mailbox, the one with
// the most progress (an mbox's offset, a Maildir's files done; the
// canonical key's on a tie) is kept and the others dropped, with a
// warning: what they record imported is in the mailbox, and so is what
// the kept one does, to the same file. An entry dropped with a pending
// group would leave it unresolved (landed or not, a loss or a duplicate
// either way): the run then stops and says which to remove.
func takeOverSpellings(ctx context.Context, c *commands.Client, state *importState, prefix, to, spath string, o *output) (moved bool, err error) {
	key := prefix + to
	var others []string
	child := false
	for k := range state.Dests {
		m, ok := strings.CutPrefix(k, prefix)
		if !ok || k == key || m == to || state.Dests[k] == nil {
			continue
		}
		switch {
		case to == "INBOX" && strings.EqualFold(m, "INBOX"):
			others = append(others, k)
		case len(to) > 5 && to[:5] == "INBOX" && len(m) == len(to) && strings.EqualFold(m[:5], "INBOX") && m[5:] == to[5:]:
			others = append(others, k)
			child = true
		}
	}
	if len(others) == 0 {
		return false, nil
	}
	if child {
		_, delim, _, err := personal(ctx, c)
		if err != nil {
			return false, err
		}
		// Every entry of others is a child's spelling here: to is
		// INBOX's child (longer than "INBOX"), and the loop above takes
		// only a key of its length for it, never INBOX's own
		// (TestImportSpellingChildLeavesInbox).
		kept := others[:0]
		for _, k := range others {
			m := k[len(prefix):]
			if inboxChild(m, delim) != to {
				continue
			}
			boxes, err := c.List(ctx, m, nil)
			if err != nil {
				return false, err
			}
			listed := false
			for _, b := range boxes {
				listed = listed || b.Name == m
			}
			if !listed {
				kept = append(kept, k)
			}
		}
		others = kept
	}
	if len(others) == 0 {
		return false, nil
	}
	slices.Sort(others)
	all := others
	if state.Dests[key] != nil {
		all = append([]string{key}, others...)
	}
	progress := func(e *importEntry) int64 { return max(e.Offset, int64(len(e.Done))) }
	best := all[0]
	for _, k := range all[1:] {
		if progress(state.Dests[k]) > progress(state.Dests[best]) {
			best = k
		}
	}
	for _, k := range all {
		if k != best && state.Dests[k].Pending != nil {
			return false, fmt.Errorf("%w: %s records an import to %s under %d spellings (%s), and %s has a pending APPEND, which %s (the entry kept, with the most progress) does not: check %s and remove from the state file all but one of them (if the pending group landed, keep %s and remove the others)",
				errPendingUnknown, printable(spath), printable(to), len(all), strings.Join(quoteAll(all), ", "), strconv.Quote(k), strconv.Quote(best), printable(to), strconv.Quote(k))
		}
	}
	for _, k := range all {
		if k != best {
			fmt.Fprintf(o.stderr, "imapkit import: warning: %s: the entry %s records an import to the same mailbox (%s) as %s, which has more progress and is kept; %s is dropped\n",
				printable(spath), strconv.Quote(k), printable(to), strconv.Quote(best), strconv.Quote(k))
			delete(state.Dests, k)
		}
	}
	state.Dests[key] = state.Dests[best]
	if best != key {
		delete(state.Dests, best)
	}
	return true, nil
}

func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return q
}

func runImport(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	opts := own.(*importOpts)
	path := args[0]
	if opts.to == "" {
		return usagef("import: --to MAILBOX is required")
	}
	format := opts.format
	if format == "auto" {
		var err error
		if format, err = detectFormat(path); err != nil {
			return err
		}
	}
	if format != "mbox" && format != "maildir" {
		return usagef("import: --format must be auto, mbox or maildir, not %q", opts.format)
	}
	state := &importState{Version: 1, Dests: map[string]*importEntry{}}
	spath := opts.state
	if spath == "" {
		return errors.New("import: internal error: run without the state's lock (lockImport)")
	}
	if found, err := loadJSONMax(spath, state, maxImportState); err != nil {
		return err
	} else if !found {
		// A first import by a name of a file with others (hard
		// links): another name may have a state of its own, and an
		// import by this one would append again everything that one
		// did. Before, import had no such rule (export's, 5a2b577).
		// --allow-hard-link: the user says that this name's state is
		// the one that counts (a backup tree whose snapshots hard-link
		// the files: no name has a state yet).
		err := refuseHardLink("import", path, spath, "import by the name whose state it has, or import a copy of it (cp); --allow-hard-link imports by this name, its state kept beside it, when no other name of the file is imported from (a backup tree's hard links)")
		if err != nil && !opts.allowHardLink {
			return err
		}
		if err != nil {
			fmt.Fprintf(o.stderr, "imapkit import: warning: %s has other names (it is a hard link): its state is kept beside this name (--allow-hard-link); a run by another name does not read it, and would append everything again\n", printable(path))
		}
	}
	if state.Dests == nil {
		state.Dests = map[string]*importEntry{}
	}
	keyOf := func(to string) string {
		if cn.t != nil {
			return accountKey(cn.t, firstNonEmpty(cn.flags.user, cn.t.user)) + "/" + to
		}
		return to
	}
	given := opts.to
	to, err := importMailbox(ctx, cn.c, given)
	if err != nil {
		return err
	}
	opts.to = to
	key := keyOf(to)
	if moved, err := takeOverSpellings(ctx, cn.c, state, keyOf(""), to, spath, o); err != nil {
		return err
	} else if moved {
		if err := saveJSON(spath, state); err != nil {
			return err
		}
	}
	ent := state.Dests[key]
	if ent == nil {
		ent = &importEntry{Format: format}
		state.Dests[key] = ent
	} else if ent.Format != format {
		return usagef("import: %s records an import of %s as %s, not %s", printable(spath), printable(path), printable(ent.Format), format)
	}

	// The mailbox, created when missing.
	boxes, err := cn.c.List(ctx, opts.to, nil)
	if err != nil {
		return err
	}
	created := false
	if len(boxes) == 0 && !strings.EqualFold(opts.to, "INBOX") {
		if err := cn.c.Create(ctx, opts.to, nil); err != nil {
			return err
		}
		created = true
	}
	ap := newAppender(cn.c, opts.to, opts.noMulti)
	undated := 0
	ap.undated = &undated
	defer func() { undatedNote(o.stderr, "import", undated) }()
	// The mailbox must be the one Offset and Done speak of: deleted and
	// created again since, it holds none of what was imported.
	startOver, err := ap.checkDst(ctx, ent.DstUIDValidity, ent.Imported > 0 || ent.Offset > 0 || len(ent.Done) > 0 || ent.Pending != nil, created,
		importDstChangedHint(opts.to, path))
	if err != nil {
		return err
	}
	if startOver {
		fmt.Fprintf(o.stderr, "imapkit import: warning: %s is new and empty (UIDVALIDITY %d, recorded %d): what was imported to it before is gone; importing %s whole again\n", printable(opts.to), ap.uidv, ent.DstUIDValidity, printable(path))
		ent.Offset, ent.Done = 0, nil
		ent.Pending, ent.PendingOffset, ent.PendingDone = nil, 0, nil
	}
	if ent.DstUIDValidity != ap.uidv {
		ent.DstUIDValidity = ap.uidv
		if err := saveJSON(spath, state); err != nil {
			return err
		}
	}
	commit := func() {
		if ent.Format == "mbox" {
			ent.Offset = ent.PendingOffset
		} else {
			ent.Done = append(ent.Done, ent.PendingDone...)
		}
		ent.Imported += int64(ent.Pending.Count)
		ent.Pending, ent.PendingOffset, ent.PendingDone = nil, 0, nil
	}
	if ent.Pending != nil {
		ok, err := ap.landed(ctx, ent.Pending, importPendingHint(opts.to, path, key, spath, ent))
		if err != nil {
			return err
		}
		if ok {
			commit()
		} else {
			ent.Pending, ent.PendingOffset, ent.PendingDone = nil, 0, nil
		}
		if err := saveJSON(spath, state); err != nil {
			return err
		}
	}

	var msgs []*importMsg
	if format == "mbox" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if msgs, err = scanMbox(f, ent.Offset); err != nil {
			return fmt.Errorf("%s: %w", printable(path), err)
		}
		// Skipped before (an import of the whole mbox again: the
		// mailbox deleted since): not sent again.
		if len(ent.SkippedOffsets) > 0 {
			gone := make(map[int64]bool, len(ent.SkippedOffsets))
			for _, off := range ent.SkippedOffsets {
				gone[off] = true
			}
			msgs = slices.DeleteFunc(msgs, func(m *importMsg) bool { return gone[m.end] })
		}
		if w := fromDateWarning(msgs); w != "" {
			fmt.Fprintf(o.stderr, "imapkit import: %s: %s\n", printable(path), w)
		}
	} else {
		if msgs, err = scanMaildir(path, slices.Concat(ent.Done, ent.Skipped)); err != nil {
			return err
		}
	}

	p := newProgress(o.stderr, opts.quiet || o.json, "import "+opts.to, len(msgs))
	// what names a message in an error.
	what := func(m *importMsg) string {
		if format == "mbox" {
			return fmt.Sprintf("the message ending at offset %d of %s", m.end, printable(path))
		}
		return m.name
	}
	// skip skips the message m, at the head of msgs (all before it are
	// imported or skipped), which the server cannot take (why says
	// why): --skip-unsendable. The state records it (an mbox's offset
	// moves past it) and is saved.
	skipped := 0
	skip := func(m *importMsg, why string) error {
		skipped++
		p.skip(1)
		if format == "mbox" {
			ent.SkippedOffsets = append(ent.SkippedOffsets, m.end)
			ent.Offset = m.end
		} else {
			ent.Skipped = append(ent.Skipped, m.name)
		}
		fmt.Fprintf(o.stderr, "imapkit import: warning: %s %s: skipped (--skip-unsendable; the state records it, and no run sends it again)\n", printable(what(m)), printable(why))
		return saveJSON(spath, state)
	}
	singly := 0 // messages to send one at a time (appender.retrySingly)
	for len(msgs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 0
		var bytes int64
		for n < len(msgs) && !ap.groupFull(n, bytes) && (singly == 0 || n < 1) {
			m := msgs[n]
			if err := m.measure(); err != nil {
				return err
			}
			if err := m.lookNUL(); err != nil {
				return err
			}
			// A message the server cannot take is never sent: over
			// its APPENDLIMIT (in a group, the library refused the
			// whole group before sending it, naming none), or holding
			// a NUL byte, which only literal8 (BINARY) carries
			// (found in the middle of a MULTIAPPEND, it abandoned the
			// group and closed the connection, the messages before it
			// not imported, and the error named none). The messages
			// before it go; it is skipped (--skip-unsendable), else
			// the run stops at it, naming it.
			why, uerr := ap.unsendable(m)
			if uerr == nil {
				bytes += m.size
				n++
				continue
			}
			if n > 0 {
				break
			}
			if !opts.skipUnsendable {
				return &refusedMessageError{what: what(m), err: uerr}
			}
			if err := skip(m, why); err != nil {
				return err
			}
			msgs = msgs[1:]
			singly = max(singly-1, 0)
		}
		if n == 0 {
			continue // skipped to the end
		}
		group := msgs[:n]
		rest := msgs[n:]
		items := make([]appendItem, len(group))
		for i, m := range group {
			items[i] = appendItem{r: &lazyReader{open: m.open, left: m.size}, size: m.size, flags: m.flags, date: m.date, binary: m.nul}
			if m.blank && !m.warned {
				m.warned = true // not again when its group goes one at a time
				fmt.Fprintf(o.stderr, "imapkit import: %s is empty (0 bytes): appended as a blank line (an APPEND needs a byte)\n", printable(what(m)))
			}
		}
		pend, err := ap.prepare(ctx, len(group))
		if err != nil {
			return err
		}
		// What the next run looks for when UIDNEXT says the group
		// landed (appender.confirm): each message's size as sent
		// (and with its bare LFs made CRLF, as Dovecot counts it)
		// and the INTERNALDATE the APPEND sets. A message holding a
		// NUL goes as literal8, which a server may rewrite: no size;
		// a date a server may not keep is not recorded (recordedDate).
		pend.Messages = make([]pendingMsg, len(group))
		now := time.Now()
		for i, m := range group {
			pm := &pend.Messages[i]
			pm.Date = recordedDate(m.date, now)
			if undatedAppend(m.date) {
				pend.Undated++
			}
			if !m.nul && m.size > 0 {
				pm.Size = m.size
				if m.bareLFs > 0 {
					pm.CRLFSize = m.size + m.bareLFs
				}
			}
		}
		if err := savePending(func() {
			ent.Pending, ent.PendingOffset, ent.PendingDone = pend, group[len(group)-1].end, nil
			if format == "maildir" {
				for _, m := range group {
					ent.PendingDone = append(ent.PendingDone, m.name)
				}
			}
		}, func() {
			ent.Pending, ent.PendingOffset, ent.PendingDone = nil, 0, nil
		}, func() error { return saveJSON(spath, state) }); err != nil {
			return err
		}
		if err := hook(ctx, "pending"); err != nil {
			return err
		}
		// No ap.settle() here, unlike copy: a Read left running (the
		// APPEND's context ended while a file's Read blocked, a stalled
		// mount) is one of a file of import's own, which heldReader
		// closes when that Read returns; nothing is read again after
		// it (the context ended: the run returns). copy settles because
		// it reads its source session again; import settling would
		// only make an interrupted run wait for a stalled mount before
		// it exits (TestAppenderSettle tests settle).
		if _, err := ap.send(ctx, items); err != nil {
			if notAppended(err) {
				// Refused: the group is not pending any more (and
				// is sent again by the next run).
				ent.Pending, ent.PendingOffset, ent.PendingDone = nil, 0, nil
				if serr := saveJSON(spath, state); serr != nil {
					return errors.Join(err, serr)
				}
			}
			if ap.retrySingly(len(group), err) {
				// Refused NO (full, a message too big or one
				// the server will not take): nothing of the
				// group was appended. Its messages go one at a
				// time, so that those it takes are imported.
				fmt.Fprintf(o.stderr, "imapkit import: the server refused the APPEND of %d messages, from %s to %s (%s): sending them one at a time\n", len(group), printable(what(group[0])), printable(what(group[len(group)-1])), printable(err.Error()))
				singly = len(group)
				continue
			}
			if len(group) == 1 && ap.binary && group[0].nul && notAppended(err) && binaryRefusal(err) {
				// Holding a NUL, sent as literal8, and refused
				// all the same (Cyrus 3.6: "NO Message contains
				// NUL characters" for a NUL in a header).
				if !opts.skipUnsendable {
					return binaryRefusedError(what(group[0]), err)
				}
				if err := skip(group[0], fmt.Sprintf("holds a NUL byte, which the server refused even as literal8 (%v)", err)); err != nil {
					return err
				}
				msgs = rest
				singly = max(singly-1, 0)
				continue
			}
			return nameRefused(len(group), func() string { return what(group[0]) }, err)
		}
		if err := hook(ctx, "appended"); err != nil {
			return err
		}
		msgs = rest
		singly = max(singly-len(group), 0)
		commit()
		if err := saveJSON(spath, state); err != nil {
			return err
		}
		for _, m := range group {
			p.add(m.size)
		}
	}
	p.done()
	if o.json {
		return o.emit(struct {
			Path     string `json:"path"`
			Format   string `json:"format"`
			Mailbox  string `json:"mailbox"`
			Imported int    `json:"imported"`
			Bytes    int64  `json:"bytes"`
			// Skipped: the messages this run skipped
			// (--skip-unsendable).
			Skipped int `json:"skipped,omitempty"`
		}{path, format, opts.to, p.n, p.bytes, skipped})
	}
	fmt.Fprintf(o.stdout, "imported %d messages (%d bytes) from %s to %s", p.n, p.bytes, path, printable(opts.to))
	if skipped > 0 {
		fmt.Fprintf(o.stdout, "; %d skipped (the server cannot take them: see the warnings)", skipped)
	}
	fmt.Fprintln(o.stdout)
	return nil
}

// detectFormat tells a Maildir (a directory with cur) from an mbox (a file
// starting with "From ").
func detectFormat(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		if st, err := os.Stat(filepath.Join(path, "cur")); err == nil && st.IsDir() {
			return "maildir", nil
		}
		return "", usagef("import: %s is a directory without cur/: not a Maildir", printable(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 5)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "From " {
		return "", usagef("import: %s does not start with \"From \": not an mbox (give --format)", printable(path))
	}
	return "mbox", nil
}

// measure counts the bytes of a message as it will be sent, when not
// known, and looks for a NUL in the same pass (lookNUL then has nothing
// to read). An mbox's messages are measured by scanMbox, a Maildir's by
// their files' sizes: only an empty file is read here.
func (m *importMsg) measure() error {
	if m.size >= 0 {
		return nil
	}
	r := m.open()
	var c nulCounter
	_, err := io.Copy(&c, r)
	closeReader(r)
	if err != nil {
		return err
	}
	m.nul, m.looked = c.nul, true
	m.setSize(c.n)
	return nil
}

// setSize sets the size of the message as it will be sent, n bytes: an
// empty one is appended as a blank line (an APPEND needs a byte).
func (m *importMsg) setSize(n int64) {
	if n == 0 {
		n, m.open = 2, func() io.Reader { return strings.NewReader("\r\n") }
		m.blank = true
	}
	m.size = n
}

// nulCounter is an io.Writer that counts the bytes written to it and
// whether one was a NUL.
type nulCounter struct {
	n   int64
	nul bool
}

func (c *nulCounter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if !c.nul && bytes.IndexByte(p, 0) >= 0 {
		c.nul = true
	}
	return len(p), nil
}

// lookNUL learns whether the message holds a NUL byte (m.nul), once.
//
// A Maildir's message is so read twice, once here and once to send it
// (an mbox's too: scanMbox, which must find where each message ends,
// measures it and looks for a NUL in its one pass, and the send reads it
// again). One read is not possible without holding the message whole:
// the APPEND announces the literal's kind and size before its first byte,
// "~{n}" (literal8) for a message holding a NUL when the server has
// BINARY, "{n}" for any other (literal8 for every message would make
// Dovecot and Cyrus rewrite a binary part as base64), and an mbox's size
// as sent (CRLF line ends, >From unquoted) is known only at its end. A
// NUL found while sending instead (the library's guard) aborts the
// session mid-literal: the group is lost, the connection closed, and the
// next run meets the same file; copy recovers so (a reconnection and the
// message sent again as literal8), import has no reconnection. Memory
// stays flat (32 KiB here); the second read, at most a group
// (groupBytes) later, mostly comes from the page cache.
func (m *importMsg) lookNUL() error {
	if m.looked {
		return nil
	}
	nul, lfs, err := holdsNUL(m.open)
	if err != nil {
		return err
	}
	m.nul, m.bareLFs, m.looked = nul, lfs, true
	return nil
}

// holdsNUL reads a message to look for a NUL, which only literal8 may
// carry (the appender sends such a message as literal8 when the server
// has BINARY; only such a message: a literal8 makes Dovecot and Cyrus
// rewrite a binary part as base64). In the same pass it counts the
// message's bare LFs (an LF without a CR before it), when it holds no NUL
// (importMsg.bareLFs).
func holdsNUL(open func() io.Reader) (nul bool, bareLFs int64, err error) {
	r := open()
	defer closeReader(r)
	buf := make([]byte, 32<<10)
	prev := byte(0) // the byte before buf's first
	for {
		n, err := r.Read(buf)
		if bytes.IndexByte(buf[:n], 0) >= 0 {
			return true, 0, nil
		}
		for i := bytes.IndexByte(buf[:n], '\n'); i >= 0; {
			if i == 0 && prev != '\r' || i > 0 && buf[i-1] != '\r' {
				bareLFs++
			}
			j := bytes.IndexByte(buf[i+1:n], '\n')
			if j < 0 {
				break
			}
			i += 1 + j
		}
		if n > 0 {
			prev = buf[n-1]
		}
		if err == io.EOF {
			return false, bareLFs, nil
		}
		if err != nil {
			return false, 0, err
		}
	}
}

// lazyReader opens its source at the first Read, and closes it once the
// message's size has been read (or a Read failed), so that a group of
// messages holds one file open at a time. The APPEND reads exactly the
// size and never asks for the end: closed only at an error, every file of
// a Maildir stayed open until the garbage collector finalized it, and an
// import under a limit of 40 descriptors failed at the 30th message, at
// every run. The appender closes it too once its APPEND has ended,
// whatever the outcome (appender.send).
type lazyReader struct {
	open   func() io.Reader
	r      io.Reader
	left   int64 // bytes not read yet of the message's size
	closed bool
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.closed {
		return 0, io.EOF
	}
	if l.r == nil {
		l.r = l.open()
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil || l.left <= 0 {
		l.Close()
	}
	return n, err
}

// Close closes the source when it was opened; a Read after it is at
// the end.
func (l *lazyReader) Close() error {
	l.closed = true
	c, ok := l.r.(io.Closer)
	l.r = nil
	if ok {
		return c.Close()
	}
	return nil
}

// scanMbox finds the messages of an mbox from offset on: their places, the
// From line's date and the flags of their Status and X-Status headers, and
// their sizes as they will be sent (mboxReader: CRLF line ends, >From
// unquoted) and whether they hold a NUL, so that the import reads each
// message only once more, to send it (it read each three times more:
// to measure it, to look for a NUL, to send it). It reads the file once
// and keeps no message's bytes.
func scanMbox(f *os.File, offset int64) ([]*importMsg, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < offset {
		return nil, fmt.Errorf("the mbox is shorter (%d bytes) than its import state says (%d): was it changed?", fi.Size(), offset)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, offset, fi.Size()-offset), 64<<10)
	off := offset
	var msgs []*importMsg
	var cur *importMsg
	var start, lastBlank int64 = 0, -1 // lastBlank: where a blank line that ends the previous line begins
	inHeader, lineStart := false, true
	// sent counts the bytes of cur as mboxReader gives them, sentAtBlank
	// those before the blank line at lastBlank; prevCR: the line's bytes
	// so far end with a CR (the chunk before, of a line longer than the
	// buffer).
	var sent, sentAtBlank int64
	prevCR := false
	// inFrom: the chunks read are those of a From line longer than r's
	// buffer after its first; the whole line is the separator, and the
	// message starts after its end, where mboxReader, opened there,
	// starts with a line's start as the scan does.
	inFrom := false
	finish := func(end int64) {
		if cur == nil {
			return
		}
		bodyEnd := end
		if lastBlank >= 0 {
			bodyEnd = lastBlank // the separating blank line is not the message's
		}
		s, e := start, bodyEnd
		cur.end = end
		cur.open = func() io.Reader { return newMboxReader(io.NewSectionReader(f, s, e-s)) }
		size := sent
		if lastBlank >= 0 {
			size = sentAtBlank
		}
		cur.looked = true // cur.nul: set by the lines
		cur.setSize(size)
		msgs = append(msgs, cur)
	}
	count := func(chunk []byte, lineStart bool) {
		if bytes.IndexByte(chunk, 0) >= 0 {
			cur.nul = true
		}
		// mboxReader's own rules (mboxRules): what it sends of chunk.
		var unquote, addCR bool
		unquote, addCR, prevCR = mboxRules(chunk, lineStart, prevCR)
		sent += int64(len(chunk))
		if unquote {
			sent--
		}
		if addCR {
			sent++
		}
	}
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			full := line[len(line)-1] == '\n'
			switch {
			case inFrom:
				// The rest of a long From line: the separator's.
				start = off + int64(len(line))
				inFrom = !full
			case lineStart && bytes.HasPrefix(line, []byte("From ")) && (cur == nil || lastBlank >= 0):
				finish(off)
				cur = &importMsg{size: -1}
				sent, sentAtBlank, prevCR = 0, 0, false
				var ok bool
				if full {
					// A line longer than the buffer has no date
					// read: it would be at its end, not in this
					// first chunk, whose last fields may look like
					// one.
					cur.date, ok = fromLineDate(line)
				}
				if !ok {
					// Kept (its start) for the warning.
					cur.badFrom = strings.TrimRight(string(line[:min(len(line), 120)]), "\r\n")
				}
				start, inHeader, lastBlank = off+int64(len(line)), true, -1
				inFrom = !full
			case cur == nil:
				return nil, fmt.Errorf("offset %d: not an mbox (no From line)", off)
			case lineStart && (string(line) == "\n" || string(line) == "\r\n"):
				inHeader = false
				lastBlank = off
				sentAtBlank = sent
				count(line, lineStart)
			default:
				if lineStart && inHeader {
					// Each flag once, whatever the number of Status
					// lines: a hostile header of a million made an
					// APPEND flag list of a million \Seen.
					for _, fl := range mboxFlags(line) {
						if !slices.Contains(cur.flags, fl) {
							cur.flags = append(cur.flags, fl)
						}
					}
				}
				lastBlank = -1
				count(line, lineStart)
			}
			off += int64(len(line))
			lineStart = full
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			finish(off)
			return msgs, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// fromLineDate returns the date of an mbox From line, "From sender Sat Jan
// 3 01:05:34 1996": the asctime form, read by its fields (the day padded
// or not), with an optional zone before or after the year: an offset
// ("+0200") or a name of RFC 5322 ("PST", "GMT"; also "UTC" and "Z");
// without a zone the date is UTC. The old UUCP form's "remote from HOST"
// after the date is left out. ok is false when the line holds no such
// date, other words after it, a year of five digits or more, or a zone
// name not among those (an abbreviation such as "CEST" has no offset one
// can rely on).
func fromLineDate(line []byte) (t time.Time, ok bool) {
	f := strings.Fields(string(line))
	if n := len(f); n >= 3 && strings.EqualFold(f[n-3], "remote") && strings.EqualFold(f[n-2], "from") {
		// "From bob Sat Jan  3 10:00:00 2026 remote from host": UUCP's
		// forwarding note, after the date.
		f = f[:n-3]
	}
	// The time is the last field of the form digit...":"; before it
	// come the day of the week, the month and the day, and before those
	// "From" and the sender.
	k := -1
	for i := len(f) - 1; i >= 5; i-- {
		if c := f[i][0]; c >= '0' && c <= '9' && strings.Contains(f[i], ":") {
			k = i
			break
		}
	}
	if k < 0 {
		return time.Time{}, false
	}
	year, zone := "", ""
	switch rest := f[k+1:]; {
	case len(rest) == 1 && allDigits(rest[0]):
		year = rest[0]
	case len(rest) == 2 && allDigits(rest[0]) && !allDigits(rest[1]):
		year, zone = rest[0], rest[1]
	case len(rest) == 2 && !allDigits(rest[0]) && allDigits(rest[1]):
		zone, year = rest[0], rest[1]
	default:
		return time.Time{}, false
	}
	t, err := codec.ParseMessageDate([]byte(strings.Join([]string{f[k-3], f[k-2], f[k-1], f[k], year, zone}, " ")))
	if err != nil {
		return time.Time{}, false
	}
	// A zone name: those of RFC 5322 (UT, GMT, EST to PDT) and UTC and Z.
	// The codec gives the US names a zone of their own and any other
	// name UTC, which for a name it does not know (CEST, JST) would be
	// a date hours off: no date then.
	if zone != "" && strings.IndexFunc(zone, func(r rune) bool { return r < 'A' || r > 'Z' && r < 'a' || r > 'z' }) < 0 {
		switch strings.ToUpper(zone) {
		case "UT", "UTC", "GMT", "Z":
		default:
			if t.Location() == time.UTC {
				return time.Time{}, false
			}
		}
	}
	return t, true
}

// allDigits reports a non-empty string of ASCII digits.
func allDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// fromDateWarning returns the warning for the messages of an mbox whose
// From line has no date fromLineDate reads (they are appended without an
// internal date, which the server then sets to its time of arrival), or
// "" when all have one: one line for the file, with their count and the
// first of those lines.
func fromDateWarning(msgs []*importMsg) string {
	n, first := 0, ""
	for _, m := range msgs {
		if m.badFrom != "" {
			if n == 0 {
				first = m.badFrom
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	lines := "From lines have"
	if n == 1 {
		lines = "From line has"
	}
	return fmt.Sprintf("%d %s no date imapkit reads (the first: %q): appended without an internal date (the server's time of arrival)", n, lines, printable(first))
}

// mboxFlags returns the IMAP flags of a Status or X-Status header line.
func mboxFlags(line []byte) []string {
	name, val, ok := strings.Cut(strings.TrimRight(string(line), "\r\n"), ":")
	if !ok {
		return nil
	}
	var letters map[rune]string
	switch strings.ToLower(name) {
	case "status":
		letters = map[rune]string{'R': `\Seen`}
	case "x-status":
		letters = map[rune]string{'A': `\Answered`, 'F': `\Flagged`, 'T': `\Draft`, 'D': `\Deleted`}
	default:
		return nil
	}
	var out []string
	for _, c := range strings.TrimSpace(val) {
		if f, ok := letters[c]; ok && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// mboxReader gives a message of an mbox as it is appended: ">From " quoting
// undone (one ">" less on lines of ">+From ") and LF line ends made CRLF.
// A CR before an LF is the line end's: a line ending in CRLF is kept (an
// mbox with CRLF line ends, or export's line whose text ends in CR).
type mboxReader struct {
	r         *bufio.Reader
	buf, out  []byte
	lineStart bool
	prevCR    bool
	err       error
}

// mboxReadBuf is the size of mboxReader's buffer: the longest chunk of
// a line it looks at for ">From " (scanMbox counts as it does).
const mboxReadBuf = 32 << 10

// mboxRules are mboxReader's rules for one chunk of a line (as
// bufio.Reader.ReadSlice gives it, not empty), which scanMbox, counting
// what will be sent, applies too: unquote, a ">From " line's '>' goes (at
// a line's start, judged on the first mboxReadBuf bytes: mboxReader's
// chunks are no longer); addCR, the line ends in a bare LF, sent as CRLF
// (the CR before it may end the chunk before: prevCR); endCR, the chunk
// ends in a CR but no LF (the next chunk's prevCR).
func mboxRules(chunk []byte, lineStart, prevCR bool) (unquote, addCR, endCR bool) {
	unquote = lineStart && chunk[0] == '>' && isFromLine(chunk[:min(len(chunk), mboxReadBuf)])
	n := len(chunk)
	if chunk[n-1] != '\n' {
		return unquote, false, chunk[n-1] == '\r'
	}
	body := chunk[:n-1]
	if unquote {
		body = body[1:]
	}
	cr := len(body) > 0 && body[len(body)-1] == '\r' || len(body) == 0 && prevCR
	return unquote, !cr, false
}

func newMboxReader(r io.Reader) *mboxReader {
	return &mboxReader{r: bufio.NewReaderSize(r, mboxReadBuf), lineStart: true}
}

func (m *mboxReader) Read(p []byte) (int, error) {
	for len(m.buf) == 0 {
		if m.err != nil {
			return 0, m.err
		}
		chunk, err := m.r.ReadSlice('\n')
		m.out = m.out[:0]
		if n := len(chunk); n > 0 {
			unquote, addCR, endCR := mboxRules(chunk, m.lineStart, m.prevCR)
			if unquote {
				chunk = chunk[1:]
			}
			full := chunk[len(chunk)-1] == '\n'
			if addCR {
				m.out = append(m.out, chunk[:len(chunk)-1]...)
				m.out = append(m.out, '\r', '\n')
			} else {
				m.out = append(m.out, chunk...)
			}
			m.lineStart, m.prevCR = full, endCR
		}
		if err == bufio.ErrBufferFull {
			err = nil
		}
		m.err = err
		m.buf = m.out
	}
	n := copy(p, m.buf)
	m.buf = m.buf[n:]
	return n, nil
}

// scanMaildir lists the messages of a Maildir (cur and new) not in done,
// oldest first.
func scanMaildir(dir string, done []string) ([]*importMsg, error) {
	skip := make(map[string]bool, len(done))
	for _, d := range done {
		skip[d] = true
	}
	type file struct {
		path, name string
		info       os.FileInfo
	}
	var files []file
	for _, sub := range []string{"cur", "new"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				return nil, err
			}
			files = append(files, file{filepath.Join(dir, sub, e.Name()), e.Name(), fi})
		}
	}
	slices.SortFunc(files, func(a, b file) int {
		if c := a.info.ModTime().Compare(b.info.ModTime()); c != 0 {
			return c
		}
		return naturalCompare(a.name, b.name)
	})
	keywords, err := readMaildirKeywords(dir)
	if err != nil {
		return nil, err
	}
	var msgs []*importMsg
	for _, f := range files {
		unique, info, _ := strings.Cut(f.name, ":")
		if skip[unique] {
			continue
		}
		flags := []string{}
		if strings.HasPrefix(info, "2,") {
			for _, c := range info[2:] {
				fl, ok := map[rune]string{'D': `\Draft`, 'F': `\Flagged`, 'R': `\Answered`, 'S': `\Seen`, 'T': `\Deleted`}[c]
				if !ok && c >= 'a' && c <= 'z' && int(c-'a') < len(keywords) {
					// dovecot-keywords: a keyword is an atom without a
					// backslash; any other name there ("foo bar",
					// \Recent) made the APPEND fail at every run.
					fl = keywords[c-'a']
					ok = fl != "" && !strings.HasPrefix(fl, `\`) && wire.BadAtom(fl) < 0
				}
				if ok && !slices.Contains(flags, fl) {
					flags = append(flags, fl)
				}
			}
		}
		path := f.path
		msgs = append(msgs, &importMsg{
			size: f.info.Size(), flags: flags, date: f.info.ModTime(), name: unique,
			open: func() io.Reader {
				fh, err := os.Open(path)
				if err != nil {
					return errReader{err}
				}
				return fh
			},
		})
		if f.info.Size() == 0 {
			msgs[len(msgs)-1].size = -1 // measure gives it a line end
		}
	}
	return msgs, nil
}

// errReader fails every Read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// naturalCompare compares names with runs of digits by their value:
// "1.U9" before "1.U10".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
