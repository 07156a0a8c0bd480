package session

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	esc "github.com/imapkit/imapkit/internal/printable"
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
		c.failed.CompareAndSwap(nil, &err)
	}
	return n, err
}

// maxSecrets bounds the credentials a session remembers for redaction.
const maxSecrets = 16

// secrets holds the credentials a session has sent, to redact them from
// whatever the server sends back. It is safe for concurrent use. It owns
// the copies it keeps, and zeroes each as it lets it go: the oldest when a
// seventeenth comes, all of them when the session ends (forget).
type secrets struct {
	mu   sync.Mutex
	list [][]byte
	// quoted holds, for each of list, its form as a *wire.SyntaxError
	// quotes it (strconv.Quote, without the quotes) when that differs,
	// else nil: made once by add, in memory it owns and zeroes as list's.
	quoted [][]byte
	// wire holds, for each of list, its form inside an IMAP quoted
	// string ('"' and '\\' escaped, as the client sends it and a server
	// echoes it) when that differs from list's and quoted's, else nil;
	// made and zeroed as quoted.
	wire   [][]byte
	n      atomic.Int32 // len(list), read without the lock by any
	closed bool         // forgotten: the session has ended, add keeps nothing
	// fail is partialSuffix's table, kept for the next line (under mu):
	// as long as the longest secret's form or the capture, whichever is
	// shorter.
	// It holds how a secret's start repeats in itself, none of its bytes;
	// forget zeroes it all the same.
	fail []int32
	// cover is coverLocked's array, kept for the next line (under mu):
	// as long as the longest line a secret was found in (at most the
	// capture). It holds where secrets are, none of their bytes.
	cover []int32
	// work counts the bytes the cut and the cover looked at (under mu),
	// for tests that bound it.
	work int
}

// any reports whether a secret is remembered.
func (x *secrets) any() bool { return x != nil && x.n.Load() > 0 }

// add remembers s (newest last, at most maxSecrets), a copy of it: the
// caller's string or slice is left as it is. An empty s is not
// remembered (it would match everywhere).
func (x *secrets) add(s []byte) { addSecret(x, s) }

// addString is add for a string, copied once (no []byte conversion left
// to the garbage collector unzeroed).
func (x *secrets) addString(s string) { addSecret(x, s) }

func addSecret[T ~string | ~[]byte](x *secrets, s T) {
	if len(s) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	for _, o := range x.list {
		if sameBytes(o, s) {
			return
		}
	}
	if len(x.list) == maxSecrets {
		x.dropOldest()
	}
	own := append([]byte(nil), s...)
	x.list = append(x.list, own)
	q := quotedForm(own)
	x.quoted = append(x.quoted, q)
	x.wire = append(x.wire, wireQuotedForm(own, q))
	x.n.Store(int32(len(x.list)))
}

// dropOldest zeroes and drops the oldest secret and its quoted form.
func (x *secrets) dropOldest() {
	clear(x.list[0])
	clear(x.quoted[0][:cap(x.quoted[0])])
	clear(x.wire[0][:cap(x.wire[0])])
	copy(x.list, x.list[1:])
	copy(x.quoted, x.quoted[1:])
	copy(x.wire, x.wire[1:])
	last := len(x.list) - 1
	x.list[last], x.quoted[last], x.wire[last] = nil, nil, nil
	x.list, x.quoted, x.wire = x.list[:last], x.quoted[:last], x.wire[:last]
}

// quotedForm returns sec as strconv.Quote writes it, without the quotes,
// or nil when that is sec itself. It is written into an array made large
// enough at once (an escape is at most 4 bytes a byte: \xNN), so that no
// append outgrows it and leaves part of a secret behind, and one that is
// not kept is zeroed. sec is viewed as a string, not converted: the view
// does not outlive the call.
func quotedForm(sec []byte) []byte {
	q := strconv.AppendQuote(make([]byte, 0, 4*len(sec)+2), unsafe.String(unsafe.SliceData(sec), len(sec)))
	if len(q) == len(sec)+2 {
		clear(q) // no escape: the same bytes as sec
		return nil
	}
	return q[1 : len(q)-1]
}

// wireQuotedForm returns sec inside an IMAP quoted string, '"' and '\\'
// escaped (wire.Encoder's quoted form; other bytes, control bytes too,
// as they are), or nil when that is sec itself or q (sec's quotedForm),
// in an array of its exact size.
func wireQuotedForm(sec, q []byte) []byte {
	n := 0
	for _, c := range sec {
		if c == '"' || c == '\\' {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	w := make([]byte, 0, len(sec)+n)
	for _, c := range sec {
		if c == '"' || c == '\\' {
			w = append(w, '\\')
		}
		w = append(w, c)
	}
	if bytes.Equal(w, q) {
		clear(w)
		return nil
	}
	return w
}

// forms yields each remembered secret in every form a server line may
// echo it in: as sent (raw, or in a literal), quoted as the client
// quotes it (wire), and as strconv.Quote writes it (quoted: a server
// that escapes as Go does), under mu.
func (x *secrets) forms(yield func([]byte) bool) {
	for i, s := range x.list {
		if !yield(s) {
			return
		}
		for _, f := range [][]byte{x.quoted[i], x.wire[i]} {
			if f != nil && !yield(f) {
				return
			}
		}
	}
}

// sameBytes reports whether o and s hold the same bytes, without the
// conversion of either (a copy of a secret the collector would get).
func sameBytes[T ~string | ~[]byte](o []byte, s T) bool {
	if len(o) != len(s) {
		return false
	}
	for i := range len(o) {
		if o[i] != s[i] {
			return false
		}
	}
	return true
}

// forget zeroes and drops every secret remembered, once the session has
// ended (nothing the server sends is read any more), and keeps add from
// remembering another.
func (x *secrets) forget() {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, o := range x.list {
		clear(o)
		clear(x.quoted[i][:cap(x.quoted[i])])
		clear(x.wire[i][:cap(x.wire[i])])
	}
	clear(x.list)
	clear(x.quoted)
	clear(x.wire)
	clear(x.fail[:cap(x.fail)])
	x.list, x.quoted, x.wire, x.fail, x.cover = nil, nil, nil, nil, nil
	x.closed = true
	x.n.Store(0)
}

// redactCut is redact for b, the start of a longer line (cut at the
// trace's capture or the history's window): b is first cut before the
// longest end of it that is the start of a remembered secret's form
// (forms: raw or quoted; a secret
// that went on past the cut, which redact would not find, whatever its
// length), and that cut is pulled back to the start of every whole secret
// it would split (cutAt: a secret ending at b's end whose last bytes start
// a secret, its own or another's, would otherwise lose them to the cut and
// be printed but for them); what is left is then redacted. It returns b
// itself when there is nothing to cut or replace.
func (x *secrets) redactCut(b []byte) []byte {
	if !x.any() {
		return b
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	n, r := x.cutAtLocked(b)
	if r == nil {
		// Nothing was cut, or no secret is whole in b.
		r = x.coverLocked(b[:n])
	}
	return replaceCovered(b[:n], r)
}

// cutAtLocked returns where redactCut cuts b (under mu): before the
// longest end of b that starts a secret, then back to the start of any
// whole secret in b that this cut would split, until none does. It also
// returns b's cover (coverLocked; nil when no secret is whole in b or b
// is not cut). The pull back is a walk to the left over the cover, one
// step a byte: it cannot cost more than b's length, however many
// secrets overlap there (before, each step searched every secret around
// the cut again: a 64 KiB line of "123123..." cost seconds).
func (x *secrets) cutAtLocked(b []byte) (int, []int32) {
	n := len(b)
	for s := range x.forms {
		if k := x.partialSuffixLocked(b, s); k > 0 {
			n = min(n, len(b)-k)
		}
	}
	if n == len(b) {
		return n, nil
	}
	r := x.coverLocked(b)
	for r != nil && n > 0 && int(r[n-1]) > n {
		n--
		x.work++
	}
	return n, r
}

// coverLocked returns, for each byte i of b, the end of the farthest
// reaching whole secret in b that starts at i or before it (so byte i is
// in a secret when r[i] > i), or nil when no secret is in b (under mu:
// r is x.cover, good until the next call).
// Each secret's occurrences are found once (eachOccurrence), in time
// about linear in b's length.
func (x *secrets) coverLocked(b []byte) []int32 {
	var r []int32
	for s := range x.forms {
		x.fail = x.eachOccurrence(b, s, func(i, end int) {
			if r == nil {
				if cap(x.cover) < len(b) {
					x.cover = make([]int32, len(b))
				}
				r = x.cover[:len(b)]
				clear(r)
			}
			r[i] = max(r[i], int32(end))
		})
	}
	for i := 1; i < len(r); i++ {
		r[i] = max(r[i], r[i-1])
	}
	return r
}

// eachOccurrence calls fn with the start and end of every occurrence of
// s in b, in order; a run of occurrences each overlapping the next
// ("123123" in "123123123...") is given as one, from the first's start
// to the last's end (under mu: it counts its work in x.work, and uses
// x.fail, which it returns). Once s is found at i, the next occurrence
// is not before i+p, p the period of s; the run goes on as long as b
// does with period p (periodRun: a comparison of blocks, not a search a
// step); past it, s is searched for from the run's last start plus p,
// and is more than len(s)-p after it, whence the searches cost about
// b's length in all.
func (x *secrets) eachOccurrence(b, s []byte, fn func(start, end int)) []int32 {
	i := bytes.Index(b, s)
	x.work += len(b)
	if i < 0 {
		return x.fail
	}
	fail := kmpTable(s, x.fail)
	m := len(s)
	p := m - int(fail[m-1])
	for {
		last := i
		if p < m {
			k := x.periodRun(b, i+m, p)
			last = i + (k-m-i)/p*p
		}
		fn(i, last+m)
		j := last + p
		if j >= len(b) {
			return fail
		}
		k := bytes.Index(b[j:], s)
		if k < 0 {
			x.work += len(b) - j
			return fail
		}
		x.work += k + m
		i = j + k
	}
}

// periodRun returns the first k >= from at which b[k] differs from
// b[k-p] (len(b) when none does), comparing blocks of 256 bytes.
func (x *secrets) periodRun(b []byte, from, p int) int {
	const block = 256
	k := from
	for k+block <= len(b) && bytes.Equal(b[k:k+block], b[k-p:k-p+block]) {
		k += block
	}
	for k < len(b) && b[k] == b[k-p] {
		k++
	}
	x.work += k - from
	return k
}

// kmpTable returns the Knuth-Morris-Pratt table of s in fail (grown when
// short): fail[i] is the length of the longest proper start of s[:i+1]
// that is also its end.
func kmpTable(s []byte, fail []int32) []int32 {
	if cap(fail) < len(s) {
		fail = make([]int32, len(s))
	}
	fail = fail[:len(s)]
	if len(s) > 0 {
		fail[0] = 0
	}
	for i, k := 1, int32(0); i < len(s); i++ {
		for k > 0 && s[i] != s[k] {
			k = fail[k-1]
		}
		if s[i] == s[k] {
			k++
		}
		fail[i] = k
	}
	return fail
}

// partialSuffixLocked is partialSuffix with x's scratch table (under
// mu): what a line costs does not include a table per secret.
func (x *secrets) partialSuffixLocked(b, s []byte) int {
	k, fail := partialSuffix(b, s, x.fail)
	x.fail = fail
	return k
}

// partialSuffixQuick bounds the work partialSuffix spends on candidate
// ends of b compared one by one, past which it runs the automaton.
const partialSuffixQuick = 256

// partialSuffix returns the length of the longest end of b that is the
// start of s but not all of it (s going on past b's end), 0 when none.
// Only b's last len(s)-1 bytes can be such an end. Its candidates, the
// places where s's first bytes are, are compared one by one, longest
// first, within a budget of 16 byte-comparisons a byte of tail; past it,
// the Knuth-Morris-Pratt automaton of s runs over them, in time linear in
// the shorter of b and s however long either is (a 100 KiB SASL
// response), with the table fail (grown when short, and returned for the
// next call).
func partialSuffix(b, s []byte, fail []int32) (int, []int32) {
	if len(s) < 2 {
		return 0, fail
	}
	tail := b[max(0, len(b)-(len(s)-1)):]
	if len(tail) == 0 {
		return 0, fail
	}
	if k, ok := partialSuffixScan(tail, s, partialSuffixQuick+16*len(tail)); ok {
		return k, fail
	}
	return partialSuffixKMP(tail, s, fail)
}

// partialSuffixScan is partialSuffix comparing candidates one by one; ok
// is false when that would take more than budget byte-comparisons. The
// candidates with 16 bytes or more after them are where s's first 16
// bytes are (bytes.Index: no call per place s's first byte is, 32,768 in
// a line of "abab..."), each compared whole; the last 15 places are
// compared one by one.
func partialSuffixScan(tail, s []byte, budget int) (k int, ok bool) {
	const p = 16
	j := 0
	for p <= len(s) && j+p <= len(tail) {
		i := bytes.Index(tail[j:], s[:p])
		if i < 0 {
			break
		}
		j += i
		m := len(tail) - j // < len(s)
		if budget -= m; budget < 0 {
			return 0, false
		}
		if bytes.Equal(tail[j:], s[:m]) {
			return m, true
		}
		j++
	}
	for j = max(j, len(tail)-p+1); j < len(tail); j++ {
		if m := len(tail) - j; bytes.Equal(tail[j:], s[:m]) {
			return m, true
		}
	}
	return 0, true
}

// partialSuffixKMP is partialSuffix running the automaton of s over tail
// (shorter than s).
func partialSuffixKMP(tail, s []byte, fail []int32) (int, []int32) {
	// The automaton reads len(tail) bytes: it never gets past s's first
	// len(tail)+1, nor needs the table of more.
	s = s[:len(tail)+1]
	fail = kmpTable(s, fail)
	q := int32(0)
	for _, c := range tail { // q < len(s): tail is shorter than s
		for q > 0 && c != s[q] {
			q = fail[q-1]
		}
		if c == s[q] {
			q++
		}
	}
	return int(q), fail
}

// redact returns b with every remembered secret, in each of its forms
// (forms: raw or quoted), replaced by "***": every byte that one covers is marked (coverLocked), and each run of
// marked bytes becomes one "***", so that secrets that overlap or hold
// one another ("hunter2", then "hunter2-backup") are replaced whole
// whatever the order they were sent in (replacing them one after the
// other left "***-backup"). It returns b itself when there is nothing to
// replace.
func (x *secrets) redact(b []byte) []byte {
	if !x.any() {
		return b
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return replaceCovered(b, x.coverLocked(b))
}

// replaceCovered returns b with each run of bytes that cover r marks as
// in a secret replaced by "***", b itself when r is nil. r may be longer
// than b (the cover of the line b was cut from: no secret it holds
// straddles b's end).
func replaceCovered(b []byte, r []int32) []byte {
	if r == nil || len(b) == 0 || r[len(b)-1] == 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if int(r[i]) <= i {
			out = append(out, b[i])
			continue
		}
		out = append(out, "***"...)
		for i+1 < len(b) && int(r[i+1]) > i+1 {
			i++
		}
	}
	return out
}

// redactSyntax redacts the excerpt of the server's bytes that a
// *wire.SyntaxError in err quotes (its Got), in place: a server that
// echoes a credential where a response cannot hold it would otherwise see
// it printed in the command's error. The excerpt is quoted and cut to 16
// bytes, so a secret is looked for quoted too (the form add kept), and a
// part of one at either end of the excerpt (4 bytes or more) counts. It
// compares bytes where they are: no copy of a secret is made.
func (x *secrets) redactSyntax(err error) {
	if !x.any() {
		return
	}
	se, ok := errors.AsType[*wire.SyntaxError](err)
	if !ok {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	got := se.Got
	for i, sec := range x.list {
		got = redactExcerpt(got, sec)
		if q := x.quoted[i]; q != nil {
			got = redactExcerpt(got, q)
		}
	}
	se.Got = got
}

// redactExcerpt returns got, a quoted excerpt, with every whole form in
// it replaced by "***", and a part of form (4 bytes or more) it stops
// with (the excerpt cut in the middle of it) or opens with (one cut
// before the excerpt's start) too.
func redactExcerpt(got string, form []byte) string {
	got = replaceBytes(got, form)
	if lo, hi := excerptBody(got); hi-lo >= 4 {
		for k := min(len(form)-1, hi-lo); k >= 4; k-- {
			if sameBytes(form[:k], got[hi-k:hi]) {
				got = got[:hi-k] + "***" + got[hi:]
				break
			}
		}
	}
	if lo, hi := excerptBody(got); hi-lo >= 4 {
		for k := min(len(form)-1, hi-lo); k >= 4; k-- {
			if sameBytes(form[len(form)-k:], got[lo:lo+k]) {
				got = got[:lo] + "***" + got[lo+k:]
				break
			}
		}
	}
	return got
}

// excerptBody returns the bounds in got of the excerpt's bytes: without
// the "..." of a cut one and the quotes around it.
func excerptBody(got string) (lo, hi int) {
	hi = len(got)
	if strings.HasSuffix(got, "...") {
		hi -= 3
	}
	if hi > 0 && got[hi-1] == '"' {
		hi--
	}
	if hi > 0 && got[0] == '"' {
		lo = 1
	}
	return lo, hi
}

// replaceBytes returns s with every occurrence of form replaced by "***",
// s itself when there is none. What it builds holds s's bytes around each
// occurrence, never form's.
func replaceBytes(s string, form []byte) string {
	i := indexBytes(s, form)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		b.WriteString(s[:i])
		b.WriteString("***")
		s = s[i+len(form):]
		i = indexBytes(s, form)
	}
	b.WriteString(s)
	return b.String()
}

// indexBytes is strings.Index for a []byte needle, without converting it
// (a copy of a secret). The excerpts it searches are short (16 bytes,
// quoted).
func indexBytes(s string, form []byte) int {
	if len(form) == 0 {
		return -1
	}
	for i := 0; i+len(form) <= len(s); i++ {
		if sameBytes(form, s[i:i+len(form)]) {
			return i
		}
	}
	return -1
}

// isPrintable reports whether printable would return b as it is.
func isPrintable(b []byte) bool { return esc.Clean(b) }

// printable returns b for an error message or a trace line: control bytes
// (C0, DEL, C1), the line and paragraph separators, the bidirectional
// controls and invalid UTF-8 are escaped as \xNN (internal/printable), so
// that a server cannot write terminal escapes to the user's screen, forge
// lines of a log or reorder what is shown. The raw bytes stay in the typed fields (Status.Text, ...).
func printable(b []byte) string { return esc.Escape(b) }
