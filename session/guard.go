package session

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/internal/redact"
	"github.com/imapkit/imapkit/wire"
)

// Default timeouts. Each applies when its Options field is zero; a negative
// field turns it off.
const (
	// DefaultGreetingTimeout bounds Open when its context has no deadline:
	// the greeting, and the CAPABILITY that may follow it.
	DefaultGreetingTimeout = 30 * time.Second
	// DefaultStallTimeout aborts the session when, while a command waits
	// for the server, no byte arrives for this long (IDLE excepted).
	DefaultStallTimeout = 60 * time.Second
	// DefaultCommandTimeout bounds a command's whole run when its context
	// has no deadline (of a pulled command, the time its caller waits for
	// the server: see Options.CommandTimeout); when the context has one,
	// a command abandoned at that deadline gets the stall timeout more
	// (DefaultStallTimeout, or this bound when StallTimeout is turned off)
	// to end before the session is aborted. IDLE is exempt.
	DefaultCommandTimeout = 15 * time.Minute
)

// Default bounds on what a session keeps in memory.
const (
	// DefaultMaxResultBytes bounds the responses one command collects in
	// Result.Data: each counts the larger of its bytes received plus
	// responseOverhead and the memory of its copy (codec.CloneSize).
	DefaultMaxResultBytes = 64 << 20
	// DefaultMaxUnsolicited bounds the responses waiting for
	// OnUnsolicited.
	DefaultMaxUnsolicited = 10000
	// DefaultMaxKept bounds the responses Responses keeps per name.
	DefaultMaxKept = 1000
	// DefaultMaxKeptNames bounds the names Responses keeps.
	DefaultMaxKeptNames = 64
	// DefaultMaxKeptBytes bounds the memory of the responses Responses
	// keeps, and apart that of the responses waiting for OnUnsolicited,
	// counted as codec.CloneSize counts a copy.
	DefaultMaxKeptBytes = 16 << 20
	// DefaultTraceCapture bounds what the trace keeps of one server line.
	DefaultTraceCapture = 64 << 10
)

// responseOverhead is what a response is charged beyond its bytes
// received, at least: the Go values a decoded response is made of. A copy
// that takes more is charged what it takes (codec.CloneSize).
const responseOverhead = 256

// maxTimeout is the longest timeout the session uses (about nine years):
// a longer one is taken as this, so that what is computed from it (four
// stall timeouts on the write side, a command bound plus its allowances)
// cannot overflow. StallTimeout: math.MaxInt64 made every write fail at
// once, its deadline in the past (the review of 2026-12-04).
const maxTimeout = time.Duration(1) << 58

// orDuration returns v, or d when v is zero; negative means off (0); at
// most maxTimeout.
func orDuration(v, d time.Duration) time.Duration {
	switch {
	case v == 0:
		return d
	case v < 0:
		return 0
	}
	return min(v, maxTimeout)
}

// stallSlack: a read pushes the stall deadline 1/stallSlack of the stall
// timeout further than needed, so that the next reads need not move it.
const stallSlack = 16

// watchConn wraps the raw connection and owns its read deadline. While a
// command waits for the server (armed), every Read pushes the deadline one
// stall timeout ahead: the timeout counts from the last byte received, so a
// slow download that keeps sending is not cut, and a stalled one is. A hard
// deadline (a context that ended, the greeting timeout) wins when earlier.
type watchConn struct {
	net.Conn
	stall time.Duration

	mu    sync.Mutex
	armed bool
	hard  time.Time // zero: none
	set   time.Time // the deadline last given to the connection
	intr  bool      // interrupted: the deadline is in the past (see interrupt)
	// inf is the inflater under COMPRESS (nil before): interrupt and
	// clearInterrupt act on it, and never on the connection, whose
	// timeout the inflater would keep for good.
	inf *inflater
	// ended: the session has ended (stopInflater): an inflater set
	// after is stopped at once.
	ended bool

	// The write side (Write, SetWriteDeadline): wset is the deadline a
	// write left on the connection (zero: none); wdead, the caller's (a
	// command's context ended: writeWatch gives it writeGrace; zero:
	// none), whose timeout is the caller's, not a stall.
	wset  time.Time
	wdead time.Time
	// wbusy counts the writes in progress, wlast is when a write last
	// ended or got bytes through: the server was taking them in; wfull,
	// when a write that had to wait for room ended: the send buffer was
	// full, and the server may still be reading it (readStallExcused).
	// Atomics, times as monotonic readings (monoAt; 0: never): every
	// write sets them, without mu.
	wbusy        atomic.Int32
	wlast, wfull atomic.Int64

	// nominal is the stall timeout stall stands for when a test runs it
	// faster (testStallSpeed), which the errors report; 0: stall.
	nominal time.Duration
}

// testStallSpeed, set by tests (StallSpeed in export_test.go), makes the
// stall timeouts of the sessions opened while it is set run that many
// times faster, on the read and the write side alike, their excuses and
// slack included, and StartTLS's handshake allowance with them
// (handshakeAllowance): the session's own clock for them, where a connection
// that ran only its deadlines faster left the session's reckoning at full
// length (the write deadline a first write set was not moved for 15 s).
// Read once, by Open: nothing on the hot path.
var testStallSpeed time.Duration

// stallAfter is the stall timeout a *TimeoutError reports: stall, or the
// one it stands for (testStallSpeed).
func (c *watchConn) stallAfter() time.Duration {
	if c.nominal != 0 {
		return c.nominal
	}
	return c.stall
}

// readStallExcused reports whether a read that timed out on the stall
// deadline is to be tried again (Read): the server is taking in what the
// session writes, so it is alive, only busy reading (an APPEND's message
// takes longer than the stall timeout to upload over a slow link). So
// while a write is in progress, for a stall timeout after a write got
// bytes through, and for twice writeStallFactor stall timeouts after a
// write that had to wait for room: the last write left the send buffer
// full, and a blocked writer is woken once half of it has drained, which
// the write side allows writeStallFactor stall timeouts for: the whole
// buffer may take twice that (TestSlowUploadNotCutAfterLastWrite). Never
// when interrupted, or when a
// hard deadline has passed: that read would time out at once, again and
// again. The next read sets the stall deadline again from now.
func (c *watchConn) readStallExcused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.intr || c.stall <= 0 || (!c.hard.IsZero() && !now.Before(c.hard)) {
		return false
	}
	ns := monoAt(now)
	last, full := c.wlast.Load(), c.wfull.Load()
	return c.wbusy.Load() > 0 || last != 0 && ns-last < int64(c.stall) || full != 0 && ns-full < int64(2*writeStallFactor*c.stall)
}

// SetWriteDeadline sets the caller's write deadline (a command's context
// ended: the write watch gives the write in progress writeGrace). Write
// keeps it, or the stall deadline when that comes first, and reports a
// timeout at or past it as it is; zero clears it.
func (c *watchConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wdead = t
	c.wset = time.Time{}
	return c.Conn.SetWriteDeadline(t)
}

// writeStallFactor: the stall timeout on the write side is this many
// read stall timeouts. A writer blocked on a full send buffer is woken
// only once much of it has drained (Linux: half of what is queued;
// transport.Pipe: half its buffer), so a slow link that keeps taking bytes
// in can leave a write without progress for a long time: four stall
// timeouts cover a send buffer of 7.5 MB drained at 16 KiB/s (the upload
// rate the command bound allows for, uploadRate).
const writeStallFactor = 4

// Write writes p, with a stall timeout on the write side: a write the
// server takes no byte of for writeStallFactor stall timeouts fails with a
// *TimeoutError (TimeoutWrite); one that goes on, however slowly, is not
// cut (the deadline moves on after each part taken). As on the read side,
// the deadline is moved only when it would fall less than that ahead, and
// then 1/stallSlack further.
func (c *watchConn) Write(p []byte) (int, error) {
	if c.stall <= 0 {
		return c.Conn.Write(p)
	}
	stall := writeStallFactor * c.stall
	done := 0
	for {
		start := time.Now()
		c.mu.Lock()
		if c.wset.IsZero() || (c.wset.Before(start.Add(stall)) && !c.wset.Equal(c.wdead)) {
			// The stall deadline, or the caller's when it comes first
			// (it stays where it is: TestWriteGraceCutsSlowWrite).
			d := start.Add(stall + stall/stallSlack)
			if !c.wdead.IsZero() && c.wdead.Before(d) {
				d = c.wdead
			}
			c.wset = d
			c.Conn.SetWriteDeadline(d)
		}
		c.mu.Unlock()
		c.wbusy.Add(1)
		n, err := c.Conn.Write(p[done:])
		end := time.Now()
		if n > 0 || err == nil {
			c.wlast.Store(monoAt(end))
		}
		if end.Sub(start) > c.stall/64 {
			// It waited for room (a write that does not wait takes
			// microseconds).
			c.wfull.Store(monoAt(end))
		}
		c.wbusy.Add(-1)
		done += n
		if err == nil || !isTimeout(err) {
			return done, err
		}
		c.mu.Lock()
		intr := !c.wdead.IsZero() && !end.Before(c.wdead)
		c.wset = time.Time{} // the deadline passed: set a new one
		c.mu.Unlock()
		switch {
		case intr:
			return done, err // the caller's context
		case n == 0:
			return done, &TimeoutError{What: TimeoutWrite, After: writeStallFactor * c.stallAfter(), Err: err}
		}
		// Some bytes were taken before the deadline: go on.
	}
}

// pastDeadline is the deadline of an interrupted read.
var pastDeadline = time.Unix(1, 0)

// testHookReadTimeout, set by tests (OnReadTimeout), is called by
// watchConn.Read for each read that timed out, interrupted telling an
// interrupt (the deadline in the past: interrupt) from a deadline that
// passed (a stall, a hard deadline).
var testHookReadTimeout atomic.Pointer[func(interrupted bool)]

// interrupt makes the read in progress, and any until clearInterrupt,
// return a timeout at once: a pulled command's caller reading from the
// connection itself (pull.go) is interrupted so when its context ends.
func (c *watchConn) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inf != nil {
		c.inf.interrupt()
		return
	}
	c.intr = true
	c.set = pastDeadline
	c.Conn.SetReadDeadline(pastDeadline)
}

// clearInterrupt reports whether the connection was interrupted, and ends
// that: the next Read sets the deadline it needs again.
func (c *watchConn) clearInterrupt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inf != nil {
		return c.inf.clearInterrupt()
	}
	was := c.intr
	c.intr = false
	return was
}

func (c *watchConn) Read(p []byte) (int, error) {
	for {
		c.mu.Lock()
		d := c.hard
		if c.intr {
			d = pastDeadline
		} else if c.armed && c.stall > 0 {
			now := time.Now()
			if s := now.Add(c.stall); d.IsZero() || s.Before(d) {
				d = s
				if c.hard.IsZero() && !c.set.IsZero() && !c.set.Before(s) {
					// The deadline set is still at least a stall
					// timeout ahead: leave it (a deadline costs a
					// timer update per read). It was set stallSlack
					// further, so a stall is detected between stall
					// and stall+slack after the last byte.
					d = c.set
				} else {
					d = s.Add(c.stall / stallSlack)
				}
			}
		}
		if !d.Equal(c.set) {
			c.Conn.SetReadDeadline(d)
			c.set = d
		}
		c.mu.Unlock()
		n, err := c.Conn.Read(p)
		if err != nil {
			if h := testHookReadTimeout.Load(); h != nil && isTimeout(err) {
				c.mu.Lock()
				intr := c.intr
				c.mu.Unlock()
				(*h)(intr)
			}
		}
		if n == 0 && err != nil && isTimeout(err) && c.readStallExcused() {
			// Not a stall: the server is taking in what the session
			// writes. Here, under TLS and COMPRESS, which keep a read
			// error for good, the read goes on unseen by them.
			continue
		}
		return n, err
	}
}

// setInflater makes interrupt and clearInterrupt act on inf from now on
// (COMPRESS is on). An interrupt pending on the connection is ended.
func (c *watchConn) setInflater(inf *inflater) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inf = inf
	if c.ended {
		inf.stop()
	}
	if c.intr {
		c.intr = false
		c.set = time.Time{}
		c.Conn.SetReadDeadline(c.hard)
	}
}

// releaseInflater gives back the inflater's read buffer (see
// inflater.release), under COMPRESS.
func (c *watchConn) releaseInflater() {
	c.mu.Lock()
	inf := c.inf
	c.mu.Unlock()
	if inf != nil {
		inf.release()
	}
}

// stopInflater ends the inflater's worker goroutine, under COMPRESS, once
// the session has ended (see inflater.stop).
func (c *watchConn) stopInflater() {
	c.mu.Lock()
	c.ended = true
	inf := c.inf
	c.mu.Unlock()
	if inf != nil {
		inf.stop()
	}
}

// arm turns the stall timeout on or off; turned on, it starts it. On
// already, it goes on counting from the last read (each Read pushes it).
func (c *watchConn) arm(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on && c.armed {
		return
	}
	c.armed = on
	d := c.hard
	if on && c.stall > 0 {
		if s := time.Now().Add(c.stall); d.IsZero() || s.Before(d) {
			d = s
		}
	}
	if c.intr {
		d = pastDeadline
	}
	if !d.Equal(c.set) {
		c.Conn.SetReadDeadline(d)
		c.set = d
	}
}

// setHard sets (or, with the zero time, clears) the hard read deadline.
func (c *watchConn) setHard(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hard = t
	d := t
	if c.armed && c.stall > 0 {
		if s := time.Now().Add(c.stall); d.IsZero() || s.Before(d) {
			d = s
		}
	}
	if c.intr {
		d = pastDeadline
	}
	c.set = d
	return c.Conn.SetReadDeadline(d)
}

// writeLock serialises the writes of commands. Unlike a sync.Mutex, a
// command can stop waiting for it when its context ends.
type writeLock struct {
	once sync.Once
	ch   chan struct{}
}

func (l *writeLock) init() { l.once.Do(func() { l.ch = make(chan struct{}, 1) }) }

// Lock takes the lock.
func (l *writeLock) Lock() {
	l.init()
	l.ch <- struct{}{}
}

// lockCtx takes the lock, or gives up when ctx ends first.
func (l *writeLock) lockCtx(ctx context.Context) bool {
	l.init()
	select {
	case l.ch <- struct{}{}:
		return true
	default:
	}
	select {
	case l.ch <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// lockUntil takes the lock, or gives up when done is closed first.
func (l *writeLock) lockUntil(done <-chan struct{}) bool {
	l.init()
	select {
	case l.ch <- struct{}{}:
		return true
	case <-done:
		return false
	}
}

// tryLock takes the lock when it is free, and reports whether it did.
func (l *writeLock) tryLock() bool {
	l.init()
	select {
	case l.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// Unlock releases the lock.
func (l *writeLock) Unlock() { <-l.ch }

// countWriter counts the bytes handed to the connection, so that the
// session knows whether a command's bytes have all been sent.
type countWriter struct {
	w  io.Writer
	n  atomic.Int64
	ww *writeWatch // told of each write (writeWatch.start)
	// out (Session.armOut) is called after each write that went through
	// while outOn is set: while a command is being written (set and
	// cleared around WriteToSized, under the write lock), so that the
	// bytes of a command written before, pushed out by a long upload's
	// write past the buffer, start its stall timeout then, not when the
	// upload's last write returns (its body's reader may take long).
	// Elsewhere a flush is followed by armOut anyway.
	out   func()
	outOn bool
	// failed holds the first error a write to the connection returned:
	// a command's failed write is the connection's, not its body's.
	failed atomic.Pointer[error]
	// short is how many bytes of the last write the connection did not
	// take (counted in n all the same): handedOut.
	short int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	// Counted before the write: the server may answer before Write
	// returns (on a synchronous pipe, or when this goroutine is slow to
	// run again). A failed write aborts the session anyway.
	c.n.Add(int64(len(p)))
	if c.ww != nil {
		c.ww.start()
	}
	n, err := c.w.Write(p)
	c.short = int64(len(p) - n)
	if err == nil && c.outOn {
		c.out()
	}
	if err != nil {
		// A copy of its own: &err would move err to the heap on every
		// write, failed or not (16 bytes a write: BenchmarkAppend100MiB).
		failed := err
		c.failed.CompareAndSwap(nil, &failed)
	}
	return n, err
}

// maxSecrets bounds the credentials a session remembers for redaction.
const maxSecrets = redact.MaxSecrets

// secrets holds the credentials a session has sent, to redact them from
// whatever the server sends back (internal/redact: each in its forms, as
// sent, quoted as the client quotes it and as strconv.Quote writes it).
// It is safe for concurrent use. It owns the copies it keeps, and zeroes
// each as it lets it go: the oldest when a seventeenth comes, all of them
// when the session ends (forget).
type secrets struct{ set redact.Set }

// any reports whether a secret is remembered.
func (x *secrets) any() bool { return x != nil && x.set.Any() }

// add remembers s (newest last, at most maxSecrets), a copy of it: the
// caller's slice is left as it is. An empty s is not remembered (it
// would match everywhere).
func (x *secrets) add(s []byte) { x.set.Add(s) }

// addString is add for a string, copied once (no []byte conversion left
// to the garbage collector unzeroed).
func (x *secrets) addString(s string) { x.set.AddString(s) }

// forget zeroes and drops every secret remembered, once the session has
// ended (nothing the server sends is read any more), and keeps add from
// remembering another.
func (x *secrets) forget() {
	if x != nil {
		x.set.Forget()
	}
}

// redact returns b with every remembered secret, in each of its forms,
// replaced by "***" (redact.Set.Redact: each run of bytes a secret covers
// becomes one "***", so that secrets that overlap or hold one another
// are replaced whole). It returns b itself when there is nothing to
// replace.
func (x *secrets) redact(b []byte) []byte {
	if !x.any() {
		return b
	}
	return x.set.Redact(b)
}

// redactCut is redact for b, the start of a longer line (cut at the
// trace's capture or the history's window): b is first cut before a
// secret that went on past the cut, and back to the start of any whole
// one that cut would split (redact.Set.RedactCut). It returns b itself
// when there is nothing to cut or replace.
func (x *secrets) redactCut(b []byte) []byte {
	if !x.any() {
		return b
	}
	return x.set.RedactCut(b)
}

// edges reports how many of b's first and last bytes are a part of a
// secret that b, a server line, holds only in part: one that began on
// the line before (c, the stream's carry) or goes on past b's line end
// (end, as the server sent it; nil when b was cut at the capture)
// (redact.Set.Edges). It updates c.
func (x *secrets) edges(c *redact.Carry, b, end []byte) (head, tail int) {
	if !x.any() {
		c.Zero()
		return 0, 0
	}
	return x.set.Edges(c, b, end)
}

// carryCut sets c after a line whose end the trace does not show as
// received (cut short, or ending in a literal's body shown as "<N
// bytes>": tracer.carryRawLocked) from last, its end as received, and
// end, its line end (redact.Set.CarryCut).
func (x *secrets) carryCut(c *redact.Carry, last, end []byte) {
	if !x.any() {
		c.Zero()
		return
	}
	x.set.CarryCut(c, last, end)
}

// carryPart is carryCut where last may be only the end of what the line
// ended with: the next line's start is also taken for a secret's rest
// that began before it (redact.Set.CarryPart).
func (x *secrets) carryPart(c *redact.Carry, last, end []byte) {
	if !x.any() {
		c.Zero()
		return
	}
	x.set.CarryPart(c, last, end)
}

// redactEdges is redact (redactCut when cut) of b, a server line as the
// trace shows it, with its first head and last tail bytes (edges)
// redacted too, and a secret's parts at the two sides of each literal
// the line shows (literalGaps, redact.Set.RedactEdgesGaps). The gaps are
// gathered in *gaps, a buffer the caller reuses from line to line
// (tracer.gaps), which keeps them for the next line when it is no larger
// than maxGaps(keep) (keepGaps).
func (x *secrets) redactEdges(b []byte, head, tail int, cut bool, gaps *[]redact.Gap, keep int) []byte {
	if !x.any() {
		return b
	}
	g := literalGaps(b, cut, (*gaps)[:0])
	*gaps = keepGaps(g, maxGaps(keep))
	return x.set.RedactEdgesGaps(b, head, tail, cut, g)
}

// maxGaps is the most gaps literalGaps finds in a line of n bytes: each
// literal it finds is 4 bytes or more ("{N} ", "<N bytes>"), and none
// overlaps another, so there are at most n/4 of them; each has at most
// one traced body's end (a gap of no width) after it; a cut line's gap
// at its end is one more, with its body's end.
func maxGaps(n int) int { return n/2 + 2 }

// keepGaps returns g's memory, emptied, for the next line when it holds
// at most limit gaps: a hostile line of 64 KiB of fake "{9} " headers
// made about 1.2 MB of garbage in 22 allocations, the gaps' slice grown
// anew each line (TestTraceHostileGapsLineReusesGaps). Grown past limit
// by append's rounding, with no more than limit gaps in it, it is made
// again at limit once, so that a steady stream of such lines reuses it.
func keepGaps(g []redact.Gap, limit int) []redact.Gap {
	switch {
	case cap(g) <= limit:
		return g[:0]
	case len(g) <= limit:
		return make([]redact.Gap, 0, limit)
	}
	return nil
}

// literalGaps appends to gaps where line, a server line as the trace
// shows it, holds a literal, in order: its header and the space the
// tracer writes after it ("{N} ", "{N+} ", "~{N} "), with the body's
// "<N bytes>" after them when literals are not traced (a "<N bytes>"
// without a header is one too). A secret echoed across a literal has a
// part on either side of the header or the body's placeholder that is
// neither a whole form nor at the line's edges: a first part just
// before the header, its rest in the body ("X-ECHO hunter2-co {11}
// <11 bytes>", or "hunter2-co {11} rrect-horse" with literals traced),
// or a rest just after the body ("<10 bytes>rrect-horse"), which the
// trace, the slog records and history showed until stop 61
// (TestRedactEchoAcrossLiteralBody, TestRedactEchoAcrossTracedLiteralHeader).
// When cut (line is the start of a longer one), its end is a gap too,
// from the start of a header or placeholder it ends inside of: the
// literal past the cut is unseen, and a first part before it, or before
// the space before it, showed (TestTracerEchoBeforeCutLiteralHeader).
// With literals traced, a body's end, where the line goes on past it, is
// a gap of no width (tracedBodyEnd): a piece after a junk body showed.
// The line is not told apart from a server's text that reads the same:
// such text is taken for a gap too, which only redacts more (a secret's
// part beside it). It costs the line's length, and with literals traced
// the gaps' count times its log (orderEnds).
func literalGaps(line []byte, cut bool, gaps []redact.Gap) []redact.Gap {
	// The next '{' and '<' at or after i (len(line) for none), each
	// looked for again only once i has passed it.
	brace, lt := -1, -1
	// ends counts the traced bodies' ends appended among the gaps
	// (gaps of no width, out of order): put in order once the line is
	// read (orderEnds).
	ends := 0
	for i := 0; i < len(line); {
		if brace < i {
			brace = indexFrom(line, i, '{')
		}
		if lt < i {
			lt = indexFrom(line, i, '<')
		}
		from := min(brace, lt)
		if from == len(line) {
			break
		}
		if from == brace && from > i && line[from-1] == '~' {
			from--
		}
		to, open := literalShown(line, from)
		switch {
		case open && cut:
			return orderEnds(append(gaps, redact.Gap{From: from, To: len(line)}), ends)
		case to > from:
			gaps = append(gaps, redact.Gap{From: from, To: to})
			if e := tracedBodyEnd(line, from, to); e > 0 {
				gaps = append(gaps, redact.Gap{From: e, To: e})
				ends++
			}
			i = to
		default:
			i = from + 1
		}
	}
	if cut {
		from := len(line)
		if from > 0 && line[from-1] == '~' {
			from-- // a header's first byte
		}
		gaps = append(gaps, redact.Gap{From: from, To: len(line)})
	}
	return orderEnds(gaps, ends)
}

// orderEnds puts gaps, literalGaps' (in order but for the traced bodies'
// ends, gaps of no width, each appended after its header's: ends of
// them), in order, each end before a gap that starts where it is; an
// end strictly inside a gap is dropped (nothing of the server's shows
// there), and so is an end twice. Every end is kept, however many wait
// at once for the gaps before them (header-like text inside a body, or
// before a real literal, a quoted "a {19} b", whose "body" ends past the
// real body's end): until stop 63 one waited at a time, then up to 8,
// and a real body's end past them was left out, a credential's rest
// after its junk body shown (TestRedactEchoAfterJunkBodyBehindHeaderLikeText,
// TestRedactEchoAfterJunkBodyBehindManyHeaderLikeTexts). It sorts in
// place: the gaps' count times its log, no allocation.
func orderEnds(gaps []redact.Gap, ends int) []redact.Gap {
	if ends == 0 {
		return gaps
	}
	slices.SortFunc(gaps, func(a, b redact.Gap) int {
		if c := cmp.Compare(a.From, b.From); c != 0 {
			return c
		}
		return cmp.Compare(a.To, b.To) // an end first
	})
	k, wide := 0, -1 // wide: the last gap of width kept
	for _, g := range gaps {
		if g.From == g.To {
			if wide >= 0 && g.From < gaps[wide].To {
				continue // inside it (its start sorts after it)
			}
			if k > 0 && gaps[k-1] == g {
				continue
			}
		} else {
			wide = k
		}
		gaps[k] = g
		k++
	}
	return gaps[:k]
}

// tracedBodyEnd returns where the body of the literal whose header and
// space line[from:to] are ends, when literals are traced (no "<N bytes>"
// in the gap) and the line goes on past it: the header's N bytes after
// to; 0 for none. A server that echoed a credential with literals inside
// it, their bodies junk, had the piece after a body shown with literals
// traced ("{3} XXXrrect-h {2} YYorse": "rrect-h", "orse"): no gap
// parted it from the junk.
func tracedBodyEnd(line []byte, from, to int) int {
	if line[to-1] != ' ' || line[to-2] != '}' {
		return 0 // "<N bytes>": the body not traced
	}
	n := 0
	for p := bytes.IndexByte(line[from:to], '{') + from + 1; p < to && isDigit(line[p]); p++ {
		if n > len(line) {
			return 0
		}
		n = 10*n + int(line[p]-'0')
	}
	if n == 0 || to+n >= len(line) {
		return 0
	}
	return to + n
}

// indexFrom is the index of the first c in line at or after i, or
// len(line) for none.
func indexFrom(line []byte, i int, c byte) int {
	if j := bytes.IndexByte(line[i:], c); j >= 0 {
		return i + j
	}
	return len(line)
}

// literalShown returns where a literal as the trace shows it that begins
// at line[from] ends (from for none): its header and the space after
// it, then its body's "<N bytes>" when that follows; or "<N bytes>"
// alone. open: line ends inside one begun there before it is whole (a
// cut line's end; to is then the end of what is whole, its header).
func literalShown(line []byte, from int) (to int, open bool) {
	p := from
	if line[p] == '<' {
		return bodyShown(line, from)
	}
	if line[p] == '~' {
		p++
	}
	if p == len(line) {
		return from, true
	}
	if line[p] != '{' {
		return from, false
	}
	p++
	d := p
	for p < len(line) && isDigit(line[p]) {
		p++
	}
	if p < len(line) && p > d && line[p] == '+' {
		p++
	}
	for _, c := range []byte("} ") {
		if p == len(line) {
			return from, true
		}
		if line[p] != c || p == d {
			return from, false
		}
		p++
	}
	if p < len(line) && line[p] == '<' {
		to, open := bodyShown(line, p)
		return max(to, p), open
	}
	return p, false
}

// bodyShown is literalShown for "<N bytes>", the body of a literal as
// the trace shows it when literals are not traced.
func bodyShown(line []byte, from int) (to int, open bool) {
	p := from + 1
	d := p
	for p < len(line) && isDigit(line[p]) {
		p++
	}
	for _, c := range []byte(" bytes>") {
		if p == len(line) {
			return from, true
		}
		if line[p] != c || p == d {
			return from, false
		}
		p++
	}
	return p, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// redactLineEnd is redact for b, a text that runs to its line's end (a
// status's text): its end is redacted too where a secret goes on past
// the line end (redact.Set.RedactLineEnd).
func (x *secrets) redactLineEnd(b []byte) []byte {
	if !x.any() {
		return b
	}
	return x.set.RedactLineEnd(b)
}

// redactNameRest redacts the name and rest of a response the codec does
// not know (codec.Unknown) as the one text they are on the line, name SP
// rest to the line's end (redactLineEnd), split again at its first space:
// a secret with a space in it echoed from the name on, or the start of one
// with a line break ending the name when there is no rest, is no whole
// form of either alone. It returns them as they are when nothing is
// replaced; the joined copy is zeroed.
func (x *secrets) redactNameRest(name, rest []byte) (rname, rrest []byte) {
	if !x.any() || len(name)+len(rest) == 0 {
		return name, rest
	}
	line := make([]byte, 0, len(name)+1+len(rest))
	line = append(line, name...)
	if len(name) > 0 && len(rest) > 0 {
		line = append(line, ' ')
	}
	line = append(line, rest...)
	red := x.set.RedactLineEnd(line)
	if len(red) > 0 && &red[0] == &line[0] {
		clear(line)
		return name, rest
	}
	clear(line)
	switch {
	case len(name) == 0:
		return red[:0], red
	case len(rest) == 0:
		return red, red[len(red):]
	}
	if i := bytes.IndexByte(red, ' '); i >= 0 {
		return red[:i:i], red[i+1:]
	}
	return red, red[len(red):]
}

// redactLineStart is redact for b, a line's first word quoted in an
// error (a tag): its start is redacted too where it is a secret's end,
// or all of it lies inside one (redact.Set.RedactLineStart).
func (x *secrets) redactLineStart(b []byte) []byte {
	if !x.any() {
		return b
	}
	return x.set.RedactLineStart(b)
}

// redactSyntax redacts the excerpt of the server's bytes that a
// *wire.SyntaxError in err quotes (its Got), in place: a server that
// echoes a credential where a response cannot hold it would otherwise see
// it printed in the command's error. The excerpt is quoted and cut to 16
// bytes: a secret's forms are looked for in the bytes it quotes, and a
// part of one at either end of the excerpt (2 bytes or more) or of a
// line inside it, or one the excerpt lies inside, counts
// (redact.Set.RedactExcerpt). No copy of a secret is made. Every
// *wire.SyntaxError in err's tree is redacted, not only the first that
// errors.As finds: a malformed response whose rest could not be skipped
// wraps the skip's error too (codec's skipError), which may be a syntax
// error quoting the server's bytes of its own
// (TestRedactSyntaxEverySyntaxError).
func (x *secrets) redactSyntax(err error) {
	if !x.any() {
		return
	}
	x.redactSyntaxTree(err, 0)
}

// redactSyntaxTree is redactSyntax over err and what it wraps, depth
// bounded (a cycle would not end).
func (x *secrets) redactSyntaxTree(err error, depth int) {
	if err == nil || depth > 64 {
		return
	}
	if se, ok := err.(*wire.SyntaxError); ok {
		se.Got = x.set.RedactExcerpt(se.Got)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		x.redactSyntaxTree(u.Unwrap(), depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			x.redactSyntaxTree(e, depth+1)
		}
	}
}

// redactSyntaxHeld is redactSyntax for err, the error of a response that
// cannot be decoded, while the tokenizer still holds the bytes it read of
// it (held, the first at stream offset off: wire.Tokenizer.Held, from the
// decoder's BeforeSkip, before the rest is skipped): the excerpt a
// *wire.SyntaxError in err's tree quotes is redacted as a part of the
// line it was cut from, the line redacted first with its literals'
// headers, bodies' ends and line ends as gaps, then the excerpt read from
// it (redactExcerptHeld). Redacted alone, the excerpt could not join a
// credential's piece inside it to the parts either side of it, outside
// it: `"{3}\r\nXXXQz {2}\r\n"` showed "Qz", a password's 2 bytes between
// two junk bodies, in the command's error and the slog record of the
// undecodable response until stop 63, where the trace's line had it
// redacted (TestRedactEchoShortPieceInExcerptBetweenLiterals). What the
// excerpt alone has redacted (redactSyntax) is redacted still.
func (x *secrets) redactSyntaxHeld(err error, held []byte, off int64) {
	if !x.any() {
		return
	}
	x.redactHeldTree(err, held, off, 0)
}

// redactHeldTree is redactSyntaxHeld over err and what it wraps, depth
// bounded (as redactSyntaxTree).
func (x *secrets) redactHeldTree(err error, held []byte, off int64, depth int) {
	if err == nil || depth > 64 {
		return
	}
	if se, ok := err.(*wire.SyntaxError); ok {
		se.Got = x.redactExcerptHeld(se.Got, se.Offset-off, held)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		x.redactHeldTree(u.Unwrap(), held, off, depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			x.redactHeldTree(e, held, off, depth+1)
		}
	}
}

// heldSlack is how far past a credential's longest form either side of
// an excerpt the window of held bytes reaches (redactExcerptHeld): room
// for the literals' headers, junk bodies and line ends between its
// pieces.
const heldSlack = 4 << 10

// redactExcerptHeld is redact.Set.RedactExcerptHeld for got, a syntax
// error's excerpt whose bytes lie in held at about at (its offset in
// held: wire's excerpt begins there, and is taken there when its bytes
// are; one that ends at the error's byte, or one of the codec's taken
// from the tokenizer's position, lies within 64 bytes of it, and the
// first place they are found there is taken: the same bytes earlier in
// the line, a literal's body, would have the cover read where no
// credential's parts lie around them). The window redacted is the
// held bytes from the longest form and heldSlack before the excerpt to
// the end of the line its last byte lies in (within as much after it):
// a form that overlaps the excerpt lies in it whole, and the response's
// bytes after its end, which a malformed line of few bytes may have read
// ahead of it by the tokenizer's buffer, are not redacted again for each
// such line. The gaps are found from held's start (heldGaps). It returns
// got when its bytes are not found: redactSyntax redacts it alone.
func (x *secrets) redactExcerptHeld(got string, at int64, held []byte) string {
	body, _ := strings.CutSuffix(got, "...")
	if len(body) < 2 || body[0] != '"' {
		return got
	}
	raw, err := strconv.Unquote(body)
	if err != nil || len(raw) == 0 || len(raw) > 64 {
		return got
	}
	var from int
	if at >= 0 && at <= int64(len(held)-len(raw)) && string(held[at:at+int64(len(raw))]) == raw {
		from = int(at) // wire's excerpt: from the error's byte
	} else {
		lo := int(max(0, min(at-64, int64(len(held)))))
		hi := int(max(int64(lo), min(at+64+int64(len(raw)), int64(len(held)))))
		i := strings.Index(unsafe.String(unsafe.SliceData(held[lo:hi]), hi-lo), raw)
		if i < 0 {
			return got
		}
		from = lo + i
	}
	w := x.set.Longest() + heldSlack
	start, end, gaps := heldGaps(held, max(0, from-w), from+len(raw), w)
	return x.set.RedactExcerptHeld(got, held[start:end], gaps, from-start)
}

// heldGaps returns the window of held (a line's bytes as received, from
// its start or from where the tokenizer kept them) that redactExcerptHeld
// redacts, held[start:end], from lo to the end of the line that holds
// held[to-1] (within w bytes after to), and the gaps in it
// (redact.RedactEdgesGaps', relative to start): each literal's header
// with its line end ("{N}" CR LF, "{N+}", "~{N}"), each body's end (a gap
// of no width), each other line end (CR LF or LF, a credential's parts
// either side of it as the trace's carry joins them), and the window's
// ends where it is cut from more (the bytes past them unseen, as the
// excerpt's own ends are to RedactExcerpt). held is read from its start,
// where the bodies are told from the text by their headers. The cost is
// finding held's LFs up to end; the gaps are at most one a byte of the
// window.
func heldGaps(held []byte, lo, to, w int) (start, end int, gaps []redact.Gap) {
	limit := min(len(held), to+w)
	end = limit
	var abs []redact.Gap
	lineEnd := false
	for i := 0; i < limit; {
		e := bytes.IndexByte(held[i:limit], '\n')
		if e < 0 {
			break
		}
		e += i
		text := e
		if text > i && held[text-1] == '\r' {
			text--
		}
		if info, ok := wire.LiteralSuffix(held[i:text]); ok {
			h := literalHeaderStart(held[i:text]) + i
			if e+1 >= lo {
				abs = append(abs, redact.Gap{From: h, To: e + 1})
			}
			if info.Size >= int64(limit-(e+1)) {
				break // the body runs past the window
			}
			i = e + 1 + int(info.Size)
			if i > e+1 && i >= lo {
				abs = append(abs, redact.Gap{From: i, To: i})
			}
			continue
		}
		if e+1 >= lo {
			abs = append(abs, redact.Gap{From: text, To: e + 1})
		}
		i = e + 1
		if i >= to {
			end, lineEnd = i, true
			break
		}
	}
	start = lo
	gaps = make([]redact.Gap, 0, len(abs)+2)
	gaps = append(gaps, redact.Gap{}) // the window's start: a line's, or cut
	for _, g := range abs {
		if g.To <= start || g.From > end {
			continue
		}
		gaps = append(gaps, redact.Gap{From: max(g.From, start) - start, To: min(g.To, end) - start})
	}
	if !lineEnd {
		gaps = append(gaps, redact.Gap{From: end - start, To: end - start})
	}
	return start, end, gaps
}

// literalHeaderStart returns where the literal's header that text (a
// line's text, without its line end) ends with begins ("{N}", "{N+}",
// "~{N}"; wire.LiteralSuffix found it).
func literalHeaderStart(text []byte) int {
	i := bytes.LastIndexByte(text, '{')
	if i > 0 && text[i-1] == '~' {
		i--
	}
	return max(i, 0)
}

// isPrintable reports whether printable would return b as it is.
func isPrintable(b []byte) bool { return esc.Clean(b) }

// printable returns b for an error message or a trace line: control bytes
// (C0, DEL, C1), the line and paragraph separators, the bidirectional
// controls and invalid UTF-8 are escaped as \xNN (internal/printable), so
// that a server cannot write terminal escapes to the user's screen, forge
// lines of a log or reorder what is shown. The raw bytes stay in the typed fields (Status.Text, ...).
func printable(b []byte) string { return esc.Escape(b) }
