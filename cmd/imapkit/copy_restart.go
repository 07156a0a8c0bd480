package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// --restart-mailbox NAME copies the source mailbox NAME again from its
// start, as a first run would, once its UIDVALIDITY changed (the server
// rebuilt it: its old UIDs name other messages, and copy refuses it,
// errSrcUIDValidity). The advice was to delete the destination mailbox and
// remove .mailboxes["NAME"] from the state file by hand, while the map
// journal (copy-<hash>.json.uidmap) of a run killed before its end may
// also hold that mailbox's lines: error-prone. The restart happens under
// the state's lock, at the mailbox's turn in the run: decided before its
// destination mailbox is created (restartCheck), done once its source is
// selected (restartMailbox). Nothing is removed or created when it is
// refused, so that a refused restart leaves the state as it was (its
// entry still refuses the mailbox: never a first run into a destination
// holding the old copies).

// restartFlag is --restart-mailbox NAME, repeated: the source mailboxes
// to copy again from their start.
type restartFlag map[string]bool

func (r restartFlag) String() string { return "" }
func (r restartFlag) Set(v string) error {
	if v == "" {
		return errors.New("want a source mailbox name")
	}
	r[inboxName(v)] = true
	return nil
}

// errRestartRefused is the error of a --restart-mailbox that would copy
// a mailbox twice, or that was not needed (its UIDVALIDITY did not change,
// no --restart-unchanged): nothing was restarted, the state is unchanged.
// It exits 1, as errSrcUIDValidity: the user must act.
var errRestartRefused = errors.New("not restarted")

// errMapChanged is the error of a source mailbox copied before to
// another destination mailbox than the one the run copies it to (the
// --map changed, or was dropped): the user keeps the --map, or copies the
// mailbox whole to the new one (--restart-mailbox NAME
// --restart-unchanged). It exits 1, a refusal the user must act on; it
// wrapped no sentinel and exited 3 ("connection, TLS, protocol or local
// I/O error"), which scripts retry (TestCopyRestartIntoRenamedDestination, found by
// review).
var errMapChanged = errors.New("the --map changed")

// checkRestart checks, before anything is connected, the mailboxes of
// --restart-mailbox against the command line (given names: those typed):
// each must be among the mailboxes named when some are. A usage error
// otherwise (exit 2), the state untouched. A name the state file does
// not record was a usage error too, and so was the same command run
// again after a kill past the restart's commit (the entry removed, the
// new one not saved yet), refusing every mailbox of the run
// (TestCopyRestartRerunAfterKill, found by review): restartMailbox copies
// it as a first run, with a note; one the source does not list is
// refused once it is listed (copyAccount).
//
// A name is among them also when it differs from one only in its leading
// INBOX's case ("INBOX/Sub" for a typed "inbox/Sub"): a child of INBOX,
// whose names nameMapper.foldInboxChildren folds to the one the source
// lists once connected. The advice of a mailbox the state records
// twice (dupsError) names it as folded, and the user who typed
// "inbox/Sub" and followed it got a usage error
// (TestCopyStateInboxChildDupsAdviceTyped, found by review). The
// source's delimiter is unknown here: INBOX followed by any ASCII
// character but a letter or a digit may be a child. A name that cannot
// be one, "INBOXfoo" for "inboxfoo" (another mailbox, whose name is
// case-sensitive), was folded too: the run connected and refused it
// only then, "the source lists no such mailbox" (exit 1), where it is a
// usage error (TestCopyRestartInboxFoldChildrenOnly).
func checkRestart(o *copyOpts, names []string, state *copyState, path string) error {
	inboxFold := func(n string) string {
		if len(n) > 5 && strings.EqualFold(n[:5], "INBOX") && maybeDelimiter(n[5]) {
			return "INBOX" + n[5:]
		}
		return n
	}
	named := func(name string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return inboxFold(n) == inboxFold(name) })
	}
	for _, name := range slices.Sorted(maps.Keys(o.restart)) {
		if len(names) > 0 && !named(name) {
			return usagef("--restart-mailbox %s: not among the mailboxes named (%s): nothing done", shellQuote(name), shellQuoteAll(names))
		}
	}
	return nil
}

// maybeDelimiter reports whether c may be a server's hierarchy delimiter:
// an ASCII character (RFC 3501's QUOTED-CHAR) that is not a letter or a
// digit (no server uses one: "/" and "." are the usual).
func maybeDelimiter(c byte) bool {
	return c < 0x80 && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9')
}

// shellQuoteAll is names, each shell-quoted, separated by spaces; at most
// 20, then how many more.
func shellQuoteAll(names []string) string {
	const most = 20
	q := make([]string, 0, min(len(names), most))
	for _, n := range names[:min(len(names), most)] {
		q = append(q, shellQuote(n))
	}
	s := strings.Join(q, " ")
	if len(names) > most {
		s += fmt.Sprintf(" and %d more", len(names)-most)
	}
	return s
}

// restartCheck decides, at the turn of the source mailbox name in the
// run, before its destination mailbox dname is created or anything is
// removed, whether --restart-mailbox restarts it: restart true, its
// entry is to be removed (restartMailbox) and the mailbox copied as a
// first run; false with no error, the run goes on with the entry. It
// was done after dname's CREATE, and a refused restart left a new empty
// mailbox (a mistyped --map: TestCopyRestartRefusedCreatesNothing, found
// by review). src's STATUS tells the UIDVALIDITY; exists says dname is
// there (listed, or INBOX), fresh that this run created it (holding none
// of the copies earlier runs made). It refuses (errRestartRefused),
// nothing removed, when
//   - the UIDVALIDITY did not change and --restart-unchanged was not given:
//     a plain run goes on with no duplicate and no loss, and the entry
//     records what a restart forgets (the messages skipped by
//     --skip-unsendable, the HIGHESTMODSEQ flag changes are carried from);
//   - the entry records copies made and dname holds messages (whatever
//     its name: restartDstEmpty).
//
// With no entry (removed by a restart whose run was killed before it
// saved the new one, the same command run again; or never copied), and
// with an entry a restart of this UIDVALIDITY to dname began (killed
// since), it notes so and does not refuse: restart true (a first run
// whose entry records the restart) and false (the run goes on with it;
// its entries under other names, dups, INBOX's or a child of INBOX's,
// are removed then, unless one of them records copies in dname: dupsIn,
// the restart is then one from the mailbox's start, refused while dname
// holds messages).
func restartCheck(ctx context.Context, src, dst *commands.Client, name, dname string, exists, fresh bool, state *copyState, o *copyOpts, stderr io.Writer) (restart bool, err error) {
	box := state.Mailboxes[name]
	if box == nil {
		fmt.Fprintf(stderr, "imapkit copy: %s: note: --restart-mailbox: the state records no entry for it (restarted by an earlier run stopped before it saved, or never copied): copying it from its start to %s\n", printable(name), printable(dname))
		return true, nil
	}
	uidv, err := srcUIDValidity(ctx, src, name)
	if err != nil {
		return false, err
	}
	if box.Restarted && box.UIDValidity == uidv && codec.ExactMailbox(box.Dst, dname) && !state.dupsIn(name, dname) {
		// Begun by an earlier restart of this UIDVALIDITY to dname,
		// stopped before its end (killed, say): the same command
		// again goes on with it, as a plain run does, no duplicate.
		fmt.Fprintf(stderr, "imapkit copy: %s: note: --restart-mailbox: already restarted (its entry was begun by a restart to %s, UIDVALIDITY %d): going on where it stopped\n", printable(name), printable(dname), uidv)
		if len(state.dups[name]) > 0 {
			// Its entries under other names (dups), whose copies are
			// not in dname (dupsIn): the restart was to remove
			// them (an older imapkit's dropBox removed one only),
			// and the run goes on with the one it began. They were
			// kept, the mailbox refused (dupsError) whatever the user
			// did, the advice's restart included
			// (TestCopyStateInboxTwiceRestartedEntry, found by
			// review). Removed in memory: the run's next save writes
			// the state without them (killed before, the same command
			// does it again).
			for _, k := range state.dups[name] {
				b := state.Mailboxes[k]
				fmt.Fprintf(stderr, "imapkit copy: %s: note: --restart-mailbox: the state's entry of it under %s (%d copied to %s, last UID %d) removed: the restart to %s was to remove it\n", printable(name), strconv.Quote(k), b.Copied, printable(b.Dst), b.LastUID, printable(dname))
				delete(state.Mailboxes, k)
			}
			delete(state.dups, name)
			// And the map journal written anew by that save, without
			// their lines. Saves append only changes: a "set" line of
			// theirs an earlier save of the run wrote (the journal
			// begun whole by a mailbox before this one) stayed, and
			// after a kill past the next save (the state file without
			// them) the load took it for this entry's (inboxVariant:
			// the one entry whose name differs in INBOX's case): the
			// other destination's map and UIDVALIDITY on this entry,
			// the mailbox refused as "not the one earlier runs
			// appended to", or, reset by its next line, the pairs of
			// the messages copied before lost
			// (TestCopyStateInboxTwiceRestartedKilled, found by
			// review).
			if state.journal != nil {
				state.journal.Close()
				state.journal = nil
				// The journal the run wrote is on disk: compact
				// ends the run with the state written whole and it
				// removed, as after a replay, should no save come.
				state.replayed = true
			}
		}
		return false, nil
	}
	if box.UIDValidity == uidv && !o.restartUnchanged && len(state.dups[name]) > 0 {
		// A plain run is refused too (dupsError): the restart
		// is the way on, confirmed.
		return false, fmt.Errorf("%w: its UIDVALIDITY (%d) has not changed, and the state records %s under several names (a run without --restart-mailbox is refused): --restart-unchanged restarts it, removing them all", errRestartRefused, uidv, printable(name))
	}
	if box.UIDValidity == uidv && !o.restartUnchanged {
		return false, fmt.Errorf("%w: its UIDVALIDITY (%d) has not changed: a run without --restart-mailbox goes on where the last one stopped, with no duplicate (a destination mailbox deleted since is copied whole again by itself), and keeps what the state records (the messages skipped, the flag changes to carry); --restart-unchanged restarts it all the same", errRestartRefused, uidv)
	}
	// An entry that records nothing copied (the source mailbox was empty,
	// say) left nothing to duplicate: what dname holds is another's, as
	// on a first run.
	copied := box.LastUID > 0 || box.Copied > 0 || box.Pending != nil || len(box.UIDMap) > 0
	// Its entries under other names (foldEntries), removed by the
	// restart too.
	for _, k := range state.dups[name] {
		copied = copied || state.Mailboxes[k].recordsCopies()
	}
	if copied && exists && !fresh {
		if err := restartDstEmpty(ctx, dst, name, dname, box, state); err != nil {
			return false, err
		}
	}
	return true, nil
}

// dupsIn reports whether one of the entries of name under
// other names (dups) records copies in the destination mailbox
// dname: an entry a restart to dname began cannot then be gone on with
// (which of dname's messages are whose cannot be told), and the restart
// is one from the mailbox's start, refused while dname holds messages
// (restartDstEmpty).
func (s *copyState) dupsIn(name, dname string) bool {
	for _, k := range s.dups[name] {
		if b := s.Mailboxes[k]; b != nil && b.recordsCopies() && codec.ExactMailbox(b.Dst, dname) {
			return true
		}
	}
	return false
}

// restartMailbox restarts the copy of the source mailbox name to dname
// (restartCheck said so): it removes its entry, if any, and its UID-map
// lines from the state (dropBox), the caller then copying the mailbox as
// a first run does.
func restartMailbox(ctx context.Context, name, dname string, state *copyState, path string, stderr io.Writer) error {
	box := state.Mailboxes[name]
	if box == nil {
		return nil
	}
	// Its entries under other names (dups), which dropBox removes too:
	// named by the note as well.
	others := map[string]*copyBox{}
	for _, k := range state.dups[name] {
		others[k] = state.Mailboxes[k]
	}
	if err := state.dropBox(ctx, path, name); err != nil {
		return fmt.Errorf("removing its entry from %s: %w", printable(path), err)
	}
	also := ""
	for _, k := range slices.Sorted(maps.Keys(others)) {
		if b := others[k]; b != nil {
			also += fmt.Sprintf(", and its entry under %s (UIDVALIDITY %d, last UID %d, %d copied to %s)", strconv.Quote(k), b.UIDValidity, b.LastUID, b.Copied, printable(b.Dst))
		}
	}
	fmt.Fprintf(stderr, "imapkit copy: %s: restarted (--restart-mailbox): its entry (UIDVALIDITY %d, last UID %d, %d copied to %s)%s removed from the state; copying it from its start to %s\n", printable(name), box.UIDValidity, box.LastUID, box.Copied, printable(box.Dst), also, printable(dname))
	return nil
}

// dropBox removes the entry of the source mailbox name from the state
// and its lines from the map journal. The journal is brought up to date
// (below); then the state file is written, whole (the maps in it, as compact writes it; a synced temporary file
// renamed over it): its rename is the commit. Killed before it, both
// files are as they were. Killed after, the entry is gone and the journal
// still holds its lines, which a replay skips (no entry of that name);
// the journal's other lines, replayed over the maps the state file holds
// whole already, change nothing (a Set gives the same map, pairs added
// again the same pairs). Then the journal is written anew without the
// lines, and the state file lean, as at a run's first save: no later
// save can give them to a new entry of the same name (save writes the
// journal before the state file). It wrote the journal first: killed
// between the two, the entry was still there and its UID map gone, the
// state not as it was though nothing was committed
// (TestCopyRestartDropBoxKilled, found by review). hook's step
// "restart-committed" is between the two.
func (st *copyState) dropBox(ctx context.Context, path, name string) error {
	// The journal first brought up to date (begun whole at the run's
	// first save, else the changes since the last): its replay then
	// gives the maps the state file is written with, and replayed over
	// them after a kill past the commit changes none of them. Without
	// it, a line that sets a map whole, from the journal's start,
	// replayed over the state file, dropped the pairs not journaled yet
	// (TestCopyRestartDropBoxKilled).
	if err := st.logMaps(path); err != nil {
		return err
	}
	// Its entries under other names (foldEntries) go with it.
	gone := append([]string{name}, st.dups[name]...)
	kept := map[string]*copyBox{}
	for _, k := range gone {
		kept[k] = st.Mailboxes[k]
		delete(st.Mailboxes, k)
	}
	if err := saveJSON(path, st); err != nil {
		maps.Copy(st.Mailboxes, kept)
		return err
	}
	delete(st.dups, name)
	if err := hook(ctx, "restart-committed"); err != nil {
		return err
	}
	if st.journal != nil {
		st.journal.Close()
		st.journal = nil
	}
	return st.save(path)
}

// restartDstEmpty refuses (errRestartRefused) the restart of the source
// mailbox name, whose entry box records copies made, to dname when dname
// holds messages: a first run appends next to what a destination holds,
// and the copies made before may be among them, which cannot be told
// from the rest. It looked at dname only when it was the recorded
// destination (box.Dst), and a destination renamed since (BetaDst to
// Projects, the --map changed to follow it, as the changed --map's
// advice offered) got every message twice
// (TestCopyRestartIntoRenamedDestination, found by review). Comparing
// UIDVALIDITYs would catch a rename only on a server that keeps it across
// RENAME (Dovecot does), and messages moved by hand to another mailbox
// not at all: so any mailbox that holds messages is refused, and the
// restart goes to an empty one (deleted, or a new name with --map).
func restartDstEmpty(ctx context.Context, dst *commands.Client, name, dname string, box *copyBox, state *copyState) error {
	ap := newAppender(dst, dname, true)
	if err := ap.status(ctx); err != nil {
		return err
	}
	if ap.messages == 0 {
		return nil
	}
	mapArg := "--map " + shellQuote(name+"=OTHER")
	var what, how string
	// Another source mailbox's copies are there too (--map A=X --map
	// B=X): deleting X was offered, which loses them until B is copied
	// again into the same X, after A's new copies, refused then
	// (TestCopyRestartSharedDestination, found by review).
	others := state.copiedFrom(dname, name)
	switch {
	case codec.ExactMailbox(dname, box.Dst):
		what = "where the earlier runs copied it"
	case box.DstUIDValidity != 0 && ap.uidv == box.DstUIDValidity:
		what = fmt.Sprintf("whose UIDVALIDITY (%d) is that of %s, where the earlier runs copied it (renamed since?)", ap.uidv, printable(box.Dst))
	default:
		what = fmt.Sprintf("not %s, where the earlier runs copied it, but whether the copies made then are among its messages (moved, or the mailbox renamed) cannot be told", printable(box.Dst))
	}
	switch {
	case len(others) > 0:
		how = fmt.Sprintf("copy to a mailbox that does not exist yet (%s): %s holds the copies of %s too (the state records them)", mapArg, printable(dname), shellQuoteAll(others))
	case strings.EqualFold(dname, "INBOX"):
		how = fmt.Sprintf("copy to a mailbox that does not exist yet (%s): INBOX cannot be deleted, and emptying it on the destination would also remove mail delivered there since; else empty it and run again", mapArg)
	case codec.ExactMailbox(dname, box.Dst) || box.DstUIDValidity != 0 && ap.uidv == box.DstUIDValidity:
		how = fmt.Sprintf("delete %s on the destination (this command creates it anew) and run again, or copy to a mailbox that does not exist yet (%s)", printable(dname), mapArg)
	default:
		how = fmt.Sprintf("copy to a mailbox that does not exist yet (%s)", mapArg)
	}
	return fmt.Errorf("%w: the destination mailbox %s, %s, holds %s: copying the mailbox from its start would put each message copied before there twice; %s; the state is unchanged", errRestartRefused, printable(dname), what, plural(int(ap.messages), "message"), how)
}

// copyDstChangedHint is the advice that ends checkDst's refusal
// (errDstChanged) of the destination mailbox dname of the source mailbox
// name: delete it (the run creates it anew and copies the mailbox whole
// again; the other source mailboxes the state records copies of there
// are to be named in that run, each then copied whole again too), or
// copy the mailbox whole to a new one with --restart-mailbox. It offered
// to remove the state file's entry by hand (dstChangedHint, import's).
// INBOX is emptied, not deleted.
func copyDstChangedHint(name, dname string, state *copyState) string {
	restart := fmt.Sprintf("--restart-mailbox %s --restart-unchanged --map %s", shellQuote(name), shellQuote(name+"=OTHER"))
	with := ""
	if others := state.copiedFrom(dname, name); len(others) > 0 {
		with = fmt.Sprintf(", naming in that run the other mailboxes copied to it (%s), copied whole again too", shellQuoteAll(others))
	}
	if strings.EqualFold(dname, "INBOX") {
		return fmt.Sprintf("check INBOX on the destination: empty it to copy the mailbox whole again (INBOX cannot be deleted)%s, or copy it whole to a mailbox that does not exist yet (%s)", with, restart)
	}
	return fmt.Sprintf("check %s on the destination: delete it to copy the mailbox whole again (this command creates it anew)%s, or copy it whole to a mailbox that does not exist yet (%s)", printable(dname), with, restart)
}

// copiedFrom returns the source mailboxes, other than except, whose
// entries record copies in the destination mailbox dname (as copiedTo
// counts them), sorted.
func (s *copyState) copiedFrom(dname, except string) []string {
	var names []string
	for _, src := range s.boxNames() {
		b := s.Mailboxes[src]
		if !s.sameEntry(src, except) && b != nil && b.Dst == dname && (b.Copied > 0 || b.Pending != nil || len(b.UIDMap) > 0) {
			names = append(names, src)
		}
	}
	return names
}
