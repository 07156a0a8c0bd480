// The per-command bookkeeping, kept cheap: a pipelined command costs a
// constant number of allocations and no scan of the commands in flight
// (canStart and armStall read counts, tags are found in a map, a
// command's channels are made only when somebody waits on them, one timer
// per session enforces CommandTimeout, one context.AfterFunc per context
// interrupts the writes), and an idle session holds no write buffer.

package session

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/codec"
)

// flightCounts counts the commands in flight by the rules that decide
// what may start beside them (under mu).
type flightCounts struct {
	alone     int32 // must run alone
	seqNums   int32 // use message sequence numbers
	expunging int32 // may see EXPUNGE (not noExpunge)
	waits     int32 // wait for the server (IDLE after its "+", before DONE: Pending.serverWait): no stall timeout
	streams   int32 // have Command.Sections (every body section goes to them)
	// Those that take FETCH responses by their message set are counted
	// by kind in Session.hull.
}

func (c *flightCounts) add(info *commandInfo, d int32) {
	if info.alone {
		c.alone += d
	}
	if info.seqNums {
		c.seqNums += d
	}
	if !info.noExpunge {
		c.expunging += d
	}
}

// addInflightLocked puts p in flight, after the others (under mu).
func (s *Session) addInflightLocked(p *Pending) {
	if len(s.inflight) == 0 && s.flightArr != nil {
		s.inflight = s.flightArr[:0] // from the start of the array again
	}
	s.inflight = append(s.inflight, p)
	if len(s.inflight) == 1 && cap(s.inflight) <= 64 {
		s.flightArr = s.inflight[:0]
	}
	s.byTag[p.tag] = p
	s.counts.add(&p.info, 1)
	if p.info.bySet {
		s.hullAddLocked(p)
	}
	if p.cmd.Sections != nil {
		s.counts.streams++
	}
	if p.bound > 0 {
		s.armBoundLocked(p.boundAt())
	}
}

// removeInflightLocked takes p out of flight, wherever it is (under mu).
// Mostly the oldest ends: that is found first.
func (s *Session) removeInflightLocked(p *Pending) {
	for i, q := range s.inflight {
		if q != p {
			continue
		}
		if i < s.nsent {
			s.nsent--
		}
		// In place: a copy per answer costs O(n²) with n commands
		// pipelined (1000 NOOPs: 5.5 MB).
		if i == 0 {
			s.inflight[0] = nil
			s.inflight = s.inflight[1:]
		} else {
			copy(s.inflight[i:], s.inflight[i+1:])
			s.inflight[len(s.inflight)-1] = nil
			s.inflight = s.inflight[:len(s.inflight)-1]
		}
		delete(s.byTag, p.tag)
		if p.serverWait {
			p.serverWait = false
			s.counts.waits--
		}
		s.counts.add(&p.info, -1)
		if p.cmd.Sections != nil {
			s.counts.streams--
		}
		if p.info.bySet {
			s.hull.remove(p.info.uids)
		}
		return
	}
}

// changedLocked wakes the goroutines waiting for inflight to change
// (under mu).
func (s *Session) changedLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// closedChan is a closed channel: Done of a command that ended before
// anybody asked.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// doneLocked returns p's done channel, making it on first use (under
// s.mu).
func (p *Pending) doneLocked() chan struct{} {
	if p.done == nil {
		if p.ended {
			return closedChan
		}
		p.done = make(chan struct{})
	}
	return p.done
}

// endLocked marks p over (under s.mu); result and err are set.
func (p *Pending) endLocked() {
	p.ended = true
	p.renumberedEnd = p.s.renumbered.Load()
	p.onBlock = nil
	if p.done != nil {
		close(p.done)
	}
}

// answeringLocked marks p, a command that waits on the server (IDLE),
// as one that was sent its continuation line (DONE) and now waits for its
// answer: the stall timeout applies to it (under s.mu).
func (s *Session) answeringLocked(p *Pending) {
	if !p.info.waits || p.answering || p.ended {
		return
	}
	p.answering = true
	if p.serverWait {
		p.serverWait = false
		s.counts.waits--
	}
	s.armStall()
}

// serverWaitLocked marks p, a command that waits on the server (IDLE),
// as one whose continuation request ("+") came: from now until DONE it
// waits on the server with no end of its own, and the stall timeout is
// off (under s.mu). Before its "+", the "+" is owed at once, as any
// command's answer is: a server that reads IDLE and stays silent is cut
// by the stall timeout (TestIdleNoContinuationBoundedByDefaults).
func (s *Session) serverWaitLocked(p *Pending) {
	if !p.info.waits || p.serverWait || p.answering || p.ended {
		return
	}
	p.serverWait = true
	s.counts.waits++
	s.armStall()
}

// waitsOnServer reports whether p waits on the server with no end of its
// own: IDLE after its "+" and before DONE (under s.mu).
func (p *Pending) waitsOnServer() bool { return p.serverWait }

// blockLocked tells p that a command waits for it to end (under s.mu).
func (p *Pending) blockLocked() {
	p.blocks = true
	if b := p.onBlock; b != nil && !p.ended {
		p.onBlock = nil
		go b.f()
	}
}

// owedLocked marks p's "+", just handed to its channel, as owed an
// answer (Pending.contOwed: the stall timeout off) when someone will
// answer it: a running Wait with OnContinue, or a caller who took
// Continuations. Not once the command answers (IDLE after DONE) or is
// abandoned, over or cut: a "+" no one answers must leave the timer on.
// Nor once it is refused (RefuseContinuations): a "+" the refusal answers
// "*" is not the caller's to answer, and the refusal leaves no answerer
// (it clears contWaiter and contTaken, and Wait and Continuations set
// neither after it; its held case is a command already answered, which
// no "+" reaches), so the answerer test below covers it.
// TestContFlagsTransitions checks that invariant after every transition.
func (s *Session) owedLocked(p *Pending) {
	if p.contOwed || p.answering || p.ended || p.abandoned.Load() || !(p.contWaiter || p.contTaken) {
		return
	}
	p.contOwed = true
	s.armStall()
}

// answererLocked is called when someone who will answer p's "+" comes
// (Wait with OnContinue, Continuations): a "+" already waiting in the
// channel is owed from now on. Not a literal's, which the writer takes.
func (s *Session) answererLocked(p *Pending) {
	if len(p.cont) > 0 && s.contTarget != p {
		s.owedLocked(p)
	}
}

// contLocked returns p's channel of continuation requests, making it on
// first use (under s.mu).
func (p *Pending) contLocked() chan []byte {
	if p.cont == nil {
		p.cont = make(chan []byte, 1)
	}
	return p.cont
}

// resultBox holds a Result and its tagged status in one allocation.
type resultBox struct {
	r  Result
	st codec.Status
}

// resultLocked returns p's Result, made on first use (reader goroutine).
func (p *Pending) resultOrNew() *Result {
	if p.result == nil {
		p.rbox = &resultBox{r: Result{Tag: p.tag}}
		p.result = &p.rbox.r
	}
	return p.result
}

// setStatus stores a copy of the tagged status st in p's result, with the
// credentials the session sent redacted from its text. Without a
// response code the copy lives in the result's own memory and its bytes
// in one allocation.
func (s *Session) setStatus(p *Pending, st *codec.Status) {
	r := p.resultOrNew()
	if st.Code != nil {
		r.Status = s.cloneStatus(st)
		return
	}
	d := &p.rbox.st
	buf := make([]byte, len(st.Tag)+len(st.Text))
	n := copy(buf, st.Tag)
	copy(buf[n:], st.Text)
	*d = codec.Status{Kind: st.Kind}
	if st.Tag != nil {
		d.Tag = buf[:n:n]
	}
	if st.Text != nil {
		d.Text = s.secrets.redactLineEnd(buf[n:])
	}
	r.Status = d
}

// armBoundLocked makes the session's bound timer fire at at or before
// (under mu).
func (s *Session) armBoundLocked(at time.Time) {
	if !s.boundAt.IsZero() && !at.Before(s.boundAt) {
		return
	}
	s.boundAt = at
	if s.bound == nil {
		s.bound = time.AfterFunc(time.Until(at), s.boundFired)
		return
	}
	s.bound.Reset(time.Until(at))
}

// boundFired aborts the session when a command in flight, or one held
// with no verdict on its last challenge (holdLocked), has passed its
// bound, and otherwise waits for the next one.
func (s *Session) boundFired() {
	s.mu.Lock()
	s.boundAt = time.Time{}
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	var next time.Time
	var late *Pending
	for _, p := range s.inflight {
		if p.bound == 0 {
			continue
		}
		var at time.Time
		if pl := p.pull; pl != nil && pl.paced {
			// Late once its caller has waited the bound for the
			// server; not before that much more time has passed.
			at = now.Add(p.bound - pl.waitedLocked(now))
		} else {
			// The time spent reading the caller's literal bodies is
			// the caller's, not the server's.
			at = p.boundAt()
			if c := p.caller.Load(); c != nil {
				at = at.Add(c.spentAt(now))
			}
		}
		if !at.After(now) {
			late = p
			break
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	held, heldAt := s.heldLate(now)
	if late == nil && held != nil {
		// No verdict on the challenge that came with its OK within
		// its bound (holdLocked): the commands held behind it are
		// never released unverified.
		late = held
	}
	if late == nil && !heldAt.IsZero() && (next.IsZero() || heldAt.Before(next)) {
		next = heldAt
	}
	if late == nil && !next.IsZero() {
		s.armBoundLocked(next)
	}
	s.mu.Unlock()
	switch {
	case late != nil && late == held:
		// Its OK is not the answer: Wait says the abort.
		s.abortHeld(late, &TimeoutError{What: TimeoutCommand, After: late.bound, Err: errLateUnsettled})
	case late != nil:
		s.abort(&TimeoutError{What: TimeoutCommand, After: late.bound})
	}
}

// normalName returns a command name upper-cased with its words separated
// by one space. A name that is so already is returned as it is.
func normalName(n string) string {
	ok := n != "" && n[0] != ' ' && n[len(n)-1] != ' '
	for i := 0; ok && i < len(n); i++ {
		c := n[i]
		ok = (c > ' ' && c < 0x7f && (c < 'a' || c > 'z')) || (c == ' ' && n[i-1] != ' ')
	}
	if ok {
		return n
	}
	return strings.ToUpper(strings.Join(strings.Fields(n), " "))
}

// writeWatch interrupts the write in progress when the context of the
// command being written ends (by moving the connection's write deadline to
// writeGrace from then), as deadlineWhile does, but with one context.AfterFunc per
// context rather than per write: a batch, or a loop of Runs with one
// context, registers once. Writes are serialised (wmu): begin and end
// bracket each.
type writeWatch struct {
	mu     sync.Mutex
	ctx    context.Context // the context registered with AfterFunc
	stop   func() bool
	fn     func()          // w.fire, made once
	active context.Context // the context of the write in progress
	conn   net.Conn        // whose write deadline it is
	hit    bool            // the deadline was moved (writeGrace)
	closed bool            // close ran: the session ended, begin watches nothing
	// fresh: hit, and no byte has been handed to the connection since:
	// the first write gets writeGrace from its own start (start), not
	// from when the context ended (a goroutine the scheduler did not run
	// for 50 ms, on a loaded machine, found its deadline passed before
	// it wrote a byte, and a connection in step was aborted).
	fresh atomic.Bool
}

// start is called (by countWriter) before bytes go to the connection:
// the first write after the context ended gets writeGrace from now.
func (w *writeWatch) start() {
	if !w.fresh.Load() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fresh.Load() && w.conn != nil {
		w.conn.SetWriteDeadline(time.Now().Add(writeGrace))
		w.fresh.Store(false)
	}
}

// begin starts watching ctx for a write on conn (under the write lock).
func (w *writeWatch) begin(ctx context.Context, conn net.Conn) {
	if ctx.Done() == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		// The session ended (abortWith closed the watch): its writes
		// fail on the closed connection without a watch, and an
		// AfterFunc registered now would never be stopped, keeping the
		// Session reachable from ctx for as long as ctx lives. The
		// writers look at the session's end after taking the write lock
		// (send, flush, Continue), but abortWith does not take it and
		// may run between that look and begin (a Close from another
		// goroutine while a command's Args or Open runs): closed
		// covers that window (TestWriteWatchNotBegunAfterClose).
		return
	}
	if ctx != w.ctx {
		if w.stop != nil {
			w.stop()
		}
		if w.fn == nil {
			w.fn = w.fire
		}
		w.ctx = ctx
		w.stop = context.AfterFunc(ctx, w.fn)
	}
	// A context that ended before this (its AfterFunc found no write
	// watched) is the caller's to see: a command's write checks ctx
	// after begin, before a byte is written, and does not send the
	// command. Pending.Continue writes its line all the same: it gets
	// writeGrace from now, as if ctx ended now (its AfterFunc, already
	// run, would not run again).
	w.active, w.conn = ctx, conn
	if ctx.Err() != nil && !w.hit {
		conn.SetWriteDeadline(time.Now().Add(writeGrace))
		w.hit = true
		w.fresh.Store(true)
	}
}

// writeGrace is how long a write whose context ended may still take: a
// write that is not blocked (a few bytes into the connection's buffer)
// ends well within it, sent, rather than fail having sent nothing and
// abort the session; a write blocked on a server that does not read is
// cut when it passes (TestShortDeadlinesKeepSession).
const writeGrace = 50 * time.Millisecond

func (w *writeWatch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active != nil && w.active.Err() != nil && !w.hit {
		w.conn.SetWriteDeadline(time.Now().Add(writeGrace))
		w.hit = true
		w.fresh.Store(true)
	}
}

// end stops watching (under the write lock): no deadline in the past is
// left on the connection.
func (w *writeWatch) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.active = nil
	if w.hit && w.conn != nil {
		w.conn.SetWriteDeadline(time.Time{})
	}
	w.hit = false
	w.fresh.Store(false)
}

// close drops the registration, for good: begin does nothing after it.
func (w *writeWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		w.stop()
	}
	// An interrupted write may still call end: close leaves it nothing
	// to undo (TestTranscriptCancelDuringLiteral found end on a closed
	// watch with hit set).
	w.ctx, w.stop, w.active, w.conn, w.hit = nil, nil, nil, nil, false
	w.closed = true
}

// writerPool holds the 16 KiB write buffers of sessions that have nothing
// to write. A buffer keeps the bytes last written through it until a new
// writer overwrites them (they are never sent again: a writer sends only
// what it wrote), except a secret's: one that held a password or a
// secret SASL line is zeroed before it goes back (lazyWriter.giveBack).
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// lazyWriter is a bufio.Writer taken from writerPool when a write begins
// and given back when a flush leaves nothing buffered: an idle session
// holds no buffer. It is used under the write lock alone.
type lazyWriter struct {
	w  io.Writer
	bw *bufio.Writer
	// secret: a secret was written (a command with a password or a
	// Secret, a secret continuation line) under the write lock held
	// now, or is still buffered: a buffer given back meanwhile is zeroed
	// first (giveBack), the one a LOGIN's synchronizing literal flushed
	// before its password too. unlockWrite clears it once nothing is
	// buffered.
	secret bool
}

func (l *lazyWriter) get() *bufio.Writer {
	if l.bw == nil {
		l.bw = writerPool.Get().(*bufio.Writer)
		l.bw.Reset(l.w)
	}
	return l.bw
}

func (l *lazyWriter) Write(p []byte) (int, error) { return l.get().Write(p) }

func (l *lazyWriter) WriteString(s string) (int, error) { return l.get().WriteString(s) }

// ReadFrom keeps bufio.Writer's copy without an intermediate buffer
// (io.Copy of a literal's body).
func (l *lazyWriter) ReadFrom(r io.Reader) (int64, error) { return l.get().ReadFrom(r) }

// Buffered returns the number of bytes waiting for Flush.
func (l *lazyWriter) Buffered() int {
	if l.bw == nil {
		return 0
	}
	return l.bw.Buffered()
}

// Flush writes what is buffered and, when all went out, gives the buffer
// back.
func (l *lazyWriter) Flush() error {
	if l.bw == nil {
		return nil
	}
	if err := l.bw.Flush(); err != nil {
		return err // kept: the session is aborted
	}
	writerPool.Put(l.giveBack())
	return nil
}

// giveBack lets go of l's buffer, flushed, and returns it emptied for
// writerPool: zeroed when a secret may have passed through it (secret),
// a 16 KiB clear for a LOGIN or an AUTHENTICATE step, not for every
// command.
func (l *lazyWriter) giveBack() *bufio.Writer {
	bw := l.bw
	l.bw = nil
	bw.Reset(nil)
	if l.secret {
		clear(bw.AvailableBuffer()[:bw.Available()]) // all of it: nothing is buffered
	}
	if h := testHookGiveBack; h != nil {
		h(bw.AvailableBuffer()[:bw.Available()])
	}
	return bw
}

// testHookGiveBack, set by tests, is shown the whole buffer giveBack
// returns for writerPool.
var testHookGiveBack func(buf []byte)
