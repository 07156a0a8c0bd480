package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
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
// block and are read directly, as is every body when the context cannot
// end (context.Background): no goroutine then. Otherwise one goroutine per
// body, started at its first Read, and two channel operations and a copy
// (of at most the write buffer's 16 KiB) per Read
// (BenchmarkReview46DAppend100MiBCtx against BenchmarkAppend100MiB).

// ctxBodies wraps the caller's literal bodies of wc (Part.Body, and what
// Part.Open returns) so that ctx's end ends a Read that blocks. It returns
// the function that lets their goroutines go once the command is written
// (or its writing failed); nil when nothing was wrapped.
func ctxBodies(ctx context.Context, wc *wire.Encoded) (release func()) {
	if ctx.Done() == nil {
		return nil
	}
	var pumps []*ctxBody
	for i := range wc.Parts {
		part := &wc.Parts[i]
		if part.Body != nil && mayBlock(part.Body) {
			b := &ctxBody{r: part.Body, ctx: ctx}
			pumps = append(pumps, b)
			part.Body = b
		}
		if open := part.Open; open != nil {
			// The slot is taken now, so that release sees it: Open
			// runs while the command is written.
			slot := len(pumps)
			pumps = append(pumps, nil)
			part.Open = func() (io.Reader, int64, error) {
				r, n, err := open()
				if r != nil && mayBlock(r) {
					b := &ctxBody{r: r, ctx: ctx}
					pumps[slot] = b
					r = b
				}
				return r, n, err
			}
		}
	}
	if len(pumps) == 0 {
		return nil
	}
	return func() {
		for _, b := range pumps {
			if b != nil {
				b.release()
			}
		}
	}
}

// mayBlock reports whether a Read of r may wait for something: not for
// the in-memory readers of the standard library.
func mayBlock(r io.Reader) bool {
	switch r.(type) {
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		return false
	}
	return true
}

// ctxBody is a caller's literal body read on its own goroutine (see the
// comment above ctxBodies). It is used by the writer alone.
type ctxBody struct {
	r    io.Reader
	ctx  context.Context
	req  chan int        // the size of the next Read, to the goroutine
	res  chan pumpResult // its outcome, back (room for one: the goroutine never waits on it)
	buf  *[]byte         // the goroutine's buffer, read from after each result
	err  error           // the context's end, for good
	done bool            // released
	// graceEnd: the context has ended, and the reads may go on until
	// then (grace).
	graceEnd time.Time
}

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
var errBodyReadCancelled = errors.New("session: context ended while a literal's body was read")

func (b *ctxBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.req == nil {
		b.buf = pumpBuffers.Get().(*[]byte)
		b.req, b.res = make(chan int), make(chan pumpResult, 1)
		go pump(b.r, b.req, b.res, b.buf)
	}
	n := min(len(p), len(*b.buf))
	b.req <- n // the goroutine waits for it, between two Reads
	var r pumpResult
	select {
	case r = <-b.res:
	case <-b.ctx.Done():
		if !b.grace(&r) {
			// The goroutine is in the caller's Read: it owns the
			// buffer now, and gives it back when that Read returns.
			b.err = fmt.Errorf("%w: %w", errBodyReadCancelled, b.ctx.Err())
			b.buf = nil
			b.release()
			return 0, b.err
		}
	}
	if r.panics {
		// On the writer's goroutine, as when it read the body itself:
		// send's recovery aborts the session.
		b.release()
		panic(r.panicV)
	}
	copy(p, (*b.buf)[:r.n])
	return r.n, r.err
}

// grace waits for the Read under way once the context has ended, as a
// write whose context ended may still take writeGrace: the body's reads
// get writeGrace in all from the first that found the context ended, so
// that a body nearly sent (a last few kilobytes from a file) goes out
// whole rather than abort the session, and a Read that blocks is left
// then. It reports whether the Read's outcome came, into r.
func (b *ctxBody) grace(r *pumpResult) bool {
	if b.graceEnd.IsZero() {
		b.graceEnd = time.Now().Add(writeGrace)
	}
	d := time.Until(b.graceEnd)
	if d <= 0 {
		select {
		case *r = <-b.res:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case *r = <-b.res:
		return true
	case <-t.C:
		return false
	}
}

// release lets the goroutine go: at once when it waits for a request, or
// when the Read it is in returns.
func (b *ctxBody) release() {
	if b.done {
		return
	}
	b.done = true
	if b.req != nil {
		close(b.req)
	}
}

// pump reads r for a ctxBody: one Read of n bytes into buf for each n
// received, its outcome sent back, until req is closed. It owns buf when
// it ends, and gives it back. A panic of the Read goes back as well, to
// be raised on the writer's goroutine, and ends the goroutine (the buffer
// is not given back: the panic may have left the Read using it).
func pump(r io.Reader, req <-chan int, res chan<- pumpResult, buf *[]byte) {
	for n := range req {
		if !pumpRead(r, (*buf)[:n], res) {
			return
		}
	}
	pumpBuffers.Put(buf)
}

// pumpRead is one Read of pump's; false when it panicked.
func pumpRead(r io.Reader, buf []byte, res chan<- pumpResult) (ok bool) {
	defer func() {
		if !ok {
			res <- pumpResult{panicV: recover(), panics: true}
		}
	}()
	m, err := r.Read(buf)
	res <- pumpResult{n: m, err: err}
	return true
}
