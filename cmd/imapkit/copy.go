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
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/session"
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
// two cases ("--map INBOX=INBOX --map inbox=inbox": codec.ExactMailbox); the
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
	if old, ok := m.to[k]; ok && !codec.ExactMailbox(old, d) {
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
				return usagef("%s line %d: copy needs SRC-URL DST-URL", printable(o.accounts), a.line)
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
// UTF-8, a NUL or another C0 control character): one of mailboxes, or a --map target. Found inside the run
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
	Src     string `json:"src"`
	Dst     string `json:"dst"`
	Mailbox string `json:"mailbox"`
	// MailboxBase64 is the source mailbox's name as the server listed
	// it (base64), only when Mailbox does not give it back (nameAsSent:
	// not UTF-8, a control character, or not encoding back), as list
	// --json's "name_base64".
	MailboxBase64 string `json:"mailbox_base64,omitempty"`
	DstMailbox    string `json:"dst_mailbox"`
	UIDValidity   uint32 `json:"uidvalidity"`
	LastUID       uint32 `json:"last_uid"`
	Copied        int    `json:"copied"`
	Bytes         int64  `json:"bytes"`
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
		if !dstExists && codec.ExactMailbox(box.Dst, dname) {
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
	// notAsked holds, per UID, the first section not asked for (BODY[HEADER]
	// for BODY[]) of a response that held no body: the body may come in a
	// later response; if it never does, that is the message's error,
	// not an expunge (notCame).
	notAsked map[uint32]error
	// warn, when set, is told the first section skipped for a message
	// whose body came too (once a FETCH).
	warn  func(uid uint32, skipped error)
	noted bool
}

// skippedBeside notes skipped, a section not asked for that came for uid
// beside its body (in its response or another), once a FETCH.
func (p *bodyPuller) skippedBeside(uid uint32, skipped error) {
	if skipped == nil || p.noted || p.warn == nil {
		return
	}
	p.noted = true
	p.warn(uid, skipped)
}

// notCame returns the error of uid, whose body the answer never held:
// the section not asked for that came in its place, if one did, else a
// *vanishedError (left out: expunged, which confirmExpunged checks).
func (p *bodyPuller) notCame(uid uint32) error {
	if e := p.notAsked[uid]; e != nil {
		return fmt.Errorf("UID %d: %w", uid, e)
	}
	return &vanishedError{uid: uid, missing: true}
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
				// message expunged since the metadata FETCH is
				// (or answered with another section only).
				return b.p.notCame(b.uid)
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
			// A section not asked for (BODY[HEADER] beside BODY[])
			// is skipped. A response that holds one and no body is
			// skipped too, as export's: the body may come in a later
			// response; only an answer that never holds it is the
			// message's error (notCame). Before, the copy stopped at
			// that response, the body that came after it not copied.
			var skipped error
			sec, err = nextAsked(m, commands.WholeMessage, &skipped)
			if err != nil {
				return err
			}
			if sec == nil {
				if skipped != nil && m.UID == 0 {
					// Whose it is cannot be told.
					return fmt.Errorf("message %d: %w", m.SeqNum, skipped)
				}
				if skipped != nil && m.UID >= b.uid {
					if b.p.notAsked == nil {
						b.p.notAsked = make(map[uint32]error)
					}
					// At most a batch's UIDs are asked: a
					// hostile answer of other UIDs adds nothing.
					if b.p.notAsked[m.UID] == nil && len(b.p.notAsked) < copyFetchBatch {
						b.p.notAsked[m.UID] = skipped
					}
				}
				// No body: a flag change another client made (of
				// this message or a later one), which the server
				// may send amid the answer (RFC 3501 7.4.2), or
				// another section only. The body comes in another
				// response.
				continue
			}
			if skipped == nil && m.UID != 0 {
				skipped = b.p.notAsked[m.UID]
			}
			b.p.skippedBeside(cmp.Or(m.UID, b.uid), skipped)
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
			return b.p.notCame(b.uid)
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
		// Every section after it is skipped: the UID may come after
		// another section (not asked for, or the body again).
		for {
			_, serr := m.NextSection()
			if serr == io.EOF {
				break
			}
			if serr != nil {
				return 0, serr
			}
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
