// The connections as the proxy's two directions write and read them: the
// bounded writers to the client (clientConn, below any TLS layer, and
// clientOut) and to the server (upstreamConn), and the reader of the
// server (upstreamReader) with its silence bound once the client's side
// has ended.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// clientWriter is c, the client's current layer, as the proxy writes to
// it: its writes are bounded below any TLS layer (clientConn, which serve
// puts under the client's connection), each stretch of the --timeout
// (cfg.dialTimeout) must move a byte. A client that stops reading while
// the server sends blocks the server's direction in a write once the
// buffers are full; without a bound it held the connection, its upstream
// (whose end went unnoticed) and both directions for ever.
func (ps *proxySession) clientWriter(c net.Conn) io.Writer {
	return c
}

// writeBound is the --timeout (cfg.dialTimeout) as it bounds each write
// to the client, each stretch of a write to the server (upstreamConn) and
// the wait of the proxy's own answers on a server's
// line stalled in its middle (clientOut.put).
func (ps *proxySession) writeBound() time.Duration {
	d := ps.cfg.dialTimeout
	if h := ps.cfg.hooks; h != nil && h.writeSpeed > 1 {
		d /= h.writeSpeed // a test's (proxyHooks)
	}
	return d
}

// clientConn is the client's connection, below any TLS layer (--tls, a
// later STARTTLS): each Write goes on as long as each stretch of bound
// (the --timeout, writeBound) moves a byte of it at least, and fails with
// os.ErrDeadlineExceeded (recorded in stalled) after a stretch that moved
// none, as upstreamConn's. A write deadline set by another (crypto/tls's
// close_notify, 5 s) is kept when it comes first, and a write it ends is
// not a stall of the client's.
//
// Before stop 63 a deadline of --timeout bounded each whole write, above
// TLS: a flush of 32 KiB to a client that read it slowly (256 bytes each
// 5 s) timed out with most of it unsent, the rest of what the server had
// sent was dropped, and the trace said the client "reads nothing"
// (TestProxyByeSlowClientGetsAll); above TLS a write that timed out
// cannot go on (crypto/tls fails every later write), hence below it.
type clientConn struct {
	net.Conn
	bound   time.Duration
	stalled *atomic.Bool

	mu    sync.Mutex
	until time.Time // the write deadline another set (zero: none)
	// byeEnd is the end of the server's time to close after its BYE
	// (zero: none; setByeEnd): no write goes on past it, and a write
	// it ends records it in byeHit, not as a stall of the client's.
	byeEnd time.Time
	byeHit *atomic.Bool
}

// setByeEnd bounds every write from now on at end, the absolute bound of
// the server's close after its BYE (proxySession.serverSaidBye); a write
// it ends is recorded in hit.
func (c *clientConn) setByeEnd(end time.Time, hit *atomic.Bool) {
	c.mu.Lock()
	c.byeEnd, c.byeHit = end, hit
	c.mu.Unlock()
}

// SetWriteDeadline sets a deadline that the writes keep (until).
func (c *clientConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.until = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines; the writes keep the write one.
func (c *clientConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.until = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *clientConn) Write(p []byte) (int, error) {
	byeOwn := false // the stretch's deadline is the BYE's end
	n, err := writeInStretches(c.Conn, p, c.stalled, func() (time.Time, bool) {
		d, own := time.Now().Add(c.bound), true
		c.mu.Lock()
		defer c.mu.Unlock()
		byeOwn = false
		if !c.until.IsZero() && c.until.Before(d) {
			d, own = c.until, false
		}
		if !c.byeEnd.IsZero() && c.byeEnd.Before(d) {
			d, own, byeOwn = c.byeEnd, false, true
		}
		return d, own
	})
	if byeOwn && errors.Is(err, os.ErrDeadlineExceeded) {
		c.byeHit.Store(true)
	}
	return n, err
}

// writeInStretches writes p to c, a stretch at a time: each stretch's
// write deadline is deadline's; a stretch that moved a byte at least is
// followed by another for the rest, one that moved none ends the write
// with os.ErrDeadlineExceeded, recorded in stalled when the deadline was
// the stall bound's (own), not another's. Any other error ends it as it
// is. clientConn's and upstreamConn's writes.
func writeInStretches(c net.Conn, p []byte, stalled *atomic.Bool, deadline func() (d time.Time, own bool)) (int, error) {
	total := 0
	for {
		d, own := deadline()
		c.SetWriteDeadline(d)
		n, err := c.Write(p[total:])
		total += n
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || !own {
			return total, err
		}
		if n == 0 {
			// Not a byte for bound.
			stalled.Store(true)
			return total, err
		}
		// Progress within bound: a new stretch for the rest.
	}
}

// CloseWrite half-closes the connection (closeClient).
func (c *clientConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// NetConn returns the connection below (waitPeerEnd asks its TCP state).
func (c *clientConn) NetConn() net.Conn { return c.Conn }

// upstreamConn is the connection to the server, below any TLS layer: each
// Write must make progress within bound (the --timeout, writeBound), else
// it fails with os.ErrDeadlineExceeded and records the stall in stalled.
// A write that goes on slowly (a byte at least in each stretch of bound)
// is not cut, however long it takes. Before, the writes to the server had
// no bound: a server that stopped reading (its window full) while the
// client sent a lot (an APPEND's literal) blocked the client's direction
// for ever; the client's end went unnoticed, and a server that neither
// read nor wrote held the connection's goroutines, both descriptors and
// a --max-connections slot for as long as it kept it open (found by
// review). A deadline set by another (crypto/tls's close_notify, 5 s) is
// replaced by bound at the next Write.
type upstreamConn struct {
	net.Conn
	bound   time.Duration
	stalled *atomic.Bool
}

func (c *upstreamConn) Write(p []byte) (int, error) {
	n, err := writeInStretches(c.Conn, p, c.stalled, func() (time.Time, bool) {
		return time.Now().Add(c.bound), true
	})
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		// A reset, a closed pipe: the server's side (serverWriteError).
		err = &serverWriteError{err}
	}
	return n, err
}

// serverWriteError is a write to the server that failed other than by
// the stall bound (a reset, a closed pipe: the server closed while the
// client's APPEND literal was relayed), as upstreamConn returns it: the
// client's direction, which relays the client's bytes and so reads the
// client and writes the server, tells it from the client's errors in the
// trace (clientErr). Before, it was printed as "* client side: write tcp
// ...: connection reset by peer", blaming the client for the server's
// reset (found by review).
type serverWriteError struct{ err error }

func (e *serverWriteError) Error() string { return e.err.Error() }

func (e *serverWriteError) Unwrap() error { return e.err }

// CloseWrite half-closes the connection (closeUpstreamWrite).
func (c *upstreamConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// serverStallTrace is the trace's word on a write to the server that made
// no progress for the --timeout (upstreamConn).
const serverStallTrace = "* server side: a write to the server made no progress for %v (it reads nothing): closing"

// upstreamReader is c, the server's connection, as the server's
// direction reads it: once the client's direction has ended
// (clientDone), what is buffered for the client is flushed before each
// read (a client gone is found then), and the server must bring
// something the relay writes to the client (a line's end, a literal's
// header, a piece of a body or of a long line) within silenceBound of
// the last such write or of the client's end (the --timeout when the
// server owes no answer), else the read fails with errServerSilent. A
// server that ignores the half-close the proxy sends it after the
// client's end (closeUpstreamWrite) and stays silent held the session,
// its goroutines, both descriptors and a slot of --max-connections for
// as long as it kept the connection open; one that trickled a line a
// byte at a time within the bound of each read did as well, as the
// bytes of a line are written at its end (found by review). While the
// client is there, reads wait as long as the server is silent (an IDLE),
// and the finished lines buffered for it are flushed before each read
// (clientOut.beforeRead). Each read's bytes count as the server's progress for the proxy's own
// answers waiting on a line (clientOut.serverRead).
func (ps *proxySession) upstreamReader(c net.Conn) io.Reader {
	return &upstreamReader{ps: ps, c: c}
}

// rawUpstreamReader is upstreamReader for the relay after COMPRESS,
// which writes each read's bytes to the client at once (not through
// clientOut): once the client's direction has ended, each read alone
// must bring a byte within the --timeout. After the server's BYE its
// reads are under byeWait's bounds as before COMPRESS (before, the BYE's
// read deadline was left on the connection, and a read that passed it
// was traced as a plain "i/o timeout": TestProxyByeThenCompressBoundSaid).
func (ps *proxySession) rawUpstreamReader(c net.Conn) io.Reader {
	return &upstreamReader{ps: ps, c: c, raw: true}
}

type upstreamReader struct {
	ps  *proxySession
	c   net.Conn
	raw bool // after COMPRESS: each read bounded alone
}

// errServerSilent: the server sent nothing for silenceBound after the
// client's side ended.
var errServerSilent = errors.New("the client ended its side, and the server sent nothing")

// errServerLineUnended: the server sent bytes of a line, but nothing the
// relay could write to the client, for silenceBound after the client's
// side ended.
var errServerLineUnended = errors.New("the client ended its side, and the server's line did not end")

// errServerByeOpen: the server sent an untagged BYE and kept the
// connection open for the --timeout after it.
var errServerByeOpen = errors.New("the server said BYE and did not close the connection")

// errServerByeMore: the server sent more than proxyByeMore bytes after
// its untagged BYE.
var errServerByeMore = errors.New("the server said BYE and sent")

// errServerByeLinger: the connection did not end within
// proxyByeCloseTimeouts of the --timeout after the server's untagged BYE
// (the proxy was writing to a client that read slowly).
var errServerByeLinger = errors.New("the server said BYE and the connection did not end")

// proxyOwedAnswerWait bounds how long the server may send nothing once
// the client's side has ended while a command the client sent awaits
// its completion (wire.Dialog.Outstanding): the library's
// session.DefaultCommandTimeout (there the bound on a command's whole
// run; here on each stretch without a write to the client). A
// client that sends its commands and half-closes (nc -N, a script
// piping a batch) still reads the answers, and a command may take the
// server longer than --timeout (a SEARCH TEXT in a big mailbox, an
// EXPUNGE of many): before, its answer was cut at --timeout. (After
// COMPRESS the commands are not seen: --timeout applies.)
const proxyOwedAnswerWait = 15 * time.Minute

// silenceBound is how long, once the client's side has ended, the server
// may bring nothing the relay writes to the client (upstreamReader; after
// COMPRESS: no byte): --timeout when the server owes no answer,
// proxyOwedAnswerWait while a command awaits its completion.
func (ps *proxySession) silenceBound() time.Duration {
	if ps.dialog.Outstanding() {
		d := proxyOwedAnswerWait
		if h := ps.cfg.hooks; h != nil && h.owedAnswerSpeed > 1 {
			d /= h.owedAnswerSpeed // a test's (proxyHooks)
		}
		return d
	}
	return ps.writeBound()
}

func (r *upstreamReader) Read(p []byte) (int, error) {
	done := r.ps.clientDone.Load()
	partial := false // bytes were read since the last write to the client
	var at time.Time
	if r.raw {
		if done {
			at = r.ps.cfg.hooks.clock()().Add(r.ps.silenceBound())
		}
	} else {
		// Finished lines go to the client before the read waits
		// (whether or not the client's side has ended).
		since, read, err := r.ps.toClient.beforeRead()
		if err != nil {
			return 0, err
		}
		if done {
			partial = read
			at = since.Add(r.ps.silenceBound())
		}
	}
	// After the server's BYE, it has the --timeout of these reads to
	// close, proxyByeMore bytes more at most, and the connection ends
	// within proxyByeCloseTimeouts of the --timeout, whether or not the
	// client is there (byeWait); after COMPRESS too.
	r.ps.deadlineMu.Lock()
	at, room := r.ps.byeReadStart(at)
	if !at.IsZero() {
		r.ps.cfg.hooks.setReadDeadline(r.c, at)
	}
	r.ps.deadlineMu.Unlock()
	if room == 0 {
		r.ps.byeReadEnd(0)
		return 0, fmt.Errorf("%w more than %d bytes after it: closing", errServerByeMore, proxyByeMore)
	}
	if room > 0 && int64(len(p)) > room {
		p = p[:room]
	}
	n, err := r.c.Read(p)
	spent, lingered := r.ps.byeReadEnd(n)
	if n > 0 {
		r.ps.toClient.serverRead(n)
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && lingered:
		r.ps.byeTold.Store(true)
		err = r.ps.byeLingerError()
	case errors.Is(err, os.ErrDeadlineExceeded) && spent:
		err = fmt.Errorf("%w within %v (--timeout): closing", errServerByeOpen, r.ps.cfg.dialTimeout)
	case errors.Is(err, os.ErrDeadlineExceeded) && (done || r.ps.clientDone.Load()):
		e := errServerSilent
		if partial {
			e = errServerLineUnended
		}
		if r.ps.dialog.Outstanding() {
			err = fmt.Errorf("%w for %v while a command awaited its answer: closing", e, proxyOwedAnswerWait)
		} else {
			err = fmt.Errorf("%w for %v (--timeout): closing", e, r.ps.cfg.dialTimeout)
		}
	}
	return n, err
}

// clientWriteError is a write to the client that failed in the server's
// direction (clientOut's Write and Flush), told apart from the server's
// errors in the trace.
type clientWriteError struct{ err error }

func (e *clientWriteError) Error() string { return e.err.Error() }

func (e *clientWriteError) Unwrap() error { return e.err }

// clientErrWriter is w with its errors as clientWriteError: the relay
// after COMPRESS (io.Copy), whose error may be the read's or the write's.
type clientErrWriter struct{ w io.Writer }

func (w clientErrWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	return n, clientWriteErr(err)
}

// clientWriteErr wraps a write error of the client's side, nil as nil.
func clientWriteErr(err error) error {
	if err == nil {
		return nil
	}
	return &clientWriteError{err}
}

// clientOut is the client's side of a connection, written by the server's
// direction and, between the server's lines, by the proxy's own answers to
// commands it does not relay. The server's direction writes through it
// (Write, Flush) and calls endLine at the end of each line; inject waits
// for a line's end so that an answer never lands inside a server's line.
type clientOut struct {
	mu      sync.Mutex
	cond    sync.Cond
	w       *bufio.Writer
	midLine bool // the server's direction has written part of a line
	closed  bool // the server's direction is done
	// ended: the proxy's BYE went to the client (injectLast): nothing
	// is written after it (Write, Flush and endLine fail with
	// errRelayClosed, finish sends no second BYE). Before, the server's
	// direction went on relaying what it had read (and read until
	// closeAll closed the upstream) after a BYE the client's direction
	// sent.
	ended bool
	// read counts the server's bytes read (upstreamReader, serverRead):
	// put tells a server's line that goes on slowly from one that stalled
	// by it. Before, it counted the bytes written to the client (Write),
	// which after a literal stop while the tokenizer holds the rest of the
	// line (up to the next literal or the line's end, up to 1 MiB): a
	// server sending that rest slowly but steadily, with no stretch of
	// --timeout without a byte, was taken for stalled and the connection
	// closed.
	read int64
	// stall bounds how long put waits, mid-line, for the server to send
	// more of its line (the --timeout): past it put fails with
	// errServerStalled. Before, it waited for as long as the server kept
	// the connection open, and the client's commands that the proxy
	// answers itself got no answer.
	stall time.Duration
	// clientEnd: the client's side has ended (clientEnded): what is
	// buffered is flushed before each read from the server (beforeRead),
	// so that a client gone is found at that write (a reset, then EPIPE)
	// while the writes of what one read brought are batched. Before, a
	// literal's body went into the 32 KiB buffer unflushed, and a server
	// trickling it (a byte every 29 s stays within --timeout) held a gone
	// client's session, both descriptors and a --max-connections slot
	// until the buffer filled: for days; then each Write was flushed,
	// a write per line (5 times slower for many short lines: found by
	// review).
	clientEnd bool
	// wrote is when the server's direction last wrote to the client (or
	// the client's end), once clientEnd is set; wroteRead is read then.
	wrote     time.Time
	wroteRead int64
	// finished: what is buffered holds the end of a server's line
	// (endLine without a flush: more of the server's bytes were buffered
	// then, ShouldFlush). It is flushed before the next read from the
	// server (beforeRead), which may wait: before, while the client was
	// there, a finished line stayed buffered for as long as the next
	// line was not finished (a server sending "* 1 EXISTS\r\n* 2 EX" and
	// then pausing held the EXISTS from the client until the next line's
	// end; found by review).
	finished bool
	// hooks are the run's test settings (proxyHooks; nil: none).
	hooks *proxyHooks
}

// newClientOut returns the client's side writing to c; stall bounds how
// long an answer of the proxy's own waits for a server's line that makes
// no progress (put).
func newClientOut(c io.Writer, stall time.Duration) *clientOut {
	o := &clientOut{w: bufio.NewWriterSize(c, 32<<10), stall: stall}
	o.cond.L = &o.mu
	return o
}

// Write buffers the server's bytes.
func (o *clientOut) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return 0, errRelayClosed
	}
	o.midLine = true
	if o.clientEnd && len(p) > 0 {
		o.wrote, o.wroteRead = o.now(), o.read
	}
	n, err := o.w.Write(p)
	return n, clientWriteErr(err)
}

// clientEnded tells o that the client's side has ended (its EOF, or its
// direction failed): from then on what is buffered is flushed before
// each read from the server (beforeRead).
func (o *clientOut) clientEnded() {
	o.mu.Lock()
	if !o.clientEnd {
		o.clientEnd = true
		o.wrote, o.wroteRead = o.now(), o.read
	}
	o.mu.Unlock()
}

// beforeRead is called before each read from the server, which may wait.
// It flushes what is buffered for the client when that holds the end of a
// server's line (finished), so that a finished line reaches the client
// before the proxy waits on the server for the next; once the client's
// side has ended, whatever is buffered, so that a client gone is found at
// that write. The lines one read brought still go in one write. It
// returns when the server's direction last wrote to the client (or the
// client's end) and whether bytes were read from the server since (a
// line under way that wrote nothing yet): upstreamReader uses them once
// the client's side has ended.
func (o *clientOut) beforeRead() (wrote time.Time, read bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ended && o.w.Buffered() > 0 && (o.clientEnd || o.finished) {
		o.finished = false
		if err := o.w.Flush(); err != nil {
			return o.wrote, false, clientWriteErr(err)
		}
	}
	return o.wrote, o.read != o.wroteRead, nil
}

// serverRead records n bytes read from the server: progress of the line
// that put may be waiting for.
func (o *clientOut) serverRead(n int) {
	o.mu.Lock()
	o.read += int64(n)
	o.mu.Unlock()
	if o.hooks != nil && o.hooks.serverRead != nil {
		o.hooks.serverRead()
	}
}

// now is o's clock (proxyHooks.clock).
func (o *clientOut) now() time.Time { return o.hooks.clock()() }

// Flush sends what is buffered (ForwardLiteral calls it before a body).
func (o *clientOut) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return errRelayClosed
	}
	return clientWriteErr(o.w.Flush())
}

// endLine marks the end of a server's line, flushing when asked, and lets
// a waiting inject go.
func (o *clientOut) endLine(flush bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.midLine = false
	o.cond.Broadcast()
	if o.ended {
		return errRelayClosed
	}
	if flush {
		o.finished = false
		return o.w.Flush()
	}
	o.finished = o.w.Buffered() > 0
	return nil
}

// reset moves the writer to the new layer after STARTTLS.
func (o *clientOut) reset(c io.Writer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w.Reset(c)
}

// close ends the server's direction: inject fails from now on.
func (o *clientOut) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	o.cond.Broadcast()
}

// finish sends what is buffered for the client, then bye (nil: none) if
// the server's direction ended at a line's end (a BYE never lands inside
// a server's line). It is called once that direction and the proxy's
// answers are done (close). It reports whether bye was sent: written and
// flushed. Before, it reported a bye that went into the buffer, whatever
// the flush after it returned, and the trace printed a BYE the client
// never had.
func (o *clientOut) finish(bye []byte) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	queued := false
	if bye != nil && !o.midLine && !o.ended {
		if _, err := o.w.Write(bye); err != nil {
			return false, err
		}
		queued = true
	}
	if err := o.w.Flush(); err != nil {
		return false, err
	}
	return queued, nil
}

// errRelayClosed reports an answer the client can no longer get.
var errRelayClosed = errors.New("the connection is closing")

// inject writes one line of the proxy's own to the client, between two of
// the server's lines, and flushes it.
func (o *clientOut) inject(line []byte) error {
	return o.put(line, false)
}

// injectLast is inject for the proxy's BYE: nothing is written to the
// client after it (ended), whether or not it could be sent.
func (o *clientOut) injectLast(line []byte) error {
	return o.put(line, true)
}

// errServerStalled reports an answer of the proxy's own that could not
// be written: the server's direction is in the middle of a line (an
// answer there would land inside it), and the server sent nothing more
// of it for clientOut.stall.
var errServerStalled = errors.New("the server stalled in the middle of a line")

func (o *clientOut) put(line []byte, last bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.midLine && !o.closed {
		// Wait for the line's end while the server makes progress: a
		// long literal that comes slowly is waited for, a server that
		// stopped in the middle of its line is not.
		fired := false
		fire := func() {
			o.mu.Lock()
			fired = true
			o.cond.Broadcast()
			o.mu.Unlock()
		}
		var reset, stop func()
		if o.hooks != nil && o.hooks.putClock != nil {
			reset, stop = o.hooks.putClock(fire) // a test's (proxyHooks)
		} else {
			t := time.AfterFunc(o.stall, fire)
			reset = func() { t.Reset(o.stall) }
			stop = func() { t.Stop() }
		}
		defer stop()
		seen := o.read
		for o.midLine && !o.closed {
			if fired {
				if o.read == seen {
					return errServerStalled
				}
				seen, fired = o.read, false
				reset()
			}
			o.cond.Wait()
		}
	}
	if o.closed || o.ended {
		return errRelayClosed
	}
	o.ended = last
	if _, err := o.w.Write(line); err != nil {
		return err
	}
	return o.w.Flush()
}

// maxClientReadAhead bounds what clientIn.watch reads ahead of the
// client's direction while it waits for the server's word on a literal
// (a body sent without waiting for the "+"); past it the watch reads
// nothing more, but waits for the client's end all the same
// (waitPeerEnd).
const maxClientReadAhead = 64 << 10

// clientIn is the client's connection as the client's direction reads it
// (its tokenizer's reader): what watch read ahead first, then its error,
// then the connection.
//
// Once what was read ahead has been read, its array goes (nil), as does
// watch's read buffer when the watch ends: a connection holds neither
// between watches. Before, a connection that had had a body read ahead
// held that array (64 KiB and more) and a 4 KiB buffer for its life,
// idle or not (TestClientInReadAheadReleased).
type clientIn struct {
	c     net.Conn
	ahead []byte // read by watch, not yet by Read
	err   error  // the read error that ended watch, after ahead
	// read counts the bytes read from c (nil: not counted), from 0 at
	// reset (proxySession.clientRead).
	read *atomic.Int64
}

// count adds n bytes read from c.
func (in *clientIn) count(n int) {
	if in.read != nil && n > 0 {
		in.read.Add(int64(n))
	}
}

func (in *clientIn) Read(p []byte) (int, error) {
	if len(in.ahead) > 0 {
		n := copy(p, in.ahead)
		in.ahead = in.ahead[n:]
		if len(in.ahead) == 0 {
			in.ahead = nil
		}
		return n, nil
	}
	if err := in.err; err != nil {
		in.err = nil
		return 0, err
	}
	n, err := in.c.Read(p)
	in.count(n)
	return n, err
}

// buffered returns how many bytes watch read ahead that Read has not
// returned yet.
func (in *clientIn) buffered() int { return len(in.ahead) }

// reset reads c from now on; what was read ahead is dropped (a new TLS
// layer: nothing read before its handshake is relayed).
func (in *clientIn) reset(c net.Conn) {
	in.c, in.ahead, in.err = c, nil, nil
	if in.read != nil {
		in.read.Store(0)
	}
}

// watch reads ahead of the client's direction, which reads nothing while
// it waits for the server's word on a synchronizing literal, so that the
// client's end there is found: ended is called then (on the watch's
// goroutine), once. It reads up to maxClientReadAhead bytes (and less
// than a read's 4 KiB more), kept for Read; past them it reads nothing
// more, and waits for the end of the client's TCP connection (its FIN
// or a reset received, behind bytes not read: waitPeerEnd, on Linux),
// which calls ended too, the bytes left for Read and then the end. stop
// ends the watch (a read deadline of now, then the deadline it had,
// none) and waits for it; from then Read may be called again. stopping
// reports whether the connection is closing (closeAll set a read
// deadline of now, which stop must not undo).
//
// Before, such a client's end was not seen until the server spoke: a
// server that answered the header with "* BYE" or "* NO" and then
// neither "+" nor a completion, nor its close, held the connection, its
// goroutines and a --max-connections slot for as long as it kept the
// connection open (TestProxyUntaggedAnswerAtLiteral, its cases where the
// client leaves). Until stop 62, past maxClientReadAhead the watch ended,
// and a client that had sent that much and left was not seen either
// (TestClientInWatchSeesEndPastReadAhead). A client's end the kernel
// does not have is not seen: a close_notify over TLS without the TCP
// end past the bound, or a FIN behind bytes the proxy's receive buffer
// has no room for (the client's kernel holds them; its reset, to a
// keep-alive probe once its socket is gone, is seen).
func (in *clientIn) watch(ended func(), stopping func() bool) (stop func()) {
	if in.err != nil {
		return func() {}
	}
	var quit atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		var tmp []byte
		for len(in.ahead) < maxClientReadAhead {
			if tmp == nil {
				tmp = make([]byte, 4<<10)
			}
			n, err := in.c.Read(tmp)
			in.ahead = append(in.ahead, tmp[:n]...)
			in.count(n)
			if err != nil {
				if quit.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
					return // stop's, not the client's
				}
				in.err = err
				ended()
				return
			}
		}
		// The bound: no byte more is read, the end is waited for.
		if waitPeerEnd(in.c) && !quit.Load() {
			ended()
		}
	}()
	return func() {
		quit.Store(true)
		in.c.SetReadDeadline(time.Now())
		<-done
		in.c.SetReadDeadline(time.Time{})
		if stopping() {
			in.c.SetReadDeadline(time.Now())
		}
	}
}
