package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/wire"
)

// The commands on messages of one mailbox: store, cp, mv, expunge. Sets are
// UIDs ("1:5,7,9:*", as search prints them) unless --seq says they are
// sequence numbers. cp and mv work within one server; "copy SRC-URL
// DST-URL" copies between servers.

// setFlag is the --seq flag of the commands that take a message set.
func setFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("seq", false, "the set holds message sequence numbers, not UIDs")
}

// parseSet parses a message set argument: UIDs, or sequence numbers with
// seq. "-" stands for a set read from stdin (output.readSet): it parses
// here as an empty set, for the checks made before connecting.
func parseSet(s string, seq bool) (commands.Set, error) {
	if s == "-" {
		return commands.Set{UID: !seq}, nil
	}
	n, err := codec.ParseSeqSet([]byte(s))
	if err != nil || n.IsEmpty() {
		return commands.Set{}, usagef("bad message set %q: numbers and ranges such as 1:5,7,9:*", s)
	}
	return commands.SetOf(!seq, n), nil
}

// stdinSetHelp ends the help of the commands that take a set.
const stdinSetHelp = "A set of \"-\" is read from stdin: numbers and ranges one per line or separated\n" +
	"by commas, as search prints them (imapkit search URL INBOX SEEN BEFORE 1-Jan-2020 |\n" +
	"imapkit mv URL INBOX - Archive). A long set goes to the server in several commands."

// maxStdinSet bounds the numbers and ranges a set from stdin may hold
// (the UIDs of a search of a few million messages).
const maxStdinSet = 10_000_000

// readSet returns the set of the argument s: parseSet's, or for "-" the
// numbers and ranges on stdin, separated by white space or commas, as
// search prints them (one per line) or as a set is written (1:5,7). An
// empty stdin is an empty set: the commands send nothing for it. Reading
// stdin stops when ctx ends (o.stdinUntil).
func (o *output) readSet(ctx context.Context, s string, seq bool) (commands.Set, error) {
	if s != "-" {
		return parseSet(s, seq)
	}
	sc := bufio.NewScanner(o.stdinUntil(ctx))
	sc.Split(scanSetTokens)
	var rs []wire.SeqRange
	for sc.Scan() {
		t := sc.Bytes()
		n, err := codec.ParseSeqSet(t)
		if err != nil || n.IsEmpty() {
			return commands.Set{}, usagef("bad message set on stdin: %q: numbers and ranges such as 1:5,7,9:*, one per line or separated by commas", printable(string(t)))
		}
		if rs = append(rs, n.Ranges()...); len(rs) > maxStdinSet {
			return commands.Set{}, usagef("more than %d numbers and ranges on stdin", maxStdinSet)
		}
	}
	if err := sc.Err(); err != nil {
		return commands.Set{}, fmt.Errorf("reading the set from stdin: %w", err)
	}
	return commands.Set{UID: !seq, Nums: codec.SeqSetOf(rs...)}, nil // one sort, one copy
}

// scanSetTokens is a bufio.SplitFunc: the tokens between white space and
// commas, each at most bufio.MaxScanTokenSize long.
func scanSetTokens(data []byte, atEOF bool) (advance int, token []byte, err error) {
	sep := func(c byte) bool { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	start := 0
	for start < len(data) && sep(data[start]) {
		start++
	}
	for i := start; i < len(data); i++ {
		if sep(data[i]) {
			return i + 1, data[start:i], nil
		}
	}
	if atEOF && len(data) > start {
		return len(data), data[start:], nil
	}
	return start, nil, nil
}

// checkSet checks the set argument at index i before connecting.
func checkSet(i int) func(args []string, _ any) error {
	return func(args []string, _ any) error {
		if len(args) > i {
			_, err := parseSet(args[i], false)
			return err
		}
		return nil
	}
}

// storeOpts are store's own flags.
type storeOpts struct {
	seq    *bool
	silent *bool
	// remove is set by "-FLAGS", which the flag parser takes for a flag
	// wherever it stands.
	remove *bool
}

var storeCommand = serverCmd{
	name: "store", args: "MAILBOX SET +FLAGS|-FLAGS|FLAGS FLAG...", min: 3, max: -1,
	summary: "add, remove or replace the flags of messages",
	help: "Change the flags of the messages in SET (UIDs, or sequence numbers with --seq) of\n" +
		"MAILBOX: +FLAGS adds, -FLAGS removes, FLAGS replaces (FLAGS alone clears them).\n" +
		"Prints the new flags of each message. Example: store URL INBOX 4:7 +FLAGS '\\Seen'.\n" +
		stdinSetHelp,
	flags: func(fs *flag.FlagSet) any {
		return &storeOpts{
			seq:    setFlag(fs),
			silent: fs.Bool("silent", false, "ask the server not to answer with the new flags (.SILENT)"),
			remove: fs.Bool("FLAGS", false, "the -FLAGS operation: remove the flags"),
		}
	},
	check: func(args []string, own any) error {
		_, _, _, err := storeArgs(args, own.(*storeOpts))
		return err
	},
	run: runStore,
}

// storeArgs parses store's positional arguments: MAILBOX SET OP FLAG...,
// or MAILBOX SET FLAG... after -FLAGS.
func storeArgs(args []string, so *storeOpts) (set commands.Set, op commands.StoreOp, flags []string, err error) {
	if set, err = parseSet(args[1], *so.seq); err != nil {
		return
	}
	rest := args[2:]
	if *so.remove {
		op = commands.RemoveFlags
	} else {
		switch strings.ToUpper(rest[0]) {
		case "+FLAGS":
			op = commands.AddFlags
		case "FLAGS":
			op = commands.ReplaceFlags
		default:
			return set, 0, nil, usagef("store: %q is not +FLAGS, -FLAGS or FLAGS", rest[0])
		}
		rest = rest[1:]
	}
	for _, a := range rest {
		flags = append(flags, listFlags(a)...)
	}
	if len(flags) == 0 && op != commands.ReplaceFlags {
		return set, 0, nil, usagef("store: +FLAGS and -FLAGS need at least one flag")
	}
	return set, op, flags, nil
}

// jsonFlags is one message of store --json.
type jsonFlags struct {
	Seq   uint32   `json:"seq"`
	UID   uint32   `json:"uid,omitempty"`
	Flags []string `json:"flags"`
}

func runStore(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	so := own.(*storeOpts)
	_, op, flags, err := storeArgs(args, so)
	if err != nil {
		return err
	}
	set, err := o.readSet(ctx, args[1], *so.seq)
	if err != nil {
		return err
	}
	if _, err := cn.c.Select(ctx, args[0], nil); err != nil {
		return err
	}
	res, err := cn.c.Store(ctx, set, op, flags, &commands.StoreOptions{Silent: *so.silent})
	if res == nil {
		return err
	}
	// With an error too (an EXPUNGE amid the answer: ErrRenumbered, the
	// store done), what the server answered is printed first.
	if perr := printStored(res, o); perr != nil {
		return perr
	}
	return err
}

// printStored prints store's result: the messages whose flags the answer
// gave, and on stderr the set not stored ([MODIFIED]).
func printStored(res *commands.StoreResult, o *output) error {
	if !res.Modified.IsEmpty() {
		fmt.Fprintf(o.stderr, "imapkit store: not stored (changed meanwhile): %s\n", res.Modified)
	}
	tw := o.table()
	if !o.json {
		fmt.Fprintln(tw, "SEQ\tUID\tFLAGS")
	}
	for _, m := range res.Messages {
		if !m.Has(codec.FetchFlags) {
			continue
		}
		if o.json {
			if err := o.emit(jsonFlags{Seq: m.SeqNum, UID: m.UID, Flags: nonNil(m.Flags)}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\n", m.SeqNum, m.UID, printable(strings.Join(m.Flags, " ")))
	}
	return tw.Flush()
}

// copyMove is cp and mv: the messages in SET of MAILBOX go to DEST on the
// same server.
func copyMove(name, verb string, move bool) serverCmd {
	what := "Copy"
	if move {
		what = "Move"
	}
	return serverCmd{
		name: name, args: "MAILBOX SET DEST", min: 3, max: 3,
		summary: strings.ToLower(what) + " messages to another mailbox of the same server",
		help: what + " the messages in SET (UIDs, or sequence numbers with --seq) of MAILBOX to DEST, on\n" +
			"the same server, and print the UIDs they got there (COPYUID, when the server\n" +
			"has UIDPLUS). A long set goes in parts. UIDs whose answer had no usable\n" +
			"COPYUID (a part's, or the whole set's), from a server with UIDPLUS, are printed\n" +
			"on a line of their own (--json: \"unmapped\"), copied with no destination UID\n" +
			"known. To copy between servers, use \"imapkit copy SRC-URL DST-URL\".\n" +
			stdinSetHelp,
		flags: func(fs *flag.FlagSet) any { return setFlag(fs) },
		check: checkSet(1),
		run: func(ctx context.Context, cn *conn, args []string, own any, o *output) error {
			set, err := o.readSet(ctx, args[1], *own.(*bool))
			if err != nil {
				return err
			}
			if set.IsEmpty() {
				fmt.Fprintf(o.stderr, "imapkit %s: no message in the set\n", name)
				return nil
			}
			if move {
				_, err = cn.c.Select(ctx, args[0], nil)
			} else {
				_, err = cn.c.Examine(ctx, args[0])
			}
			if err != nil {
				return err
			}
			var res *commands.CopyResult
			if move {
				res, err = cn.c.Move(ctx, set, args[2])
			} else {
				res, err = cn.c.Copy(ctx, set, args[2])
			}
			did := verb
			// uidplus: the server sends COPYUIDs (UIDPLUS, or
			// IMAP4rev2, which has it). Without, no destination UID
			// is ever known, and the lines say that it lacks it, not
			// that its COPYUID was missing.
			uidplus := cn.c.Session().HasCap("UIDPLUS") || cn.c.Session().HasCap("IMAP4rev2")
			var mie *commands.MoveIncompleteError
			if errors.As(err, &mie) {
				res, did = mie.Copy, moveDone(mie)
			}
			// A MOVE refused after it moved some: their
			// COPYUID, else their count, is printed beside the
			// NO (before, only the NO, as if none had moved).
			var pme *commands.PartlyMovedError
			errors.As(err, &pme)
			var cu *commands.CopyUIDError
			if err != nil && res == nil && !errors.As(err, &cu) && (pme == nil || pme.Removed == 0) {
				return err
			}
			j := jsonCopy{Mailbox: args[0], To: args[2], Set: set.Nums.String()}
			if mie != nil {
				j.Removed, j.Left = mie.Removed.Nums.String(), mie.Left.Nums.String()
			}
			if pme != nil && res == nil {
				j.RemovedCount = pme.Removed
			}
			if move && err == nil && res != nil && res.Src.IsEmpty() && res.Unmapped.IsEmpty() && !set.Saved && !set.Nums.Dynamic() {
				// The library's empty result for a MOVE answered
				// OK with no COPYUID, EXPUNGE or VANISHED: none of
				// the messages named was there (as fetch of a UID
				// that does not exist, exit 1). Before, mv said
				// they had moved.
				err = fmt.Errorf("nothing moved: no message of %s is in %s (the server's OK came with no COPYUID, EXPUNGE or VANISHED): %w", setLabel(set), printable(args[0]), errNotFound)
			}
			if res != nil {
				j.UIDValidity, j.Src, j.Dst = res.UIDValidity, asSent(res.Src), asSent(res.Dst)
				if !res.Unmapped.IsEmpty() {
					j.Unmapped = res.Unmapped.String()
				}
				if move {
					j.NotMoved = movedNothing(set, res, err)
				}
			} else if err == nil && set.UID && !set.Saved && uidplus {
				// No part had a usable COPYUID (the library's
				// nil result), from a server that sends them:
				// every UID of the set was copied (or moved)
				// with no destination UID known, as a part's
				// are when another part had one. Before, they
				// were listed only then, and a script reading
				// "unmapped" found nothing where all was.
				j.Unmapped = set.Nums.String()
				if !move {
					// A UIDPLUS server answers a COPY of UIDs
					// it does not have OK with no COPYUID
					// (Dovecot: "OK No messages found."): only
					// those the mailbox has were copied, and
					// none is as fetch of a UID that does not
					// exist (exit 1). Before, cp said all were
					// copied. (A search that fails leaves
					// them all listed, as before.)
					if found, serr := searchUIDs(ctx, cn.c, []string{"UID", set.Nums.String()}); serr == nil {
						// A set with "*" names the largest UID,
						// which the set as given may not hold
						// ("5:*" of UIDs 1 to 3 is UID 3): the
						// server's answer says which.
						if !set.Nums.Dynamic() {
							found = set.Nums.Intersect(found)
						}
						j.Unmapped = found.String()
						if j.Unmapped == "" {
							err = fmt.Errorf("nothing copied: no message of %s is in %s (the server's OK came with no COPYUID): %w", setLabel(set), printable(args[0]), errNotFound)
						}
					}
				}
			} else if cu != nil && set.UID && !set.Saved {
				// A COPYUID naming UIDs not sent, and no other
				// kept: the server copied (moved) the parts it
				// answered OK, with no mapping to trust. Before,
				// nothing was printed.
				j.Unmapped = copiedUnmapped(set, err).String()
			}
			if o.json {
				if werr := o.emit(j); werr != nil {
					return werr
				}
			} else if res != nil && err == nil && j.Src == "" && j.Unmapped == "" {
				// Nothing sent: a set of sequence numbers
				// with "*" in an empty mailbox (the library's
				// empty result). Said as an empty set is;
				// before, nothing at all was printed.
				fmt.Fprintf(o.stderr, "imapkit %s: no message in the set\n", name)
			} else if res != nil || j.Unmapped != "" || j.RemovedCount > 0 {
				if j.Src != "" {
					fmt.Fprintf(o.stdout, "%s %s UID %s to %s UID %s (UIDVALIDITY %d)\n", did, printable(args[0]), j.Src, printable(args[2]), j.Dst, j.UIDValidity)
				}
				if j.Unmapped != "" {
					// A part of a long set answered with no
					// usable COPYUID: copied (or moved) all the
					// same, with no destination UID known. Left
					// out, the line above read as if only the
					// mapped UIDs had gone.
					// Without UIDPLUS (an mv in parts some of
					// which moved nothing), no COPYUID was to
					// come: said so, not "missing".
					why := "the server's COPYUID for them was missing or unusable"
					if !uidplus {
						why = "the server lacks UIDPLUS, whose COPYUID would name them"
					}
					fmt.Fprintf(o.stdout, "%s %s UID %s to %s, destination UID unknown (%s)\n", did, printable(args[0]), j.Unmapped, printable(args[2]), why)
				}
				if j.RemovedCount > 0 {
					why := "it sent no COPYUID"
					if !uidplus {
						why = "the server lacks UIDPLUS, whose COPYUID would name them"
					}
					fmt.Fprintf(o.stdout, "%s %d messages of %s %s to %s before the server refused the rest (which ones is unknown: %s)\n", did, j.RemovedCount, printable(args[0]), setLabel(set), printable(args[2]), why)
				}
				if j.NotMoved != "" {
					// The parts of a long set answered OK
					// with nothing to say they moved (no
					// COPYUID, EXPUNGE or VANISHED): named, as
					// those that moved are above. Before, the
					// lines read as if the rest of the set
					// had never been asked for.
					what := "no COPYUID, EXPUNGE or VANISHED"
					if !uidplus {
						what = "no EXPUNGE or VANISHED (and no COPYUID: the server lacks UIDPLUS)"
					}
					fmt.Fprintf(o.stdout, "not moved: %s UID %s (the server answered their parts OK with %s: they are not in %s)\n", printable(args[0]), j.NotMoved, what, printable(args[0]))
				}
				printMoveRest(o.stdout, did, args[0], j)
			} else if errors.Is(err, errNotFound) {
				// Nothing copied: the error says so.
			} else {
				fmt.Fprintf(o.stdout, "%s %s %s to %s\n", did, printable(args[0]), j.Set, printable(args[2]))
			}
			return err
		},
	}
}

// movedNothing returns the UIDs of the parts of an mv of set (res, err:
// Move's) that the server answered OK with no COPYUID, EXPUNGE or
// VANISHED, which moved nothing (commands.CopyResult: a result with an
// empty Src whose Unmapped holds the UIDs of the parts that moved): those
// of the parts answered OK (the whole set, or a *commands.SplitError's
// Done when it stopped part-way) that Unmapped does not hold. "" for any
// other result (a COPYUID kept: its Src names what moved, and a UID of
// the set it leaves out is one the mailbox did not have).
func movedNothing(set commands.Set, res *commands.CopyResult, err error) string {
	if res == nil || !res.Src.IsEmpty() || res.Unmapped.IsEmpty() || !set.UID || set.Saved || set.Nums.Dynamic() {
		return ""
	}
	answered := set.Nums
	var se *commands.SplitError
	if errors.As(err, &se) {
		answered = se.Done.Nums
	}
	rest := answered.Clone()
	rest.Remove(res.Unmapped)
	return rest.String()
}

// copiedUnmapped returns the UIDs of set that a cp or mv whose COPYUID
// named UIDs not sent (a *commands.CopyUIDError, no result) copied or
// moved, the server said, with no destination UID known: the whole set,
// or, when it stopped part-way (a *commands.SplitError beside it), the
// parts that succeeded (Done); the error, on stderr, says what was not.
func copiedUnmapped(set commands.Set, err error) codec.SeqSet {
	var se *commands.SplitError
	if errors.As(err, &se) {
		return se.Done.Nums
	}
	return set.Nums
}

// asSent writes a COPYUID set in the order the server gave it, which
// pairs the source UIDs with the destination UIDs (the n-th with the
// n-th); String would sort each set on its own.
func asSent(s codec.SeqSet) string {
	var b []byte
	for i, r := range s.Ranges() {
		if i > 0 {
			b = append(b, ',')
		}
		b = codec.SeqSetOf(r).AppendTo(b)
	}
	return string(b)
}

// jsonCopy is cp --json and mv --json.
type jsonCopy struct {
	Mailbox     string `json:"mailbox"`
	To          string `json:"to"`
	Set         string `json:"set"`
	UIDValidity uint32 `json:"uidvalidity,omitempty"`
	Src         string `json:"src,omitempty"`
	Dst         string `json:"dst,omitempty"`
	// Unmapped are the source UIDs copied (or moved) with no destination
	// UID known, in ascending order: those of the parts of a long set
	// whose answer had no usable COPYUID (commands.CopyResult.Unmapped),
	// or, no part having had one, the whole set of UIDs, when the server
	// has UIDPLUS (one without sends no COPYUID: nothing is listed, but
	// for an mv in parts some of which moved nothing, whose result lists
	// the UIDs of the parts that moved, with a server with or without
	// UIDPLUS); with
	// a COPYUID naming UIDs not sent (commands.CopyUIDError) and none
	// kept, the UIDs of the parts that succeeded (copiedUnmapped).
	Unmapped string `json:"unmapped,omitempty"`
	// Removed and Left are of an mv that did not end as asked
	// (commands.MoveIncompleteError): the source UIDs removed from the
	// source (moved), and those left there, not shown copied (another
	// client expunged them meanwhile, or the server's COPYUID left them
	// out or named UIDs not sent).
	Removed string `json:"removed,omitempty"`
	Left    string `json:"left,omitempty"`
	// RemovedCount is of an mv the server refused after it moved some
	// messages with no COPYUID naming them (commands.PartlyMovedError):
	// how many its EXPUNGE and VANISHED responses said left the source.
	RemovedCount uint64 `json:"removed_count,omitempty"`
	// NotMoved are the source UIDs of an mv in parts whose parts the
	// server answered OK with no COPYUID, EXPUNGE or VANISHED: they
	// moved nothing (not in the source), where other parts moved
	// theirs (Unmapped) (movedNothing).
	NotMoved string `json:"not_moved,omitempty"`
}

// setLabel is set as mv's lines name it: "UID 1:4", or "1:4" for
// sequence numbers.
func setLabel(set commands.Set) string {
	if set.UID {
		return "UID " + set.Nums.String()
	}
	return set.Nums.String()
}

// moveDone is the verb of mv's lines for a move that did not end as asked:
// "moved" when it removed from the source every message the COPY shows
// copied (it left only those not shown copied: Left, a line of their
// own); else "copied", not removed from the source, or not all (a line
// says which were: printMoveRest), and the error, on stderr, says what is
// left flagged \Deleted.
func moveDone(mie *commands.MoveIncompleteError) string {
	if mie.Unknown {
		return "copied (whether the move finished is unknown)"
	}
	if mie.Removed.IsEmpty() || !mie.Deleted.IsEmpty() {
		return "copied (the move did not finish)"
	}
	rest := mie.Removed.Nums.Clone()
	var copied codec.SeqSet
	if mie.Copy != nil {
		copied = mie.Copy.Src.Clone()
		copied.AddRanges(mie.Copy.Unmapped.Ranges()...)
	}
	copied.Remove(rest)
	if !copied.IsEmpty() {
		return "copied (the move did not finish)"
	}
	return "moved"
}

// printMoveRest ends mv's lines for a move that did not end as asked: the
// UIDs it removed from the source when the lines above say "copied" (an
// expunge in parts that stopped part-way), and those it left in the
// source, not shown copied.
func printMoveRest(w io.Writer, did, mailbox string, j jsonCopy) {
	if j.Removed != "" && did != "moved" {
		fmt.Fprintf(w, "removed from %s (moved) UID %s\n", printable(mailbox), j.Removed)
	}
	if j.Left != "" {
		fmt.Fprintf(w, "left in %s UID %s (not shown copied by the server's COPYUID; not removed)\n", printable(mailbox), j.Left)
	}
}

var cpCommand = copyMove("cp", "copied", false)
var mvCommand = copyMove("mv", "moved", true)

var expungeCommand = serverCmd{
	name: "expunge", args: "MAILBOX [UIDSET]", min: 1, max: 2,
	summary: "remove the messages flagged \\Deleted",
	help: "Remove the messages of MAILBOX flagged \\Deleted; with UIDSET, only those of them\n" +
		"(UID EXPUNGE, UIDPLUS). Prints how many went.\n" + stdinSetHelp,
	check: checkSet(1),
	run:   runExpunge,
}

func runExpunge(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
	var set *commands.Set
	if len(args) > 1 {
		s, err := o.readSet(ctx, args[1], false)
		if err != nil {
			return err
		}
		set = &s
	}
	if _, err := cn.c.Select(ctx, args[0], nil); err != nil {
		return err
	}
	res, err := cn.c.Expunge(ctx, set)
	if err != nil {
		return err
	}
	n := len(res.SeqNums)
	if v, ok := res.Vanished.Len(); ok {
		n += int(v)
	}
	if o.json {
		return o.emit(struct {
			Mailbox  string   `json:"mailbox"`
			Expunged int      `json:"expunged"`
			SeqNums  []uint32 `json:"seqnums"`
			Vanished string   `json:"vanished,omitempty"`
		}{args[0], n, nonNilNums(res.SeqNums), res.Vanished.String()})
	}
	_, err = fmt.Fprintf(o.stdout, "expunged %d messages from %s\n", n, printable(args[0]))
	return err
}

func nonNilNums(s []uint32) []uint32 {
	if s == nil {
		return []uint32{}
	}
	return s
}

// nextAsked returns m's next section that is want (NIL or not), nil at
// the response's end, skipping those that are not: a server may send
// another section beside the one asked for (Yandex's BODY[2.MIME] before
// BODY[2] for BODY.PEEK[2]), which is no reason to refuse an answer that
// holds the one asked for. *other is set to the sectionMismatch error of
// the first section skipped (when nil before), for the caller to note, or
// to fail with when the section asked for never comes.
func nextAsked(m *commands.Message, want commands.FetchSection, other *error) (*commands.Section, error) {
	for {
		s, err := m.NextSection()
		if err != nil {
			if err == io.EOF {
				return nil, nil
			}
			return nil, err
		}
		if e := sectionMismatch(s, want); e != nil {
			if *other == nil {
				*other = e
			}
			continue
		}
		return s, nil
	}
}

// sectionMismatch returns an error when s, a section the server sent, is
// not the section want asked for: another part or specifier (a broken
// server's, or proxy's, BODY[HEADER] for BODY[]), or a partial one
// starting elsewhere than want does. fetch and export wrote whatever came
// as the section asked for: a header alone, exported as the whole message
// with exit 0. The RFC822 forms stand for their BODY equivalents; the
// field names of HEADER.FIELDS are not compared (servers echo them in
// their own case and order); an origin of 0 for a section asked whole is
// taken (Yandex sends BODY[2]<0> for a part it has no value for).
func sectionMismatch(s *commands.Section, want commands.FetchSection) error {
	kind, spec := s.Kind, s.Specifier
	switch kind {
	case codec.SectionRFC822:
		kind = codec.SectionBody
	case codec.SectionRFC822Header:
		kind, spec = codec.SectionBody, "HEADER"
	case codec.SectionRFC822Text:
		kind, spec = codec.SectionBody, "TEXT"
	}
	wantKind := codec.SectionBody
	if want.Binary {
		wantKind = codec.SectionBinary
	}
	same := kind == wantKind && strings.EqualFold(spec, want.Specifier) && len(s.Part) == len(want.Part)
	for i := 0; same && i < len(s.Part); i++ {
		same = int64(s.Part[i]) == int64(want.Part[i])
	}
	if want.Count > 0 {
		same = same && s.HasOrigin && s.Origin == want.Offset
	} else {
		same = same && (!s.HasOrigin || s.Origin == 0)
	}
	if same {
		return nil
	}
	got := s.Kind.String()
	if s.Kind == codec.SectionBody || s.Kind == codec.SectionBinary {
		got += "[" + s.Spec + "]"
	}
	if s.HasOrigin {
		got += fmt.Sprintf("<%d>", s.Origin)
	}
	return fmt.Errorf("the server sent %s for %s: not the section asked for", printable(got), want)
}
