package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// DefaultMaxSetLength is the longest message set, in bytes as sent, that
// one command carries unless Client.SetMaxSetLength says otherwise: a
// command line of about 8 KB, which RFC 7162 (section 4) asks clients to
// stay within and RFC 2683 (section 3.2.1.5) asks servers to accept.
// Servers refuse longer lines: Dovecot answers BAD "Too long argument"
// past 64 KiB, Cyrus closes the connection (BYE [TOOBIG]) past about 300
// KB, others at 1,000 bytes. A set of scattered numbers, such as the
// answer of a search in a large mailbox, easily takes more: 20,000 UIDs
// take about 110 KB.
const DefaultMaxSetLength = 8000

// ErrRenumbered is wrapped by the error of a command on a set of
// sequence numbers (Fetch, Store, Copy, Move, Replace, and Search, Sort,
// ESort and Thread whose Criteria hold one) when the mailbox's sequence
// numbers changed after the call and before the
// command was sent (session.Session.Renumbered: a message expunged, by
// another command or another client, that the session read while the
// command waited for its turn, e.g. behind a FETCH another goroutine
// reads or a NOOP queued before it): the numbers would name other
// messages, so the command is not sent (a command not split fails with
// a *session.NotSentError, matching session.ErrNotSent). For
// a command split in several (see Client.SetMaxSetLength), the same
// holds between two of the commands: the rest of the set is not sent.
// An EXPUNGE the session read before the call does not count: numbers
// worked out after it are current; nor does, for a command that waited
// for its turn, an EXPUNGE of a message numbered above every number of
// its set (not one holding "*"): the numbers still name the same
// messages (session.Command.Renumbered; the later parts of a split set
// and Search's criteria are refused at any EXPUNGE). A set holding "1:*" (every message,
// whatever the numbers) and "$" are not checked. Use UIDs in a mailbox
// that changes. Fetch and Store by sequence numbers also end with it
// (not a *session.NotSentError: the command was sent) when an EXPUNGE
// is read during their answer, which RFC 9051 section 5.5 forbids
// (session.Pending.RenumberedInFlight): Fetch before the next message
// it would yield, or at the end, Store with its result (also when the
// answer went past MaxResultBytes; a part of a split Store so answered
// was done: it is in SplitError.Done). Search, SearchIter, Sort,
// SortIter, ESort and Thread by sequence numbers (not their UID forms,
// whose numbers stay) end with it too, after the numbers, which Search,
// SortResult, ESort and Thread return with it, when an EXPUNGE was read
// after a response of the answer that returns numbers
// (session.Pending.RenumberedAfter): those numbers may name other
// messages now. One read before the numbers leaves them current (each
// response is in the numbering of its time): RFC 9051 section 7.5.1
// forbids an EXPUNGE only during FETCH, STORE and SEARCH, and a server
// may send one amid a SORT's or THREAD's answer. A Search that returns
// no numbers (RETURN (SAVE) alone, or COUNT alone) does not end so.
var ErrRenumbered = session.ErrRenumbered

// ErrUIDValidity is wrapped by the error of a command on UIDs that was
// not sent because the selected mailbox's UIDVALIDITY changed (an
// untagged OK [UIDVALIDITY], RFC 9051 section 2.3.1.1) after its call
// (after the first part's call, for a set sent in parts; after Move's or
// Replace's call, for the commands of their fallbacks): the UIDs may name
// other messages, or none. Select the mailbox again and read the UIDs
// anew. It is session.ErrUIDValidity (session.Command.UIDValidity).
var ErrUIDValidity = session.ErrUIDValidity

// SplitError reports a command whose message set was sent as several
// commands, being too long for one command line (Client.SetMaxSetLength),
// some of which failed while others succeeded, or ended without their
// answer: Done holds the messages of those that succeeded (their effect
// stays: flags stored, messages copied, moved or expunged), Sent their
// number, Err the first failure (a *session.StatusError, a context error,
// or one wrapping ErrRenumbered), Unknown whether a part may have run
// beyond Done. When none succeeded and none lost its answer, nothing was
// done and the first error is returned as it is.
type SplitError struct {
	Command     string // the command, e.g. "UID STORE"
	Parts, Sent int    // the commands the set was split into, and those that succeeded
	Done        Set    // the messages of the commands that succeeded
	// Unknown says that a part sent ended without its answer (the
	// connection lost, the context ended): it may have run, beyond Done.
	Unknown bool
	Err     error
}

// Error implements error.
func (e *SplitError) Error() string {
	return "commands: " + e.Command + ": a long set sent as " + strconv.Itoa(e.Parts) +
		" commands; " + strconv.Itoa(e.Sent) + " succeeded, then: " + e.Err.Error()
}

// Unwrap returns the cause. When some parts succeeded, or one may have
// run (Unknown), it does not match session.ErrNotSent, though the part
// that failed was not sent: the parts done make a retry of the whole
// unsafe (a Copy would copy them twice). Err keeps the part's error.
func (e *SplitError) Unwrap() error {
	if e.Sent > 0 || e.Unknown {
		return partlyDone(e.Err)
	}
	return e.Err
}

// SetMaxSetLength sets the longest message set, in bytes as sent, that one
// command of c carries (DefaultMaxSetLength when n is 0; a negative n
// sends every set whole). Fetch, Store, Copy, Move and Expunge send a
// longer set as several commands, each with a part of the set in ascending
// order, and join their answers: the server sees the same work in several
// commands. The parts of a UID set are pipelined where the session allows
// it (Store and Copy: 20,000 UIDs in 15 parts take one round trip, not
// 15), and Fetch sends four parts ahead of the one it reads, of UIDs or,
// when it sets no \Seen, of sequence numbers (BenchmarkFetchLongSetLatency:
// 15 parts over a 10 ms round trip, 187 ms one after the other, 50 ms
// so); the other parts of a set of sequence numbers go one after the
// other. A failure after some of them succeeded is a
// *SplitError saying what was done. On a set of sequence numbers, a change
// of the numbers between two parts (an EXPUNGE) ends the work with an
// error wrapping ErrRenumbered, except in Copy and Move, which ask for the
// messages' UIDs first (as Move's fallback does) and copy or move those
// (an EXPUNGE during that UID SEARCH ends it, nothing copied). On either
// kind, a SELECT (or CLOSE) that another goroutine runs between two parts
// stops the rest, not sent, with an error matching session.ErrReselected
// (session.Command.Selection), rather than send them to another mailbox.
// On UIDs, a part whose turn comes after the mailbox's UIDVALIDITY changed
// is not sent (ErrUIDValidity): Expunge's parts go one at a time, so a
// change in one part's answer stops the rest; Store's and Copy's are
// pipelined, sent together before that answer is read (unless another
// goroutine's command holds some back), so it does not stop them. Search and
// SearchIter search a long Criteria.Set in parts, one after the other,
// with the other criteria, and join the results (not under RETURN (SAVE)).
// The known UIDs of QResync go as one range instead (see QResync). Sort,
// SortIter and ESort leave out a long set numbering as their answer does
// and restrict the answer to it. Sets inside Not or Or, Thread's, a
// Sort's of the other kind, and the "$" of SEARCHRES are sent whole.
func (c *Client) SetMaxSetLength(n int) {
	if n == 0 {
		n = DefaultMaxSetLength
	}
	c.maxSet.Store(int64(n))
}

// maxSetLength returns the limit SetMaxSetLength set, or the default.
func (c *Client) maxSetLength() int64 {
	if n := c.maxSet.Load(); n != 0 {
		return n
	}
	return DefaultMaxSetLength
}

// parts returns set cut into sets whose wire form takes at most the
// client's limit, in ascending order, or set alone when it fits (or is
// "$"). A single range longer than the limit (two 10-digit numbers take
// 21 bytes) makes a part of its own.
func (c *Client) parts(set Set) []Set {
	limit := c.maxSetLength()
	if set.Saved || c.fits(setLength(set.Nums.Ranges())) {
		return []Set{set}
	}
	// The parts are the call's own: a Fetch starts parts while its loop
	// body runs, which may reuse the caller's set. One copy of the
	// whole, made canonical (Canonical's sorted copy of a set in no
	// order, else a Clone), each part a canonical slice of it (no copy
	// per part, nor a check of its order).
	cs, copied := set.Nums.Canonical()
	if !copied {
		cs = cs.Clone()
	}
	rs := cs.Ranges()
	var out []Set
	start, n := 0, int64(0)
	for i, r := range rs {
		l := rangeLength(r)
		if i > start && n+1+l > limit {
			out = append(out, Set{UID: set.UID, Nums: cs.Slice(start, i)})
			start, n = i, 0
		}
		if i > start {
			n++ // the comma
		}
		n += l
	}
	return append(out, Set{UID: set.UID, Nums: cs.Slice(start, len(rs))})
}

// fits reports whether n bytes of message sets fit the client's limit.
func (c *Client) fits(n int64) bool {
	limit := c.maxSetLength()
	return limit < 0 || n <= limit
}

// lineSet returns the ranges of s to send where a superset will do (the
// known UIDs of QRESYNC): s's own when they fit the client's limit (whole
// is true), else the one range from its lowest number to its highest.
func (c *Client) lineSet(s codec.SeqSet) (rs []wire.SeqRange, whole bool) {
	if rs = s.Ranges(); c.fits(setLength(rs)) {
		return rs, true
	}
	cs, _ := s.Canonical()
	rs = cs.Ranges()
	return []wire.SeqRange{{Start: rs[0].Start, Stop: rs[len(rs)-1].Stop}}, false
}

// setLength returns the length of the wire form of rs.
func setLength(rs []wire.SeqRange) int64 {
	n := int64(len(rs)) - 1
	for _, r := range rs {
		n += rangeLength(r)
	}
	return n
}

// rangeLength returns the length of the wire form of r ("5", "1:5",
// "7:*").
func rangeLength(r wire.SeqRange) int64 {
	if r.Stop == r.Start {
		return numLength(r.Start)
	}
	return numLength(r.Start) + 1 + numLength(r.Stop)
}

// numLength returns the length of n as written in a set ("*" for 0).
func numLength(n uint32) int64 {
	l := int64(1)
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

// splitRun is one command split by parts: it runs each part and keeps
// what a *SplitError needs.
type splitRun struct {
	c     *Client
	cmd   string
	parts []Set
	// seqNums says that the set is of sequence numbers that an EXPUNGE
	// makes name other messages (Set.renumberable: not UIDs, not "$",
	// not "1:*"): each command is checked against mark
	// (Command.CheckRenumbered).
	seqNums bool
	mark    uint32 // session.Renumbered at the call, when seqNums
	// star: the set is of sequence numbers and holds "*": its commands
	// are not sent once the mailbox is known empty at their turn
	// (session.Command.NotIfEmpty).
	star bool
	// uids says that the set is of UIDs: each command is checked
	// against uidMark, session.UIDValidityChanges at the call
	// (Command.UIDValidity), when its turn comes: a part whose turn
	// comes after a UIDVALIDITY change is not sent, its UIDs may name
	// other messages. That stops the rest only where the parts go one
	// at a time (UID EXPUNGE: a change in one part's answer stops the
	// next). The parts of UID STORE and UID COPY are pipelined (run:
	// StartBatch), so a change read in one part's answer comes after
	// the others were sent; it stops only those still waiting for
	// their turn (behind another goroutine's command).
	uids    bool
	uidMark uint32
	// noExpunge: a command by sequence numbers during whose answer the
	// server may send no EXPUNGE (STORE; RFC 9051 section 5.5): one read
	// while a part is in flight is that part's error (runPart), unless
	// quiet and the part's answer held no FETCH response nor [MODIFIED].
	noExpunge bool
	// quiet: the answer is meant to hold no numbers (STORE .SILENT): an
	// EXPUNGE during one that holds no FETCH (nor dropped one past
	// MaxResultBytes) and no tagged [MODIFIED] renumbers nothing returned.
	quiet bool
	// selection is session.Selections before the first part, given to
	// each part (Command.Selection, checked even when 0: no mailbox
	// selected yet is a selection too) when there are several (multi):
	// a SELECT another goroutine runs between two parts stops the rest,
	// not sent (session.ErrReselected), rather than send them to
	// another mailbox.
	selection uint32
	multi     bool
	sent      int    // the parts that succeeded
	ok        []bool // which (made when one fails)
	lost      bool   // a part sent ended without its answer (answerLost)
	// done, when set, tells whether the error of a part means that its
	// work was done all the same (Store's *session.ResultTooLargeError:
	// the answer was cut, the flags stored): the part then succeeded.
	done func(error) bool
}

// result returns the error of a part: err, or nil when the part's work
// was done all the same (done).
func (r *splitRun) result(err error) error {
	_, err = r.outcome(err)
	return err
}

// outcome returns the error of a part and whether the part was done: nil
// and true when it succeeded or its work was done all the same (done);
// the error wrapping ErrRenumbered and true for a part done whose answer
// held an EXPUNGE (runPart: the server ran it, its answer is in the
// result).
func (r *splitRun) outcome(err error) (bool, error) {
	if dr, ok := err.(*doneRenumberedError); ok {
		return true, dr.err
	}
	if err != nil && r.done != nil && r.done(err) {
		return true, nil
	}
	if errors.Is(err, session.ErrNoMessages) {
		return true, nil // "*" named no message when the part's turn came: nothing to do
	}
	if err != nil && answerLost(err) {
		r.lost = true
	}
	return err == nil, err
}

// newSplitRun cuts set into parts for command cmd (its name as sent), run
// with ctx (bound to its selection, if it carries one: MailboxState.Bind).
func (c *Client) newSplitRun(ctx context.Context, set Set, cmd string) *splitRun {
	r := &splitRun{c: c, cmd: cmd, parts: c.parts(set), seqNums: set.renumberable(),
		star: !set.UID && !set.Saved && set.Nums.Dynamic()}
	if set.UID && !set.Saved {
		r.uids, r.uidMark = true, c.s.UIDValidityChanges()
	}
	if len(r.parts) > 1 {
		r.selection, r.multi = c.selection(ctx), true
	}
	if r.seqNums {
		// Taken at the call, whatever the number of parts: the caller's
		// numbers name the messages they name now. A command that waits
		// for its turn (behind a FETCH another goroutine reads, behind a
		// NOOP queued before it) may go out after an EXPUNGE the
		// session reads meanwhile, and would then act on other messages
		// (TestStoreSeqQueuedBehindExpunge).
		r.mark = c.s.Renumbered()
	}
	return r
}

// command returns cmd, the command of a part, bound to the mailbox the
// run began in (selection).
func (r *splitRun) command(ctx context.Context, cmd *session.Command) *session.Command {
	cmd.Selection, cmd.CheckSelection = r.selection, r.multi
	// Checked by the session when the command's turn comes, not only
	// before it is queued (check): a command, or a part, that waited
	// behind another goroutine's NOOP went out after the NOOP's EXPUNGE,
	// and acted on the messages that had come to bear the numbers. The
	// part was marked when built (target, seqChecked); its mark is the
	// call's, and the whole set decides (a part of a set holding "1:*"
	// is not checked).
	cmd.CheckRenumbered, cmd.Renumbered = r.seqNums, r.mark
	cmd.CheckUIDValidity, cmd.UIDValidity = r.uids, r.uidMark
	// A set holding "*" names no message once the mailbox is empty
	// (holdsNone, at the call): checked again at the command's turn,
	// which may come after an answer that expunged the last messages.
	cmd.NotIfEmpty = r.star
	return r.c.bound(ctx, cmd)
}

// check returns the error that keeps part i from being sent: the sequence
// numbers changed since the first part.
func (r *splitRun) check(i int) error {
	if i == 0 || !r.seqNums || r.c.s.Renumbered() == r.mark {
		return nil
	}
	return r.c.renumberedError(r.selection, i, len(r.parts), r.cmd)
}

// alsoCtxError is a part's error that also matches the context that ended
// the session under the batch (splitRun.run).
type alsoCtxError struct{ err, ctx error }

func (e *alsoCtxError) Error() string   { return e.err.Error() }
func (e *alsoCtxError) Unwrap() []error { return []error{e.err, e.ctx} }

// renumberedError is the error of part i of n of cmd, not sent because the
// sequence numbers changed since the first part: wrapping ErrRenumbered,
// and session.ErrReselected too when the change is a SELECT (or CLOSE)
// since selection, as the session's own check of a part says (a SELECT
// renumbers too, and was reported as ErrRenumbered alone when this check
// came first). selection is always the count read before the first part:
// 0 is a count like any other (no mailbox selected yet on the session),
// not "unbound".
func (c *Client) renumberedError(selection uint32, i, n int, cmd string) error {
	if c.s.Selections() != selection {
		return &session.NotSentError{Err: fmt.Errorf("%w: %w (before part %d of %d of %s)", session.ErrReselected, ErrRenumbered, i+1, n, cmd)}
	}
	return fmt.Errorf("%w (before part %d of %d of %s)", ErrRenumbered, i+1, n, cmd)
}

// runPart runs one part of sequence numbers (or the whole set) and waits
// for its answer. With noExpunge set (STORE: RFC 9051 section 5.5 allows
// the server no EXPUNGE during its answer), an EXPUNGE the session read
// while the part was in flight makes the answer's error one wrapping
// ErrRenumbered (and the *session.ResultTooLargeError of an answer cut
// past MaxResultBytes, if any), its result kept: the FETCH responses after
// it carry numbers of other messages. The part was done all the same (the
// server ran it): that error is a *doneRenumberedError, which outcome
// counts as done. A quiet part (STORE .SILENT) whose answer held no FETCH
// and no [MODIFIED] returns no numbers, and is not failed so.
func (r *splitRun) runPart(ctx context.Context, cmd *session.Command) (*session.Result, error) {
	if !r.noExpunge {
		return r.c.run(ctx, cmd)
	}
	p, err := r.c.s.Start(ctx, r.c.bound(ctx, cmd))
	if err != nil {
		return nil, err
	}
	res, err := p.Wait(ctx)
	if err == nil || r.done != nil && r.done(err) {
		// The part was done (its answer cut past MaxResultBytes counts
		// as done: the flags were stored), renumbered or not.
		if r.quiet && err == nil && !holdsNumbers(res) {
			return res, nil
		}
		rerr := r.c.renumberedDuring(p, r.cmd)
		if rerr == nil {
			// nil, not err: done has counted what it cut (Store's
			// Dropped), and outcome would count it again.
			return res, nil
		}
		if err != nil {
			rerr = fmt.Errorf("%w; %w", rerr, err)
		}
		return res, &doneRenumberedError{rerr}
	}
	return res, err
}

// holdsNumbers reports whether res holds sequence numbers a quiet part
// returns: a FETCH response, or a tagged [MODIFIED] (RFC 7162 section
// 3.1.3: the messages not stored, by the numbers of the command).
func holdsNumbers(res *session.Result) bool {
	if res == nil {
		return false
	}
	if st := res.Status; st != nil && st.Code != nil && st.Code.Kind == codec.CodeModified {
		return true
	}
	return holdsFetch(res)
}

// holdsFetch reports whether res holds a FETCH response.
func holdsFetch(res *session.Result) bool {
	if res == nil {
		return false
	}
	for _, d := range res.Data {
		if _, ok := d.(*codec.Fetch); ok {
			return true
		}
	}
	return false
}

// doneRenumberedError is runPart's error for a part the server ran whose
// answer held an EXPUNGE: the part was done (splitRun.outcome), and its
// error, err, wraps ErrRenumbered.
type doneRenumberedError struct{ err error }

func (e *doneRenumberedError) Error() string { return e.err.Error() }
func (e *doneRenumberedError) Unwrap() error { return e.err }

// succeeded records part i as done.
func (r *splitRun) succeeded(i int) {
	if r.ok == nil {
		r.ok = make([]bool, len(r.parts))
	}
	r.ok[i] = true
	r.sent++
}

// fail returns err as the result of the whole: as it is when no part
// succeeded and none lost its answer, else a *SplitError.
func (r *splitRun) fail(err error) error {
	if r.sent == 0 && !r.lost {
		return err
	}
	if r.ok == nil {
		r.ok = make([]bool, len(r.parts))
	}
	e := &SplitError{Command: r.cmd, Parts: len(r.parts), Sent: r.sent, Unknown: r.lost, Err: err}
	e.Done.UID = r.parts[0].UID
	var rs []wire.SeqRange
	for i, p := range r.parts {
		if r.ok[i] {
			rs = append(rs, p.Nums.Ranges()...)
		}
	}
	e.Done.Nums = codec.SeqSetOf(rs...)
	return e
}

// run sends the command that build makes for each part and gives each
// answer that came (a Result, with or without an error) to add with the
// part's index in parts, in the order of the parts. A single part is run
// as it is, its error returned unchanged. The parts of a UID set are pipelined (one write, then their
// answers in turn: a part that fails does not stop the others, sent
// already); the parts of a set of sequence numbers go one after the
// other, each after checking that the numbers did not change, and the
// first failure stops the rest.
func (r *splitRun) run(ctx context.Context, build func(part Set) *session.Command, add func(i int, r *session.Result)) error {
	if len(r.parts) == 1 {
		res, err := r.runPart(ctx, r.command(ctx, build(r.parts[0])))
		if res != nil {
			add(0, res)
		}
		return r.result(err)
	}
	if !r.parts[0].UID {
		for i, p := range r.parts {
			if err := r.check(i); err != nil {
				return r.fail(err)
			}
			res, err := r.runPart(ctx, r.command(ctx, build(p)))
			if res != nil {
				add(i, res)
			}
			done, err := r.outcome(err)
			if done {
				r.succeeded(i)
			}
			if err != nil {
				return r.fail(err)
			}
		}
		return nil
	}
	cmds := make([]*session.Command, len(r.parts))
	for i, p := range r.parts {
		cmds[i] = r.command(ctx, build(p))
	}
	ps, startErr := r.c.s.StartBatch(ctx, cmds)
	var first error
	for i, p := range ps {
		res, err := p.Wait(ctx)
		if res != nil {
			add(i, res)
		}
		if err = r.result(err); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		r.succeeded(i)
	}
	if first == nil {
		first = startErr // the parts from len(ps) on were not sent
	} else if cerr := ctx.Err(); cerr != nil && !errors.Is(first, cerr) && errors.Is(startErr, cerr) {
		// The batch's own context cut a later part's write and ended
		// the session: the earlier parts have the session's error,
		// which does not match the context's (it was not theirs
		// alone); the whole's matches it, as a single command's would.
		first = &alsoCtxError{err: first, ctx: cerr}
	}
	if first != nil {
		return r.fail(first)
	}
	return nil
}
