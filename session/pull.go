package session

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/codec"
)

// Pull delivery: a command started with Command.Pull hands its responses
// to the caller's goroutine through Pending.Next.
//
// The reading and routing of responses is a coroutine (iter.Pull over
// readCo). The reader goroutine (readLoop) drives it by default. A caller
// waiting in Next drives it itself while nobody else does: then the
// response it is waiting for is decoded on its own goroutine and handed
// over without a copy and without waking another goroutine, and the
// coroutine stays suspended, lent to the caller, until its next Next. A
// pulled 10,000-message FETCH costs two coroutine switches per message
// instead of two goroutine wakeups. Fewer still: when the coroutine is
// suspended with nothing left of the response it routed (co.clean) and the
// whole next response is in the tokenizer's buffer, with no body section
// large enough to be streamed, the caller reads and routes it itself
// without resuming the coroutine (a direct step, Session.step): nothing
// then blocks or yields, and the coroutine, resumed later, goes on with the
// response after it. A caller that drives also reads from
// the connection; if its context ends during a read, the read is
// interrupted (watchConn.interrupt) and the coroutine goes to the reader
// goroutine, which reads again (retryRead), so that Next's context keeps
// working. A caller reading a lent body section reads the connection too
// (pullBody.Read): when the context of the Next that handed it out ends,
// that read is interrupted as well (interruptBody; under COMPRESS above the
// inflater, whose read goes on: see inflater),
// and is not read again: the body ends with the context's error, the
// command is abandoned, and the reader goroutine resumes the coroutine,
// which skips the rest of the literal (TestPullBodyReadContextFrozen).
//
// When the caller is busy, the coroutine queues copies, up to pullQueue
// responses, then waits (backpressure). While the coroutine is lent, any
// other goroutine that needs the reader (a command waiting for its answer,
// a command waiting to start, a command being written: the server may
// read it only once its own output is taken) makes the reader goroutine
// resume it: a response the caller holds is kept valid by giving the
// decoder new memory (codec.Decoder.Unshare), and a body section the
// caller is streaming is read into memory first. So a caller may run other commands between two
// calls to Next without deadlock.
//
// Who may touch the reader's state (the tokenizer, the decoder, s.rl): the
// goroutine that claimed the coroutine under mu (co.running: drive, step,
// keepLent), and a caller reading the body section it was lent, which
// reads the connection. So an item reaches a caller only from the driving
// goroutine, under mu, once it is back from drive (itemLocked sets the
// slot or queues it; the coroutine never hands a body to the caller
// itself), and the reader goroutine never resumes the coroutine beside a
// caller reading a lent body: it first detaches the body under the body's
// lock (keepLent), also when the session has ended. Breaking either was a
// data race (TestPullQueuedBodyAfterDrive, TestPullBodyReadDuringClose).

// coKind says why the reading coroutine yielded.
type coKind uint8

const (
	// coRouted: a response was routed (only when a caller drives).
	coRouted coKind = iota
	// coItem: an item lent to the caller of a pulled command; the
	// coroutine stays suspended until the caller is done with it.
	coItem
	// coIO: a read from the connection comes next; the reader goroutine
	// resumes it (only when a caller drives).
	coIO
)

// coEvent is what the reading coroutine, or a direct step, hands the
// goroutine that drove it. The coroutine yields only its kind: the event
// itself waits in readLoopState.event, which the driver takes and clears
// (see Session.drive). iter.Pull keeps the last value yielded until the
// coroutine yields again, which may be never (a caller that goes on with
// direct steps, then only the reader goroutine, which is yielded nothing):
// a coItem kept there would pin the decoder's reusable response, and
// every later response decoded into the same memory, a large body
// included, for as long (TestPulledItemPinsBigResponse).
type coEvent struct {
	kind   coKind
	p      *Pending  // coItem: the command the item is for
	item   Item      // coItem
	body   *pullBody // coItem of a body section
	queued bool      // coItem for p's queue (its caller was busy): itemLocked queues it
}

// coState is the reading coroutine's state (guarded by mu).
type coState struct {
	next    func() (coKind, bool)
	running bool // someone is inside next
	io      bool // suspended before a read: the reader goroutine resumes it
	stuck   bool // Unshare failed: wait for the caller of lent
	done    bool // the coroutine has returned
	// clean: suspended where nothing is left of the response it routed
	// (a lent response, or coRouted), so a direct step may read the next
	// one in its place (Session.step). Beside the other bools: Session's
	// size class.
	clean  bool
	holder *Pending  // while running, the pulled command whose caller drives; nil: the reader goroutine
	lent   *Pending  // suspended, lent to lent's caller
	body   *pullBody // the body section lent, if it is one
	steps  int64     // direct steps taken, for the tests
}

// pullQueue is how many copied responses a pulled command may have waiting
// before the reader waits for the caller.
const pullQueue = 64

// Item is what Pending.Next hands out: a response that belongs to the
// command, or one of its FETCH body sections as it streams.
type Item struct {
	// Response is the response. For a body section it is a copy of the
	// FETCH decoded up to the section (attributes after it come with the
	// complete FETCH, delivered next).
	Response codec.Response
	// Section and Body are set for a body section: Body streams it, and is
	// valid until the next call to Next, which skips what is left unread.
	// A failed read of Body returns the error the session ended with, as
	// Next and Wait do then (an *AbortError; ErrClosed after Close).
	// Once the context of the Next that handed it out has ended, a read
	// of Body returns an error matching that context's error and
	// ErrBodyDropped, also when it was waiting for the server, and the
	// command is abandoned as when Next's context ends: the rest of its
	// answer is read and thrown away, and the session goes on, under
	// COMPRESS too (the read is interrupted above the inflater, whose
	// read goes on for the session). A body the session read into
	// memory (another goroutine needed the reader) stays readable.
	Section *codec.Section
	Body    io.Reader
	// Size is what the response counts against Options.MaxResultBytes
	// (for the queue of copies a busy caller has waiting): the bytes it
	// took on the wire, without the bodies of sections streamed out of
	// it, plus a fixed overhead per response; for a copy queued, the
	// memory of the copy when it is larger (codec.CloneSize). It is 0 for
	// a body section's item. A caller that collects a pulled answer
	// bounds it with Size, as a collected Run is bounded
	// (MaxResultBytes); what it keeps of a response may take more.
	Size int64
	// Renumbered reports whether the session had read an EXPUNGE (or a
	// VANISHED, or anything else Pending.RenumberedInFlight counts) after
	// the command was put in flight and before it read this response: for
	// a command by sequence numbers, the response's number may name
	// another message than the one the command meant. Unlike
	// RenumberedInFlight, which answers for now, it is fixed when the
	// response is read, so it does not depend on how far the reader has
	// gone on while the caller was busy.
	Renumbered bool

	parked bool // the reader waits until the caller is done with it
	// renumbered is Session.Renumbered as the response was read
	// (Pending.RenumberedAfter); beside the bools, in their word's
	// padding (Session holds an Item: TestStructSizeClasses).
	renumbered uint32
}

// puller is a pulled command's side of the handoff (guarded by s.mu).
type puller struct {
	queue   []Item // copies waiting for Next
	bytes   int64  // what they cost, against MaxResultBytes
	waiting bool   // the caller is in Next with nothing to take
	slot    Item   // a response handed over borrowed, not yet taken
	hasSlot bool
	// overflow: a response was dropped because the queue passed
	// MaxResultBytes (ResultTooLargeError.Queued), as opposed to a body
	// left out for the command's whole answer (under s.mu)
	overflow bool
	// wantPanic: a Command.Want panicked while this command's caller
	// drove the reading (Session.callWant; under s.mu).
	wantPanic *wantPanic

	// The context of the last Next, watched so that its end wakes the
	// caller: one registration for a loop of calls with the same ctx.
	ctx    context.Context
	stop   func() bool
	held   bool // the caller holds an item lent by the coroutine
	closed bool // Wait was called: items are dropped
	ended  bool // the command is over: Next returns io.EOF once the queue is empty
	// gaveUp is the error Next or a body's read returned when the
	// caller's context ended and the command was abandoned: Next returns
	// it from then on, once the queue is empty, and never io.EOF, also
	// after the rest of the answer was read for nobody (the reader may
	// end the command before the caller's next call).
	gaveUp error

	// The command bound (CommandTimeout) of a pulled command whose
	// context has no deadline counts only the time its caller waits for
	// the server, not the time the caller spends between two calls to
	// Next (a loop's body): see waitedLocked.
	paced     bool
	waited    time.Duration // the waits in Next that are over
	waitSince atomic.Int64  // when the current wait in Next began (monoNow), 0 when none
	closedAt  time.Time     // when Wait was called or Next's context ended: from then on the whole time counts
}

// beginWait marks the start of a wait of the caller in Next for the
// server (mu need not be held: boundFired reads it atomically).
func (pl *puller) beginWait() {
	if pl.paced {
		pl.waitSince.Store(monoNow())
	}
}

// endWait adds the wait begun by beginWait to waited (under mu).
func (pl *puller) endWait() {
	if ws := pl.waitSince.Swap(0); ws != 0 {
		pl.waited += time.Duration(monoNow() - ws)
	}
}

// waitedLocked is how much of the command's bound a paced pulled command
// has used at now: the time its caller waited in Next, and the whole time
// since the caller stopped pulling (Wait, or Next's context ended), when
// the rest of the answer is read for nobody (under mu).
func (pl *puller) waitedLocked(now time.Time) time.Duration {
	w := pl.waited
	if ws := pl.waitSince.Load(); ws != 0 {
		w += time.Duration(monoAt(now) - ws)
	}
	if !pl.closedAt.IsZero() {
		w += now.Sub(pl.closedAt)
	}
	return w
}

// unwatch drops the registration of the context Next was last called
// with (under mu): once the command's pulling is over (EOF, Wait, an
// error, the session's end), nothing of it must stay in the caller's
// context, which would keep the Pending and its Session alive until the
// context ends (and, for a context of the caller's own type, a goroutine).
func (pl *puller) unwatch() {
	if pl.stop != nil {
		pl.stop()
		pl.stop, pl.ctx = nil, nil
	}
}

// stopPulling records when the caller stopped pulling (under mu).
func (pl *puller) stopPulling() {
	if pl.paced && pl.closedAt.IsZero() {
		pl.closedAt = time.Now()
	}
}

// pullBody is the Body of a section item: the literal while the reader
// waits, or its rest in memory once the reader had to go on.
type pullBody struct {
	mu  sync.Mutex
	s   *Session
	p   *Pending  // the command it is a section of
	r   io.Reader // the literal, or a bytes.Reader over its rest
	err error     // set when the rest could not be kept, or a read failed

	// ctx is the context of the Next that handed the body out (set by
	// takeBody, under Session.mu): once it has ended, a read of the
	// literal returns its error and the command is abandoned (ended).
	ctx context.Context

	// Under Session.mu: mem is what detach kept in memory while the
	// body's item waited for Next, counted in its puller's bytes until
	// Next takes the item (taken), so that bodies kept for a slow caller
	// stay within MaxResultBytes together.
	mem   int64
	taken bool
}

// Read reads the body. A read of the literal (the caller reads the
// connection) heeds the context of the Next that handed the body out:
// once it has ended, the read returns its error, at once when the read
// waits for the server (the context's end interrupts it: see Next), and
// the command is abandoned, the rest of its answer read and thrown away
// (ended). A body in memory stays readable.
func (b *pullBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if _, ok := b.r.(*bytes.Reader); ok {
		return b.r.Read(p) // io.EOF at its end, no other error
	}
	s := b.s
	// Marked before the context is looked at, and the context's end
	// looks at the mark (interruptBody): either this read sees the
	// context ended, or that interrupts the read.
	s.bodyRead.Store(b)
	// Not left behind by a panic (a Trace writer's) either: retryRead
	// would take another read for this one.
	defer s.bodyRead.CompareAndSwap(b, nil)
	if err := b.ctxErr(); err != nil {
		s.bodyRead.Store(nil)
		return 0, b.ended(err)
	}
	n, err := b.r.Read(p)
	s.bodyRead.Store(nil)
	if err != nil && err != io.EOF {
		if cerr := b.ctxErr(); cerr != nil && isTimeout(err) {
			// Interrupted for the context's end (retryRead did not
			// read again): the literal is where the read left it
			// (neither the tokenizer nor TLS keeps a timeout, and
			// under COMPRESS the inflater's read goes on for the
			// next reader), and the coroutine skips its rest. (A
			// stall under COMPRESS breaks the inflater for good:
			// the reader goroutine's next read aborts the session.)
			return n, b.ended(cerr)
		}
		// The connection failed under the caller's read (a body in
		// memory only ends): the session ends with the error its
		// reader would have made of it, and the read returns what Next
		// and Wait return then.
		b.err = s.readFailed(err)
		err = b.err
	}
	return n, err
}

// ctxErr is the error of the context the body was handed out with, nil
// while it has not ended (only by the body's reader).
func (b *pullBody) ctxErr() error {
	if b.ctx == nil {
		return nil
	}
	return b.ctx.Err()
}

// bodyReadCancelable reports whether the read about to run is a lent
// body's whose context can end (interruptBody may interrupt it): the
// inflater runs it on its worker goroutine. On the goroutine that
// drives the reading coroutine.
func (s *Session) bodyReadCancelable() bool {
	b := s.bodyRead.Load()
	return b != nil && b.ctx != nil && b.ctx.Done() != nil
}

// bodyEndedError is the error of a read of a body section whose context
// ended: it matches the context's error and ErrBodyDropped.
type bodyEndedError struct {
	cmd string
	err error // the context's
}

func (e *bodyEndedError) Error() string {
	return "session: " + e.cmd + ": body section dropped: " + e.err.Error()
}

func (e *bodyEndedError) Unwrap() []error { return []error{e.err, ErrBodyDropped} }

// ended ends the body whose context ended, cause its error (under the
// body's lock, the connection not being read): its reads return cause,
// wrapped with ErrBodyDropped, from here on, and its command is abandoned
// as Next abandons it when its context has ended, so that the reader
// goroutine resumes the coroutine (keepLent finds the body ended), which
// skips the rest of the literal and reads the rest of the answer for
// nobody; the session goes on. No interrupt is left for another read.
// After the session's end, the reads return its error instead.
func (b *pullBody) ended(cause error) error {
	s, p := b.s, b.p
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.co.lent == p && s.co.body == b {
		// The coroutine is suspended, lent to this body: no
		// interrupt pending is anyone else's (interruptBody's, which
		// may have come as a read ended without it).
		s.wc.clearInterrupt()
	}
	if s.err != nil {
		b.err = s.err
		return b.err
	}
	b.err = &bodyEndedError{cmd: p.name, err: cause}
	if !p.abandoned.Load() {
		// As an abandoned Wait: no one answers a "+" now (but the
		// refusal, with OnContinue).
		p.abandonPulledLocked()
		p.pull.stopPulling()
		p.pull.gaveUp = b.err
	}
	s.pullCond.Broadcast()
	return b.err
}

// fence ends a body its command gave up (under the body's lock: a read in
// progress finishes first): reads then fail with err. A body in memory
// already stays readable.
func (b *pullBody) fence(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.r.(*bytes.Reader); !ok && b.err == nil {
		b.err = err
	}
}

// detach reads what is left of the literal into memory, within limit
// bytes, so that the reader goroutine can go on, and returns how many
// bytes it kept. Over the limit, the body fails with over instead.
func (b *pullBody) detach(limit int64, over *ResultTooLargeError) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.r.(*bytes.Reader); ok || b.err != nil {
		return 0
	}
	limit = max(limit, 0)
	rest, err := io.ReadAll(io.LimitReader(b.r, limit+1))
	switch {
	case err != nil:
		// As Read: the session's typed error, the session ended with it
		// (TestDetachedBodyErrorTyped).
		b.err = b.s.readFailed(err)
	case int64(len(rest)) > limit:
		b.err = over
	default:
		b.r = bytes.NewReader(rest)
		return int64(len(rest))
	}
	return 0
}

// detachCounted detaches the body of an item of p not yet taken, within
// what MaxResultBytes leaves beside p's queue, and counts it there until
// Next takes it (under mu; it releases mu while it reads).
func (s *Session) detachCounted(p *Pending, body *pullBody) {
	pl := p.pull
	room := s.opts.MaxResultBytes - pl.bytes
	s.mu.Unlock()
	// A body left out fails when read, its FETCH kept: it does not make
	// the later responses dropped (pullDeliver's overflow), each of
	// which is there, its body kept if it fits (TestPullKeptBodiesBounded).
	n := body.detach(room, &ResultTooLargeError{Command: p.name, Limit: s.opts.MaxResultBytes, Sections: 1, Queued: true})
	s.mu.Lock()
	if !body.taken && !pl.closed {
		body.mem += n
		pl.bytes += n
	}
}

// takeBody marks the body of an item Next hands out as taken, and no
// longer counts what detach kept of it against the queue; ctx is Next's,
// which the body's reads heed (under mu).
func (pl *puller) takeBody(it Item, ctx context.Context) {
	if b, ok := it.Body.(*pullBody); ok {
		b.taken = true
		b.ctx = ctx
		pl.bytes -= b.mem
		b.mem = 0
	}
}

// demand marks that a goroutine needs the reader to go on: a pulled
// command's parked reader does. undemand ends it.
func (s *Session) demand() {
	s.mu.Lock()
	s.demanders++
	s.pullCond.Broadcast()
	s.mu.Unlock()
}

// undemand ends what demand began.
func (s *Session) undemand() {
	s.mu.Lock()
	s.demanders--
	s.mu.Unlock()
}

// otherDemand reports whether a goroutine other than p's caller needs the
// reader to go on (under mu): one in Wait or waiting for its turn
// (demanders), one writing another command's bytes (writing: send, a
// flush, Continue), or another pulled command's caller waiting in Next.
// Not one waiting on a command's Done: Done cannot tell a wait from a
// poll (see Done).
func (s *Session) otherDemand(p *Pending) bool {
	if s.demanders > 0 {
		return true
	}
	for _, q := range s.inflight {
		if q != p && (q.writing || q.pull != nil && q.pull.waiting) {
			return true
		}
	}
	return false
}

// lendableLocked reports whether a response for the pulled command p can
// be lent to its caller now, without a copy: the caller waits (or drives)
// and has nothing queued, and nothing was dropped before it (overflow:
// pullDeliver drops it then; under mu).
func (s *Session) lendableLocked(p *Pending) bool {
	pl := p.pull
	return !pl.closed && !pl.overflow && !p.abandoned.Load() && s.err == nil &&
		(pl.waiting || s.co.holder == p) && len(pl.queue) == 0
}

// pulledSize is the Size of the item of the response being routed: its
// wire bytes and overhead, without the bodies streamed out of it.
func (s *Session) pulledSize() int64 { return s.rl.respSize - s.rl.streamed }

// lend lends r, the decoder's response, to the caller of the pulled
// command p (lendableLocked said so) and stays suspended until the caller
// is done with it, on the reading coroutine.
func (s *Session) lend(p *Pending, r codec.Response) {
	s.rl.yielded = true
	// A direct step's caller takes it as step returns; a driver of the
	// coroutine as drive returns.
	s.rl.event = coEvent{kind: coItem, p: p, item: Item{Response: r, Size: s.pulledSize(), Renumbered: p.renumberedSince(), renumbered: s.renumbered.Load(), parked: true}}
	if !s.rl.direct {
		s.rl.yield(coItem)
	}
}

// pullDeliver hands r to the pulled command p, on the reading coroutine.
func (s *Session) pullDeliver(p *Pending, r codec.Response) {
	s.mu.Lock()
	pl := p.pull
	if pl.closed || p.abandoned.Load() || s.err != nil {
		s.mu.Unlock()
		return
	}
	if pl.overflow {
		// Once one is dropped, every later one is, also when the
		// caller has taken the rest and waits: a response after the
		// hole is not handed out (the answer kept is a prefix, as the
		// typed client's collecting methods keep past their own bound:
		// what they return must not hang on the reader's pace).
		p.dropped++
		s.mu.Unlock()
		return
	}
	if s.lendableLocked(p) {
		// The caller waits (or drives): lend it the decoder's response,
		// no copy, and stay suspended until it is done with it.
		s.mu.Unlock()
		s.lend(p, r)
		return
	}
	s.mu.Unlock()
	c := codec.CloneResponse(r)
	size := max(s.pulledSize(), codec.CloneSize(c))
	s.mu.Lock()
	defer s.mu.Unlock()
	if pl.overflow || pl.bytes+size > s.opts.MaxResultBytes {
		// pl.overflow: set while mu was released.
		p.dropped++
		pl.overflow = true
		return
	}
	pl.queue = append(pl.queue, Item{Response: c, Size: size, Renumbered: p.renumberedSince(), renumbered: s.renumbered.Load()})
	pl.bytes += size
	s.pullCond.Broadcast()
	for len(pl.queue) >= pullQueue && !s.otherDemand(p) && !pl.closed && !p.abandoned.Load() && s.err == nil {
		s.pullCond.Wait()
	}
}

// pullSection hands a body section to the pulled command p, on the reading
// coroutine, in the middle of decoding f: it returns when the caller is
// done with the body (or the reader had to go on).
func (s *Session) pullSection(p *Pending, f *codec.Fetch, sec *codec.Section, r io.Reader) error {
	s.rl.streamed += sec.Size
	// The caller gets a copy of the FETCH so far: the decoder goes on
	// filling f while the caller reads the body.
	snap := codec.CloneResponse(f).(*codec.Fetch)
	var secCopy *codec.Section
	if n := len(snap.Sections); n > 0 {
		secCopy = &snap.Sections[n-1]
	}
	body := &pullBody{s: s, p: p, r: r}
	s.mu.Lock()
	pl := p.pull
	item := Item{Response: snap, Section: secCopy, Body: body, Renumbered: p.renumberedSince(), renumbered: s.renumbered.Load(), parked: true}
	// inMemory reads the body into memory and queues it, so that the
	// reader goes on (under mu; it returns with mu released).
	inMemory := func() error {
		s.detachCounted(p, body)
		item.parked = false
		pl.queue = append(pl.queue, item)
		s.pullCond.Broadcast()
		s.mu.Unlock()
		return nil
	}
	// Items stay in order: the section waits for the queue to be taken,
	// unless another goroutine needs the reader: then its body is read
	// into memory and queued. Past the bound (overflow), the queue keeps
	// nothing more: the body is skipped, and its FETCH dropped at its end
	// (pullDeliver).
	for len(pl.queue) > 0 {
		if pl.closed || pl.overflow || p.abandoned.Load() || s.err != nil {
			s.mu.Unlock()
			return nil // the decoder skips the body
		}
		if s.otherDemand(p) {
			return inMemory()
		}
		s.pullCond.Wait()
	}
	if pl.closed || pl.overflow || p.abandoned.Load() || s.err != nil {
		s.mu.Unlock()
		return nil
	}
	if s.rl.direct {
		// A direct step cannot stop here while the caller reads the body
		// (step's prescan keeps sections this large out of it; this is
		// the safety net).
		return inMemory()
	}
	// The caller is not waiting for it: it is queued, by the goroutine
	// that drove, under mu once it is back from drive (itemLocked). Were
	// it queued here, the caller could take it and read the body (reading
	// the connection, through coBeforeRead) while that goroutine still
	// writes s.rl on its way out of drive.
	queued := !pl.waiting && s.co.holder != p
	s.mu.Unlock()
	s.rl.yielded = true
	s.rl.event = coEvent{kind: coItem, p: p, item: item, body: body, queued: queued}
	s.rl.yield(coItem)
	return nil
}

// coEventLocked applies what the coroutine yielded to the goroutine that
// drove it (self: the pulled command whose caller drove, or nil), under mu.
func (s *Session) coEventLocked(ev coEvent, self *Pending) {
	// Suspended where nothing of the response it routed is left to do:
	// a direct step may take its place (see step).
	s.co.clean = ev.kind == coRouted || ev.kind == coItem && ev.body == nil
	s.itemLocked(ev, self)
}

// itemLocked applies an event of the coroutine or of a direct step to the
// goroutine that drove it (under mu).
func (s *Session) itemLocked(ev coEvent, self *Pending) {
	switch ev.kind {
	case coItem:
		s.co.lent, s.co.body = ev.p, ev.body
		pl := ev.p.pull
		if ev.queued {
			s.queueBodyLocked(pl, ev.item)
		} else {
			pl.slot, pl.hasSlot = ev.item, true
			pl.waiting = false
		}
		if ev.p != self {
			s.pullCond.Broadcast()
		}
	case coIO:
		s.co.io = true
	}
}

// queueBodyLocked queues it, a body section lent to a caller that was
// not waiting for it, on pl (under mu).
func (s *Session) queueBodyLocked(pl *puller, it Item) {
	pl.queue = append(pl.queue, it)
	if h := testHookBodyQueued.Load(); h != nil {
		(*h)(s)
	}
}

// testHookBodyQueued, set by tests, runs under mu as a body section is
// queued for a caller that was not waiting for it (queueBodyLocked).
var testHookBodyQueued atomic.Pointer[func(s *Session)]

// resumableLocked reports whether the reader goroutine may resume the
// coroutine (under mu). When it is lent, that takes the caller being done
// with it (or gone), or another goroutine needing the reader: then what
// the caller holds must first be kept valid (keepLent).
func (s *Session) resumableLocked() (ok, keep bool) {
	if s.co.running || s.co.done {
		return false, false
	}
	p := s.co.lent
	if p == nil {
		return true, false
	}
	if p.pull.closed || p.abandoned.Load() {
		// The caller gave the answer up (Wait, an ended context), but
		// may still be in the middle of reading a lent body from
		// another goroutine: keepLent fences it first, so that the
		// coroutine, skipping the rest of the literal, never reads the
		// connection beside that read (TestPullWaitWhileBodyRead).
		return true, s.co.body != nil
	}
	if s.err != nil {
		// The session ended (Close, Abort, a command's bound) while the
		// caller may be reading the lent body, or holding the lent
		// response: keepLent detaches the body under its lock first, so
		// that the coroutine, skipping the rest of the literal, never
		// reads the connection beside the caller; or gives the response
		// its own memory, so that the coroutine, decoding what is
		// buffered on its way out, does not overwrite what the caller
		// holds (TestFetchLentAbort).
		return true, true
	}
	if !s.co.stuck && s.otherDemand(p) {
		return true, true
	}
	return false, false
}

// keepLent keeps what the coroutine lent valid before it goes on: a held
// response gets its own memory (Unshare), a section body is read into
// memory. It runs with the coroutine claimed (co.running) and mu not held.
func (s *Session) keepLent(p *Pending, body *pullBody) error {
	if body != nil {
		s.mu.Lock()
		if p.pull.closed || p.abandoned.Load() {
			// Nobody will read the rest: ended, not kept.
			s.mu.Unlock()
			body.fence(ErrBodyDropped)
			return nil
		}
		s.detachCounted(p, body)
		s.mu.Unlock()
		return nil
	}
	// Between two responses no literal is open: Unshare cannot fail.
	// Were it to, the reader waits for the caller rather than overwrite
	// what it holds.
	return s.dec.Unshare()
}

// step reads and routes the next response on the calling goroutine,
// without resuming the coroutine: a direct step, for holder, whose caller
// waits in Next. It takes the coroutine's place when the coroutine is
// suspended where nothing is left of the response it routed (co.clean),
// and only when the whole next response is in the tokenizer's buffer with
// no body section large enough to be streamed (see Next): then reading it
// blocks on nothing and yields nothing, and the two coroutine switches per
// response are saved. The caller has claimed the reader as for drive.
func (s *Session) step(holder *Pending) (coEvent, bool) {
	s.rl.holder, s.rl.direct = holder, true
	s.rl.event = coEvent{kind: coRouted}
	over := s.readOne()
	ev := s.rl.event
	s.rl.holder, s.rl.direct = nil, false
	s.rl.event = coEvent{}
	return ev, !over
}

// stepReady reports whether the next response may be read by a direct step:
// it is wholly buffered, and its literals are small enough to be kept in
// the FETCH (sectionHandler). Only with the reader claimed.
func (s *Session) stepReady() bool {
	ok, maxLit := s.tok.LineBuffered()
	return ok && maxLit <= int64(wireMaxString(s.opts.Tokenizer))
}

// drive runs the coroutine until it yields, on the calling goroutine, for
// holder (nil: the reader goroutine). The caller has claimed it (under mu:
// co.running, co.holder set, co.io and co.lent cleared).
// A caller whose context can end (cancelable: ctx.Done() is not nil)
// must not block on the network.
func (s *Session) drive(holder *Pending, cancelable bool) (coEvent, bool) {
	s.rl.holder, s.rl.inCo, s.rl.cancelable = holder, true, cancelable
	kind, ok := s.co.next()
	s.rl.holder, s.rl.inCo, s.rl.cancelable = nil, false, false
	ev := coEvent{kind: kind}
	if kind == coItem {
		// Taken from where the coroutine left it, and cleared there:
		// what iter.Pull keeps is the kind alone.
		ev, s.rl.event = s.rl.event, coEvent{}
	}
	return ev, ok
}

// coBeforeRead runs before every read from the connection. A caller that
// drives the coroutine reads from the connection itself: with a context
// that cannot end, it would wait for the response anyway (the session's
// stall timeout still applies); with one that can, the context's end
// interrupts the read (watchConn.interrupt: a deadline in the past), and
// retryRead hands the coroutine to the reader goroutine, which reads
// again. Under COMPRESS an interrupted read would break the inflater
// (compress/flate's errors stick), so there such a caller lets the reader
// goroutine do every read (two goroutine wakeups per read); so does a TLS
// or COMPRESS upgrade, which reads on its own.
func (s *Session) coBeforeRead() {
	if s.rl.inCo && s.rl.holder != nil && (s.rl.upgrade || s.rl.cancelable && s.compressed) {
		s.rl.yield(coIO)
	}
}

// retryRead runs when a read from the connection failed with err, and
// reports whether to read again: when the read was interrupted for a
// pulled command's caller whose context ended (interruptDriver). If that
// caller drives the coroutine, it hands it to the reader goroutine first.
//
// A caller reading a lent body whose context has ended is not read for
// again: pullBody.Read ends the body (the interrupt, interruptBody's, is
// cleared there).
func (s *Session) retryRead(err error) bool {
	if !isTimeout(err) {
		return false
	}
	if b := s.bodyRead.Load(); b != nil && b.ctxErr() != nil {
		return false
	}
	if !s.wc.clearInterrupt() {
		return false
	}
	if s.rl.inCo && s.rl.holder != nil {
		s.rl.yield(coIO)
	}
	return true
}

// driveFor runs the reading coroutine for p's caller (Next, mu not held):
// one direct step when the response is buffered whole and direct is
// allowed, else drive. A panic inside it (a Trace writer, a slog handler,
// another command's OnData or Sections run by the coroutine) would leave
// the coroutine claimed and mu unlocked under Next's deferred Unlock, a
// fatal error no recover catches: the session is aborted, the coroutine
// given up (it is dead once it panicked), mu locked again for Next's
// defers, and the panic goes on to Next's caller.
func (s *Session) driveFor(p *Pending, ctx context.Context, direct bool) (ev coEvent, ok, stepped bool) {
	returned := false
	defer func() {
		if !returned {
			r := recover()
			what := p.name
			if wp, ok := r.(*wantPanic); ok {
				r, what = wp.v, wp.cmd+"'s Want"
			}
			s.abort(fmt.Errorf("%w while reading for %s: %v", ErrPanicked, what, r))
			s.mu.Lock()
			s.co.running, s.co.holder, s.co.done = false, nil, true
			p.pull.waiting = false
			s.pullCond.Broadcast()
			panic(r)
		}
	}()
	if direct && s.stepReady() {
		// The response is buffered whole: no wait for the server to
		// count.
		ev, ok = s.step(p)
	} else {
		direct = false
		p.pull.beginWait()
		ev, ok = s.drive(p, ctx.Done() != nil)
	}
	s.mu.Lock()
	wp := p.pull.wantPanic
	p.pull.wantPanic = nil
	s.mu.Unlock()
	if wp != nil {
		// A Command.Want panicked while this caller drove (callWant):
		// the recovery above aborts the session, and the panic goes on
		// here, mu not held.
		panic(wp)
	}
	returned = true
	return ev, ok, direct
}

// interruptDriver interrupts the read of p's caller if it drives the
// coroutine (under mu): its context has ended.
func (s *Session) interruptDriver(p *Pending) {
	if s.co.running && s.co.holder == p && !s.compressed {
		s.wc.interrupt()
	}
}

// interruptBody interrupts the read of the body lent to p's caller if
// that caller reads it now from the connection and Next handed it out
// with ctx, which has ended (under mu): the read fails with a timeout
// that retryRead does not read again for, and pullBody.Read ends the body.
// A caller that is not reading then finds ctx ended at its next read.
// Under COMPRESS the interrupt is the inflater's (watchConn.interrupt),
// whose read goes on for the reader goroutine.
func (s *Session) interruptBody(p *Pending, ctx context.Context) {
	b := s.co.body
	if s.co.lent == p && b != nil && b.ctx == ctx && s.bodyRead.Load() == b {
		s.wc.interrupt()
	}
}

// Next returns the next response of a command started with Command.Pull,
// on the caller's goroutine, in the order the server sent them; io.EOF
// means the command is over (Wait then returns its result). A response is
// valid until the next call to Next: keep a copy with codec.CloneResponse.
// Body sections come as items with Section and Body set. Other commands may
// run between two calls to Next.
//
// When ctx ends, Next returns its error and the command is abandoned: the
// rest of its answer is read and thrown away, and, for a command with
// Command.OnContinue, a continuation request from then on is answered "*"
// as when Wait's context ends (a Wait running beside answers the one its
// OnContinue holds, then calls OnContinue no more). From then on Next
// returns that error again, never io.EOF (the answer was not all handed
// out), also once the rest was read; so it does after a body's read ended
// with its context (Item.Body).
func (p *Pending) Next(ctx context.Context) (Item, error) {
	s := p.s
	if p.pull == nil {
		return Item{}, ErrNotPull
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := p.pull
	if ctx != pl.ctx && ctx.Done() != nil {
		if pl.stop != nil {
			pl.stop()
		}
		pl.ctx = ctx
		pl.stop = context.AfterFunc(ctx, func() {
			s.mu.Lock()
			s.interruptDriver(p)
			s.interruptBody(p, ctx)
			s.pullCond.Broadcast()
			s.mu.Unlock()
		})
	}
	// Release what the caller held. If the coroutine is lent to this
	// command, the loop below resumes it here.
	pl.held = false
	defer func() {
		pl.waiting = false
		if !s.co.running && (s.co.lent != p || s.otherDemand(p)) {
			// The coroutine is free: the reader goroutine may need to
			// go on with it. Also when it is lent to p, if another
			// goroutine waits for the reader: their one wake-up may
			// have come while p's caller drove the reading, and the
			// reader went back to waiting then (a lost wake-up: the
			// others' answers sat unread until CommandTimeout,
			// TestPulledDriverHoldsItemWakesReader).
			s.pullCond.Broadcast()
		}
	}()
	for {
		// The slot first: a response is lent there only while the
		// caller waits with nothing queued, so whatever is queued came
		// after it (the reader goes on while the caller has not taken it
		// yet when another goroutine needs the reader: keepLent).
		if pl.hasSlot {
			it := pl.slot
			pl.slot, pl.hasSlot = Item{}, false
			pl.held = it.parked
			pl.takeBody(it, ctx)
			return it, nil
		}
		if len(pl.queue) > 0 {
			it := pl.queue[0]
			pl.queue[0] = Item{}
			pl.queue = pl.queue[1:]
			pl.bytes -= it.Size
			pl.held = it.parked
			pl.takeBody(it, ctx)
			s.pullCond.Broadcast()
			return it, nil
		}
		if pl.gaveUp != nil {
			// Abandoned: the answer was not all handed out.
			pl.unwatch()
			return Item{}, pl.gaveUp
		}
		if pl.ended {
			pl.unwatch()
			return Item{}, io.EOF
		}
		if err := ctx.Err(); err != nil {
			pl.unwatch()
			pl.waiting = false
			pl.gaveUp = err
			// As an abandoned Wait: no one answers a "+" now (but the
			// refusal, with OnContinue).
			p.abandonPulledLocked()
			pl.stopPulling()
			s.pullCond.Broadcast()
			return Item{}, err
		}
		if s.err != nil {
			pl.unwatch()
			return Item{}, s.err
		}
		if s.co.next != nil && !s.co.running && !s.co.io && !s.co.done && (s.co.lent == nil || s.co.lent == p) {
			// Nobody drives the coroutine: drive it here, and the
			// response comes to this goroutine without a wakeup.
			s.co.lent, s.co.body, s.co.stuck = nil, nil, false
			s.co.running, s.co.holder = true, p
			pl.waiting = true
			// Commands that run alone (an upgrade among them, which
			// must read on the reader goroutine) never see a direct step.
			direct := s.co.clean && s.counts.alone == 0
			s.mu.Unlock()
			ev, ok, direct := s.driveFor(p, ctx, direct)
			s.mu.Lock()
			if !direct {
				pl.endWait()
			}
			s.co.running, s.co.holder = false, nil
			pl.waiting = false
			if !ok {
				// The session has ended. A direct step leaves the
				// coroutine suspended: the reader goroutine resumes it
				// and it returns (resumableLocked: s.err is set).
				if !direct {
					s.co.done = true
				}
				s.pullCond.Broadcast()
				continue
			}
			if direct {
				// The coroutine stays where it was (clean).
				s.co.steps++
				s.itemLocked(ev, p)
			} else {
				s.coEventLocked(ev, p)
			}
			if ev.kind == coIO {
				s.pullCond.Broadcast() // the reader goroutine reads
			}
			continue
		}
		// Waiting here needs the reader too, if it is lent to another
		// pulled command (otherDemand): say so once. A broadcast at
		// every return to the wait woke the other waiters, which
		// broadcast in turn: two callers waiting in Next woke each other
		// without end, a CPU each (TestPulledWaitersDoNotSpin).
		if !pl.waiting {
			pl.waiting = true
			s.pullCond.Broadcast()
		}
		pl.beginWait()
		s.pullCond.Wait()
		pl.endWait()
	}
}
