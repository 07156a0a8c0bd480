package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imapkit/imapkit/commands"
	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// copyFetchBatch is how many messages one UID FETCH of copy asks for.
const copyFetchBatch = 200

const copyUsage = `usage: imapkit copy [flags] SRC-URL DST-URL [MAILBOX...]

Copy mailboxes from the server at SRC-URL to the one at DST-URL (imapsync's
job): every mailbox, or those named. Each message is streamed from the source's
FETCH into the destination's APPEND (MULTIAPPEND and LITERAL+ when offered),
with its flags and internal date. Folder names follow the two servers'
personal namespaces and hierarchy delimiters ("Archive/2024" on a server with
"/" and no prefix is "INBOX.Archive.2024" on one with prefix "INBOX." and
"."); missing folders are created; --map renames.

The copy is incremental and resumable: the state file (in --state-dir, one per
SRC and DST) records, per mailbox and UIDVALIDITY, the last UID copied. A
second run copies only newer mail; a stopped run resumes with no duplicate;
a run started while another of the same job holds the state (its lock,
STATE.lock) refuses at once (exit 3). A source mailbox whose UIDVALIDITY
changed is refused (exit 1); --restart-mailbox NAME copies it again from
its start, once the destination mailbox it went to is deleted (or with
--map to another).
Flag changes of mail copied before are carried when the source offers
CONDSTORE (the state records its HIGHESTMODSEQ and which copy is which);
--sync-flags compares the flags of every message copied before.

The source's password comes from $IMAPKIT_PASSWORD or --password-file, the
destination's from $IMAPKIT_DST_PASSWORD or --dst-password-file; otherwise a
prompt on the terminal. With --accounts FILE, one copy per line of FILE
(see docs/cli.md), --shard i/n picks this process's share.

Exit status: 0 ok, 1 a server said NO, 2 usage, 3 connection or protocol
error. See docs/cli.md.
`

// copyOpts are copy's flags besides the source's connection flags.
type copyOpts struct {
	// undated counts the messages a run of copyAccount appended without
	// their internal date (appender.undated).
	undated   int
	src, dst  connFlags
	dstUser   string
	stateDir  string
	quiet     bool
	noMulti   bool
	syncFlags bool
	// skipUnsendable: a message the destination cannot take (over its
	// APPENDLIMIT, a NUL byte without BINARY or refused even as
	// literal8) is skipped, not a failure.
	skipUnsendable bool
	maps           mapFlag
	// restart are the source mailboxes to copy again from their start
	// (--restart-mailbox, copy_restart.go); restartUnchanged allows it
	// for one whose UIDVALIDITY did not change.
	restart          restartFlag
	restartUnchanged bool
	accounts         string
	shard            string
	dstFlagsF        func() // fills dst from src and the --dst- flags
}

// mapFlag is --map SRC=DST, repeated: to maps each source mailbox
// (INBOX in any case as "INBOX": inboxName) to its destination mailbox,
// typed is the argument that named it. One source mapped twice to two
// destinations is refused (a usage error, exit 2, naming both): the last
// won, silently, also for "--map INBOX=A --map inbox=B", one source
// mailbox since INBOX's name is case-insensitive (RFC 3501 5.1), whose
// mail went to B with no word of A (TestCopyMapSameSourceTwice, found by
// review). The same map given twice is no clash, nor one to INBOX in
// two cases ("--map INBOX=INBOX --map inbox=inbox": sameMailbox); the
// note on INBOX's case is for sources typed in two cases, not for one
// typed alike twice ("--map INBOX=A --map INBOX=B")
// (TestCopyMapInboxCaseNote, found by review). A clash is also put in
// *clash, when set: runCopyCommand reports it alone (quietAfter).
type mapFlag struct {
	to, typed map[string]string
	clash     *error
}

func (m mapFlag) String() string { return "" }
func (m mapFlag) Set(v string) error {
	s, d, ok := strings.Cut(v, "=")
	if !ok || s == "" || d == "" {
		return fmt.Errorf("want SRC=DST, not %q", v)
	}
	k := inboxName(s)
	if old, ok := m.to[k]; ok && !sameMailbox(old, d) {
		also := ""
		if ts, _, _ := strings.Cut(m.typed[k], "="); k == "INBOX" && ts != s {
			also = ": INBOX's name is case-insensitive"
		}
		err := fmt.Errorf("--map %s and --map %s: one source mailbox (%s%s) mapped to two; give it one --map", shellQuote(m.typed[k]), shellQuote(v), printable(k), also)
		if m.clash != nil {
			*m.clash = err
		}
		return err
	} else if ok {
		return nil // the same map again: the first kept
	}
	m.to[k], m.typed[k] = d, v
	return nil
}

// inboxName is name, or "INBOX" when name is INBOX in another case
// (inbox, Inbox): INBOX's name is case-insensitive, and a name typed on
// the command line (a mailbox named, a --map source, --restart-mailbox)
// is the state's key. Typed "inbox", it was recorded under "inbox", and
// a later run naming INBOX (or none: the source lists "INBOX") found no
// entry and copied INBOX whole again next to the copies made before
// (TestCopyTypedInboxCaseOneEntry, found by review).
func inboxName(name string) string {
	if name != "INBOX" && strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// inboxNames is names through inboxName, each once, in the order typed.
// A mailbox named twice ("A A", or "INBOX inbox": one name through
// inboxName) was copied twice in one run: into a destination mailbox the
// run created, the second turn took the first's copies for another
// mailbox's and copied it whole again next to them
// (TestCopyTypedTwiceOnce, TestCopyTypedInboxTwoCasesOnce, found by
// review).
func inboxNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = inboxName(n); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// foldInbox moves an entry an older imapkit recorded under INBOX's name
// in another case ("inbox": the name typed) to "INBOX", where the run
// looks it up, when it is the state's only entry of INBOX (several are
// foldInboxEntries' after the replay). loadCopyState does it before the
// journal's replay, whose lines under either name then find the entry;
// the run's first save writes the journal anew.
func (s *copyState) foldInbox() {
	if keys := s.inboxKeys(); len(keys) == 1 && keys[0] != "INBOX" {
		s.Mailboxes["INBOX"] = s.Mailboxes[keys[0]]
		delete(s.Mailboxes, keys[0])
	}
}

// inboxKeys are the state's entries of INBOX in any case ("INBOX",
// "inbox", "Inbox"), sorted.
func (s *copyState) inboxKeys() []string {
	var keys []string
	for _, k := range s.boxNames() {
		if s.Mailboxes[k] != nil && inboxName(k) == "INBOX" {
			keys = append(keys, k)
		}
	}
	return keys
}

// recordsCopies reports whether the entry b records anything a run
// goes on from, judged on the state file's own fields: messages copied
// (or a group in flight), messages skipped or found to hold a NUL. Not
// its UID map (nor its DstUIDValidity), which may come from the map
// journal: a map with none of those fields cannot be an entry's own (a
// group's Pending is saved before its APPEND, and cleared by the save
// that sets LastUID, the journal written first), but it can be a line
// the first save after foldInboxEntries wrote under "INBOX" for the entry
// kept, replayed, after a kill before the state file's write, over the
// state file's "INBOX" entry that recorded nothing: counted, both entries
// recorded copies and INBOX was refused for good (errInboxTwice)
// (TestCopyStateInboxEntriesFoldKilledFirstSave, found by review).
func (b *copyBox) recordsCopies() bool {
	return b.LastUID > 0 || b.Copied > 0 || b.Pending != nil || len(b.Skipped) > 0 || len(b.Binary) > 0
}

// foldInboxEntries settles, after the journal's replay, a state that
// records INBOX under several names: an older imapkit took "inbox"
// typed for another mailbox than INBOX (inboxName), and a later run
// naming INBOX began a second entry, copying INBOX again. Both stayed:
// "inbox" was never used, and the advice named it as another source
// mailbox whose copies the destination held.
//   - When one of them at most records copies (recordsCopies, on the
//     state file's own fields), the others record nothing a run needs:
//     they are dropped, and the one that does is INBOX's, taking the UID
//     map of a dropped "INBOX" entry when it holds one (the journal's
//     line for it, written by a save after an earlier fold: below).
//   - When several do, which one the copies of INBOX follow cannot be
//     told (each records a last UID, a UID map, maybe a group in flight),
//     and guessing could copy mail twice or never: the one under "INBOX"
//     stays INBOX's (one of the others when there is none) and
//     dups names the others: INBOX is refused (dupsError)
//     until --restart-mailbox INBOX removes them all (dropBox).
//
// The files on disk are written anew by the run's first save (journal,
// then state file): killed before, the next run settles them alike.
// Killed between the two (or inside writeWhole's, journal first too),
// the journal's "set" line under "INBOX", carrying the kept entry's map,
// is replayed over the state file's "INBOX" entry: when that is not the
// kept one, it records no copies all the same (its map is not counted),
// and the map goes to the kept entry
// (TestCopyStateInboxEntriesFoldKilledFirstSave, found by review).
func (s *copyState) foldInboxEntries() {
	s.foldEntries("INBOX", s.inboxKeys())
}

// foldEntries is foldInboxEntries for the entries keys (sorted) of one
// source mailbox, name, recorded under several names (name among them or
// not): INBOX's, or a child of INBOX's ("INBOX/Sub" and "inbox/Sub":
// nameMapper.foldInboxChildren, which kept both, the one under "inbox/Sub"
// never used and named by the advice as another source mailbox; found by
// review).
func (s *copyState) foldEntries(name string, keys []string) {
	if len(keys) < 2 {
		return
	}
	var data []string
	for _, k := range keys {
		if s.Mailboxes[k].recordsCopies() {
			data = append(data, k)
		}
	}
	if len(data) <= 1 {
		keep := name
		if len(data) == 1 {
			keep = data[0]
		}
		b := s.Mailboxes[keep]
		if b == nil { // no entry under name, none with copies
			b = s.Mailboxes[keys[0]]
		}
		// A UID map under name ("INBOX"), on an entry recording no
		// copies, is the journal's line the first save after an
		// earlier fold wrote for the entry kept (killed before the
		// state file's write): the kept entry's map, as up to date as
		// its own.
		if in := s.Mailboxes[name]; in != nil && in != b && len(in.UIDMap) > 0 {
			b.UIDMap, b.DstUIDValidity = in.UIDMap, in.DstUIDValidity
		}
		for _, k := range keys {
			delete(s.Mailboxes, k)
		}
		s.Mailboxes[name] = b
		return
	}
	if s.Mailboxes[name] == nil {
		s.Mailboxes[name] = s.Mailboxes[data[0]]
		delete(s.Mailboxes, data[0])
	}
	var dups []string
	for _, k := range keys {
		if k != name && s.Mailboxes[k] != nil {
			dups = append(dups, k)
		}
	}
	if s.dups == nil {
		s.dups = map[string][]string{}
	}
	s.dups[name] = dups
}

// errInboxTwice is the error of a source mailbox (INBOX, or a child of
// INBOX) when the state records it under several names, each with
// copies (foldEntries): dupsError's, whose text names the mailbox. It
// exits 1: the user must act.
var errInboxTwice = errors.New("the state records the mailbox twice")

// dupsErr is dupsError's error: its text, and errInboxTwice.
type dupsErr struct{ msg string }

func (e *dupsErr) Error() string { return e.msg }
func (e *dupsErr) Unwrap() error { return errInboxTwice }

// dupsError is the refusal of the source mailbox name while the state
// records it under several names (dups): nothing is copied, nothing
// changed; the advice names --restart-mailbox NAME, which removes them
// all.
func (s *copyState) dupsError(name string) error {
	var what []string
	for _, k := range append([]string{name}, s.dups[name]...) {
		b := s.Mailboxes[k]
		if !b.recordsCopies() {
			// The entry under name when it records nothing (the
			// others do): "0 copied to Y", named as copied again.
			continue
		}
		what = append(what, fmt.Sprintf("%s (%d copied to %s, last UID %d, UIDVALIDITY %d)", strconv.Quote(k), b.Copied, printable(b.Dst), b.LastUID, b.UIDValidity))
	}
	q, typed := shellQuote(name), "INBOX typed in another case"
	if name != "INBOX" {
		typed = "the name typed with INBOX in another case"
	}
	return &dupsErr{fmt.Sprintf("the state records %s twice: under %s: an older imapkit took %s for another mailbox and copied it again beside the copies made before; which entry the copies follow cannot be told, so nothing is copied and the state is unchanged; to copy %s whole again, with no duplicate, copy it to a mailbox that does not exist yet (--restart-mailbox %s --restart-unchanged --map %s), which removes all of them from the state (or empty the destination mailbox and run with --restart-mailbox %s --restart-unchanged)", printable(name), strings.Join(what, " and "), typed, printable(name), q, shellQuote(name+"=OTHER"), q)}
}

// defaultStateDir is where copy keeps its state by default.
func defaultStateDir(env *sysEnv) string {
	if d := env.getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "imapkit")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "imapkit")
	}
	return ".imapkit-state"
}

func copyFlags(fs *flag.FlagSet, o *copyOpts, env *sysEnv) {
	o.src.register(fs, env)
	o.maps = mapFlag{to: map[string]string{}, typed: map[string]string{}, clash: new(error)}
	o.restart = restartFlag{}
	var dstPW, dstCA string
	var dstSkip, dstPlain bool
	fs.StringVar(&o.dstUser, "dst-user", "", "the destination's user name (overrides DST-URL's)")
	fs.StringVar(&dstPW, "dst-password-file", "", "read the destination's password from this `file` (default: $IMAPKIT_DST_PASSWORD, else a prompt)")
	fs.StringVar(&dstCA, "dst-ca-file", "", "trust only the CA certificates in this PEM `file` for the destination")
	fs.BoolVar(&dstSkip, "dst-insecure-skip-verify", false, "do not verify the destination's certificate")
	fs.BoolVar(&dstPlain, "dst-insecure-plaintext", false, "allow the destination without TLS (see --insecure-plaintext)")
	fs.StringVar(&o.stateDir, "state-dir", defaultStateDir(env), "the `directory` of the state files")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress display")
	fs.BoolVar(&o.noMulti, "no-multiappend", false, "one APPEND per message even when the destination offers MULTIAPPEND")
	fs.BoolVar(&o.skipUnsendable, "skip-unsendable", false, "skip, with a warning, a message the destination cannot take (over its APPENDLIMIT, or holding a NUL byte when it lacks BINARY or refuses it even as literal8), and record it in the state as skipped (without it, such a message stops its mailbox)")
	fs.BoolVar(&o.syncFlags, "sync-flags", false, "compare the flags of every message copied before with its copy, and carry the differences (without it, only the changes CONDSTORE reports are carried)")
	fs.Var(o.maps, "map", "copy source mailbox `SRC=DST` to DST (repeatable)")
	fs.Var(o.restart, "restart-mailbox", "copy source mailbox `NAME` again from its start, as a first run would, after its UIDVALIDITY changed: its entry and UID map are removed from the state (refused, nothing removed, while the destination mailbox it was copied to holds messages; repeatable)")
	fs.BoolVar(&o.restartUnchanged, "restart-unchanged", false, "with --restart-mailbox, restart a mailbox whose UIDVALIDITY has not changed too (refused without it: a plain run goes on with no duplicate)")
	fs.StringVar(&o.accounts, "accounts", "", "copy every account listed in this `file` (see docs/cli.md)")
	fs.StringVar(&o.shard, "shard", "", "with --accounts, do only share `i/n` of the accounts (i from 1 to n)")
	o.dstFlagsF = func() {
		o.dst = o.src
		o.dst.user, o.dst.sasl, o.dst.oauthTokenFile, o.dst.stream = o.dstUser, "", "", ""
		o.dst.passwordFile, o.dst.caFile = dstPW, dstCA
		o.dst.insecureSkipVerify, o.dst.insecurePlaintext = dstSkip, dstPlain
		o.dst.passwordEnv = "IMAPKIT_DST_PASSWORD"
	}
}

// runCopyCommand is the copy command: it parses its command line, connects
// to both servers and copies.
func runCopyCommand(env *sysEnv, stdin io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	o := &copyOpts{}
	copyFlags(fs, o, env)
	fs.SetOutput(quietAfter{w: stderr, err: o.maps.clash})
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), copyUsage)
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if *o.maps.clash != nil {
			return exitCode(env, stderr, "copy", usagef("%v", *o.maps.clash))
		}
		return exitUsage
	}
	o.dstFlagsF()
	out := &output{stdin: stdin, stdout: stdout, stderr: stderr, json: o.src.json}
	if len(o.restart) > 0 && o.accounts != "" {
		return exitCode(env, stderr, "copy", usagef("--restart-mailbox goes with one SRC-URL DST-URL, not --accounts"))
	}
	if o.restartUnchanged && len(o.restart) == 0 {
		return exitCode(env, stderr, "copy", usagef("--restart-unchanged goes with --restart-mailbox"))
	}
	if err := checkTypedNames(slices.Sorted(maps.Keys(o.restart)), nil); err != nil {
		return exitCode(env, stderr, "copy", err)
	}
	if o.accounts != "" {
		pos = inboxNames(pos)
		if err := checkTypedNames(pos, o.maps.to); err != nil {
			return exitCode(env, stderr, "copy", err)
		}
		return exitCode(env, stderr, "copy", runAccounts(env.ctx(), o.accounts, o.shard, pos, out, func(ctx context.Context, a account) error {
			if a.dst == "" {
				return usagef("%s line %d: copy needs SRC-URL DST-URL", o.accounts, a.line)
			}
			ao := *o
			ao.src.passwordFile, ao.dst.passwordFile = a.srcPasswordFile, a.dstPasswordFile
			if ao.src.passwordFile == "" {
				ao.src.passwordFile = o.src.passwordFile
			}
			if ao.dst.passwordFile == "" {
				ao.dst.passwordFile = o.dst.passwordFile
			}
			return copyAccount(ctx, &ao, a.src, a.dst, pos, out)
		}))
	}
	if o.shard != "" {
		return exitCode(env, stderr, "copy", usagef("--shard goes with --accounts"))
	}
	if len(pos) < 2 || !isURL(pos[0]) || !isURL(pos[1]) {
		return exitCode(env, stderr, "copy", usagef("usage: imapkit copy [flags] SRC-URL DST-URL [MAILBOX...]"))
	}
	names := inboxNames(pos[2:])
	if err := checkTypedNames(names, o.maps.to); err != nil {
		return exitCode(env, stderr, "copy", err)
	}
	return exitCode(env, stderr, "copy", copyAccount(env.ctx(), o, pos[0], pos[1], names, out))
}

// quietAfter is w, copy's flag output, which takes nothing once *err is
// set (a --map clash: mapFlag.Set). The flag package printed the clash as
// a malformed value and then the whole usage text, some 90 lines, the
// clash scrolled away; runCopyCommand prints it in one line, as copy's
// other usage errors (TestCopyMapClashOneLine).
type quietAfter struct {
	w   io.Writer
	err *error
}

func (q quietAfter) Write(p []byte) (int, error) {
	if *q.err != nil {
		return len(p), nil
	}
	return q.w.Write(p)
}

// checkTypedNames refuses, before anything is connected, a mailbox name
// the user typed that no command can send (commands.CheckMailboxName: not
// UTF-8, a NUL): one of mailboxes, or a --map target. Found inside the run
// over mailboxes, such a name counted as a name the source listed (exit
// 3, retried by scripts for ever) where it is a bad argument (exit 2).
// --map's source names are not checked: one may match a name the source
// lists as it is (raw Latin-1), which is sent back as listed.
func checkTypedNames(mailboxes []string, m map[string]string) error {
	for _, name := range mailboxes {
		if err := commands.CheckMailboxName(name); err != nil {
			return fmt.Errorf("mailbox %s: %w", printable(name), err)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(m)) {
		if err := commands.CheckMailboxName(m[s]); err != nil {
			return fmt.Errorf("--map %s=%s: %w", printable(s), printable(m[s]), err)
		}
	}
	return nil
}

// copyState is a copy's state file: one per source and destination.
type copyState struct {
	Version   int                 `json:"version"`
	Src       string              `json:"src"`
	Dst       string              `json:"dst"`
	Mailboxes map[string]*copyBox `json:"mailboxes"` // by source mailbox name

	journal  *os.File // the map journal, from the run's first save on
	replayed bool     // a map journal was read at the start (or one this run wrote was closed unfinished: compact cleans it)
	// dups are, by source mailbox (INBOX, or a child of INBOX), its
	// entries under another name ("inbox", "inbox/Sub"), each recording
	// copies, beside its own (foldEntries): the mailbox is refused
	// (dupsError) until --restart-mailbox removes them.
	dups map[string][]string
}

// copiedTo reports whether the state records messages copied to the
// destination mailbox dname (or a group that may have landed there) from
// a source mailbox other than except ("": any): nameMapper.ensure takes a
// case variant's alike counts for a merge only while dname holds none of
// ours.
func (s *copyState) copiedTo(dname, except string) bool {
	for src, b := range s.Mailboxes {
		if b != nil && b.Dst == dname && (except == "" || !s.sameEntry(src, except)) && (b.Copied > 0 || b.Pending != nil || len(b.UIDMap) > 0) {
			return true
		}
	}
	return false
}

// sameEntry reports whether the state's entry src is one of the source
// mailbox name: its own, in INBOX's case, or one of its dups.
func (s *copyState) sameEntry(src, name string) bool {
	return inboxName(src) == inboxName(name) || slices.Contains(s.dups[name], src)
}

// copyBox is the state of one source mailbox.
type copyBox struct {
	Dst         string         `json:"dst"`
	UIDValidity uint32         `json:"uidvalidity"`
	LastUID     uint32         `json:"last_uid"`
	Copied      int64          `json:"copied"` // messages, in all runs
	Pending     *pendingAppend `json:"pending,omitempty"`
	// PendingUID is the source UID of the last message of the pending
	// group.
	PendingUID uint32 `json:"pending_uid,omitempty"`
	// PendingSrc are the source UIDs of the pending group.
	PendingSrc []uint32 `json:"pending_src,omitempty"`
	// HighestModSeq is the source mailbox's HIGHESTMODSEQ when the last
	// complete run began (CONDSTORE), or when the first run began: the
	// flag changes above it are carried by the next run. 0 when the
	// source has no CONDSTORE; 0 with mail copied (LastUID > 0) makes the
	// next run with CONDSTORE compare the flags of every copy once.
	HighestModSeq uint64 `json:"highest_modseq,omitempty"`
	// DstUIDValidity is the UIDVALIDITY of the destination mailbox that
	// UIDMap is for.
	DstUIDValidity uint32 `json:"dst_uidvalidity,omitempty"`
	// UIDMap maps source UIDs to the UIDs of their copies, as runs
	// [src, dst, n] of consecutive UIDs. The state file holds it between
	// runs; during a run, in the map journal (copy_statemap.go).
	UIDMap uidMap `json:"uid_map,omitempty"`

	// Skipped are the source UIDs not copied because the destination
	// cannot take them (--skip-unsendable): over its APPENDLIMIT, or
	// holding a NUL byte and the destination without BINARY, or
	// refusing it even as literal8 (binaryRefusal). No run sends them
	// again.
	Skipped []uint32 `json:"skipped,omitempty"`
	// Binary are the source UIDs found to hold a NUL byte (met in the
	// middle of their APPEND): sent as literal8 to a destination with
	// BINARY.
	Binary []uint32 `json:"binary,omitempty"`
	// Restarted: the entry was begun by --restart-mailbox (the source
	// mailbox of this UIDVALIDITY copied from its start to Dst), whose
	// copy has not finished yet. The same command run again after a
	// kill goes on with it, as a plain run does: it was refused
	// ("UIDVALIDITY has not changed"). Cleared when the mailbox's copy
	// ends.
	Restarted bool `json:"restarted,omitempty"`

	// mapLog are the changes of UIDMap not journaled yet.
	mapLog []mapRecord
	// stopUID, when not 0, is a message the destination cannot take,
	// found so in the middle of its group (over its APPENDLIMIT by the
	// size of its body, or holding a NUL byte without BINARY; without
	// --skip-unsendable: stopBefore): the mailbox's next try in this run
	// copies the messages before it and fails with stopErr, naming it.
	// Not saved.
	stopUID uint32
	stopErr error
	// skippedIdx and binaryIdx index Skipped and Binary (isSkipped,
	// isBinary).
	skippedIdx, binaryIdx uidIndex
}

// uidIndex is a set of the UIDs of a list that only grows during a run
// (copyBox.Skipped, Binary), kept up to date as the list grows: a lookup
// is a map's, where a linear search of the list for every UID of a
// mailbox was quadratic in the messages a run skips.
type uidIndex struct {
	set map[uint32]bool
	n   int // the list's elements in set
}

// has reports whether uid is in list, the list the index is of.
func (x *uidIndex) has(list []uint32, uid uint32) bool {
	if len(list) < x.n || x.set == nil {
		x.set, x.n = make(map[uint32]bool, len(list)), 0 // not the list it was: built again
	}
	for _, u := range list[x.n:] {
		x.set[u] = true
	}
	x.n = len(list)
	return x.set[uid]
}

// isSkipped reports whether the state records uid as skipped.
func (b *copyBox) isSkipped(uid uint32) bool { return b.skippedIdx.has(b.Skipped, uid) }

// isBinary reports whether the state records uid as one to send as
// literal8.
func (b *copyBox) isBinary(uid uint32) bool { return b.binaryIdx.has(b.Binary, uid) }

// accountKey names an account on a server: scheme, user, host and port.
func accountKey(t *target, user string) string {
	scheme := "imap"
	if t.tls {
		scheme = "imaps"
	}
	return scheme + "://" + user + "@" + t.addr
}

// copyStatePath is the state file of a copy from src to dst.
func copyStatePath(dir, src, dst string) string {
	h := sha256.Sum256([]byte(src + "\x00" + dst))
	return filepath.Join(dir, "copy-"+hex.EncodeToString(h[:12])+".json")
}

// copyAccount copies the mailboxes (all when none is named) of one account.
func copyAccount(ctx context.Context, o *copyOpts, srcURL, dstURL string, mailboxes []string, out *output) (err error) {
	o.undated = 0
	defer func() { undatedNote(out.stderr, "copy", o.undated) }()
	st, err := parseURL(srcURL)
	if err != nil {
		return err
	}
	dt, err := parseURL(dstURL)
	if err != nil {
		return err
	}
	run := &copyRun{o: o, out: out, dt: dt, fresh: map[string]map[string]bool{}}
	unlock, err := run.loadState(st, dt)
	if err != nil {
		return err
	}
	defer unlock()
	// Before the compaction is due: a refused --restart-mailbox leaves
	// the state files as they were.
	if err := checkRestart(o, mailboxes, run.state, run.path); err != nil {
		return err
	}
	// The maps go back into the state file, whatever the run's end.
	defer func() {
		if cerr := run.state.compact(run.path); cerr != nil {
			if err == nil {
				err = cerr
			} else {
				err = errors.Join(err, cerr)
			}
		}
	}()

	if run.src, err = o.src.connect(ctx, st, out.stdin, out.stderr); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer run.src.close()
	if run.dst, err = o.dst.connect(ctx, dt, out.stdin, out.stderr); err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer func() { run.dst.close() }() // the last connection (reconnectDst)

	mailboxes, clashes, err := run.mailboxesToCopy(ctx, mailboxes)
	if err != nil {
		return err
	}
	return run.copyMailboxes(ctx, mailboxes, clashes)
}

// copyRun is one account's copy (copyAccount): what the copies of its
// mailboxes share. Its methods are the run's steps; a mailbox's copy is
// a mailboxCopy's.
type copyRun struct {
	o     *copyOpts
	out   *output
	state *copyState
	path  string  // the state file
	dt    *target // the destination, connected to again (reconnectDst)
	src   *conn
	dst   *conn // the current connection: a new one once a session ended
	m     *nameMapper
	// fresh are the destination mailboxes this run created, each with
	// the source mailboxes copied to it in this run: the copies earlier
	// runs made to one (deleted since) are not in it, whatever those
	// mailboxes put there. A source mailbox among them (its turn again)
	// finds its own copies there: its entry is kept.
	fresh map[string]map[string]bool
	// try is what the tries of the mailbox being copied share: a new
	// one for its first try (copyTry), the same for a try after a
	// stopped one (a *retryMailboxError).
	try *mailboxTry
}

// loadState reads the run's state file, that of the accounts st and dt,
// locked until unlock is called: the state is read once and trusted
// until the end of the run, so a second run of the same job at the same
// time must not start. An entry recorded under "inbox" is moved to
// "INBOX" there (foldInbox).
func (run *copyRun) loadState(st, dt *target) (unlock func(), err error) {
	o := run.o
	srcUser, dstUser := firstNonEmpty(o.src.user, st.user), firstNonEmpty(o.dst.user, dt.user)
	run.state = &copyState{Version: 1, Src: accountKey(st, srcUser), Dst: accountKey(dt, dstUser), Mailboxes: map[string]*copyBox{}}
	run.path = copyStatePath(o.stateDir, run.state.Src, run.state.Dst)
	l, err := lockState(run.path)
	if err != nil {
		return nil, err
	}
	if err := loadCopyState(run.path, run.state); err != nil {
		l.unlock()
		return nil, err
	}
	return l.unlock, nil
}

// mailboxesToCopy returns the source mailboxes the run copies: those
// named (INBOX's children as the source names them:
// nameMapper.foldInboxChildren), else every one the source lists, and
// clashes, the error of each that cannot be copied (a name two listed
// mailboxes decode to: sourceMailboxes; names mapped to one destination:
// destClashes). A --restart-mailbox of a mailbox the source does not
// list refuses the run.
func (run *copyRun) mailboxesToCopy(ctx context.Context, named []string) (mailboxes []string, clashes map[string]error, err error) {
	o := run.o
	if run.m, err = newNameMapper(ctx, run.src.c, run.dst.c, o.maps.to); err != nil {
		return nil, nil, err
	}
	if mailboxes, o.restart, err = run.m.foldInboxChildren(ctx, named, o.restart, run.state); err != nil {
		return nil, nil, err
	}
	if len(mailboxes) == 0 {
		if mailboxes, clashes, err = run.m.sourceMailboxes(ctx); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(o.restart)) {
		if !slices.Contains(mailboxes, name) {
			return nil, nil, fmt.Errorf("--restart-mailbox %s: %w: the source lists no such mailbox: nothing done", shellQuote(name), errRestartRefused)
		}
	}
	return mailboxes, run.m.destClashes(mailboxes, clashes), nil
}

// copyMailboxes copies mailboxes, one after the other: one that fails
// (clashes holds the error of some) is reported on stderr and the run
// goes on with the next; the run's error then counts them
// (*mailboxesError). A mailbox's copy stopped to be tried again (a
// *retryMailboxError) goes again at once, its report added to the next
// try's.
func (run *copyRun) copyMailboxes(ctx context.Context, mailboxes []string, clashes map[string]error) error {
	var firstErr error
	failed := 0
	// prev is the report of a mailbox's copy stopped to be tried again
	// (a *retryMailboxError): added to the next try's.
	var prev *copyResult
	for i := 0; i < len(mailboxes); i++ {
		name := mailboxes[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := run.reconnectDst(ctx); err != nil {
			return err
		}
		dname := run.dstName(name)
		r, err := run.copyTry(ctx, name, dname, clashes[name], prev != nil)
		r = prev.add(r)
		prev = nil
		var retry *retryMailboxError
		if errors.As(err, &retry) {
			// A message holding a NUL, or over APPENDLIMIT by
			// the size of its body, met when its turn came
			// (which may have cost the destination's session),
			// is recorded now (sent as literal8, skipped, or
			// to stop before: stopBefore): the mailbox goes
			// again, over a new connection when the session
			// ended (reconnectDst).
			prev = r
			i--
			continue
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(run.out.stderr, "imapkit copy: %s\n", printable(err.Error()))
			if firstErr == nil {
				firstErr = err
			}
			failed++
			continue
		}
		if err := run.report(name, dname, r); err != nil {
			return err
		}
	}
	if firstErr != nil {
		return &mailboxesError{failed: failed, total: len(mailboxes), first: firstErr}
	}
	return nil
}

// reconnectDst connects to the destination again when the session of
// the current connection ended (with the mailbox before: an APPEND
// abandoned mid-way, a message the library refused once its turn came or
// one that could not be read whole from the source; or the server closed
// it): the next mailbox and those after it get the new connection. Over
// the closed one, every later mailbox failed ("creating B on the
// destination: session: command not sent"), at every run.
func (run *copyRun) reconnectDst(ctx context.Context) error {
	serr := run.dst.c.Session().Err()
	if serr == nil {
		return nil
	}
	nd, err := run.o.dst.connect(ctx, run.dt, run.out.stdin, run.out.stderr)
	if err != nil {
		return fmt.Errorf("destination: connecting again (its session ended: %v): %w", serr, err)
	}
	run.dst.close()
	run.dst, run.m.dst = nd, nd.c
	return nil
}

// dstName is the destination mailbox the source mailbox name is copied
// to (nameMapper.dstName). Its entry's destination is set to it when the
// entry names the same mailbox as a run before INBOX's children were
// named "INBOX"+delimiter did.
func (run *copyRun) dstName(name string) string {
	m := run.m
	dname := m.dstName(name)
	if b := run.state.Mailboxes[name]; b != nil && b.Dst != dname && inboxChild(b.Dst, m.dstDelim) == dname && !m.have[b.Dst] {
		// Recorded by a run before INBOX's children were named
		// "INBOX"+delimiter (nameMapper.dstName): the same
		// mailbox, on a server whose INBOX prefix is
		// case-insensitive. The state's key is the source's name,
		// unchanged. Not when the destination lists the recorded
		// name too: a server listing both keeps them apart, and the
		// copy goes on where it was
		// (TestInboxChildBothListedKeepsCopy, found by
		// review).
		b.Dst = dname
	}
	return dname
}

// copyTry is one try of the copy of the source mailbox name to dname
// (retrying: a try after one stopped to be tried again), which clash,
// when not nil, fails before anything is asked: a name two listed
// mailboxes decode to (sourceMailboxes), or names mapped to one
// destination (destClashes). A CREATE the destination refuses (a name it
// does not allow: Dovecot refuses "a.b" and "~x", which Cyrus takes)
// fails that mailbox, not the run: it stopped every mailbox after it, at
// every run.
func (run *copyRun) copyTry(ctx context.Context, name, dname string, clash error, retrying bool) (*copyResult, error) {
	if clash != nil {
		return nil, clash
	}
	restart, err := run.checkBeforeCreate(ctx, name, dname, retrying)
	if err != nil {
		return nil, err
	}
	created, err := run.ensureDst(ctx, name, dname, restart)
	if err != nil {
		return nil, err
	}
	if !retrying {
		run.try = &mailboxTry{restart: restart, dstFresh: run.fresh[dname] != nil && !run.fresh[dname][name] && !created}
	}
	if created {
		run.fresh[dname] = map[string]bool{}
	}
	if run.fresh[dname] != nil {
		run.fresh[dname][name] = true
	}
	return run.copyMailbox(ctx, name, dname, created)
}

// checkBeforeCreate is what is asked of the source mailbox name before
// its destination mailbox dname is created, so that a refusal creates
// nothing: whether --restart-mailbox restarts it (restartCheck, on its
// first try), the entries the state records it under (dupsError), and,
// unless it restarts, whether its entry may be gone on with
// (refuseBeforeCreate, on its first try).
func (run *copyRun) checkBeforeCreate(ctx context.Context, name, dname string, retrying bool) (restart bool, err error) {
	dstExists := run.m.have[dname] || strings.EqualFold(dname, "INBOX")
	if !retrying && run.o.restart[name] {
		if restart, err = restartCheck(ctx, run.src.c, run.dst.c, name, dname, dstExists, run.fresh[dname] != nil, run.state, run.o, run.out.stderr); err != nil {
			return false, err
		}
	}
	if !restart && len(run.state.dups[name]) > 0 {
		return false, run.state.dupsError(name)
	}
	if !restart && !retrying {
		if err := refuseBeforeCreate(ctx, run.src.c, name, dname, dstExists, run.state); err != nil {
			return false, err
		}
	}
	return restart, nil
}

// ensureDst creates the destination mailbox dname of the source mailbox
// name unless it exists (nameMapper.ensure); created says it did. The
// entry a restart is to remove counts for nothing: as on a first run.
func (run *copyRun) ensureDst(ctx context.Context, name, dname string, restart bool) (created bool, err error) {
	listed := run.m.have[dname]
	except := ""
	if restart {
		except = name
	}
	if created, err = run.m.ensure(ctx, dname, run.state.copiedTo(dname, except)); err != nil {
		what := "creating %s on the destination"
		if listed {
			what = "the destination's %s"
		}
		return false, fmt.Errorf(what+": %w (--map %s copies it under another name)", printable(dname), err, shellQuote(name+"=NAME"))
	}
	return created, nil
}

// report prints the report r of the mailbox name copied to dname: its
// --json object, or a line on stdout.
func (run *copyRun) report(name, dname string, r *copyResult) error {
	out := run.out
	if out.json {
		return out.emit(r)
	}
	fmt.Fprintf(out.stdout, "%s -> %s: copied %d messages (%d bytes); last UID %d", printable(name), printable(dname), r.Copied, r.Bytes, r.LastUID)
	if r.Vanished > 0 {
		fmt.Fprintf(out.stdout, "; %d expunged during the copy, skipped", r.Vanished)
	}
	if r.Skipped > 0 {
		fmt.Fprintf(out.stdout, "; %d skipped (the destination cannot take them: see the warnings)", r.Skipped)
	}
	if r.FlagsUpdated > 0 || r.FlagsUnmatched > 0 {
		fmt.Fprintf(out.stdout, "; flags updated on %d", r.FlagsUpdated)
		if r.FlagsUnmatched > 0 {
			fmt.Fprintf(out.stdout, " (%d copies not found)", r.FlagsUnmatched)
		}
	}
	fmt.Fprintln(out.stdout)
	return nil
}

// mailboxesError reports the mailboxes whose copy failed (each was
// reported on stderr already, so that the summary is not the first
// failure again); its exit code is the first failure's.
type mailboxesError struct {
	failed, total int
	first         error
}

func (e *mailboxesError) Error() string {
	return fmt.Sprintf("%d of %d mailboxes failed", e.failed, e.total)
}

func (e *mailboxesError) Unwrap() error { return e.first }

// errorAsSent is err's message with the server's answer in it (a
// *session.StatusError's code and text) as the server sent it, for
// --json, which escapes what it must itself: err.Error() writes the
// answer's control bytes and bidirectional marks as \xNN. Other errors
// keep their message.
func errorAsSent(err error) string {
	msg := err.Error()
	var se *session.StatusError
	if !errors.As(err, &se) || !strings.HasSuffix(msg, se.Error()) {
		return msg
	}
	var b strings.Builder
	b.WriteString(msg[:len(msg)-len(se.Error())])
	b.WriteString("session: " + se.Command + ": " + se.Status.Kind.String())
	if c := se.Status.Code; c != nil {
		b.WriteString(" [" + string(c.Name) + "]")
	}
	if len(se.Status.Text) > 0 {
		b.WriteString(" " + string(se.Status.Text))
	}
	return b.String()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// copyResult is copy's report of one mailbox (its --json object).
type copyResult struct {
	Src         string `json:"src"`
	Dst         string `json:"dst"`
	Mailbox     string `json:"mailbox"`
	DstMailbox  string `json:"dst_mailbox"`
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
	Copied      int    `json:"copied"`
	Bytes       int64  `json:"bytes"`
	// FlagSync says how the flags of mail copied before were to be
	// carried: "condstore" (the changes since the last run), "full"
	// (--sync-flags) or "off" (the source has no CONDSTORE). It is the
	// method, not the outcome: FlagsRefused says when the destination
	// refused the changes.
	FlagSync string `json:"flag_sync"`
	// FlagsUpdated counts the copies whose flags were changed.
	FlagsUpdated int `json:"flags_updated"`
	// FlagsUnmatched counts changed messages whose copy was not found.
	FlagsUnmatched int `json:"flags_unmatched,omitempty"`
	// FlagsRefused is the destination's answer when it refused a flag
	// change: the changes are tried again by the next run.
	FlagsRefused string `json:"flags_refused,omitempty"`
	// Vanished counts the messages expunged on the source during the
	// copy (their bodies came back NIL, or were left out of the body
	// FETCH's answer): not copied.
	Vanished int `json:"vanished,omitempty"`
	// Empty counts the 0-byte messages, appended as a blank line (an
	// APPEND needs a byte).
	Empty int `json:"empty,omitempty"`
	// Skipped counts the messages skipped by this run because the
	// destination cannot take them (--skip-unsendable): over its
	// APPENDLIMIT, or holding a NUL byte without BINARY or refused even
	// as literal8. The state records their UIDs.
	Skipped int `json:"skipped,omitempty"`
}

// add returns r with the counts of p (a try of the same mailbox stopped
// to be tried again) added; either may be nil.
func (p *copyResult) add(r *copyResult) *copyResult {
	if p == nil || r == nil {
		return r
	}
	r.Copied += p.Copied
	r.Bytes += p.Bytes
	r.Vanished += p.Vanished
	r.Empty += p.Empty
	r.Skipped += p.Skipped
	r.FlagsUpdated += p.FlagsUpdated
	r.FlagsUnmatched += p.FlagsUnmatched
	if r.FlagsRefused == "" {
		r.FlagsRefused = p.FlagsRefused
	}
	return r
}

// mailboxTry is what the tries of one mailbox's copy in a run share (a
// *retryMailboxError starts the next): each counts and warns about what
// the tries before it did not, so that the mailbox's report counts each
// thing once. A try copied the mailbox again from its start, and its
// report was added to the stopped one's: a 0-byte message opened by both
// was "empty": 2 (and warned about twice), and with --sync-flags the flags
// of the mail copied before were compared again, a copy not found counted
// twice.
type mailboxTry struct {
	// restart: the mailbox is to be copied again from its start
	// (--restart-mailbox, restartCheck said so), by its first try
	// (restartMailbox).
	restart bool
	// dstFresh: the destination mailbox was created by this run for a
	// mailbox copied to it before this one (--map A=X --map B=X): the
	// copies this mailbox's entry records are not in it (X was deleted
	// since), what it holds is this run's. Cleared by its first try.
	dstFresh bool
	// emptied are the 0-byte messages counted and warned about.
	emptied map[uint32]bool
	// flagsDone: the flags of the mail copied before were carried (or
	// the note that they cannot be was given) by an earlier try, whose
	// method was flagSync and whose outcome plan (flagSyncOff when the
	// destination refused the changes), after an EXAMINE that reported
	// modSeq (noModSeq): the mailbox's HIGHESTMODSEQ recorded at its end
	// is that one, so that a change made between the tries is carried by
	// the next run.
	flagsDone bool
	flagSync  string
	plan      flagSync
	modSeq    uint64
	noModSeq  bool
}

// retryMailboxError stops a mailbox's copy to try it again at once: a
// message holding a NUL byte, or over the destination's APPENDLIMIT by
// the size of its body, was met when its turn in an APPEND came (in a
// MULTIAPPEND the destination's session is aborted), and the state now
// records it, as one to send as literal8 (a NUL, the destination has
// BINARY) or as skipped (--skip-unsendable); or, without
// --skip-unsendable, copyBox.stopUID does (in memory, once a mailbox:
// stopBefore), for the next try to copy the messages before it and stop
// there. Each such stop records another UID, so the tries of a mailbox
// end.
type retryMailboxError struct {
	uid uint32
	why string // what the message is: "holds a NUL byte"
	err error
}

func (e *retryMailboxError) Error() string {
	return fmt.Sprintf("UID %d %s: trying the mailbox again: %v", e.uid, e.why, e.err)
}

func (e *retryMailboxError) Unwrap() error { return e.err }

// errSrcUIDValidity is the error of a source mailbox whose UIDVALIDITY is
// not the one recorded: its UIDs were renumbered, and the last UID copied
// means nothing any more. It exits 1, as errDstChanged: the run can never
// go on as it is (exit 3 asked scripts to retry it for ever).
var errSrcUIDValidity = errors.New("the UIDVALIDITY changed")

// srcChangedHint is the advice that ends errSrcUIDValidity for the source
// mailbox name, copied to dname: what to do so that no message is copied
// twice. It named the state file's entry to remove by hand (while the
// map journal may hold that mailbox's lines too); --restart-mailbox does
// it (copy_restart.go), and refuses while dname holds messages.
//
// For a destination INBOX the other mailbox comes first: during a
// migration the new INBOX receives new mail, which emptying it would
// destroy. The arguments are shell-quoted (shellQuote): a name with a
// space or a quote was shown as it is, two words to a shell.
func srcChangedHint(name, dname string) string {
	restart := "--restart-mailbox " + shellQuote(name)
	mapArg := "--map " + shellQuote(name+"=OTHER")
	if strings.EqualFold(dname, "INBOX") {
		return fmt.Sprintf("to copy it again with no duplicate, copy it to another mailbox (%s %s): INBOX cannot be deleted, and emptying it on the destination would also remove mail delivered there since; else empty it and run again with %s", restart, mapArg, restart)
	}
	return fmt.Sprintf("to copy it again with no duplicate, delete it on the destination (this command creates it anew) and run again with %s, or copy it to another mailbox (%s %s)", restart, restart, mapArg)
}

// entryRefusal is the refusal of the source mailbox name, whose entry
// box the state records, to be copied to dname while its UIDVALIDITY is
// uidv (nil: no refusal). dstExists says dname is on the destination
// (the advice to delete it is moot otherwise).
//   - Its UIDVALIDITY changed (errSrcUIDValidity): the advice was "remove
//     its entry to copy it whole", which copies it whole next to the
//     copies made before: duplicates of every message. The destination
//     mailbox is emptied first (deleted: the run creates it anew), or
//     another one is copied to.
//   - It was copied to another mailbox (errMapChanged). The advice said
//     "remove its entry", no key a user could find: it names the JSON
//     path, and the --map that keeps on. It named the state file's entry
//     to remove by hand: now --restart-mailbox (its UIDVALIDITY
//     unchanged: confirmed by --restart-unchanged).
//
// copyMailbox asks it once the source mailbox is selected; copyAccount
// (refuseBeforeCreate) before a destination mailbox is created, so that
// a refusal changes nothing on the server.
func entryRefusal(name, dname string, box *copyBox, uidv uint32, dstExists bool) error {
	switch {
	case box.UIDValidity != uidv:
		hint := srcChangedHint(name, box.Dst)
		if !dstExists && sameMailbox(box.Dst, dname) {
			hint = fmt.Sprintf("%s does not exist on the destination (nothing was created): to copy it again with no duplicate, run again with --restart-mailbox %s (the mailbox is created anew and copied whole)", printable(dname), shellQuote(name))
		}
		return fmt.Errorf("%w (%d, now %d): the UIDs copied before no longer name the same messages, and which of them %s holds cannot be told, so nothing is copied; %s", errSrcUIDValidity, box.UIDValidity, uidv, printable(box.Dst), hint)
	case box.Dst != dname:
		return fmt.Errorf("%w: it was copied to %s before, not %s: keep the same --map (%s), or copy it whole to %s with --restart-mailbox %s --restart-unchanged (refused while %s holds messages: the copies made before may be among them, %s renamed say; it must be a new or empty mailbox)", errMapChanged, printable(box.Dst), printable(dname), "--map "+shellQuote(name+"="+box.Dst), printable(dname), shellQuote(name), printable(dname), printable(box.Dst))
	}
	return nil
}

// refuseBeforeCreate is entryRefusal asked before the destination
// mailbox dname of the source mailbox name is created (it does not
// exist: exists false), from the source's STATUS (or EXAMINE when
// STATUS gives no UIDVALIDITY). Without it, copy CREATEd dname and then
// refused the mailbox once it was selected (its UIDVALIDITY changed, or
// the --map): a refusal left a new empty mailbox on the destination
// (TestCopySrcUIDValidityCreatesNothing, found by review), as a refused
// --restart-mailbox did before restartCheck. A mailbox the state records
// no entry for, or whose destination exists, costs no command.
func refuseBeforeCreate(ctx context.Context, src *commands.Client, name, dname string, exists bool, state *copyState) error {
	box := state.Mailboxes[name]
	if box == nil || exists {
		return nil
	}
	uidv, err := srcUIDValidity(ctx, src, name)
	if err != nil {
		return err
	}
	return entryRefusal(name, dname, box, uidv, false)
}

// srcUIDValidity asks the source for the UIDVALIDITY of mailbox name
// without selecting it: STATUS, or EXAMINE when STATUS gives none (the
// checks made before a destination is created or an entry removed:
// refuseBeforeCreate, restartCheck).
func srcUIDValidity(ctx context.Context, src *commands.Client, name string) (uint32, error) {
	st, err := src.Status(ctx, name, commands.StatusUIDValidity)
	if err != nil {
		return 0, err
	}
	if st.Has(commands.StatusUIDValidity) {
		return st.UIDValidity, nil
	}
	ms, err := src.Examine(ctx, name)
	if err != nil {
		return 0, err
	}
	return ms.UIDValidity, nil
}

// shellQuote returns s as one word of a POSIX shell, for advice a user
// pastes: as it is when it holds only characters no shell treats
// specially, else in single quotes (a quote in it closes them, is
// escaped with a backslash, and opens them again), or, when it holds
// a rune printable would hide (a control, a bidirectional mark), as
// bash's $'...' with such runes written \xHH or \uXXXX.
func shellQuote(s string) string {
	safe, shown := s != "", true
	for _, r := range s {
		switch {
		case esc.Unsafe(r) || r == utf8.RuneError:
			shown, safe = false, false
		case !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)):
			safe = false
		}
	}
	if safe {
		return s
	}
	if shown {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	b := []byte("$'")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1 || r < 0x80 && esc.Unsafe(r):
			b = fmt.Appendf(b, `\x%02x`, s[i])
		case esc.Unsafe(r):
			b = fmt.Appendf(b, `\u%04x`, r)
		case r == '\'' || r == '\\':
			b = append(b, '\\', byte(r))
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(append(b, '\''))
}

// copyMailbox copies the messages of name not copied yet to dname;
// created says that this run created dname. It is one try of the
// mailbox (copyTry): run.try is what its tries in this run share.
func (run *copyRun) copyMailbox(ctx context.Context, name, dname string, created bool) (*copyResult, error) {
	mc := &mailboxCopy{copyRun: run, name: name, dname: dname}
	if err := mc.openEntry(ctx); err != nil {
		return nil, err
	}
	if err := mc.openDst(ctx, created); err != nil {
		return nil, err
	}
	if err := mc.settlePending(ctx); err != nil {
		return nil, err
	}
	box, try := mc.box, run.try
	mc.res = &copyResult{Src: run.state.Src, Dst: run.state.Dst, Mailbox: name, DstMailbox: dname, UIDValidity: box.UIDValidity}
	if err := mc.carryFlags(ctx); err != nil {
		return nil, err
	}
	// From here on try holds the flags' plan, and the HIGHESTMODSEQ
	// they were compared after, of this try or the first's.
	if try.plan == flagSyncUnchanged && box.LastUID == 0 && mc.ms.HighestModSeq != 0 && !mc.ms.NoModSeq {
		// Nothing was copied before: every message copied from here on
		// has flags as of this EXAMINE or later. Recorded now (saved
		// with the first group), so that a first run stopped mid-way
		// leaves the next one the changes to look for.
		box.HighestModSeq = mc.ms.HighestModSeq
	}
	uids, err := mc.newUIDs(ctx)
	if err != nil {
		return nil, err
	}
	mc.startProgress(uids.len())
	if err := mc.copyNew(ctx, uids); err != nil {
		var retry *retryMailboxError
		if !errors.As(err, &retry) {
			return nil, err
		}
		mc.progressDone()
		return mc.res, err
	}
	mc.progressDone()
	if try.plan != flagSyncOff && try.modSeq != 0 && !try.noModSeq {
		// The next run carries the changes made since the EXAMINE the
		// flags were compared after (this try's, or the first's).
		box.HighestModSeq = try.modSeq
	}
	// The restart is over: a later --restart-mailbox of it is a new
	// one, checked as any (it was taken for the same command run again
	// after a kill, "already restarted", and did nothing:
	// TestCopyRestartedClearedAtEnd, found by review).
	box.Restarted = false
	return mc.res, run.state.save(run.path)
}

// mailboxCopy is one try of one mailbox's copy (copyRun.copyMailbox):
// the source mailbox name as selected (ms), its entry box, the appender
// to its destination mailbox dname, and the try's report res and
// progress p; hooks are what its batches call back (copyBatch).
type mailboxCopy struct {
	*copyRun
	name, dname string
	ms          *commands.MailboxState
	box         *copyBox
	ap          *appender
	res         *copyResult
	p           *progress
	hooks       *batchHooks
}

// openEntry selects the source mailbox, read-only, and sets box, its
// entry in the state: removed first when the try restarts it
// (restartMailbox), a new one when there is none, else refused when it
// does not fit (entryRefusal); its copies' progress forgotten when the
// destination mailbox was created by this run for another mailbox.
func (mc *mailboxCopy) openEntry(ctx context.Context) error {
	name, dname, state, try, stderr := mc.name, mc.dname, mc.state, mc.try, mc.out.stderr
	ss := mc.src.c.Session()
	ms, err := mc.src.c.Select(ctx, name, &commands.SelectOptions{ReadOnly: true, CondStore: ss.HasCap("CONDSTORE") || ss.HasCap("QRESYNC")})
	if err != nil {
		return err
	}
	mc.ms = ms
	box := state.Mailboxes[name]
	if try.restart {
		if err := restartMailbox(ctx, name, dname, state, mc.path, stderr); err != nil {
			return err
		}
		if box = state.Mailboxes[name]; box == nil {
			box = &copyBox{Dst: dname, UIDValidity: ms.UIDValidity, Restarted: true}
			state.Mailboxes[name] = box
		}
		try.restart = false
	}
	if box == nil {
		box = &copyBox{Dst: dname, UIDValidity: ms.UIDValidity}
		state.Mailboxes[name] = box
	} else if err := entryRefusal(name, dname, box, ms.UIDValidity, true); err != nil {
		return err
	}
	mc.box = box
	if try.dstFresh {
		// Created by this run for a mailbox before: the checks below
		// took the other mailbox's new copies for mail that cannot be
		// told from this one's, and refused it (errDstChanged), so
		// that two mailboxes merged into a deleted X could not both be
		// copied again (TestCopyRestartSharedDestination, found by
		// review).
		try.dstFresh = false
		if box.LastUID > 0 || box.Pending != nil {
			fmt.Fprintf(stderr, "imapkit copy: %s: warning: the destination mailbox %s was created by this run (for another mailbox copied to it): the mail copied to it before is gone; copying the mailbox whole again\n", printable(name), printable(dname))
			box.LastUID, box.HighestModSeq = 0, 0
			box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
			box.resetMap(0)
		}
	}
	return nil
}

// openDst sets ap, the appender to the destination mailbox (created says
// this run created it), once it is known to be the one the entry's last
// UID and map speak of, and saves the state.
func (mc *mailboxCopy) openDst(ctx context.Context, created bool) error {
	name, dname, box := mc.name, mc.dname, mc.box
	ap := newAppender(mc.dst.c, dname, mc.o.noMulti)
	ap.undated = &mc.o.undated
	mc.ap = ap
	// The destination mailbox must be the one the state's LastUID and
	// map speak of: deleted and created again since, it holds none of
	// the mail copied before, which a run trusting LastUID skipped for
	// good (TestCopyDstRecreatedSkipsSilently).
	startOver, err := ap.checkDst(ctx, box.DstUIDValidity, box.LastUID > 0 || box.Pending != nil, created,
		copyDstChangedHint(name, dname, mc.state))
	if err != nil {
		return err
	}
	if startOver {
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: warning: the destination mailbox %s is new and empty (UIDVALIDITY %d, recorded %d): the mail copied to it before is gone; copying the mailbox whole again\n", printable(name), printable(dname), ap.uidv, box.DstUIDValidity)
		box.LastUID, box.HighestModSeq = 0, 0
		box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
	}
	if startOver || box.DstUIDValidity != ap.uidv {
		// Recorded even when the destination has no UIDPLUS (no map
		// then): the next run checks against it.
		box.resetMap(ap.uidv)
	}
	return mc.state.save(mc.path)
}

// settlePending settles the entry's pending group, the one a run stopped
// while it was sent: recorded as copied when it landed on the destination
// (appender.landed), else to be sent again; the state saved.
func (mc *mailboxCopy) settlePending(ctx context.Context) error {
	name, dname, box, ap, path := mc.name, mc.dname, mc.box, mc.ap, mc.path
	if box.Pending == nil {
		return nil
	}
	ok, err := ap.landed(ctx, box.Pending, fmt.Sprintf(`check %s on the destination: if the messages of its pending group (source UIDs up to %d) are not there, remove %s.pending from %s (the next run copies them); if they are, also set %s.last_uid to its "pending_uid", %d`, printable(dname), box.PendingUID, stateKeyPath("mailboxes", name), path, stateKeyPath("mailboxes", name), box.PendingUID))
	if err != nil {
		return err
	}
	if ok {
		box.LastUID = box.PendingUID
		box.Copied += int64(box.Pending.Count)
		// The UIDs the messages were given, when they can be
		// told (pendingUIDs). Before, a group of UIDNEXT 0
		// (unknown) was mapped from UID 0, and the uint32
		// difference wrapped.
		if p := box.Pending; len(box.PendingSrc) == p.Count {
			dst := ap.confirmed // found by appender.confirm
			if dst == nil {
				dst = pendingUIDs(p, ap.next)
			}
			if len(dst) == p.Count {
				box.mapAppended(p.DstUIDValidity, box.PendingSrc, dst)
			}
		}
	}
	box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
	return mc.state.save(path)
}

// carryFlags carries the flag changes of the mail copied before to its
// copies: compared once in a run, by the mailbox's first try, which
// records in try what it did (flagsDone); a later try reports that.
// Either way try then holds the plan as it ended (flagSyncOff when the
// destination refused the changes) and the EXAMINE's HIGHESTMODSEQ.
func (mc *mailboxCopy) carryFlags(ctx context.Context) error {
	box, try, res, ms := mc.box, mc.try, mc.res, mc.ms
	plan, since := mc.planFlags()
	modSeq, noModSeq := ms.HighestModSeq, ms.NoModSeq
	if try.flagsDone {
		res.FlagSync, plan, modSeq, noModSeq = try.flagSync, try.plan, try.modSeq, try.noModSeq
	} else {
		res.FlagSync = plan.String()
	}
	if !try.flagsDone && plan == flagSyncOff && box.LastUID > 0 {
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: note: %v\n", printable(mc.name), errNoCondStore)
	}
	if !try.flagsDone && (plan == flagSyncChanged || plan == flagSyncFull) {
		var err error
		if plan, err = mc.syncFlags(ctx, plan, since); err != nil {
			return err
		}
	}
	if !try.flagsDone {
		try.flagsDone, try.flagSync, try.plan, try.modSeq, try.noModSeq = true, res.FlagSync, plan, modSeq, noModSeq
	}
	return nil
}

// planFlags is planFlagSync's plan for the flags of the mail copied
// before, and the HIGHESTMODSEQ to carry the changes since. A recorded
// HIGHESTMODSEQ past 2^63-1 is taken as unknown, with a warning.
func (mc *mailboxCopy) planFlags() (flagSync, uint64) {
	box := mc.box
	var pastModSeq uint64
	if box.HighestModSeq > math.MaxInt64 {
		// Past 2^63-1 (RFC 7162), which no server sends now that the
		// codec refuses it, but a state an older imapkit wrote may
		// hold: asked for in FETCH CHANGEDSINCE, it failed the
		// mailbox at every run (commands.ErrModSeq, nothing sent).
		// Taken as unknown (0): what follows is the plan's.
		pastModSeq, box.HighestModSeq = box.HighestModSeq, 0
	}
	plan, since := planFlagSync(mc.src.c, mc.ms, box, mc.o.syncFlags)
	if pastModSeq != 0 {
		// With 0 recorded, planFlagSync gives flagSyncFull (mail was
		// copied before, or --sync-flags), flagSyncOff (the source
		// has no CONDSTORE now) or, nothing copied before,
		// flagSyncUnchanged.
		then := "flag changes of the mail copied before are not carried (the source does not offer CONDSTORE)"
		switch {
		case box.LastUID == 0:
			then = "no mail was copied before"
		case plan == flagSyncFull:
			then = "the flags of the mail copied before are compared in full"
		}
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: warning: the state's HIGHESTMODSEQ %d is past 2^63-1 (RFC 7162): taken as unknown; %s\n", printable(mc.name), pastModSeq, then)
	}
	return plan, since
}

// syncFlags carries the flags by plan (flagSyncChanged: the changes since
// the HIGHESTMODSEQ since; flagSyncFull: all compared) and returns the
// plan as it ended: flagSyncOff when the destination refused the
// changes, which does not stop the copy of new mail.
func (mc *mailboxCopy) syncFlags(ctx context.Context, plan flagSync, since uint64) (flagSync, error) {
	name, dname, box, res, dst := mc.name, mc.dname, mc.box, mc.res, mc.dst.c
	fs := &flagSyncer{src: mc.src.c, dst: dst, dname: dname, box: box, since: since}
	err := fs.syncFlags(ctx, box.LastUID)
	res.FlagsUpdated, res.FlagsUnmatched = fs.updated, fs.unknown
	if fs.selected && dst.Session().State() == session.StateSelected {
		// The flag sync SELECTed the destination mailbox: every
		// group's STATUS (appender.prepare) was then of the
		// selected mailbox, which RFC 9051 6.3.11 says a client
		// SHOULD NOT ask (a server may answer it from a stale
		// view, and the group is recorded at a stale UIDNEXT).
		// Left without an expunge (deselect).
		if derr := deselect(ctx, dst, dname, false); derr != nil {
			return plan, fmt.Errorf("after carrying flag changes: %w", derr)
		}
	}
	switch {
	case errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrBad):
		// A server that refuses (a keyword the destination does
		// not take, say) does not stop the copy of new mail;
		// the changes are tried again next run.
		// The answer as the server sent it, for --json (escaped
		// by the JSON writer); err.Error() escapes it for stderr.
		res.FlagsRefused = errorAsSent(err)
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: flag changes not carried: %s\n", printable(name), printable(err.Error()))
		plan = flagSyncOff
	case err != nil:
		return plan, fmt.Errorf("carrying flag changes: %w", err)
	}
	return plan, mc.state.save(mc.path) // the map may have grown
}

// newUIDs returns the UIDs of the source mailbox's messages after the
// last one copied.
func (mc *mailboxCopy) newUIDs(ctx context.Context) (*uidQueue, error) {
	box := mc.box
	uids := &uidQueue{}
	if mc.ms.Exists > 0 && box.LastUID < math.MaxUint32 {
		// At the largest UID nothing can be new: LastUID+1 wrapped to 0,
		// and "UID 0:*" is BAD, at every run.
		all, err := searchUIDs(ctx, mc.src.c, []string{"UID", fmt.Sprintf("%d:*", box.LastUID+1)})
		if err != nil {
			return nil, err
		}
		uids = newUIDQueue(all, box.LastUID)
	}
	return uids, nil
}

// startProgress sets p, the progress of the copy of n messages, and
// hooks, what the batches call back: a 0-byte message is counted and
// warned about once in the mailbox's tries; with --skip-unsendable, a
// message the destination cannot take is recorded as skipped.
func (mc *mailboxCopy) startProgress(n int) {
	name, box, res, try, stderr := mc.name, mc.box, mc.res, mc.try, mc.out.stderr
	p := newProgress(stderr, mc.out.json || mc.o.quiet, "copy "+name, n)
	mc.p = p
	// A group sent again one at a time, or a try after a stopped one,
	// opens a message again.
	if try.emptied == nil {
		try.emptied = map[uint32]bool{}
	}
	empty := func(uid uint32) {
		if try.emptied[uid] {
			return
		}
		try.emptied[uid] = true
		res.Empty++
		fmt.Fprintf(stderr, "imapkit copy: %s: UID %d is empty (0 bytes): appended as a blank line (an APPEND needs a byte)\n", printable(name), uid)
	}
	note := func(s string) {
		fmt.Fprintf(stderr, "imapkit copy: %s: %s\n", printable(name), printable(s))
	}
	mc.hooks = &batchHooks{empty: empty, note: note}
	if mc.o.skipUnsendable {
		mc.hooks.skip = func(uid uint32, why string) {
			res.Skipped++
			p.skip(1)
			box.Skipped = append(box.Skipped, uid)
			note(fmt.Sprintf("warning: UID %d %s: skipped (--skip-unsendable; the state records it, and no run sends it again)", uid, why))
		}
	}
}

// copyNew copies the messages of uids, copyFetchBatch at a time
// (copyBatch). A message expunged on the source during the copy is
// skipped once the source confirms it (confirmExpunged), the rest of its
// batch fetched again.
func (mc *mailboxCopy) copyNew(ctx context.Context, uids *uidQueue) error {
	box := mc.box
	for uids.len() > 0 {
		batch := uids.take(copyFetchBatch)
		err := mc.copyBatch(ctx, batch)
		var gone *vanishedError
		if errors.As(err, &gone) && !mc.ap.closed {
			// Its APPEND was not sent; the messages before it are
			// copied. Skipped, once the source confirms that it is
			// expunged: a UID is never used again, so the state may
			// move past it; the rest of the batch is fetched again.
			if err := confirmExpunged(ctx, mc.src.c, gone.uid); err != nil {
				return err
			}
			fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: UID %d was expunged on the source during the copy: skipped\n", printable(mc.name), gone.uid)
			mc.res.Vanished++
			mc.p.skip(1)
			box.LastUID = max(box.LastUID, gone.uid)
			if err := mc.state.save(mc.path); err != nil {
				return err
			}
			var rest []uint32
			for _, u := range batch {
				if u > box.LastUID {
					rest = append(rest, u)
				}
			}
			uids.unshift(rest)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// progressDone ends the progress and puts its counts in the report.
func (mc *mailboxCopy) progressDone() {
	mc.p.done()
	mc.res.LastUID, mc.res.Copied, mc.res.Bytes = mc.box.LastUID, mc.p.n, mc.p.bytes
}

// confirmExpunged checks that the source no longer has uid, whose body it
// sent as NIL: after a NOOP (which reports the expunge to this session),
// UID SEARCH UID uid finds nothing. Anything else is an error: the message
// is not skipped.
func confirmExpunged(ctx context.Context, src *commands.Client, uid uint32) error {
	if err := src.Noop(ctx); err != nil {
		return err
	}
	found, err := searchUIDs(ctx, src, []string{"UID", fmt.Sprint(uid)})
	if err != nil {
		return err
	}
	if found.Contains(uid) {
		return fmt.Errorf("UID %d: the source sent its body as NIL, or left it out of the FETCH answer, but still has it: not copied or exported (run again)", uid)
	}
	return nil
}

// copyBatch copies the messages of uids: their metadata first (flags,
// internal date, and RFC822.SIZE, which bounds the bytes of a group and
// stops at a message over the destination's APPENDLIMIT: those before it
// are copied, and it is a *tooBigError, never sent), then their bodies,
// each streamed from the FETCH into an APPEND with the size of the FETCH's
// literal. A body the source sends as NIL, or leaves out of the answer
// (the message was expunged since the metadata FETCH), stops it with a
// *vanishedError:
// the group it is in is not appended (without MULTIAPPEND, the group is
// that message alone; in a MULTIAPPEND, the APPEND is not sent when it is
// the group's first message, the destination's session going on, and is
// otherwise abandoned mid-way and the connection to the destination
// closed), and its pending record is dropped. A group of several messages the destination refuses with a
// tagged NO (groupRefusal: full, a message too big or one it will not
// take, with a response code or none) is sent again one message at a
// time, its bodies fetched again (note says so on stderr): those it takes
// are copied, and the first refused one stops it with an error naming its
// UID. hooks.empty is called for each 0-byte message, appended as a
// blank line.
func (mc *mailboxCopy) copyBatch(ctx context.Context, uids []uint32) error {
	meta, big, err := mc.batchMeta(ctx, uids)
	if err != nil {
		return err
	}
	if len(meta) == 0 {
		return big
	}
	b := &batchSend{mailboxCopy: mc, meta: meta, stop: func() {}}
	b.fetchBodies(ctx)
	defer func() { b.stop() }()
	// Before stop: a cancelled APPEND may have left a Read of a body
	// running (heldReader), in the FETCH's answer that stop ends.
	defer mc.ap.settle()
	for len(b.meta) > 0 {
		if err := b.sendGroup(ctx); err != nil {
			return err
		}
	}
	return big
}

// batchMeta returns the metadata of the messages of uids (those an
// earlier try or run skipped left out), sorted by UID and cut before the
// first one over the destination's APPENDLIMIT (by its RFC822.SIZE) or
// before the one the try before found unsendable (stopBefore): big is
// that one's error, for the batch to end with once those before it are
// copied.
func (mc *mailboxCopy) batchMeta(ctx context.Context, uids []uint32) (meta []*commands.Message, big error, err error) {
	box, p := mc.box, mc.p
	// The messages skipped by an earlier try or run are not sent again.
	if len(box.Skipped) > 0 {
		n := len(uids)
		uids = slices.DeleteFunc(slices.Clone(uids), box.isSkipped)
		p.skip(n - len(uids))
		if len(uids) == 0 {
			return nil, nil, nil
		}
	}
	set := commands.UIDs(uids...)
	meta, err = mc.src.c.FetchAll(ctx, set, &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(meta, func(a, b *commands.Message) int { return cmp.Compare(a.UID, b.UID) }) // not int(a)-int(b): 32-bit ints overflow
	if len(meta) < len(uids) {
		p.skip(len(uids) - len(meta)) // expunged meanwhile
	}
	return mc.cutUnsendable(meta)
}

// cutUnsendable is batchMeta's cut of meta. A message over the
// destination's APPENDLIMIT (by its RFC822.SIZE) is never sent: the
// library finds it too big only when its turn comes in the command (its
// size is learnt from the source's literal then), which aborts the
// session with the group half sent, and closed the connection for every
// mailbox after this one. The messages before it are copied; it fails
// the mailbox, naming it. With --skip-unsendable it is skipped (the state
// saved), and the rest goes on.
func (mc *mailboxCopy) cutUnsendable(meta []*commands.Message) (kept []*commands.Message, big, err error) {
	box, ap, hooks := mc.box, mc.ap, mc.hooks
	skipped := false
	for i := 0; i < len(meta); i++ {
		m := meta[i]
		if m.UID == box.stopUID && box.stopErr != nil {
			// Found unsendable in the middle of its group by
			// the try before (stopBefore).
			big = box.stopErr
			meta = meta[:i]
			break
		}
		if !ap.tooBig(m.Size) {
			continue
		}
		if hooks.skip != nil {
			hooks.skip(m.UID, fmt.Sprintf("is %d bytes (RFC822.SIZE), over the destination's APPENDLIMIT of %d", m.Size, ap.limit))
			meta = slices.Delete(meta, i, i+1)
			i--
			skipped = true
			continue
		}
		big = &tooBigError{uid: m.UID, size: m.Size, limit: ap.limit}
		meta = meta[:i]
		break
	}
	if skipped {
		if err := mc.state.save(mc.path); err != nil {
			return nil, nil, err
		}
	}
	return meta, big, nil
}

// batchSend is the sending of a batch's messages (copyBatch), a group
// (one APPEND) at a time: meta are those not sent yet, their bodies
// taken from one FETCH (fetchBodies), and singly counts those to send one
// at a time (retrySingly).
type batchSend struct {
	*mailboxCopy
	meta   []*commands.Message
	bodies *bodyPuller
	stop   func() // ends the bodies' FETCH
	singly int
}

// fetchBodies starts the FETCH of the bodies of meta, the one before
// ended: at the batch's start, and from a group on when it is sent again
// one message at a time (its bodies were read, or left half read, by the
// refused APPEND), or after a message skipped.
func (b *batchSend) fetchBodies(ctx context.Context) {
	b.ap.settle() // no Read of a cancelled APPEND left in the bodies
	b.stop()
	var next func() (*commands.Message, error, bool)
	next, b.stop = iter.Pull2(b.src.c.Fetch(ctx, commands.UIDs(uidsOf(b.meta)...), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: -1}))
	b.bodies = &bodyPuller{next: next}
}

// sendGroup sends the next group of meta in one APPEND (as many messages
// as appender.groupFull allows, or one), recorded as pending before it
// is sent; a failure that leaves the batch going on (the group sent again
// one at a time, or its message skipped) returns nil, as the group's
// copy does.
func (b *batchSend) sendGroup(ctx context.Context) error {
	n := 0
	var bytes int64
	for n < len(b.meta) && !b.ap.groupFull(n, bytes) && (b.singly == 0 || n < 1) {
		bytes += b.meta[n].Size
		n++
	}
	group := b.meta[:n]
	rest := b.meta[n:]
	pend, err := b.ap.prepare(ctx, len(group))
	if err != nil {
		return err
	}
	items, sizes := b.appendItems(group, pend)
	if err := b.recordPending(ctx, group, pend); err != nil {
		return err
	}
	dstUIDs, err := b.ap.send(ctx, items)
	if err != nil {
		return b.groupFailed(ctx, group, rest, err)
	}
	if err := hook(ctx, "appended"); err != nil {
		return err
	}
	box := b.box
	b.meta = rest
	b.singly = max(b.singly-len(group), 0)
	box.mapAppended(pend.DstUIDValidity, uidsOf(group), dstUIDs)
	box.LastUID, box.Pending, box.PendingUID, box.PendingSrc = group[len(group)-1].UID, nil, 0, nil
	box.Copied += int64(len(group))
	if err := b.state.save(b.path); err != nil {
		return err
	}
	for _, s := range sizes {
		b.p.add(s)
	}
	return nil
}

// appendItems are the APPEND's items of group, whose pending record is
// pend: each message is opened when its turn in the APPEND comes, its
// size that of the FETCH's literal, read from the source just then
// (RFC822.SIZE only sized the group), and counted in sizes.
func (b *batchSend) appendItems(group []*commands.Message, pend *pendingAppend) ([]appendItem, []int64) {
	items := make([]appendItem, len(group))
	sizes := make([]int64, len(group))
	// dirty: a size of the record changed and not saved yet (a
	// literal of another size than RFC822.SIZE, sizeDiffers; a
	// CRLFSize, bareLFsEnded): saved once, before the last bytes
	// of the group's last message.
	dirty := false
	for i, m := range group {
		pb := &pulledBody{p: b.bodies, uid: m.UID, n: &sizes[i], empty: b.hooks.empty,
			sized: func(n int64) error { sizeDiffers(pend, i, n, &dirty); return nil },
			ended: func(lfs int64) error {
				return bareLFsEnded(pend, i, lfs, &dirty, func() error { return b.state.save(b.path) })
			}}
		items[i] = appendItem{open: pb.openSized, flags: appendableFlags(m.Flags), date: m.InternalDate,
			binary: b.box.isBinary(m.UID)} // literal8 with BINARY
	}
	return items, sizes
}

// recordPending records group as the entry's pending group, pend, and
// saves the state, before the group is sent.
func (b *batchSend) recordPending(ctx context.Context, group []*commands.Message, pend *pendingAppend) error {
	box := b.box
	// What the next run looks for when UIDNEXT says the group
	// landed (appender.confirm): each message's RFC822.SIZE on
	// the source (its literal's, as a rule: 0 is unknown, an
	// empty message goes as a blank line; when it is not, an
	// Exchange's, sizeDiffers records the literal's size before
	// the message is sent) and the INTERNALDATE the APPEND sets.
	// A message going as literal8 has no size told: a server may
	// rewrite a binary part. A date a server may not keep is not
	// recorded (recordedDate).
	pend.Messages = make([]pendingMsg, len(group))
	now := time.Now()
	for i, m := range group {
		pend.Messages[i].Date = recordedDate(m.InternalDate, now)
		if undatedAppend(m.InternalDate) {
			pend.Undated++
		}
		if m.Size > 0 && !(b.ap.binary && box.isBinary(m.UID)) {
			pend.Messages[i].Size = m.Size
		}
	}
	if err := savePending(func() {
		box.Pending, box.PendingUID, box.PendingSrc = pend, group[len(group)-1].UID, uidsOf(group)
	}, func() {
		box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
	}, func() error { return b.state.save(b.path) }); err != nil {
		return err
	}
	return hook(ctx, "pending")
}

// groupFailed handles err, the failure of the APPEND of group (rest are
// the messages after it): nil when the batch goes on, the group sent
// again one message at a time or its message skipped; else the batch's
// error.
func (b *batchSend) groupFailed(ctx context.Context, group, rest []*commands.Message, err error) error {
	ap, box := b.ap, b.box
	// An Open the APPEND left running (its context ended)
	// is over before bodies (cur) is looked at.
	ap.settle()
	if notAppended(err) {
		// Refused: the group is not pending any more (and
		// is sent again by the next run).
		box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
		if serr := b.state.save(b.path); serr != nil {
			return errors.Join(err, serr)
		}
	}
	if ap.retrySingly(len(group), err) {
		// Refused NO (full, a message too big or one
		// the destination will not take): nothing of the
		// group was appended. Its messages go one at a
		// time, so that those it takes are copied.
		if b.hooks.note != nil {
			b.hooks.note(fmt.Sprintf("the destination refused the APPEND of UIDs %d to %d (%v): sending them one at a time", group[0].UID, group[len(group)-1].UID, err))
		}
		b.singly = len(group)
		b.fetchBodies(ctx)
		return nil
	}
	if len(group) == 1 && ap.binary && box.isBinary(group[0].UID) && notAppended(err) && binaryRefusal(err) {
		return b.binaryRefused(ctx, group[0].UID, rest, err)
	}
	if errors.Is(err, wire.ErrNUL) && errors.Is(err, session.ErrAborted) && b.bodies.cur != 0 {
		// Met in a message's literal (not in an
		// argument, refused before anything was sent).
		return b.unsendableNUL(b.bodies.cur, group[0].UID, err)
	}
	if errors.Is(err, commands.ErrTooBig) && notAppended(err) && b.bodies.cur != 0 {
		// Over APPENDLIMIT by the size of its literal,
		// though not by its RFC822.SIZE (checked above):
		// found when its turn came, in the middle of a
		// MULTIAPPEND (the session aborted) or before
		// its own APPEND.
		return b.unsendableTooBig(b.bodies.cur, group[0].UID, err)
	}
	return nameRefused(len(group), func() string { return fmt.Sprintf("UID %d", group[0].UID) }, err)
}

// binaryRefused handles the refusal err of the message of source UID
// uid, holding a NUL, sent alone as literal8, and refused all the same
// (Cyrus: "NO Message contains NUL characters"): it cannot be sent.
// Skipped with --skip-unsendable, which left it stopping the mailbox at
// every run: the batch goes on with rest.
func (b *batchSend) binaryRefused(ctx context.Context, uid uint32, rest []*commands.Message, err error) error {
	if b.hooks.skip == nil {
		return binaryRefusedError(fmt.Sprintf("UID %d", uid), err)
	}
	b.hooks.skip(uid, fmt.Sprintf("holds a NUL byte, which the destination refused even as literal8 (%v)", err))
	if err := b.state.save(b.path); err != nil {
		return err
	}
	b.meta = rest
	b.singly = max(b.singly-1, 0)
	if len(b.meta) > 0 {
		b.fetchBodies(ctx) // the rest's, from the next message
	}
	return nil
}

// sizeDiffers is called with n, the size of the literal the source sent
// for message i of the pending group p, when its turn in the APPEND comes,
// before a byte of it is sent. When n is not the size p records for it
// (the source's RFC822.SIZE: a source whose RFC822.SIZE is not the size of
// what it sends, as Exchange's, TestCopyWrongRFC822Size), the next run
// would not find the message by its size on the destination (whose
// RFC822.SIZE is the literal's) and would send again a group that landed:
// a duplicate at every interrupted run. The record then takes n, the size
// the destination will report, and *dirty says so: the state is saved
// once for the group, before the last bytes of its last message go out
// (bareLFsEnded), not once for each such message (an Exchange source,
// whose RFC822.SIZE differs for every message, cost a synced save per
// message: TestCopyWrongRFC822SizeSavesPerGroup). A group cannot land
// before those bytes (a MULTIAPPEND lands whole; without one, groups are
// of one message): a run that dies before the save leaves on disk the
// record of a group that did not land (UIDNEXT unmoved, or its messages
// not found: sent again, as they must be); once the save is done the
// record holds the sizes the destination will report. A message
// recorded without a size (0: literal8, or none told) keeps none. Every
// other message keeps its own size: a group whose dates are not recorded
// (recordedDate) is still told by its sizes, and a message is not matched
// by its date alone to another client's (TestCopySizeDiffersDateOnlyNotLost).
// On the goroutine of an APPEND's Open, while copyBatch waits for the
// APPEND (or settles it) and touches neither the state nor p.
func sizeDiffers(p *pendingAppend, i int, n int64, dirty *bool) {
	if p == nil || i >= len(p.Messages) || p.Messages[i].Size == 0 || p.Messages[i].Size == n {
		return
	}
	p.Messages[i].Size = n
	*dirty = true
}

// bareLFsEnded is called with lfs, the count of bare LFs (an LF without a
// CR before it) of message i of the pending group p, before the last bytes
// of its literal are sent. Dovecot's RFC822.SIZE counts each as CRLF: the
// size recorded (the literal's, sizeDiffers) would not find the message,
// and the next run would send again a group that landed, a duplicate
// (TestCopyBareLFInterruptedFound). The record takes the size with them
// made CRLF too (pendingMsg.CRLFSize), as import's does, and *dirty says
// so; at the group's last message the state is saved when dirty (by this
// or by sizeDiffers): a group cannot land before its last literal's last
// bytes (a MULTIAPPEND whole; without one, groups are of one message).
// One save per group holding bare LFs or a literal of another size than
// its RFC822.SIZE. A message recorded without a size keeps none. On the
// goroutine that reads the literal for the APPEND, while copyBatch waits
// for it and touches neither the state nor p.
func bareLFsEnded(p *pendingAppend, i int, lfs int64, dirty *bool, save func() error) error {
	if p == nil || i >= len(p.Messages) {
		return nil
	}
	if m := &p.Messages[i]; lfs > 0 && m.Size > 0 {
		m.CRLFSize = m.Size + lfs
		*dirty = true
	}
	if i == len(p.Messages)-1 && *dirty {
		*dirty = false
		return save()
	}
	return nil
}

func uidsOf(ms []*commands.Message) []uint32 {
	u := make([]uint32, len(ms))
	for i, m := range ms {
		u[i] = m.UID
	}
	return u
}

// batchHooks are what copyBatch calls back: empty for each 0-byte
// message (appended as a blank line), note to say something on stderr,
// skip (nil without --skip-unsendable) for a message the destination
// cannot take (why says why), which it records in the state as skipped.
type batchHooks struct {
	empty func(uid uint32)
	note  func(string)
	skip  func(uid uint32, why string)
}

// unsendableNUL handles the failure err of an APPEND in which the message
// of source UID uid was found to hold a NUL byte (wire.ErrNUL, met in the
// middle of its literal: the destination's session is aborted, nothing of
// the group appended). With BINARY on the destination, the UID is
// recorded to go as literal8 (RFC 3516), and so, with --skip-unsendable
// (hooks.skip), is one skipped: the state is saved and a
// *retryMailboxError returned, for copyAccount to copy the mailbox again
// over a new connection. Otherwise the error names the UID and the
// option; when messages came before it in its group (first is the
// group's first UID), the mailbox is first tried again stopping before
// it (stopBefore), so that they are copied. A UID already recorded as
// binary is not tried again (nothing would change).
func (mc *mailboxCopy) unsendableNUL(uid, first uint32, err error) error {
	ap, box, hooks := mc.ap, mc.box, mc.hooks
	const why = "holds a NUL byte"
	switch {
	case ap.binary && !box.isBinary(uid):
		box.Binary = append(box.Binary, uid)
		hooks.note(fmt.Sprintf("UID %d holds a NUL byte: it goes as literal8 (BINARY); copying the mailbox again over a new connection", uid))
	case !ap.binary && hooks.skip != nil:
		hooks.skip(uid, "holds a NUL byte, which the destination (without BINARY) cannot take")
	case ap.binary:
		return stopBefore(box, uid, first, why, &refusedMessageError{what: fmt.Sprintf("UID %d", uid), err: err}, err)
	default:
		// Named by errNeedsBinary, not by the aborted session: the
		// destination can never take it (exit 1, a refusal, as
		// import's), where a lost connection (exit 3) is one a
		// script retries for ever.
		return stopBefore(box, uid, first, why, &refusedMessageError{what: fmt.Sprintf("UID %d", uid), err: fmt.Errorf("%w (--skip-unsendable skips it)", errNeedsBinary)}, err)
	}
	if serr := mc.state.save(mc.path); serr != nil {
		return errors.Join(err, serr)
	}
	return &retryMailboxError{uid: uid, why: why, err: err}
}

// unsendableTooBig handles the failure err (wrapping commands.ErrTooBig)
// of an APPEND, its group's first message first, in which the message of
// source UID uid was found over the destination's APPENDLIMIT when its
// turn came: its literal is larger than its RFC822.SIZE said (a source
// storing bare LF counts LF line ends and sends CRLF), so the check
// before the group was sent let it through. In a MULTIAPPEND the
// destination's session is aborted, nothing of the group appended: the
// error named no message, and --skip-unsendable did not skip it, so the
// mailbox stopped there at every run. With --skip-unsendable (hooks.skip)
// the UID is recorded as skipped, the state saved, and a
// *retryMailboxError returned, for copyAccount to copy the mailbox again
// (over a new connection when the session ended). Without it the error
// names the UID and the option; when messages came before it in its
// group, the mailbox is first tried again stopping before it
// (stopBefore), so that they are copied, as they are when RFC822.SIZE
// tells.
func (mc *mailboxCopy) unsendableTooBig(uid, first uint32, err error) error {
	ap, box, hooks := mc.ap, mc.box, mc.hooks
	if hooks.skip == nil {
		return stopBefore(box, uid, first, "is over the destination's APPENDLIMIT", &refusedMessageError{what: fmt.Sprintf("UID %d", uid), err: fmt.Errorf("over the destination's APPENDLIMIT of %d by the size of its body, though not by its RFC822.SIZE (--skip-unsendable skips it): %w", ap.limit, err)}, err)
	}
	hooks.skip(uid, fmt.Sprintf("is over the destination's APPENDLIMIT of %d by the size of its body (its RFC822.SIZE said less)", ap.limit))
	if serr := mc.state.save(mc.path); serr != nil {
		return errors.Join(err, serr)
	}
	return &retryMailboxError{uid: uid, why: "is over the destination's APPENDLIMIT", err: err}
}

// stopBefore ends a mailbox's copy at the message of source UID uid,
// found unsendable (why says why) when its turn in an APPEND came, in a
// group whose first message is first: named is the error that names it.
// Met mid-MULTIAPPEND, the failure abandoned the whole group, so the
// messages before it were not copied either, at any run. When it was
// not the group's first, box.stopUID and box.stopErr record it (in
// memory) and a *retryMailboxError (err its cause) is returned: the
// mailbox's next try copies the messages before it and then fails with
// named (copyBatch). So too when it was its group's first but err
// aborted the destination's session (met in the middle of its literal):
// the next try, over a new connection, stops before it without sending
// it, and the run ends with a clean LOGOUT (the group's first failed so
// at every run after the first, which starts at it). Otherwise, or when
// this try was already such a retry, named is returned.
func stopBefore(box *copyBox, uid, first uint32, why string, named, err error) error {
	if (uid == first && !errors.Is(err, session.ErrAborted)) || box.stopUID != 0 {
		return named
	}
	box.stopUID, box.stopErr = uid, named
	return &retryMailboxError{uid: uid, why: why, err: err}
}

// bodyPuller hands out the bodies of a FETCH one message at a time.
type bodyPuller struct {
	next func() (*commands.Message, error, bool)
	// cur is the UID of the message opened last: the one being sent.
	cur uint32
	// held is a message whose body came where an earlier UID's was
	// expected (that one left out of the answer: expunged since the
	// metadata FETCH, as Dovecot answers), its section opened (heldSec):
	// it is the next call's.
	held    *commands.Message
	heldSec *commands.Section
}

// pulledBody is the body of one message, taken from the FETCH when its
// turn in the APPEND comes: so an APPEND of several messages reads each
// from the source's connection while it writes it to the destination's,
// with the size the source's literal announced.
type pulledBody struct {
	p     *bodyPuller
	uid   uint32
	n     *int64 // bytes read
	sec   *commands.Section
	r     io.Reader // sec, or a blank line for a 0-byte message
	empty func(uid uint32)
	// sized, when set, is told the size of the literal opened, before
	// the message is sent (sizeDiffers): its error fails the open.
	sized func(n int64) error
	// ended, when set, is told the count of the literal's bare LFs (an
	// LF without a CR before it) before its last bytes are handed on
	// (bareLFsEnded): its error fails the read.
	ended func(bareLFs int64) error
	size  int64 // the literal's, from openSized
	lfs   int64 // bare LFs read so far
	prev  byte  // the last byte read
	done  bool  // ended was called
	// later is the message whose UID comes after its body: checked at
	// the body's end.
	later *commands.Message
}

// vanishedError is the error of a message whose body the source sent as
// NIL (Dovecot's answer for a message another session expunged since this
// one last heard, with OK [EXPUNGEISSUED]), or left out of the body
// FETCH's answer (missing: Dovecot's answer when the expunge came before
// the FETCH, after the metadata FETCH listed it). confirmExpunged then
// decides whether it is skipped.
type vanishedError struct {
	uid     uint32
	missing bool
}

func (e *vanishedError) Error() string {
	if e.missing {
		return fmt.Sprintf("UID %d: expunged on the source during the copy (left out of the FETCH answer)", e.uid)
	}
	return fmt.Sprintf("UID %d: expunged on the source during the copy (its body came back NIL)", e.uid)
}

// openSized opens the body and returns it with its size (an
// appendItem's open). A 0-byte body is a blank line: an APPEND of 0 bytes
// is refused (Dovecot, Cyrus), as import does.
func (b *pulledBody) openSized() (io.Reader, int64, error) {
	if err := b.open(); err != nil {
		return nil, 0, err
	}
	b.p.cur = b.uid
	if b.sec.Nil {
		return nil, 0, &vanishedError{uid: b.uid}
	}
	if b.sec.Size == 0 {
		if b.empty != nil {
			b.empty(b.uid)
		}
		if b.sized != nil {
			if err := b.sized(2); err != nil {
				return nil, 0, err
			}
		}
		b.r, b.size = strings.NewReader("\r\n"), 2
		return b, 2, nil
	}
	if b.sized != nil {
		if err := b.sized(b.sec.Size); err != nil {
			return nil, 0, err
		}
	}
	b.r, b.size = b.sec, b.sec.Size
	return b, b.sec.Size, nil
}

func (b *pulledBody) open() error {
	for {
		var m *commands.Message
		var sec *commands.Section
		if m, sec = b.p.held, b.p.heldSec; m != nil {
			b.p.held, b.p.heldSec = nil, nil
			if m.UID < b.uid {
				continue // not asked for by any call: dropped
			}
		} else {
			var err error
			var ok bool
			m, err, ok = b.p.next()
			if !ok {
				// The answer ended without it: left out, as a
				// message expunged since the metadata FETCH is.
				return &vanishedError{uid: b.uid, missing: true}
			}
			if err != nil {
				return err
			}
			// UID 0: a server that sends the UID after the body
			// ("BODY[] {n} ... UID 7)", Domino's order) of a body
			// streamed before the UID was read. Taken as this one,
			// and checked at its end.
			if m.UID != 0 && m.UID < b.uid {
				continue
			}
			sec, err = m.NextSection()
			if err == io.EOF {
				// No body: a flag change another client made (of
				// this message or a later one), which the server
				// may send amid the answer (RFC 3501 7.4.2). The
				// body comes in another response.
				continue
			}
			if err != nil {
				return err
			}
		}
		if m.UID != 0 && m.UID > b.uid {
			// A later message's body where this one's was expected
			// (the answer is in UID order): this one was left out
			// (Dovecot leaves out, with no NIL body, a message
			// expunged after the metadata FETCH listed it). The later
			// one is kept for its own turn; confirmExpunged decides
			// whether this one is skipped
			// (TestCopyExpungedBeforeMetaFetchFails).
			b.p.held, b.p.heldSec = m, sec
			return &vanishedError{uid: b.uid, missing: true}
		}
		b.sec = sec
		if m.UID == 0 {
			b.later = m
		}
		return nil
	}
}

func (b *pulledBody) Read(p []byte) (int, error) {
	if b.r == nil {
		return 0, fmt.Errorf("UID %d: read before it was opened", b.uid)
	}
	n, err := b.r.Read(p)
	if b.later != nil && (err == io.EOF || *b.n+int64(n) >= b.sec.Size) {
		// The attributes after the section, its UID among them, are
		// read with the section's end: checked before its last bytes
		// are handed on (the APPEND reads exactly the size, and an
		// error beside them would be dropped), so that another
		// message's body never completes this one's literal.
		m := b.later
		b.later = nil
		if _, serr := m.NextSection(); serr != nil && serr != io.EOF {
			return 0, serr
		}
		if m.UID != b.uid {
			return 0, fmt.Errorf("UID %d: the source sent message %d (UID %d) in its place", b.uid, m.SeqNum, m.UID)
		}
	}
	if b.ended != nil && !b.done {
		b.lfs += countBareLFs(p[:n], b.prev)
		if n > 0 {
			b.prev = p[n-1]
		}
		if err == io.EOF || *b.n+int64(n) >= b.size {
			// Before the last bytes are handed on: the APPEND
			// reads exactly the size, and the group cannot land
			// before them.
			b.done = true
			if eerr := b.ended(b.lfs); eerr != nil {
				return 0, eerr
			}
		}
	}
	*b.n += int64(n)
	return n, err
}

// countBareLFs counts the LFs of p without a CR before them; prev is the
// byte before p's first.
func countBareLFs(p []byte, prev byte) int64 {
	var n int64
	for i := bytes.IndexByte(p, '\n'); i >= 0; {
		if i == 0 && prev != '\r' || i > 0 && p[i-1] != '\r' {
			n++
		}
		j := bytes.IndexByte(p[i+1:], '\n')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return n
}
