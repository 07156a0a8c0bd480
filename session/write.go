// The write path: starting commands (the state table, the pipelining
// rules, the command bound), encoding and sending them, literals and
// continuation lines, and waiting for their end.

package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// Run sends cmd, waits for its tagged response and returns its result.
// A tagged NO or BAD is a *StatusError (with the Result still returned).
// An AUTHENTICATE whose OK came with a challenge that no OnContinue
// checked (no Command.OnContinue: its caller has no Pending to answer
// it) is refused at once: the session is aborted and Run's error matches
// ErrCancelAccepted, rather than every later command held for the
// command bound (Pending.Continue).
func (s *Session) Run(ctx context.Context, cmd *Command) (*Result, error) {
	p, err := s.Start(ctx, cmd)
	if err != nil {
		return nil, err
	}
	r, err := p.Wait(ctx)
	if herr := p.refuseHeldForRun(); herr != nil {
		if err != nil {
			return nil, err
		}
		return nil, herr
	}
	return r, err
}

// Start sends cmd and returns at once: the command is in flight. Commands
// started together are pipelined, within RFC 9051 section 5.5: a command
// that must run alone (STARTTLS, AUTHENTICATE, IDLE, COMPRESS, LOGIN,
// SELECT, ...) waits until the others are done and holds back the next
// ones, and commands that use message sequence numbers are not pipelined
// with commands during which the server may send EXPUNGE. Nor are two
// whose answers could not be told apart: FETCH or STORE commands whose
// message sets may overlap, and commands that take the same kind of
// untagged data with nothing in it to name its command (two SEARCH, two
// LIST, ...; see docs/session.md). A command that must wait does so in
// its order of arrival.
func (s *Session) Start(ctx context.Context, cmd *Command) (*Pending, error) {
	ps, err := s.start(ctx, []*Command{cmd})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// StartBatch starts several commands and sends them in one write when they
// may be pipelined.
func (s *Session) StartBatch(ctx context.Context, cmds []*Command) ([]*Pending, error) {
	return s.start(ctx, cmds)
}

func (s *Session) start(ctx context.Context, cmds []*Command) ([]*Pending, error) {
	ps := make([]*Pending, 0, len(cmds))
	for i, cmd := range cmds {
		// The batch's earlier commands may still be in the buffer: they
		// are sent before waiting for them to end (register flushes
		// them, once, when cmd must wait for its turn, and clears
		// unflushed), or before returning when cmd fails. Once flushed
		// (or left to flushBehind, or found with the session ended)
		// they are not flushed again: a second flush that gave up
		// waiting for the write lock started a second flushBehind.
		unflushed := i > 0
		p, err := s.register(ctx, cmd, &unflushed)
		if err != nil {
			if unflushed {
				if ferr := s.flush(ctx); ferr != nil {
					// The flush, cut by ctx, ended the session:
					// that is what the caller must know (cmd was
					// not sent either way).
					err = notSent(ferr)
				}
			}
			return ps, err
		}
		if err := s.send(ctx, p, i == len(cmds)-1); err != nil {
			// Failed in flight (the session ended while its
			// synchronizing literal waited for the server), cmd may
			// be in its OnData: none runs once Start has returned,
			// as once Wait has (TestOnDataNotRunAfterCancelledStartReturned).
			p.dataQuiet()
			return ps, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// register waits until cmd may start, checks the state and registers it.
// With *flush (flush may be nil: false), what is buffered is flushed once
// (without mu) before it waits, and *flush is cleared then.
func (s *Session) register(ctx context.Context, cmd *Command, flush *bool) (*Pending, error) {
	// CR, LF or NUL in a name would end the line and start another
	// command: refused before the name is normalised.
	if strings.ContainsAny(cmd.Name, "\r\n\x00") {
		return nil, ErrInvalidCommand
	}
	name := normalName(cmd.Name)
	if name == "" {
		return nil, ErrInvalidCommand
	}
	wname := name
	if name == "UID" {
		// imaplib's uid("FETCH", ...): the subcommand is the first
		// argument; its rules, routing and data apply.
		name = "UID " + uidSubcommand(cmd)
	}
	info, known := lookup(name)
	switch {
	case cmd.Rules != nil:
		info, known = compile(*cmd.Rules), true
	case !known:
		info = unknownCommand
	}
	if err := ctx.Err(); err != nil {
		return nil, notSent(err)
	}
	var set *targetSet // the messages whose FETCH responses cmd takes
	var ts targetSet
	if info.bySet {
		ts = commandSet(cmd, name, wname, info.uids)
		set = &ts
	}
	s.mu.Lock()
	var w *waiter // cmd's place among the commands waiting for their turn
	for {
		if s.err != nil {
			err := s.err
			s.stopWaitingLocked(w)
			s.mu.Unlock()
			// Closed (Close, or the end of a LOGOUT) or aborted:
			// nothing of this command was sent, as docs/errors.md
			// says, like a command that waited behind the LOGOUT.
			return nil, notSent(err)
		}
		if s.canStart(info, set) && s.turnLocked(info, set, w) {
			break
		}
		if flush != nil && *flush {
			s.mu.Unlock()
			*flush = false
			if err := s.flush(ctx); err != nil {
				// The context ended while the batch's earlier
				// commands were flushed, and the write was cut:
				// the session is aborted (their bytes may be half
				// out), and this command was not sent. Its error
				// matches the context's and the *AbortError, as
				// that of a command whose own write is cut
				// (ownCancelError), and ErrNotSent
				// (TestBatchFlushCutErrorMatchesAborted).
				s.mu.Lock()
				s.stopWaitingLocked(w)
				s.mu.Unlock()
				return nil, notSent(err)
			}
			s.mu.Lock()
			if err := ctx.Err(); err != nil && s.err == nil {
				// The context ended while the flush waited for
				// the write lock (the bytes left to flushBehind),
				// or as the flush ended: this command was not
				// sent, and the session goes on. (Ended, the
				// session's error is given, at the loop's head.)
				s.stopWaitingLocked(w)
				s.mu.Unlock()
				return nil, notSent(err)
			}
			continue
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.demanders++ // the commands in flight must end: the reader must go on
		if w == nil && !info.waits {
			w = s.waitLocked(info, set)
			if cmd.CheckRenumbered && cmd.Renumbered == s.renumbered.Load() {
				// Followed while it waits (renumberedLocked): an
				// EXPUNGE above its numbers does not make it stale.
				if m := seqSetMax(cmd.Messages); m != 0 {
					w.renumberAt, w.renumberMax, w.renumberOK = s.renumbered.Load(), m, true
				}
			}
		}
		if w != nil && !w.free {
			w.free = !s.eldersLocked(w)
		}
		if s.counts.alone > 0 && !info.waits {
			// What holds cmd back runs alone: it is told (AfterBlocking).
			// Not for a command that waits on the server (IDLE): two IDLE
			// loops would end each other's IDLE in turn, forever; it
			// waits for the IDLE in flight to end on its own
			// (docs/session.md; commands.ErrIdleActive).
			for _, q := range s.inflight {
				q.blockLocked()
			}
		}
		s.pullCond.Broadcast()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			s.demanders--
			s.stopWaitingLocked(w)
			s.mu.Unlock()
			return nil, notSent(ctx.Err())
		}
		s.mu.Lock()
		s.demanders--
	}
	s.stopWaitingLocked(w)
	if s.state == StateLogout {
		// LOGOUT is over (a command that waited behind it, or one that
		// came after it): the server is closing the connection, and a
		// command written now would reach it after LOGOUT, or fail on
		// the closed connection as if the session had been aborted.
		s.mu.Unlock()
		return nil, notSent(ErrClosed)
	}
	if (cmd.Selection != 0 || cmd.CheckSelection) && cmd.Selection != uint32(s.selections) {
		s.mu.Unlock()
		return nil, notSent(ErrReselected)
	}
	if cmd.CheckRenumbered && cmd.Renumbered != s.renumbered.Load() && !(w != nil && w.renumberOK && w.renumberAt == s.renumbered.Load()) {
		// Sequence numbers may have changed since the mark: refused,
		// but when the command waited for its turn from the mark on
		// and every change since was an EXPUNGE above its largest
		// number (TestStoreSentAfterHigherExpunge).
		s.mu.Unlock()
		return nil, notSent(ErrRenumbered)
	}
	if cmd.CheckUIDValidity && cmd.UIDValidity != s.count.validities {
		s.mu.Unlock()
		return nil, notSent(ErrUIDValidity)
	}
	if cmd.NotIfEmpty && s.count.known && s.count.n == 0 {
		// Decided when the command's turn comes, not at its call: a
		// FETCH 1:* that waited behind a command whose answer expunged
		// the last message would reach the server on an empty mailbox
		// (commands' TestStarAfterLastExpungeNotSent).
		s.mu.Unlock()
		return nil, notSent(ErrNoMessages)
	}
	if known && !cmd.AnyState && !info.allowed.has(s.state) {
		st := s.state
		s.mu.Unlock()
		return nil, &StateError{Command: name, State: st, Allowed: info.allowed.list()}
	}
	p := &Pending{s: s, tag: s.nextTag(), name: name, wname: wname, cmd: cmd, info: info, start: time.Now(),
		renumberedAt: s.renumbered.Load()}
	if set != nil && set.known {
		// Read once: noteTarget keeps it. A caller's Messages was
		// copied (commandSet), as the caller may reuse it once Start
		// returns.
		p.set, p.hasSet = set.set, true
	}
	if cmd.Pull {
		p.pull = &puller{}
	}
	if info.transition == ToSelected {
		// As imaplib: the responses kept from the mailbox selected before
		// are forgotten.
		s.clearStoreLocked()
		s.selectingLocked()
		p.selection = s.selections
	}
	if !info.waits {
		// Set before p is in flight: the session's bound timer reads it
		// from then on.
		if d := s.commandBound(ctx); d > 0 {
			p.bound = d
			if _, ok := ctx.Deadline(); !ok && p.pull != nil {
				// The caller's loop sets the pace: only its waits
				// for the server count (boundFired).
				p.pull.paced = true
			}
		}
	}
	s.addInflightLocked(p) // the stall timeout starts when it is sent (armStall)
	if c := cmd.Catch; c != nil && c.s == s {
		c.markLocked()
	}
	s.mu.Unlock()
	return p, nil
}

// commandBound returns how long a command started with ctx may run before
// the session is aborted (0: no bound).
func (s *Session) commandBound(ctx context.Context) time.Duration {
	bound := orDuration(s.opts.CommandTimeout, DefaultCommandTimeout)
	if bound == 0 {
		return 0
	}
	if dl, ok := ctx.Deadline(); ok {
		grace := orDuration(s.opts.StallTimeout, DefaultStallTimeout)
		if grace == 0 {
			grace = bound
		}
		return time.Until(dl) + grace
	}
	return bound
}

// A waitQueue holds the commands waiting in register for their turn, IDLE
// excepted, in the order they came, so that whose turn it is follows the
// order of arrival between the commands that run alone and the others:
//
//   - a command that does not run alone lets the commands that run alone
//     and came before it go first, and does not overtake one that waits
//     (a steady stream of pipelined commands would otherwise keep a SELECT
//     or a LOGOUT from ever starting: the commands in flight would never
//     all be over at once);
//   - a command that runs alone lets every command that came before it go
//     first (IDLE's restart would otherwise hold the others back again and
//     again);
//   - a command that waits on the server (IDLE) goes only when no other
//     command waits;
//   - a command that does not run alone does not overtake a waiting one
//     it may not be in flight beside (the pipelining rules of canStart: a
//     command that uses sequence numbers and one during which the server
//     may send EXPUNGE, two whose message sets may overlap, or two that
//     take untagged data that cannot be told apart), once that
//     one waits only for commands that started after it came (free).
//     Otherwise pipelined commands that each overlap the next in time
//     keep it waiting for ever: a FETCH by sequence number behind a
//     stream of UID commands from other goroutines. Until then it may be
//     overtaken: what it waits for may be a FETCH whose caller's loop runs
//     other commands, which must not wait for the FETCH to end.
//
// Commands that do not run alone still start together, in any order,
// when the pipelining rules let them (canStart).
type waitQueue struct {
	head, tail *waiter
	alone      *waiter // the first waiter that runs alone (nil: none)
	n          uint64  // tickets given out
	// held is an AUTHENTICATE whose tagged OK the reader took with its
	// last challenge not answered (sent together: holdLocked): every
	// command waits behind it, as behind one in flight that runs alone,
	// until the client's verdict on the challenge (releaseLocked, or the
	// session's abort), at the latest its command bound (boundFired).
	// Here, not in Session: its size class.
	held *Pending
}

// A waiter is one command's place in the waitQueue.
type waiter struct {
	prev, next *waiter
	ticket     uint64 // its order of arrival

	// The command's kind and message set, for canStart's rules: the
	// waiter holds back later commands it may not be in flight beside.
	info   commandInfo
	set    targetSet
	hasSet bool
	since  time.Time // when it came: commands in flight then are its elders
	free   bool      // no elder it may not be in flight beside is left (under mu)

	// For a command with Command.CheckRenumbered whose count was
	// current when it began to wait, and whose message set's largest
	// number is known (renumberMax): renumberOK says that every
	// renumbering since was an EXPUNGE of a message numbered above
	// renumberMax, which leaves the set's numbers naming the same
	// messages; renumberAt is the Session.renumbered count it was last
	// checked at (renumberedLocked, under mu).
	renumberAt  uint32
	renumberMax uint32
	renumberOK  bool
}

// waitLocked puts a command of kind info with message set set (nil: none)
// that must wait for its turn at the end of the queue (under mu).
func (s *Session) waitLocked(info commandInfo, set *targetSet) *waiter {
	q := s.wq
	if q == nil {
		q = &waitQueue{}
		s.wq = q
	}
	q.n++
	w := &waiter{prev: q.tail, ticket: q.n, info: info, since: time.Now()}
	if set != nil {
		w.hasSet, w.set = true, *set
	}
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	if info.alone && q.alone == nil {
		q.alone = w
	}
	return w
}

// seqSetMax returns the largest number of set, or 0 when it is nil,
// empty, or holds "*" (its largest number is the mailbox's last).
func seqSetMax(set *codec.SeqSet) uint32 {
	if set == nil {
		return 0
	}
	var m uint32
	for _, r := range set.Ranges() {
		if r.Start == 0 || r.Stop == 0 {
			return 0
		}
		m = max(m, r.Start, r.Stop)
	}
	return m
}

// renumberedLocked counts an event after which sequence numbers may name
// other messages (Renumbered): the EXPUNGE of message seq, or, with seq 0,
// anything else (a VANISHED, a mailbox selected or closed). A waiting
// command it leaves unharmed (an EXPUNGE above its set's numbers) keeps
// its count current (waiter.renumberOK), under mu.
func (s *Session) renumberedLocked(seq uint32) {
	s.renumbered.Add(1)
	if s.wq == nil {
		return
	}
	for w := s.wq.head; w != nil; w = w.next {
		if !w.renumberOK {
			continue
		}
		if seq == 0 || seq <= w.renumberMax || w.renumberAt+1 != s.renumbered.Load() {
			w.renumberOK = false
			continue
		}
		w.renumberAt = s.renumbered.Load()
	}
}

// turnLocked reports whether the order of arrival lets a command of kind
// info with message set set (nil: none) start now, given its place w in
// the queue (nil: it has none), under mu. The pipelining rules are
// canStart's.
func (s *Session) turnLocked(info commandInfo, set *targetSet, w *waiter) bool {
	q := s.wq
	switch {
	case q == nil || q.head == nil:
		return true
	case info.waits:
		return !info.alone && q.alone == nil
	case info.alone:
		return q.head == w
	case q.alone != nil && (w == nil || w.ticket > q.alone.ticket):
		return false
	}
	for x := q.head; x != nil && x != w; x = x.next {
		if x.free && conflict(info, set, x.info, x.setOrNil()) {
			return false
		}
	}
	return true
}

// setOrNil returns the waiting command's message set, or nil for none.
func (w *waiter) setOrNil() *targetSet {
	if !w.hasSet {
		return nil
	}
	return &w.set
}

// conflict reports whether the pipelining rules keep two commands, of
// kinds a and b with message sets as and bs (nil: none), from being in
// flight together (canStart's rules, for one pair; running alone is the
// queue's own).
func conflict(a commandInfo, as *targetSet, b commandInfo, bs *targetSet) bool {
	return a.seqNums && !b.noExpunge || b.seqNums && !a.noExpunge ||
		as != nil && bs != nil && as.overlaps(bs) || clash(a.untold, a.keyed, b.untold, b.keyed)
}

// eldersLocked reports whether a command in flight that started before w
// came keeps w waiting by the pipelining rules (under mu).
func (s *Session) eldersLocked(w *waiter) bool {
	for _, p := range s.inflight {
		if p.start.After(w.since) {
			continue
		}
		if p.info.alone {
			return true
		}
		var set *targetSet
		var ps targetSet
		if p.info.bySet {
			ps = targetSet{set: p.set, uids: p.info.uids, known: p.hasSet}
			set = &ps
		}
		if conflict(p.info, set, w.info, w.setOrNil()) {
			return true
		}
	}
	return false
}

// stopWaitingLocked takes a command's place w out of the queue (nil:
// none), and wakes the commands waiting for their turn to look again
// (under mu).
func (s *Session) stopWaitingLocked(w *waiter) {
	if w == nil {
		return
	}
	q := s.wq
	if q.alone == w {
		q.alone = nil
		for n := w.next; n != nil; n = n.next {
			if n.info.alone {
				q.alone = n
				break
			}
		}
	}
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	s.changedLocked()
}

// canStart applies the pipelining rules (under mu): a command that runs
// alone starts when nothing is in flight (nor held: holdLocked) and holds
// back the others; a
// command that uses sequence numbers does not start beside one during
// which the server may send EXPUNGE, nor the other way round; a command
// that takes FETCH responses by its message set (set) does not start
// beside another whose set may overlap it; two commands that take a kind
// of untagged data that cannot be told apart (commandInfo.untold) do
// not start together.
func (s *Session) canStart(info commandInfo, set *targetSet) bool {
	c := &s.counts
	if len(s.inflight) == 0 && c.alone == 0 {
		// c.alone with nothing in flight: an AUTHENTICATE held
		// (holdLocked).
		return true
	}
	switch {
	case info.alone || c.alone > 0:
		return false
	case info.seqNums && c.expunging > 0:
		return false
	case c.seqNums > 0 && !info.noExpunge:
		return false
	case set != nil && s.hull.busy() && s.overlapsLocked(set):
		return false
	case info.untold != 0 && s.untoldLocked(info.untold, info.keyed):
		return false
	}
	return true
}

// untoldLocked reports whether a command in flight clashes with one that
// takes the untold kinds of untagged data mask, keyed of them by key
// (commandInfo.untold), under mu.
func (s *Session) untoldLocked(mask, keyed uint8) bool {
	for _, p := range s.inflight {
		if clash(p.info.untold, p.info.keyed, mask, keyed) {
			return true
		}
	}
	return false
}

// A targetSet is the message set of a command that takes FETCH responses
// by it. Untagged FETCH responses carry no tag: the session gives each to
// the oldest such command whose set holds the message (targetLocked), so
// two of them with overlapping sets in flight at once cannot tell their
// responses apart (Dovecot answers two pipelined FETCH 1:* with their
// data interleaved, and the first took it all). Such commands are not
// pipelined: the second waits for the first to end (the reader reads on
// meanwhile, queuing what a pulled first command's caller has not taken
// yet, within MaxResultBytes). Commands with sets apart still pipeline.
type targetSet struct {
	set   codec.SeqSet
	uids  bool // UIDs, not sequence numbers
	known bool // the set could be read: else it may hold anything
}

// overlapsLocked reports whether a command in flight that takes FETCH
// responses by its set may share a message with set (under mu). Commands
// pipelined in the order of their messages (UID STORE 1, 2, 3, ...) are
// told apart by the hull of the sets in flight, without looking at each.
func (s *Session) overlapsLocked(set *targetSet) bool {
	if s.hull.apart(set) {
		return false
	}
	for _, p := range s.inflight {
		if !p.info.bySet {
			continue
		}
		q := targetSet{set: p.set, uids: p.info.uids, known: p.hasSet}
		if set.overlaps(&q) {
			return true
		}
	}
	return false
}

// overlaps reports whether a and b may share a message: when either is
// not known, they are of different kinds (UIDs and sequence numbers),
// either holds "*" (the largest number in use, which the session does not
// know), or they share a number.
func (a *targetSet) overlaps(b *targetSet) bool {
	if !a.known || !b.known || a.uids != b.uids || a.set.Dynamic() || b.set.Dynamic() {
		return true
	}
	return a.set.Overlaps(b.set)
}

// encodeCommand encodes the command line "tag wname args" with e: the
// words of wname (normalName's: one space between them) as atoms, then
// what args writes (nil: nothing).
func encodeCommand(e *wire.Encoder, tag, wname string, args func(*wire.Encoder)) (*wire.Encoded, error) {
	e.Begin(tag).SP()
	for w, rest, more := strings.Cut(wname, " "); ; w, rest, more = strings.Cut(rest, " ") {
		e.Atom(w)
		if !more {
			break
		}
		e.SP()
	}
	if args != nil {
		args(e)
	}
	return e.End()
}

// A setHull bounds the message sets of the commands in flight that take
// FETCH responses by them, for each kind (0: sequence numbers, 1: UIDs):
// how many there are, and the lowest and highest number any holds (or
// all: one holds "*" or could not be read). It only grows while such
// commands are in flight and starts again when none is: it answers "apart
// from all of them" quickly, and overlapsLocked looks at each command
// otherwise.
type setHull struct {
	n      [2]int32
	all    [2]bool
	lo, hi [2]uint32
}

// hullAddLocked takes p's set into the hull (under mu).
func (s *Session) hullAddLocked(p *Pending) {
	h := s.hull
	if h == nil {
		h = &setHull{}
		s.hull = h
	}
	k := kind(p.info.uids)
	lo, hi, ok := bounds(p.set)
	if h.n[k] == 0 {
		h.all[k], h.lo[k], h.hi[k] = false, lo, hi
	}
	h.n[k]++
	if !p.hasSet || !ok {
		h.all[k] = true
		return
	}
	h.lo[k], h.hi[k] = min(h.lo[k], lo), max(h.hi[k], hi)
}

// busy reports whether a command that takes FETCH responses by its set is
// in flight.
func (h *setHull) busy() bool { return h != nil && h.n[0]+h.n[1] > 0 }

// remove takes a command of the kind uids out of the hull's count.
func (h *setHull) remove(uids bool) {
	if h != nil {
		h.n[kind(uids)]--
	}
}

// apart reports whether set is known to share no message with any command
// in the hull: none of the other kind is in flight, and set lies wholly
// below or above those of its kind.
func (h *setHull) apart(set *targetSet) bool {
	if h == nil || !set.known {
		return false
	}
	k := kind(set.uids)
	if h.n[1-k] > 0 {
		return false
	}
	if h.n[k] == 0 {
		return true
	}
	lo, hi, ok := bounds(set.set)
	return ok && !h.all[k] && (hi < h.lo[k] || lo > h.hi[k])
}

func kind(uids bool) int {
	if uids {
		return 1
	}
	return 0
}

// bounds returns the lowest and highest number of set; ok is false when
// it holds "*" or nothing.
func bounds(set codec.SeqSet) (lo, hi uint32, ok bool) {
	rs := set.Ranges()
	if len(rs) == 0 || set.Dynamic() {
		return 0, 0, false
	}
	lo, hi = ^uint32(0), 0
	for _, r := range rs {
		a, b := min(r.Start, r.Stop), max(r.Start, r.Stop)
		lo, hi = min(lo, a), max(hi, b)
	}
	return lo, hi, true
}

// commandSet returns the message set of cmd, which takes FETCH responses
// by it: Command.Messages, or for a raw command the set its arguments
// start with, read from a trial encoding (as noteTarget reads it once the
// command is sent); not known when neither gives one. The set is
// canonical (routingSet), and Messages is copied: the caller may reuse
// it once Start returns.
func commandSet(cmd *Command, name, wname string, uids bool) targetSet {
	if cmd.Messages != nil {
		return targetSet{set: routingSet(cmd.Messages.Clone()), uids: uids, known: true}
	}
	t := targetSet{uids: uids}
	if cmd.Args == nil {
		return t
	}
	e := encoderPool.Get().(*wire.Encoder)
	defer func() {
		e.Reset()
		encoderPool.Put(e)
	}()
	wc, err := encodeCommand(e, "x", wname, cmd.Args)
	if err != nil || len(wc.Parts) == 0 {
		return t
	}
	if set, ok := leadingSet(wc.Parts[0].Data, "x", name, wname); ok {
		t.set, t.known = routingSet(set), true
	}
	return t
}

// routingSet returns set, which the session owns, canonical (compacted in
// place): the FETCH and VANISHED responses of a command are routed by its
// set, once per response and per command in flight (Contains, Overlaps,
// Dynamic, uidsDone), which costs O(log r) or O(1) on a canonical set of r
// ranges but O(r) on one in the order the caller wrote it (a raw UID
// FETCH of UIDs in descending order), and a server chooses how many
// responses it sends. Only the numbers matter for routing, not their
// order.
func routingSet(set codec.SeqSet) codec.SeqSet {
	set.Compact()
	return set
}

// armStall turns the stall timeout on while commands wait for the server,
// IDLE from its "+" until DONE excepted (under mu; Pending.serverWait):
// while the server owes an answer (stallOwedLocked).
// A command only registered, or sent but with its bytes still in the
// write buffer (left for the next command's writer to flush, while that
// command's Args runs), owes the server nothing yet, and the server it
// nothing: the time its caller's Args takes, its wait for the write lock,
// or the next command's Args, is not the server's silence (a slow Args, a
// 1.5 MiB message built there, was cut as "no byte from the server"
// before a byte went out). It is called where that can change: when
// bytes went to the connection (armOut), when a command ends, when IDLE
// is sent its DONE, and around the wait for a "+" (waitLiteral).
func (s *Session) armStall() {
	s.wc.arm(s.counts.waits == 0 && s.stallOwedLocked())
}

// stallOwedLocked reports whether a command in flight is owed an answer
// by the server (under mu): one whose bytes have all been handed to the
// connection, or one waiting for a "+" (its bytes up to the literal are
// flushed before it waits). The commands sent are in s.inflight in the
// order their bytes went out, so when any is out the first one is. Not
// when the first was sent a "+" that the client will answer and has not
// yet (Pending.contOwed: a running Wait's OnContinue fetching a token, a
// caller answering from Continuations): the server waits for the client's
// line, and the commands sent after it come after that line.
func (s *Session) stallOwedLocked() bool {
	return s.nsent > 0 && (s.contWait || (s.inflight[0].sent() && !s.inflight[0].contOwed))
}

// armOut starts the stall timeout when a command's bytes have just been
// handed to the connection (under the write lock, not under mu): a flush,
// or a write past the buffer. Already counting, it goes on counting.
func (s *Session) armOut() {
	s.mu.Lock()
	s.armStall()
	s.mu.Unlock()
}

// secretWrite marks what is written next, under the write lock, as a
// secret: the write buffers it goes through are zeroed before they go back
// to writerPool, and under COMPRESS the deflater, whose window keeps it, is
// not given back to its pool (flushWriter.release).
func (s *Session) secretWrite() {
	s.bw.secret = true
	if fw, ok := s.cw.w.(*flushWriter); ok {
		fw.secret = true
	}
}

// unlockWrite releases the write lock. The Encoder goes back to its pool
// when nothing is left to write (releaseEncoder): here, for every writer
// that empties the buffer (send, flush, flushBehind's goroutine, which
// flushes what the commands before an unsent one left in the buffer after
// that one's send returned: TestUnsentAfterBufferedReleasesEncoder). A
// deflater that idleWait could not give back, because a write held the
// lock then, goes back now. The flag is looked at again after the
// unlock: idleWait may set it between the first look and the unlock, and
// its tryLock then failed.
func (s *Session) unlockWrite() {
	for {
		s.releaseEncoder()
		if s.bw.secret && s.bw.Buffered() == 0 {
			s.bw.secret = false // the buffer went back zeroed, or none was taken
		}
		if s.idleDeflater.Swap(false) {
			if fw, ok := s.cw.w.(*flushWriter); ok {
				fw.release()
			}
		}
		s.wmu.Unlock()
		if !s.idleDeflater.Load() || !s.wmu.tryLock() {
			return
		}
	}
}

// encoderPool holds the Encoders of sessions that have nothing to write:
// like its write buffer (lazyWriter), an idle session holds no Encoder, nor
// the buffer its largest command grew.
var encoderPool = sync.Pool{New: func() any { return new(wire.Encoder) }}

// releaseEncoder gives the session's Encoder back to encoderPool, emptied
// (Encoder.Reset: no command bytes, no secret, no body stay with it, of
// any command it encoded since it was taken), when the write buffer was
// given back too (zeroed if a secret went through it: lazyWriter.giveBack):
// the commands sent are all out. Under the write lock, as it is released
// (unlockWrite).
func (s *Session) releaseEncoder() {
	if s.enc == nil || s.bw.Buffered() > 0 {
		return
	}
	s.enc.Reset()
	encoderPool.Put(s.enc)
	s.enc = nil
}

// send encodes and writes p's command. A failure after bytes may have gone
// out aborts the session: the connection can no longer be trusted to be in
// step.
func (s *Session) send(ctx context.Context, p *Pending, last bool) error {
	s.mu.Lock()
	s.wwaiters++
	s.mu.Unlock()
	locked := s.wmu.lockCtx(ctx)
	s.mu.Lock()
	s.wwaiters--
	plus, minus, utf8 := s.litPlus, s.litMinus, s.utf8Locked()
	ended := s.err
	s.mu.Unlock()
	if locked && ended != nil {
		// The session ended while the command waited for its turn to be
		// written (abortWith ended it as not sent): nothing of it goes.
		s.unlockWrite()
		return notSent(ended)
	}
	if !locked {
		// The context ended while the command waited for its turn to be
		// written (behind an APPEND waiting for "+", say): not sent.
		err := notSent(ctx.Err())
		s.finish(p, nil, err)
		s.flushBehind()
		return err
	}
	// behind: the command ends unsent, and what the commands before it
	// left in the write buffer counting on this writer is flushed for
	// them once the lock is released (flushBehind), not by this caller,
	// whose context may have ended: that write is theirs.
	behind := false
	defer func() {
		s.unlockWrite()
		if behind {
			s.flushBehind()
		}
	}()
	if s.enc == nil {
		s.enc = encoderPool.Get().(*wire.Encoder) // released by unlockWrite
	}
	// A panic in the caller's code while the command is sent (its Args,
	// its message's io.Reader, a Trace writer or slog handler): before
	// it is marked sent, it ends as not sent; after, bytes may be out
	// (an APPEND's literal half written, which the next command's bytes
	// would complete), and the session is aborted. The panic goes on.
	marked := false
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("%w while sending %s: %v", ErrPanicked, p.name, r)
			if marked {
				s.abort(err)
			} else {
				s.finish(p, nil, notSent(err))
				behind = true
			}
			panic(r)
		}
	}()
	s.enc.SetOptions(&wire.EncoderOptions{LiteralPlus: plus, LiteralMinus: minus, UTF8: utf8})
	if err := ctx.Err(); err != nil {
		// The context ended while the command waited for its turn to be
		// written: it is not sent.
		err = notSent(err)
		s.finish(p, nil, err)
		behind = true
		return err
	}
	wc, err := encodeCommand(s.enc, p.tag, p.wname, p.cmd.Args)
	if err != nil {
		s.finish(p, nil, err)
		behind = true
		return err
	}
	for _, sec := range wc.Secrets() {
		s.secrets.addString(sec)
	}
	// A body streamed inside wire.Encoder.Secret (LiteralReader,
	// LiteralFunc) is a secret Secrets does not list: SecretBody.
	secret := p.cmd.Secret || wc.SecretBody()
	if !secret && !wc.HasSecret() && (p.name == "LOGIN" || p.name == "AUTHENTICATE") {
		// A credential command written without wire.Encoder.Password or
		// Secret (the escape hatch: a raw LOGIN): every argument counts
		// as a credential, in the trace and in what the server echoes.
		// HasSecret, not Secrets: Secrets does not list a Password(""),
		// yet the command was written with it.
		secret = true
		for _, a := range credentialArgs(wc) {
			s.secrets.add(a)
			clear(a) // the list keeps its own copy
		}
	}
	if secret || len(wc.Secrets()) > 0 {
		s.secretWrite()
	}
	// A body Read that blocks must not outlive ctx (ctxbody.go): the
	// caller clock's wrapper, on the writer's goroutine, goes around.
	release := ctxBodies(ctx, wc, secret || len(wc.Secrets()) > 0)
	if release != nil {
		defer release()
	}
	if p.bound > 0 {
		timeCallerBodies(wc, p)
	}
	if err := ctx.Err(); err != nil {
		// Ended while the command was encoded: it is not sent, and an
		// Open it starts with is not called.
		err = notSent(err)
		s.finish(p, nil, err)
		behind = true
		return err
	}
	// An Open the command starts with runs now, before any byte of the
	// command is written: when it fails, or ctx ends while it blocks,
	// the command is not sent and the session goes on.
	if err := preOpen(wc); err != nil {
		err = notSent(err)
		s.finish(p, nil, err)
		behind = true
		return err
	}
	s.ww.begin(ctx, s.conn)
	defer s.ww.end()
	if err := ctx.Err(); err != nil {
		// Ended since the check above (while preOpen's Open ran), and
		// not a byte of the command written: it is not sent, and the session
		// goes on (the write watch would have cut the write at once).
		err = notSent(err)
		s.finish(p, nil, err)
		behind = true
		return err
	}
	if secret {
		s.tr.clientSecret(p.tag, p.name)
	} else {
		s.tr.client(wc)
	}
	marked = true
	if !s.markSent(p, wc) {
		// The session ended since the check after the write lock
		// (while the command was encoded or traced): it ended p as not
		// sent, and not a byte of it goes.
		return notSent(s.Err())
	}
	if len(wc.Parts) > 1 {
		p.syncLit.Store(true)
		// The "+" for this command's literals may arrive as soon as the
		// first part is flushed: route it here, not to whatever command
		// registered last.
		s.mu.Lock()
		s.contTarget = p
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.contTarget = nil
			s.mu.Unlock()
		}()
	}
	if s.log != nil {
		s.log.Debug("imap command", "tag", p.tag, "command", p.name)
	}
	var wait func() error
	if len(wc.Parts) > 1 {
		wait = func() error { return s.waitLiteral(ctx, p) }
	}
	// Where the command's last byte lies is set before it can reach the
	// connection (a large argument goes past bw straight to it, inside
	// WriteTo): a server quick to answer must not find the command
	// unsent (complete). What had been read before the command went out
	// cannot be its answer.
	out, fed := s.writeMarks()
	start, readMark := out+int64(s.bw.Buffered()), s.tr.delivered.Load()
	// The write may wait for the server, which may wait for the reader to
	// take what it sends first: a reader parked, lent to a pulled
	// command's caller who holds an item (and waits for this command, a
	// pipeline stage), is made to go on (demand), as for a command
	// waiting for its answer. Without it the write waited for nothing
	// until the write bound aborted the session (a lost wake-up,
	// TestPulledLentWriteNotStuck). It counts for the other commands
	// only (Pending.writing, otherDemand): counted for this one too, a
	// pulled FETCH whose answer came before its own send returned had a
	// streamed body read into memory (TestPullQueuedBodyAfterDrive saw
	// it; up to MaxResultBytes, an error past it).
	s.setWriting(p, true)
	defer s.setWriting(p, false)
	// Writes past the buffer (a large command, a literal's body) hand
	// the bytes of the commands before to the connection: their stall
	// timeout starts then, not after the last write. A small command
	// writes nothing here, and pays nothing.
	s.cw.outOn = true
	_, err = wc.WriteToSized(s.bw, wait, func(total int64) {
		p.endOff = start + total
		p.readMark = readMark
		p.written.Store(true)
	})
	s.cw.outOn = false
	if err == nil && last {
		if s.shouldFlush() {
			err = s.bw.Flush()
		} else if testHookFlushSkipped != nil {
			testHookFlushSkipped()
		}
	}
	if err == nil && s.cw.n.Load() != out {
		// Bytes went to the connection (this command's, flushed, or
		// those of commands written before, pushed out by this one's):
		// the server may owe an answer now. Bytes left in the buffer
		// for the next writer owe nothing until it flushes them.
		s.armOut()
	}
	if err != nil {
		if _, ok := err.(*literalRefusal); ok {
			// The server refused the literal (waitLiteral, and it
			// alone: the wait's error comes back unchanged): the
			// command is over and the connection in step. A body's
			// Read or Open error is never taken for it, whatever it
			// wraps (another session's *StatusError): half a command
			// is on the wire then.
			return nil
		}
		// Cut: the command's last byte did not go out. Under
		// COMPRESS=DEFLATE, once that byte went into the deflater, a
		// failed connection write may have delivered all of it (all but
		// the sync flush's marker): the server may run the command, and
		// its answer is not known.
		cut := !s.handedToDeflater(p, out, fed)
		if cerr := s.abortWrite(ctx, p.name, err, s.handedOut(out, fed)); cerr != nil {
			// The context was this command's: its error matches it
			// too.
			return &ownCancelError{abort: s.Err(), ctx: cerr, cut: cut}
		}
		if !cut {
			return s.Err()
		}
		return &cutWriteError{abort: s.Err(), err: err}
	}
	return nil
}

// abortWrite ends the session after a write watched for ctx (writeWatch)
// failed with err, the write of the command named name or of the bytes
// ending with it. When ctx ended, the session ends for every command, but
// the context was this write's: the cause says why without matching
// ctx's error (the other commands' contexts did not end: a caller taking
// that for "given up" would drop them), and ctx's error is returned for
// the caller's own; otherwise nil.
// handed is how far the connection took the bytes (Session.handedOut):
// the commands written whose last byte lies past it were cut off with it
// (abortCut).
func (s *Session) abortWrite(ctx context.Context, name string, err error, handed int64) error {
	if cerr := ctx.Err(); cerr != nil {
		s.abortCut(&cancelledWriteError{cmd: name, ctx: cerr}, handed)
		return cerr
	}
	s.abortCut(writeFailure(err, s.cw.failed.Load() != nil), handed)
	return nil
}

// handedOut returns the offset, in the bytes of the session's commands
// (s.cw.n), up to which the connection took them, after a write that
// began with out of them counted and, under COMPRESS=DEFLATE, fed taken
// by the deflater, failed: a command whose last byte lies past it did not
// reach the server whole. Under COMPRESS, a byte the deflater took counts
// as taken (the failed write may have delivered it: handedToDeflater).
func (s *Session) handedOut(out, fed int64) int64 {
	if fw, ok := s.cw.w.(*flushWriter); ok {
		return out + (fw.fed - fed)
	}
	return s.cw.n.Load() - s.cw.short
}

// writeMarks returns s.cw.n and, under COMPRESS, the deflater's count, as
// a write begins, for handedOut.
func (s *Session) writeMarks() (out, fed int64) {
	if fw, ok := s.cw.w.(*flushWriter); ok {
		fed = fw.fed
	}
	return s.cw.n.Load(), fed
}

// literalRefusal is what waitLiteral returns when the server answered the
// command instead of sending the "+" its literal waited for: the command
// is over, the connection in step. Only waitLiteral makes one; send tells
// it by its type, never by what it wraps.
type literalRefusal struct{ err error }

func (e *literalRefusal) Error() string { return e.err.Error() }
func (e *literalRefusal) Unwrap() error { return e.err }

// handedToDeflater reports whether, with COMPRESS=DEFLATE on, p's last
// byte went into the deflater before its write failed. out and fed were
// the bytes the connection writer and the deflater had taken when p's
// write began.
func (s *Session) handedToDeflater(p *Pending, out, fed int64) bool {
	fw, ok := s.cw.w.(*flushWriter)
	if !ok || !p.written.Load() {
		// Without compression a connection write that fails has not
		// sent the last of its bytes, which is the command's last (or
		// that of a command written after it, whose error this is not).
		return false
	}
	return out+(fw.fed-fed) >= p.endOff
}

// writeFailure is the cause the session ends with when a command's write
// failed: err itself for a failed connection write (conn) that does not
// match what would mislead the other commands in flight, else an error
// with err's text alone. A body's Read or Open error is the cut command's
// own: it may wrap ErrWriteCut or ErrNotSent (a reader over another
// session), a context's error, or another session's *StatusError; found
// in the *AbortError of a command written whole before (which may have
// run), it would tell "not run" or "given up" or "refused" of it.
func writeFailure(err error, conn bool) error {
	if conn && !errors.Is(err, ErrWriteCut) && !errors.Is(err, ErrNotSent) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &writeFailedError{text: err.Error()}
}

// writeFailedError is a cause with the text of a write's error and none
// of its chain (writeFailure).
type writeFailedError struct{ text string }

func (e *writeFailedError) Error() string { return e.text }

// cutWriteError is the error of a command whose write failed part way
// (ErrWriteCut): the session's *AbortError, and the write's own error
// (a body's Read or Open error with its chain).
// Without err, the error of a command written before the write that
// failed, whose last byte did not go out (abortEnd).
type cutWriteError struct{ abort, err error }

func (e *cutWriteError) Error() string { return e.abort.Error() }
func (e *cutWriteError) Unwrap() []error {
	if e.err == nil {
		return []error{e.abort, ErrWriteCut}
	}
	return []error{e.abort, e.err, ErrWriteCut}
}

// cancelledWriteError is why a session ended whose command's context
// ended while it was written: it does not unwrap to the context's error,
// which was that command's alone.
type cancelledWriteError struct {
	cmd string
	ctx error
}

func (e *cancelledWriteError) Error() string {
	return fmt.Sprintf("%v (cancelled while sending %s)", e.ctx, e.cmd)
}

// ownCancelError is the error of the command whose cancelled write ended
// the session: the session's *AbortError, and its own context's error.
type ownCancelError struct {
	abort, ctx error
	cut        bool // its last byte did not go out (ErrWriteCut)
}

func (e *ownCancelError) Error() string { return e.abort.Error() }
func (e *ownCancelError) Unwrap() []error {
	if !e.cut {
		return []error{e.abort, e.ctx}
	}
	return []error{e.abort, e.ctx, ErrWriteCut}
}

var errCommandDone = sentinel("session: command ended before its literal was sent")

// noteTarget records what the command targets, for routing: the typed
// facts of the Command, or else what its encoded arguments say (raw
// commands): the message set of a FETCH or STORE, the mailbox of a SELECT,
// EXAMINE or STATUS (and the first of a RENAME or DELETE, for
// nameGoneLocked), whether quoted, an atom or a literal; the extensions
// an ENABLE asks for.
func (p *Pending) noteTarget(wc *wire.Encoded) {
	target := p.info.target
	if target == NoTarget && (p.name == "RENAME" || p.name == "DELETE") {
		target = TargetMailbox // read, not routed by (info.target)
	}
	switch target {
	case TargetMessages:
		if p.hasSet {
			return // read when the command started (commandSet)
		}
		if p.cmd.Messages != nil {
			p.set = routingSet(p.cmd.Messages.Clone())
			p.hasSet = true
			return
		}
	case TargetMailbox:
		if p.cmd.Mailbox != "" {
			p.mailbox, p.hasMailbox = p.cmd.Mailbox, true
			return
		}
	default:
		if p.name == "ENABLE" {
			// What it asks for: only that may its ENABLED turn on.
			if rest, ok := afterName(wc.Parts[0].Data, p.tag, p.name, p.wname); ok {
				p.enableAsked = enabledArgs(rest)
			}
		}
		return
	}
	data := wc.Parts[0].Data
	if target == TargetMessages {
		if set, ok := leadingSet(data, p.tag, p.name, p.wname); ok {
			p.set, p.hasSet = routingSet(set), true
		}
		return
	}
	rest, ok := afterName(data, p.tag, p.name, p.wname)
	if !ok {
		return
	}
	switch {
	case len(rest) == 0:
	case rest[0] == '"':
		var b []byte
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				b = append(b, rest[i])
				continue
			}
			if c == '"' {
				p.mailbox, p.hasMailbox = p.s.mailboxNameLocked(b), true
				return
			}
			b = append(b, c)
		}
	case rest[0] == '{' || rest[0] == '~':
		// A literal: its bytes follow the header's CRLF, in this part
		// (LITERAL+) or at the start of the next (after the "+").
		nl := bytes.Index(rest, []byte("}\r\n"))
		if nl < 0 {
			return
		}
		hdr := bytes.TrimSuffix(bytes.TrimLeft(rest[:nl], "~{"), []byte("+"))
		n, err := strconv.Atoi(string(hdr))
		if err != nil || n < 0 {
			return
		}
		body := rest[nl+3:]
		if len(body) == 0 && len(wc.Parts) > 1 {
			body = wc.Parts[1].Data
		}
		if len(body) >= n {
			p.mailbox, p.hasMailbox = p.s.mailboxNameLocked(body[:n]), true
		}
	default:
		end := bytes.IndexAny(rest, " \r")
		if end > 0 {
			p.mailbox, p.hasMailbox = p.s.mailboxNameLocked(rest[:end]), true
		}
	}
}

// afterName returns what follows "tag name " in a command's first line
// (for imaplib's uid(...), sent as "UID", the subcommand is skipped too).
func afterName(data []byte, tag, name, wname string) ([]byte, bool) {
	skip := len(tag) + 1 + len(wname)
	if wname != name {
		skip += len(name) - len("UID") // "UID" then " FETCH" in the arguments
	}
	if len(data) <= skip || data[skip] != ' ' {
		return nil, false
	}
	return data[skip+1:], true
}

// leadingSet parses the message set that starts a command's arguments.
func leadingSet(data []byte, tag, name, wname string) (codec.SeqSet, bool) {
	var set codec.SeqSet
	rest, ok := afterName(data, tag, name, wname)
	if !ok {
		return set, false
	}
	end := bytes.IndexAny(rest, " \r")
	if end < 0 {
		return set, false
	}
	if err := set.ParseInto(rest[:end]); err != nil {
		return set, false
	}
	return set, true
}

// uidSubcommand returns the first word of cmd's arguments, upper-cased:
// the subcommand of imaplib's uid("FETCH", ...) sent as the command UID.
func uidSubcommand(cmd *Command) string {
	if cmd.Args == nil {
		return ""
	}
	e := wire.NewEncoder(nil)
	e.Begin("X")
	cmd.Args(e)
	wc, err := e.End()
	if err != nil {
		return ""
	}
	f := strings.Fields(string(wc.Parts[0].Data[1:]))
	if len(f) == 0 {
		return ""
	}
	return strings.ToUpper(f[0])
}

// testHookFlushSkipped, set by tests, runs when a command leaves its
// bytes in the buffer for a writer that waits for the lock to flush,
// before the lock is released.
var testHookFlushSkipped func()

// flushForOthers flushes, under the write lock, what commands written
// before left in the buffer counting on this writer (see shouldFlush),
// when no other writer waits to do it: for a writer that ends without
// writing its command (through flushBehind). No caller's context bounds
// it: the bytes are other commands', whose contexts may not have ended,
// and cutting them would abort the session over a command that was not
// sent. The write stall bound does, as for any write (a server that takes
// no byte for writeStallFactor stall timeouts aborts the session).
func (s *Session) flushForOthers() {
	if s.bw.Buffered() > 0 && s.shouldFlush() && s.Err() == nil {
		out, fed := s.writeMarks()
		if _, err := s.flushBuffered(); err != nil {
			s.abortCut(err, s.handedOut(out, fed))
			return
		}
		s.armOut()
	}
}

// flushBehind is for a writer that ends without writing its command: it
// gave up waiting for the write lock (its context ended), or had it and
// did not write (its context ended, its Args or Open failed, it
// panicked). A command written before may have left its bytes in the
// buffer counting on it, and with no writer left to flush them they would
// never be sent (the command's answer never comes; only the stall timeout
// would end the session). When another writer waits, it flushes them (or
// passes the duty on in turn). Otherwise they are flushed
// (flushForOthers) on a goroutine of its own, which takes the write lock
// when it is free: that write may wait for the server (for the write
// stall bound), and the caller, whose context may have ended, must not
// wait for it (TestStartBatchCanceledInArgsDoesNotWaitForFlush). With the
// lock free and nothing buffered, nothing is started; with a goroutine of
// flushBehind already waiting for the lock, nothing either: it flushes
// all that is buffered once it has the lock.
//
// The goroutine is the session's: it gives up waiting for the lock when
// the session ends (the bytes can no longer go), and the reader waits for
// it as it ends (waitBehind), so that Close and Done leave none behind.
// Before, it waited for the lock for as long as the holder kept it, past
// Close: an APPEND whose body's Read blocks, say
// (TestCloseLeavesNoFlushBehindGoroutine, found by review).
func (s *Session) flushBehind() {
	if !s.shouldFlush() {
		return
	}
	if s.wmu.tryLock() {
		if s.bw.Buffered() == 0 || !s.startBehind(false) {
			s.unlockWrite()
			return
		}
		go func() {
			defer s.endBehind()
			s.flushForOthers()
			s.unlockWrite()
		}()
		return
	}
	if !s.startBehind(true) {
		return
	}
	hook := testHookBehindEnd
	go func() {
		defer s.endBehind()
		if hook != nil {
			defer hook()
		}
		if !s.lockBehind() {
			return
		}
		s.flushForOthers()
		s.unlockWrite()
	}()
}

// testHookBehindEnd, set by tests, runs as flushBehind's goroutine that
// waited for the write lock returns, before it counts itself out.
var testHookBehindEnd func()

// behindWaits is the bit of Session.behind set while a goroutine of
// flushBehind waits for the write lock; the bits below it count the
// goroutines running. At most one waits (startBehind), at most one holds
// the lock, and the others have released it and only count themselves
// out (endBehind): the count stays far below behindWaits.
const behindWaits = 0x80

// startBehind counts a goroutine of flushBehind about to start, one that
// will wait for the write lock when wait is set, and reports whether it
// is to start: not once the session has ended (its bytes can no longer
// go, and the reader may be past waitBehind), nor, for a waiting one,
// while another waits already.
func (s *Session) startBehind(wait bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || wait && s.behind&behindWaits != 0 {
		return false
	}
	s.behind++
	if wait {
		s.behind |= behindWaits
	}
	return true
}

// lockBehind takes the write lock for flushBehind's waiting goroutine, or
// gives up once the session has ended: abortWith closes changed. Taken,
// the goroutine no longer counts as waiting (another may start).
func (s *Session) lockBehind() bool {
	for {
		s.mu.Lock()
		if s.err != nil {
			s.behind &^= behindWaits
			s.mu.Unlock()
			return false
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		if s.wmu.lockUntil(ch) {
			s.mu.Lock()
			s.behind &^= behindWaits
			s.mu.Unlock()
			return true
		}
	}
}

// endBehind counts a goroutine of flushBehind out as it returns, and
// wakes the reader if it waits for it (waitBehind).
func (s *Session) endBehind() {
	s.mu.Lock()
	s.behind--
	s.changedLocked()
	s.mu.Unlock()
}

// waitBehind waits for flushBehind's goroutines to return, on the reader
// goroutine as it ends (readLoop): the session has ended, so they give up
// waiting for the write lock, and one that holds it writes to a closed
// connection. No caller's code is waited for.
func (s *Session) waitBehind() {
	s.mu.Lock()
	for s.behind != 0 {
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
	s.mu.Unlock()
}

// shouldFlush reports whether no other command is about to be written:
// when one is, its writer flushes both.
func (s *Session) shouldFlush() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wwaiters == 0
}

// flush writes what is buffered, for register's batch path: the bytes
// of the batch's earlier commands (and of commands other goroutines wrote
// between them), before a later one waits for its turn or fails. ctx
// bounds it as it bounds a command's own write (lockCtx, the write watch):
// a write still blocked writeGrace after ctx ended (a server that reads
// nothing) is cut, which aborts the session (bytes may be half out), and
// a context that has already ended gives the write writeGrace from its
// start (the batch's commands are sent: left unwritten, their answers
// would never come). A flush that gave up waiting for the write lock
// leaves the bytes to flushBehind, as send does. Before, it waited for
// the write stall bound (TestStartBatchFlushHonoursContext). A session
// that has ended (Close, an abort: abortWith ended the batch's commands)
// is left alone: nothing is written, and the write watch is not begun
// (abortWith has closed it; TestBatchFlushAfterEndLeavesNoWatch).
//
// When ctx ended and the write was cut, which aborted the session, it
// returns the error of the batch's later command that was not written
// (for register and start to wrap with notSent): the *AbortError and
// ctx's error, as send gives a command whose own write ctx cut
// (ownCancelError; not ErrWriteCut: nothing of that command was
// written). The earlier commands whose last byte did not go out get an
// error matching ErrWriteCut (abortEnd). Otherwise nil.
func (s *Session) flush(ctx context.Context) error {
	if !s.wmu.lockCtx(ctx) {
		s.flushBehind()
		return nil
	}
	defer s.unlockWrite()
	if s.Err() != nil {
		return nil
	}
	s.ww.begin(ctx, s.conn)
	defer s.ww.end()
	out, fed := s.writeMarks()
	w, err := s.flushBuffered()
	if err != nil {
		name := "a batch"
		if w != nil {
			name = w.name
		}
		if cerr := s.abortWrite(ctx, name, err, s.handedOut(out, fed)); cerr != nil {
			return &ownCancelError{abort: s.Err(), ctx: cerr}
		}
		return nil
	}
	s.armOut()
	return nil
}

// flushBuffered flushes the write buffer, outside send (under the write
// lock): for register's batch path (flush), and for a writer that ends
// without writing its command (flushForOthers, flushBehind). The write
// may wait for the server, which may wait for the reader, as send's may:
// the last command written, whose bytes end what is buffered, is marked
// as being written (Pending.writing) meanwhile, so that a reader parked
// for another pulled command's caller (a lent item held, a full queue)
// goes on. Without it the flush waited for nothing until the write stall
// bound aborted the session (a lost wake-up,
// TestPulledLentBatchFlushNotStuck). Not that command's own answer, as in
// send: its caller has not got it yet (a batch's earlier command). It
// returns that command (nil: none known).
func (s *Session) flushBuffered() (*Pending, error) {
	if s.bw.Buffered() == 0 {
		return nil, nil
	}
	s.mu.Lock()
	var w *Pending
	if s.nsent > 0 && s.nsent <= len(s.inflight) {
		w = s.inflight[s.nsent-1]
	}
	s.mu.Unlock()
	if w != nil {
		s.setWriting(w, true)
		defer s.setWriting(w, false)
	}
	return w, s.bw.Flush()
}

// setWriting marks p as being written (Pending.writing), or no longer.
// Marked, it wakes the reader, which goes on for p if it is parked for
// another pulled command's caller (otherDemand): for send, flushBuffered
// and Continue, whose writes may wait for a server that waits for the
// reader.
func (s *Session) setWriting(p *Pending, on bool) {
	s.mu.Lock()
	p.writing = on
	if on {
		s.pullCond.Broadcast()
	}
	s.mu.Unlock()
}

// waitLiteral waits for the "+" that lets a synchronizing literal go. The
// bytes before it have been flushed (wire.Encoded.WriteTo): the server
// owes the "+" (or an answer), and the stall timeout counts while it
// waits; once the "+" came, the rest of the command is the session's to
// write, and owes nothing until it is out (armStall).
func (s *Session) waitLiteral(ctx context.Context, p *Pending) error {
	s.demand()
	defer s.undemand()
	s.mu.Lock()
	cont, done := p.contLocked(), p.doneLocked()
	s.contWait = true
	s.armStall()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.contWait = false
		s.armStall()
		s.mu.Unlock()
	}()
	select {
	case <-cont:
		return nil
	case <-done:
		s.mu.Lock()
		cut, err := p.cut, p.err
		s.mu.Unlock()
		var se *StatusError
		switch {
		case cut:
			// Ended by the session's end, not by an answer.
			return err
		case err == nil:
			return &literalRefusal{err: errCommandDone}
		case errors.As(err, &se):
			// The server answered the command (NO or BAD) instead
			// of sending the "+": the literal is not owed.
			return &literalRefusal{err: err}
		}
		// Any other end (a tagged response that could not be read)
		// aborts the session, as before.
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits for the command's tagged response. It answers continuation
// requests with Command.OnContinue. When ctx ends first, Wait returns
// ctx's error and the command's answer is consumed in the background (a
// continuation request of a command with OnContinue then answered "*",
// which cancels an AUTHENTICATE exchange, RFC 9051 section 6.2.2); a
// command that had ended already gives its result, even with ctx ended.
// A command taking the session to AUTH whose server sent a challenge and
// its OK together still has the challenge handed to OnContinue (a SCRAM
// server signature is checked), with ctx ended too; an error (or panic)
// of OnContinue then, or one the "*" could not follow (the OK read first:
// no "*" is written after it), aborts the session as an OK to a "*" does
// (ErrCancelAccepted), and Wait returns it joined with the abort, as
// every later Wait of the command does; so does a non-empty response of
// OnContinue to it (the exchange was not over for the client, the OK
// premature: Continue). Until OnContinue has checked it, the commands
// queued behind are held (Continue); a Wait without
// OnContinue does not end that hold (the caller answering from
// Continuations gives the verdict), and does not ask CAPABILITY while it
// lasts (the command would wait behind the hold that Wait's own caller
// may end only after it): the capabilities stay stale, and the next
// Capabilities asks.
//
// Once Wait has returned the command's end or ctx's error, no
// Command.OnData of the command runs any more: one the session was in as
// ctx ended (or as the session ended) has returned first, and the rest of
// the answer is thrown away, so that a result OnData fills is the
// caller's alone from then on. Wait returns without that only for an
// error of the answer to a continuation request (Continue's: the command
// still in flight, neither ended nor given up).
func (p *Pending) Wait(ctx context.Context) (*Result, error) {
	defer p.dataQuiet()
	// Without OnContinue the continuations stay in Continuations() for the
	// caller (IDLE); a nil channel never delivers.
	s := p.s
	var cont chan []byte
	s.mu.Lock()
	if p.cmd.OnContinue != nil && !p.refusing {
		cont = p.contLocked()
		// This Wait answers the "+": one already there is owed.
		p.contWaiter = true
		s.answererLocked(p)
	}
	if p.pull != nil {
		// What was not taken with Next is dropped from here on.
		p.pull.unwatch()
		p.pull.stopPulling()
		p.pull.closed = true
		p.pull.queue = nil
		s.pullCond.Broadcast()
	}
	var done chan struct{}
	if !p.ended {
		done = p.doneLocked()
		// The reader must go on for the command to end.
		s.demanders++
		s.pullCond.Broadcast()
		defer s.undemand()
	} else {
		done = closedChan
	}
	s.mu.Unlock()
	ended := func() (*Result, error) {
		// Under s.mu: the verdict on a challenge held with the OK may
		// cut p on another goroutine (refuseHeld, boundFired).
		s.mu.Lock()
		cut, perr := p.cut, p.err
		held := s.heldLocked(p)
		s.mu.Unlock()
		if cut {
			// Ended by the session's end: the reader goroutine may
			// still be writing the result it was building.
			return nil, perr
		}
		// Not while p holds the commands behind it (a challenge that
		// came with its OK still to be judged): the CAPABILITY would
		// wait behind the hold, which this Wait's own caller may be
		// the one to end, once Wait has returned. The capabilities
		// stay stale (complete): the next Capabilities asks.
		if perr == nil && p.info.refresh && !held {
			// RFC 9051 section 6.2: capabilities change with
			// authentication; ask unless the OK carried them. Its
			// failure does not undo the command's success.
			if _, err := p.s.Capabilities(ctx); err != nil && p.result != nil {
				p.result.FollowUpErr = err
			}
		}
		return p.result, perr
	}
	for {
		select {
		case <-done:
			if err := p.lateChallenge(ctx, cont); err != nil {
				return nil, err
			}
			return ended()
		case text := <-cont:
			s.mu.Lock()
			refused := p.refusing
			s.mu.Unlock()
			var resp []byte
			var err error
			if refused {
				// OnContinue gave the exchange up
				// (RefuseContinuations) and returned a response:
				// this "+", taken before the refusal's goroutine
				// could, is refused too, and OnContinue is not
				// called again.
				cont = nil
			} else {
				resp, err = p.onContinue(ctx, text)
			}
			line := resp
			if err != nil || refused {
				line = []byte("*")
			}
			if werr := p.Continue(ctx, line); werr != nil {
				if errors.Is(werr, ErrCommandEnded) {
					// The server ended the command (a NO after
					// its "+") before the answer went: that end
					// is the result, not lost for the error.
					<-done
					if aerr := s.acceptedBeforeCancel(p, err); aerr != nil {
						return nil, aerr
					}
					// A "+" still queued with the OK (not an
					// AUTHENTICATE's newer one: read before
					// the answer, that aborts the session,
					// route): checked now.
					if err == nil && !refused {
						if lerr := p.lateChallenge(ctx, cont); lerr != nil {
							return nil, lerr
						}
					}
					return ended()
				}
				return nil, werr
			}
			if err != nil {
				// Wait answers no more "+" (it waits for the end): a
				// later one must leave the stall timer on.
				p.noAnswerer()
				<-done
				if aerr := s.acceptedBeforeCancel(p, err); aerr != nil {
					// Not expected: a "*" written settles the OK
					// as a cancellation (acceptedCancel).
					return nil, aerr
				}
				if p.cut {
					if errors.Is(p.err, ErrCancelAccepted) {
						// An OK to the "*" (acceptedCancel):
						// the abort is told too.
						return nil, fmt.Errorf("%w; %w", err, p.err)
					}
					return nil, err
				}
				return p.result, err
			}
			s.mu.Lock()
			if p.refusing {
				// OnContinue called RefuseContinuations and returned
				// a response: later "+" are the refusal's. (Without
				// this, Wait could take the next "+" and send the "*"
				// itself, under the caller's context rather than the
				// refusal's refuseTimeout: the same line, another bound.)
				cont = nil
			}
			s.mu.Unlock()
		case <-ctx.Done():
			select {
			case <-done:
				// Both were ready, and select chose at random: the
				// command's end, when it came, is the answer (a
				// caller counting what was done must not lose it),
				// its late challenge checked as in the done case.
				if err := p.lateChallenge(ctx, cont); err != nil {
					return nil, err
				}
				return ended()
			default:
			}
			s.mu.Lock()
			settled := p.settled
			s.mu.Unlock()
			if settled {
				// The reader took the OK (acceptedCancel) and is
				// ending the command: that end is the answer, as in
				// the done case, its late challenge checked. Given
				// up instead, the challenge held with the OK would
				// be refused and a valid login aborted.
				<-done
				if err := p.lateChallenge(ctx, cont); err != nil {
					return nil, err
				}
				return ended()
			}
			// The answer is still read, in the background, and thrown
			// away: nothing piles up for a caller who left.
			s.mu.Lock()
			p.abandonLocked()
			s.mu.Unlock()
			if cont != nil {
				// A "+" there or to come would leave the server
				// waiting for a line, every later command behind
				// it: answered "*" (RFC 9051 section 6.2.2 cancels
				// an AUTHENTICATE exchange so).
				p.RefuseContinuations()
			}
			return nil, ctx.Err()
		}
	}
}

// refuseTimeout bounds the write of each "*" the session sends to give up
// a continuation exchange after its caller's context may have ended:
// RefuseContinuations's (which the auth package's cancellations go
// through) and the one for an OnContinue that panicked (Continue cuts a
// blocked write, which ends the session).
const refuseTimeout = 10 * time.Second

// testRefuseTimeout, when not 0, stands for refuseTimeout (tests only:
// the bound is a constant to users).
var testRefuseTimeout time.Duration

// refuseBound is refuseTimeout, or the test's stand-in.
func refuseBound() time.Duration {
	if testRefuseTimeout != 0 {
		return testRefuseTimeout
	}
	return refuseTimeout
}

// RefuseContinuations gives up the command's continuation exchange: every
// continuation request ("+", not a literal's) the server sends to the
// command from now on is answered "*", which cancels an AUTHENTICATE
// exchange (RFC 9051 section 6.2.2), and so is one already sent and not
// yet answered, whether it waits in Continuations or the caller took it
// from there (also after a Wait of the command was abandoned). It is for
// a caller who answers the "+" itself (Continuations, as a SASL exchange
// does) and stops: after a mechanism's error, a panic, or its context's
// end, before or after sending its own "*". Unanswered, a "+" would leave
// the server waiting for a line and every later command behind it. Call
// it from the goroutine that answers: not while a Continue of the
// caller's runs.
//
// From Command.OnContinue (which runs on Wait's goroutine, the one that
// answers), the "+" OnContinue was given is not the refusal's: Wait
// answers it, with the response OnContinue returns, or with "*" when it
// returns an error (as it does without RefuseContinuations: an OnContinue
// that gives up needs only return an error); the refusal answers the "+"
// after it, and Wait calls OnContinue no more.
//
// It returns at once; the answers are sent by a goroutine that ends with
// the command, at the latest when the session ends, or when a "*" cannot
// be written (the session ends then). A "+" it answers is not owed by the
// caller: the stall timeout runs on while it is answered (docs/limits.md,
// StallTimeout). After it, the caller must not read Continuations nor
// answer with Continue; Wait still gives the command's end, and no longer
// calls Command.OnContinue. A second call, or one after the command ended,
// does nothing; but for an AUTHENTICATE whose OK came with a challenge not
// yet answered (Continue), with no Wait's OnContinue checking it: that
// challenge is refused, which aborts the session (ErrCancelAccepted). It is not for IDLE, whose continuation is ended by DONE.
func (p *Pending) RefuseContinuations() {
	s := p.s
	s.mu.Lock()
	p.refuseContinuationsLocked()
	s.mu.Unlock()
}

// refuseContinuationsLocked is RefuseContinuations under s.mu.
func (p *Pending) refuseContinuationsLocked() {
	s := p.s
	if !p.refusing && !p.contWaiter && s.heldLocked(p) {
		// Ended, with the challenge that came with its OK not
		// answered, and no running Wait answering it: refused, which
		// aborts the session (Continue). No answerer is left beside
		// the refusal (the invariant at contOwed's declaration): a
		// caller that took Continuations answers no more.
		p.refusing = true
		p.contTaken, p.contOwed = false, false
		go p.refuse()
		return
	}
	if p.refusing || p.ended {
		return
	}
	p.refusing = true
	cont, done := p.contLocked(), p.doneLocked()
	// A "+" handed over, not answered and not in the channel was taken:
	// the refusal answers it first, unless a running Wait took it (this
	// call comes from its OnContinue, on the goroutine that answers),
	// which answers it itself: the response OnContinue returns, or "*"
	// for its error. contHeld, not contOwed: a "+" the caller took after
	// a Wait of the command was abandoned was never counted as owed.
	taken := p.contHeld && len(cont) == 0 && !p.contWaiter
	// No one but the refusal answers a "+" now: the stall timeout is on
	// again (a "+" counted before would leave it off for good).
	p.contWaiter, p.contTaken, p.contOwed = false, false, false
	s.armStall()
	hook := testHookRefuser
	go func() {
		if hook != nil {
			hook()
		}
		p.refuseContinuations(cont, done, taken)
	}()
}

// testHookContinueFlushed, set by tests, runs in Continue once the line
// is flushed, before Continue takes s.mu again (to let the reader take the
// server's answer in between).
var testHookContinueFlushed atomic.Pointer[func(p *Pending)]

// testHookRefuser, set by tests, runs on the goroutine RefuseContinuations
// starts, before it answers anything (to order it after another
// goroutine's wait for a "+").
var testHookRefuser func()

// refuseContinuations answers every "+" of p with "*" until it ends (done
// is closed then, at the latest when the session ends), first one taken
// from cont and not answered when taken is set. One at a time: cont holds
// one "+", and a second before the first is answered is a protocol error
// (route).
func (p *Pending) refuseContinuations(cont chan []byte, done chan struct{}, taken bool) {
	if taken && p.refuse() != nil {
		return
	}
	for {
		select {
		case <-done:
			select {
			case <-cont:
				// Came with the tagged answer: refused too, so that
				// an OK it came with is not taken for its acceptance
				// (holdLocked; nothing is written after the answer).
				p.refuse()
			default:
			}
			return
		case <-cont:
			if p.refuse() != nil {
				return
			}
		}
	}
}

// refuse answers one "+" of p with "*", with a context of its own: the
// caller's may have ended.
func (p *Pending) refuse() error {
	ctx, cancel := context.WithTimeout(context.Background(), refuseBound())
	defer cancel()
	return p.Continue(ctx, []byte("*"))
}

// abandonLocked marks the command abandoned by its caller (Wait's
// context, Next's, or a pulled body's, under s.mu): its answer is read and
// thrown away, and no one answers a "+" now, so the answerer flags go and
// the stall timeout is on again (a "+" owed before would leave it off
// until CommandTimeout). contHeld stays: a later RefuseContinuations
// still answers a "+" the caller took.
func (p *Pending) abandonLocked() {
	p.abandoned.set()
	p.contWaiter, p.contTaken, p.contOwed = false, false, false
	p.s.armStall()
}

// abandonWord is Pending.abandoned: whether the command was abandoned,
// whether its OnData runs (the reader marks it running under s.mu, where
// it checks that the command was not abandoned, and running no more as it
// returns, under no lock: an atomic operation per response, no lock), and
// whether a Wait waits for it to return (dataQuietLocked). In the word
// the flag had alone: Pending is at its size class's bound.
type abandonWord struct{ v atomic.Uint32 }

const (
	abandonedBit = 1 << iota // the caller gave the command up
	dataBit                  // the command's OnData runs
	dataWaitBit              // a Wait waits, on s.pullCond, for it to return
)

// Load reports whether the command was abandoned.
func (a *abandonWord) Load() bool { return a.v.Load()&abandonedBit != 0 }

// set marks the command abandoned (under s.mu).
func (a *abandonWord) set() { a.v.Or(abandonedBit) }

// beginData marks the command's OnData running unless the command was
// abandoned, and reports whether it did (under s.mu).
func (a *abandonWord) beginData() bool {
	for {
		w := a.v.Load()
		if w&abandonedBit != 0 {
			return false
		}
		if a.v.CompareAndSwap(w, w|dataBit) {
			return true
		}
	}
}

// endData marks the command's OnData returned, and reports whether a Wait
// waits for it (under no lock).
func (a *abandonWord) endData() bool {
	return a.v.And(^uint32(dataBit|dataWaitBit))&dataWaitBit != 0
}

// dataQuietLocked waits, under s.mu (released while it waits), until no
// OnData of p runs: the one the reader was in as p ended or was
// abandoned. None starts after either (deliverAs checks under s.mu, and
// an ended command is no longer in flight), so that once Wait has
// returned no OnData of the command runs any more. OnData must return for
// it to return (it must not wait for other goroutines: Command.OnData).
func (p *Pending) dataQuietLocked() {
	for {
		w := p.abandoned.v.Load()
		if w&dataBit == 0 {
			return
		}
		if w&dataWaitBit != 0 || p.abandoned.v.CompareAndSwap(w, w|dataWaitBit) {
			p.s.pullCond.Wait()
		}
	}
}

// dataQuiet is dataQuietLocked for a command that ended or was abandoned,
// at the end of Wait.
func (p *Pending) dataQuiet() {
	s := p.s
	s.mu.Lock()
	if p.ended || p.abandoned.Load() {
		p.dataQuietLocked()
	}
	s.mu.Unlock()
}

// abandonPulledLocked abandons a pulled command whose caller gave it up
// (Next's context ended, or that of the Next that lent the body read,
// under s.mu), as abandonLocked does; and, for a command with
// Command.OnContinue, refuses its "+" from now on ("*"), as an abandoned
// Wait does: a Wait of the command running beside (a misuse: Wait ends
// the pulling) answers the "+" its OnContinue holds with the response it
// returns, then leaves the later ones to the refusal, calls OnContinue no
// more, and gives the command's end; with no Wait running, the "+" is
// answered all the same, where no one did and the session stalled
// (TestPulledOnContinueRefusedAfterNextAbandoned).
func (p *Pending) abandonPulledLocked() {
	if p.cmd.OnContinue != nil {
		// Before abandonLocked clears contWaiter: a "+" the running
		// Wait holds stays Wait's to answer (refuseContinuationsLocked's taken).
		p.refuseContinuationsLocked()
	}
	p.abandonLocked()
}

// noAnswerer records that Wait, with OnContinue, answers no more "+" of
// p (it sent "*" and waits for the command's end, or it is panicking): a
// "+" from now on leaves the stall timeout on.
func (p *Pending) noAnswerer() {
	s := p.s
	s.mu.Lock()
	p.contWaiter, p.contOwed = false, false
	s.armStall()
	s.mu.Unlock()
}

// onContinue calls the command's OnContinue. When it panics, the
// exchange is cancelled as for an error ("*"): the server, left waiting
// for a line, would hold every later command behind it; the panic then
// goes on to the caller of Wait.
func (p *Pending) onContinue(ctx context.Context, text []byte) (resp []byte, err error) {
	returned := false
	defer func() {
		if !returned {
			// Sent even when ctx has ended: the exchange must end.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refuseBound())
			defer cancel()
			cerr := p.Continue(cctx, []byte("*"))
			// The panic leaves Wait: no one answers a later "+".
			p.noAnswerer()
			if errors.Is(cerr, ErrCommandEnded) {
				// The OK came before the "*" could go: the session
				// is aborted as for OnContinue's error.
				p.s.mu.Lock()
				done := p.doneLocked()
				p.s.mu.Unlock()
				<-done
				p.s.acceptedBeforeCancel(p, fmt.Errorf("%w in %s's OnContinue", ErrPanicked, p.name))
			}
		}
	}()
	resp, err = p.cmd.OnContinue(text)
	returned = true
	return resp, err
}

// Continue sends one line in answer to a continuation request (an
// AUTHENTICATE response, IDLE's DONE). The line must not hold CR, LF or
// NUL. Once the command has ended it sends nothing and returns
// ErrCommandEnded. ctx bounds the write as a command's context does: the
// line is written even when ctx has already ended (unsent, it would leave
// the server waiting), and a write still blocked 50 ms after ctx ends (a
// server that does not read) is cut, which ends the session.
//
// An AUTHENTICATE whose tagged OK the reader took with its last challenge
// not yet answered (the server sent them together, as SCRAM's
// server-final-message may be) holds the commands queued behind it until
// the client's verdict: Continue then writes nothing and returns
// ErrCommandEnded. An empty response accepts the challenge (the commands
// go; not while a challenge waits in Continuations: the response is not
// to the one held). A server that sends an AUTHENTICATE's next challenge
// before the response to the one taken from Continuations (or by
// OnContinue) is answered breaks the exchange's order: the session is
// aborted as it is read (ErrProtocol), and Continue returns that. "*" refuses it, and so does a non-empty response:
// the server's final data is answered with an empty line, and a
// mechanism with more to say (SCRAM's client-final-message to a
// server-first-message sent with the OK) shows the OK premature, the
// server never proved itself. Either aborts the session (matching
// ErrCancelAccepted), and the commands end not sent. With no verdict by
// the command's bound (CommandTimeout), the session is aborted (a
// *TimeoutError).
func (p *Pending) Continue(ctx context.Context, line []byte) error {
	for _, c := range line {
		if c == '\r' || c == '\n' || c == 0 {
			return ErrInvalidContinuation
		}
	}
	s := p.s
	s.wmu.Lock()
	defer s.unlockWrite()
	s.mu.Lock()
	ended := p.ended
	if (!ended || p.cut) && s.err != nil {
		// A command the server answered (a NO after its challenge)
		// before the session ended (the server closed after its NO) is
		// ErrCommandEnded, and Wait gives its answer; one the session's
		// end cut (p.cut) gets the session's error.
		err := s.err
		s.mu.Unlock()
		return err
	}
	if s.heldLocked(p) {
		// The verdict on the challenge that came with the OK
		// (holdLocked), nothing written: a response accepts it and
		// lets the commands held behind p go; "*" refuses it and
		// aborts the session.
		// Only an empty response accepts: a server's final data
		// ("additional data with success") is answered with an empty
		// line, and a mechanism with more to say (SCRAM's
		// client-final-message to a server-first-message sent with
		// the OK) shows the OK premature: the server never proved
		// itself (notFinal). Only an answer to the held "+" itself is
		// a verdict: with a "+" still queued (the caller answers one
		// it did not take, a misuse: a second "+" before the answer
		// to the first aborts the session, route), the hold stays
		// until the queued one is checked (lateChallenge).
		refused := string(line) == "*"
		notFinal := !refused && len(line) > 0 && len(p.cont) == 0
		if !refused && !notFinal && len(p.cont) == 0 {
			s.releaseLocked(p)
		}
		s.mu.Unlock()
		switch {
		case refused:
			s.refuseHeld(p)
		case notFinal:
			s.abortHeld(p, notFinalEarly(p))
		}
		return ErrCommandEnded
	}
	if !ended && p.settled {
		// The reader took the OK (acceptedCancel): a line written now
		// would follow it, read as a command of its own.
		ended = true
	}
	if !ended {
		// The "+" is answered from here on, whether the OK is read
		// before the flush or after: under the lock the reader settles
		// the OK under, so that an OK read now does not hold the
		// commands behind p for a challenge already answered
		// (holdLocked). A "+" routed during the write sets it again.
		// contOwed with it (contOwed implies contHeld): the line is
		// being answered. The stall timer is left as it is until the
		// line is out (armStall below).
		p.contHeld, p.contOwed = false, false
	}
	if !ended && p.info.waits {
		// DONE: the server may still end the command on its own before
		// reading it, and take "DONE" for a tag (complete).
		s.sentDone = true
	}
	if !ended && string(line) == "*" {
		// Before the write: the server's OK may be read before
		// Continue returns (acceptedCancel).
		p.gaveUp = true
	}
	s.mu.Unlock()
	if ended {
		// Written now, the line would be read as a command of its own.
		return ErrCommandEnded
	}
	// A context that ends (or has ended) cuts the write after writeGrace,
	// as for a command, not at once: left unwritten, the line would leave
	// the server waiting for it, and a deadline in the past aborted the
	// session over a line that fits in the socket's buffer.
	s.ww.begin(ctx, s.conn)
	defer s.ww.end()
	if p.info.secretCont || p.cmd.Secret {
		s.secretWrite()
		s.secrets.add(line)
		s.tr.line('C', []byte("***"))
	} else {
		s.tr.line('C', line)
	}
	// The write may wait for the server, which may wait for the reader,
	// as send's may: p is marked as being written meanwhile (for the
	// other commands: otherDemand), so that a reader parked for another
	// pulled command's caller goes on (TestPulledLentContinueNotStuck;
	// before, the write waited for the write stall bound).
	s.setWriting(p, true)
	out, fed := s.writeMarks()
	s.bw.Write(line)
	s.bw.WriteString("\r\n")
	err := s.bw.Flush()
	s.setWriting(p, false)
	if err != nil {
		s.abortCut(err, s.handedOut(out, fed))
		return s.Err()
	}
	if h := testHookContinueFlushed.Load(); h != nil {
		(*h)(p)
	}
	// The answer is out: the server owes the next step (stallOwedLocked).
	// A "+" routed while the line was flushed waits in the channel: the
	// caller, who answers from this goroutine, has not taken it.
	s.mu.Lock()
	p.contOwed = false
	p.contHeld = len(p.cont) > 0 && s.contTarget != p
	if p.info.waits {
		// DONE: from now on IDLE's answer is due, and a server that
		// does not send it stalls the session like any command.
		s.answeringLocked(p)
	}
	// A next "+" routed while the line was flushed found the flag still
	// set: it is owed now (its answerer is the same). Not after DONE
	// (answering, just set: owedLocked).
	s.answererLocked(p)
	s.armStall()
	s.mu.Unlock()
	return nil
}

// sent reports whether all of p's bytes have reached the connection.
func (p *Pending) sent() bool {
	return p.written.Load() && p.s.cw.n.Load() >= p.endOff
}

// notSent marks err as "the command was not sent": safe to retry.
func notSent(err error) error { return &NotSentError{Err: err} }

// markSent moves p, about to be written (under the write lock), to the end
// of the commands already sent: s.inflight holds the sent commands in the
// order they went out, then the registered ones. Responses are routed in
// that order, so that of two commands registered in one order and written
// in the other (two goroutines racing for the write lock), the first
// written gets the first answer.
//
// It also records what p targets (noteTarget) under mu: the reader
// goroutine reads it while routing. It reports false when the session has
// ended and p with it (abortWith ended it as not sent, being unmarked):
// then nothing of p may be written, or a command reported not sent would
// reach the server (and be sent again by a careful caller).
func (s *Session) markSent(p *Pending, wc *wire.Encoded) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.noteTarget(wc)
	for i := s.nsent; i < len(s.inflight); i++ {
		if s.inflight[i] == p {
			copy(s.inflight[s.nsent+1:i+1], s.inflight[s.nsent:i])
			s.inflight[s.nsent] = p
			s.nsent++
			// The stall timeout starts once its bytes are out
			// (armOut), not now: they may wait in the buffer for
			// the next command's Args.
			return true
		}
	}
	return s.err == nil
}

// minArgSecret: a raw credential argument shorter than this is not
// redacted from what the server sends (a one-letter user name would blank
// out every such letter); auth's answers use the same bound.
const minArgSecret = 4

// credentialArgs returns the arguments of an encoded LOGIN or AUTHENTICATE
// after the first (the user name, the mechanism: no secrets), as the
// server reads them (atoms, strings, literals), for redaction: read back
// with a tokenizer from the command's bytes. Streamed literal bodies are
// not read (a credential is never one).
func credentialArgs(wc *wire.Encoded) [][]byte {
	n := 0
	for _, part := range wc.Parts {
		n += len(part.Data)
	}
	line := make([]byte, 0, n) // one array, zeroed below
	for _, part := range wc.Parts {
		line = append(line, part.Data...)
	}
	defer clear(line) // the raw command, its password with it
	t := wire.NewTokenizer(bytes.NewReader(line), nil)
	var out [][]byte
	if _, err := t.Atom(); err != nil { // the tag
		return nil
	}
	if t.SP() != nil {
		return nil
	}
	if _, err := t.Atom(); err != nil { // the name
		return nil
	}
	for i := 0; t.SP() == nil; i++ {
		a, err := t.AString()
		if err != nil {
			break
		}
		if i > 0 && len(a) >= minArgSecret {
			out = append(out, bytes.Clone(a))
		}
	}
	return out
}

// acceptedBeforeCancel aborts the session when p, a command that takes it
// to AUTH (AUTHENTICATE) whose OnContinue failed with cerr (a mechanism
// that refused the challenge: a SCRAM server signature wrong), was
// answered OK before its "*" could go (Continue said ErrCommandEnded):
// the session reached AUTH, logged in to a server the mechanism refused.
// It is aborted as acceptedCancel aborts it when the OK answers a "*"
// written (a *ProtocolError matching ErrCancelAccepted), and the abort's
// error returned, joined after cerr; nil when cerr is nil or p did not
// end so (a NO, the session's end). The joined error is kept as p's
// (p.cut, p.err): a later Wait returns it too, not the OK. Call it once
// p has ended (done closed).
func (s *Session) acceptedBeforeCancel(p *Pending, cerr error) error {
	if cerr == nil {
		return nil
	}
	s.mu.Lock()
	// p.cut with ErrCancelAccepted: Continue's "*" aborted the session
	// for the challenge held with the OK (refuseHeld).
	accepted := p.ended && p.info.transition == ToAuth &&
		(!p.cut && p.err == nil || p.cut && errors.Is(p.err, ErrCancelAccepted))
	s.mu.Unlock()
	if !accepted {
		return nil
	}
	s.abort(acceptedEarly(p))
	err := fmt.Errorf("%w; %w", cerr, s.Err())
	s.mu.Lock()
	p.cut, p.err = true, err
	s.mu.Unlock()
	return err
}

// lateChallenge hands OnContinue a "+" still waiting in cont once p has
// ended: the server sent its challenge and its tagged answer together,
// and select took the end first. For a command that takes the session
// to AUTH and ended OK, the challenge is the server's to be checked (a
// SCRAM server signature): OnContinue is called, its response given to
// Continue as the verdict (nothing is written: the command is over; an
// empty response accepts, a non-empty one aborts the session), and its
// error aborts the session (acceptedBeforeCancel), returned with it. nil
// otherwise.
func (p *Pending) lateChallenge(ctx context.Context, cont chan []byte) error {
	if cont == nil || p.info.transition != ToAuth {
		return nil
	}
	select {
	case text := <-cont:
		s := p.s
		s.mu.Lock()
		accepted := !p.cut && p.err == nil
		refusing := p.refusing
		s.mu.Unlock()
		if !accepted {
			return nil
		}
		if refusing {
			// Given up (RefuseContinuations) while this Wait ran:
			// the refusal would have answered it "*", which refuses
			// a challenge held with the OK (Continue).
			p.refuse()
			return nil
		}
		// A panic aborts the session too (onContinue).
		resp, err := p.onContinue(ctx, text)
		if aerr := s.acceptedBeforeCancel(p, err); aerr != nil {
			return aerr
		}
		// The verdict, nothing written (Continue): an empty response
		// accepts the challenge and the commands held behind p go
		// (holdLocked); a non-empty one (the exchange was not over)
		// aborts the session, and ended gives that abort. A response
		// Continue cannot take (a CR in it) is no acceptance either.
		if errors.Is(p.Continue(ctx, resp), ErrInvalidContinuation) {
			p.refuse()
		}
	default:
	}
	return nil
}
