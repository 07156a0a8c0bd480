package session

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// A literal body of the caller's (an APPEND's message, an io.Reader) is
// read while the command is written, under the write lock. A Read that
// blocks (a pipe whose writer stalls) would hold that lock, and with it
// every other command, for as long as it blocks, and its own caller's
// context could not end it: no deadline reaches a Read of the caller's.
// So, when the command's context can end, the body is read on a goroutine
// of its own (pump), and the writer waits for each Read or for the
// context's end, whichever comes first. When the context ends first, and
// the Read does not return within writeGrace either (the time a write
// whose context ended may still take), the Read fails with the context's
// error, the copy stops with half a literal
// on the wire, and send aborts the session (the only safe outcome: the
// connection is out of step), which wakes every other command; the
// command's own error wraps the context's. The goroutine ends when the
// caller's Read returns, as the goroutine net/http leaves on a request
// body does: the session does not close the reader (it is not the
// session's), so a Read that never returns keeps that goroutine.
//
// In-memory readers (*bytes.Reader, *strings.Reader, *bytes.Buffer) cannot
// block and are read directly when handed as they are (a wrapper of one,
// commands' NUL guard or CRLF conversion, is pumped: it cannot tell), as
// is every body when the context cannot end (context.Background): no
// goroutine then. Otherwise one goroutine per body, started at its first
// Read and let go (its buffer given back) when the body is done or the
// next body starts, so that a command has at most one at a time; and two
// channel operations, an atomic compare-and-swap and a copy (of at most
// the write buffer's 16 KiB) per Read (BenchmarkAppend100MiBCtx
// against BenchmarkAppend100MiB).

// A Part.Open of the caller's (commands' AppendMany opens each message
// when its turn comes) runs under the write lock as well, and is run the
// same way when the context can end (bodyGroup.open): on a goroutine of its
// own, one per Open, while the writer waits for it or for the context's
// end and the grace the command's body reads share; an Open that does not
// return by then fails with the context's error, and send aborts the
// session (the command's start is on the wire, or in the write buffer
// before commands written after it) unless no byte of the command came
// before that Open (preOpen): the command is then not sent (ErrNotSent)
// and the session goes on, as it does when that Open returns an error of
// its own (when the context cannot end too), and that Open is not called
// when the context has ended before the command's turn. The goroutine
// ends when the caller's Open returns; what it opened then is not read
// (nor closed: it is not the session's).

// ctxBodies wraps the caller's literal bodies of wc (Part.Body, and what
// Part.Open returns) so that ctx's end ends a Read that blocks. It returns
// the function that lets their goroutine go once the command is written
// (or its writing failed); nil when nothing was wrapped. The bodies share
// one grace (bodyGroup): the command's reads stop writeGrace after the
// first of them found ctx ended, however many bodies are left. A body's
// goroutine and buffer are let go as soon as the body is done (its size
// read, or an error), or when the next body starts: at most one of the
// command's bodies holds a goroutine between two Reads. secret: the
// command is a secret one (secretWrite), and the goroutines' buffers, which
// held its bodies' bytes, are zeroed before they go back to their pool.
func ctxBodies(ctx context.Context, wc *wire.Encoded, secret bool) (release func()) {
	if ctx.Done() == nil {
		return nil
	}
	var g *bodyGroup
	for i := range wc.Parts {
		part := &wc.Parts[i]
		if part.Body != nil && mayBlock(part.Body) {
			if g == nil {
				g = &bodyGroup{ctx: ctx, secret: secret}
			}
			part.Body = &ctxBody{r: part.Body, g: g, left: part.BodySize}
		}
		if open := part.Open; open != nil {
			if g == nil {
				g = &bodyGroup{ctx: ctx, secret: secret}
			}
			part.Open = func() (io.Reader, int64, error) {
				// The body before is done (the encoder read its
				// size): its goroutine goes before this one opens.
				g.stopCurrent()
				r, n, err := g.open(open)
				if r != nil && mayBlock(r) {
					r = &ctxBody{r: r, g: g, left: n}
				}
				return r, n, err
			}
		}
	}
	if g == nil {
		return nil
	}
	return g.release
}

// mayBlock reports whether a Read of r may wait for something: not for
// the in-memory readers of the standard library, when handed as they are
// (a wrapper of one, such as commands' NUL guard or CRLF conversion, is
// read on a goroutine: it cannot tell).
func mayBlock(r io.Reader) bool {
	switch r.(type) {
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		return false
	}
	return true
}

// bodyGroup is what the ctxBodies of one command share, used by the
// writer alone: the grace, and the body whose goroutine runs.
type bodyGroup struct {
	ctx context.Context
	// graceEnd: the context has ended, and the command's body reads
	// may go on until then (grace); zero until a Read finds it ended.
	graceEnd time.Time
	cur      *ctxBody // the body whose goroutine may run
	done     bool     // released: no goroutine starts again
	secret   bool     // a secret command's: pump zeroes its buffer (putPumpBuffer)
}

// stopCurrent lets the goroutine of the body read last go.
func (g *bodyGroup) stopCurrent() {
	if g.cur != nil {
		g.cur.stop()
		g.cur = nil
	}
}

// release lets the goroutine go once the command is written.
func (g *bodyGroup) release() {
	g.done = true
	g.stopCurrent()
}

// ctxBody is a caller's literal body read on its own goroutine (see the
// comment above ctxBodies). It is used by the writer alone.
type ctxBody struct {
	r    io.Reader
	g    *bodyGroup
	left int64           // bytes of the literal not read yet
	req  chan int        // the size of the next Read, to the goroutine
	res  chan pumpResult // its outcome, back (room for one: the goroutine never waits on it)
	buf  *[]byte         // the goroutine's buffer, read from after each result
	// state is the Read under way's: pumpWaiting, then pumpDone (the
	// goroutine sent its outcome) or pumpLeft (the writer stopped
	// waiting), whichever comes first.
	state *atomic.Int32
	err   error // the context's end, or the Read's own error, for good
}

// The states of a Read of the goroutine's (ctxBody.state).
const (
	pumpWaiting = iota
	pumpDone
	pumpLeft
)

type pumpResult struct {
	n      int
	err    error
	panicV any // the caller's Read panicked: the writer panics with it
	panics bool
}

// pumpBuffers holds the goroutines' read buffers, as large as the write
// buffer (writerPool) that bufio.Writer.ReadFrom reads into.
var pumpBuffers = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// errBodyReadCancelled is the error, with the context's, of the Read of a
// literal's body that the context's end ended.
var errBodyReadCancelled = sentinel("session: context ended while a literal's body was read")

func (b *ctxBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	g := b.g
	if g.ctx.Err() != nil && g.graceEnd.IsZero() {
		// Found here, not only by the select below, which picks at
		// random when the outcome is ready too.
		g.graceEnd = time.Now().Add(writeGrace)
	}
	if b.req == nil {
		if g.done {
			return 0, errCommandDone
		}
		if g.cur != b {
			g.stopCurrent() // the body before is done
			g.cur = b
		}
		b.buf = pumpBuffers.Get().(*[]byte)
		b.req, b.res = make(chan int), make(chan pumpResult, 1)
		b.state = new(atomic.Int32)
		go pump(b.r, b.req, b.res, b.buf, b.state, g.secret)
	}
	n := min(len(p), len(*b.buf))
	b.state.Store(pumpWaiting)
	b.req <- n // the goroutine waits for it, between two Reads
	var r pumpResult
	select {
	case r = <-b.res:
	case <-g.ctx.Done():
		if !g.grace(b, &r) {
			// The goroutine is in the caller's Read: it owns the
			// buffer now, and gives it back when that Read returns.
			b.err = fmt.Errorf("%w: %w", errBodyReadCancelled, g.ctx.Err())
			b.buf = nil
			b.stop()
			return 0, b.err
		}
	}
	if r.panics {
		// On the writer's goroutine, as when it read the body itself:
		// send's recovery aborts the session.
		b.buf = nil // kept by the goroutine (see pump)
		b.stop()
		panic(r.panicV)
	}
	copy(p, (*b.buf)[:r.n])
	b.left -= int64(r.n)
	if r.err != nil || b.left <= 0 {
		// Done: the encoder reads no more of it. Its goroutine and
		// buffer go now, not when the whole command is written.
		b.err = r.err
		if b.err == nil {
			b.err = io.EOF
		}
		b.stop()
	}
	return r.n, r.err
}

// grace waits for the Read under way once the context has ended, as a
// write whose context ended may still take writeGrace: the command's
// body reads get writeGrace in all from the first that found the context
// ended (one deadline for all its bodies), so that a body nearly sent (a
// last few kilobytes from a file) goes out whole rather than abort the
// session, and a Read that blocks is left then. It reports whether the
// Read's outcome came, into r; when not, the goroutine knows the writer
// left (pumpLeft).
func (g *bodyGroup) grace(b *ctxBody, r *pumpResult) bool {
	if g.graceEnd.IsZero() {
		g.graceEnd = time.Now().Add(writeGrace)
	}
	if d := time.Until(g.graceEnd); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case *r = <-b.res:
			return true
		case <-t.C:
		}
	}
	if b.state.CompareAndSwap(pumpWaiting, pumpLeft) {
		return false
	}
	*r = <-b.res // sent, or about to be (pumpDone came first)
	return true
}

// stop lets the goroutine go: at once when it waits for a request, or
// when the Read it is in returns. It gives the buffer back then.
func (b *ctxBody) stop() {
	if b.req != nil {
		close(b.req)
		b.req, b.res, b.buf = nil, nil, nil
	}
	if b.g.cur == b {
		b.g.cur = nil
	}
}

// pump reads r for a ctxBody: one Read of n bytes into buf for each n
// received, its outcome sent back, until req is closed. It owns buf when
// it ends, and gives it back. A panic of the Read goes back as well, to
// be raised on the writer's goroutine, and ends the goroutine (the buffer
// is not given back: the panic may have left the Read using it; it is
// zeroed for a secret command's body and left to the collector:
// dropPumpBuffer); when the
// writer has left (the context ended), it is raised on this goroutine, as
// net/http does for a handler's: a panic is not lost. secret: the body is
// a secret command's (putPumpBuffer).
func pump(r io.Reader, req <-chan int, res chan<- pumpResult, buf *[]byte, state *atomic.Int32, secret bool) {
	for n := range req {
		if !pumpRead(r, buf, n, secret, res, state) {
			return
		}
	}
	putPumpBuffer(buf, secret)
}

// dropPumpBuffer lets go of buf, whose Read panicked, to the garbage
// collector rather than to pumpBuffers, zeroed first when it held a secret
// command's body.
func dropPumpBuffer(buf *[]byte, secret bool) {
	if secret {
		clear(*buf)
	}
	if h := testHookPumpDrop; h != nil {
		h(*buf)
	}
}

// testHookPumpDrop, set by tests, is shown the whole of each buffer
// dropPumpBuffer lets go.
var testHookPumpDrop func(buf []byte)

// putPumpBuffer gives buf back to pumpBuffers, zeroed first when it held a
// secret command's body (as lazyWriter.giveBack zeroes a write buffer): a
// 16 KiB clear for a secret command, not for every body.
func putPumpBuffer(buf *[]byte, secret bool) {
	if secret {
		clear(*buf)
	}
	if h := testHookPumpPut; h != nil {
		h(*buf)
	}
	pumpBuffers.Put(buf)
}

// testHookPumpPut, set by tests, is shown the whole of each buffer
// putPumpBuffer gives back to pumpBuffers.
var testHookPumpPut func(buf []byte)

// pumpRead is one Read of pump's, of n bytes into buf; false when it
// panicked, buf then let go (dropPumpBuffer) before the panic goes on.
func pumpRead(r io.Reader, buf *[]byte, n int, secret bool, res chan<- pumpResult, state *atomic.Int32) (ok bool) {
	defer func() {
		if !ok {
			v := recover()
			dropPumpBuffer(buf, secret)
			if !state.CompareAndSwap(pumpWaiting, pumpDone) {
				panic(v) // the writer has left: nobody would see it
			}
			res <- pumpResult{panicV: v, panics: true}
		}
	}()
	m, err := r.Read((*buf)[:n])
	state.CompareAndSwap(pumpWaiting, pumpDone)
	res <- pumpResult{n: m, err: err}
	return true
}

// errOpenCancelled is the error, with the context's, of a Part.Open that
// the context's end ended.
var errOpenCancelled = sentinel("session: context ended while a literal's body was opened")

// openResult is the outcome of a Part.Open run by bodyGroup.open.
type openResult struct {
	r      io.Reader
	n      int64
	err    error
	panicV any // the caller's Open panicked: the writer panics with it
	panics bool
}

// open runs the caller's Open on a goroutine of its own and waits for it
// or for the context's end and the grace (as a body's Read does: see
// grace). A panic of Open's is raised on the writer's goroutine, or on
// Open's once the writer has left.
func (g *bodyGroup) open(open func() (io.Reader, int64, error)) (io.Reader, int64, error) {
	if g.ctx.Err() != nil && g.graceEnd.IsZero() {
		// A later message's Open (preOpen calls none once ctx has
		// ended): it gets what is left of the grace, as a body's Read
		// does, so that a command nearly sent may still go out whole.
		g.graceEnd = time.Now().Add(writeGrace)
	}
	res := make(chan openResult, 1) // the goroutine never waits on it
	state := new(atomic.Int32)      // pumpWaiting, then pumpDone or pumpLeft
	go runOpen(open, res, state)
	var r openResult
	select {
	case r = <-res:
	case <-g.ctx.Done():
		if !g.waitGrace(res, &r, state) {
			return nil, 0, fmt.Errorf("%w: %w", errOpenCancelled, g.ctx.Err())
		}
	}
	if r.panics {
		panic(r.panicV)
	}
	return r.r, r.n, r.err
}

// waitGrace is grace for an Open's outcome.
func (g *bodyGroup) waitGrace(res <-chan openResult, r *openResult, state *atomic.Int32) bool {
	if g.graceEnd.IsZero() {
		g.graceEnd = time.Now().Add(writeGrace)
	}
	if d := time.Until(g.graceEnd); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case *r = <-res:
			return true
		case <-t.C:
		}
	}
	if state.CompareAndSwap(pumpWaiting, pumpLeft) {
		return false
	}
	*r = <-res // sent, or about to be (pumpDone came first)
	return true
}

// runOpen runs open for bodyGroup.open and sends its outcome back, unless
// the writer has left (pumpLeft): then a panic goes on here (net/http
// does so for a handler's; it is not lost).
func runOpen(open func() (io.Reader, int64, error), res chan<- openResult, state *atomic.Int32) {
	ok := false
	defer func() {
		if !ok {
			v := recover()
			if !state.CompareAndSwap(pumpWaiting, pumpDone) {
				panic(v)
			}
			res <- openResult{panicV: v, panics: true}
		}
	}()
	r, n, err := open()
	ok = true
	if state.CompareAndSwap(pumpWaiting, pumpDone) {
		res <- openResult{r: r, n: n, err: err}
	}
}

// preOpen runs the first Part.Open of wc at once, before any byte of the
// command is written, when nothing but Data comes before it (no body, no
// wait for the server's "+"): its turn comes as the command starts, and
// when it fails (its own error, or the context's end while it blocks) the
// command is not sent, the session going on, instead of the session being
// aborted with the command's start in the write buffer. It returns that
// error. send calls it only while the command's context has not ended:
// for a command known not to be sent, Open is not called. What Open
// returned is what the encoder gets from that Open when it comes to it.
// Open's error comes back as an *OpenError, which keeps its chain but for
// this package's sentinels and types.
func preOpen(wc *wire.Encoded) error {
	for i := range wc.Parts {
		part := &wc.Parts[i]
		if part.WaitContinuation || part.Body != nil || part.BodySize > 0 {
			return nil
		}
		if open := part.Open; open != nil {
			r, n, err := open()
			if err != nil {
				// Its chain, not this session's: see OpenError.
				return &OpenError{Err: err}
			}
			if n < 0 || (r == nil && n > 0) {
				// As the encoder would find it, but not sent.
				return fmt.Errorf("wire: literal body: %w", wire.ErrInvalidLiteral)
			}
			part.Open = func() (io.Reader, int64, error) { return r, n, nil }
			return nil
		}
	}
	return nil
}
