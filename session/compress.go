package session

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/imapkit/imapkit/wire"
)

// Compress turns on COMPRESS=DEFLATE (RFC 4978): from the server's OK on,
// both directions are deflate streams. It runs alone, refuses when the
// server lacks the capability or compression is on already, and switches
// the streams on the reader goroutine right after the OK, so that the
// compressed bytes the server sends next are never read as plain text.
//
// With compression on, a read deadline that fires in the middle of the
// stream cannot be resumed (the decompressor keeps the error): an
// StallTimeout then aborts the session as it would anyway. A body
// section's read whose context ends is interrupted all the same, above
// the decompressor (see inflater): it returns the context's error at once
// and the session goes on, as without COMPRESS.
func (s *Session) Compress(ctx context.Context) error {
	return s.CompressLevel(ctx, flate.DefaultCompression)
}

// ErrCompressLevel is returned by CompressLevel, before anything is sent,
// for a level compress/flate does not know.
var ErrCompressLevel = sentinel("session: invalid compression level")

// CompressLevel is Compress with the level of the client's deflate stream:
// a compress/flate level, from flate.HuffmanOnly (-2) and
// flate.DefaultCompression (-1) to flate.BestCompression (9). The level
// trades the client's CPU for the bytes of the commands it sends; what the
// server sends is compressed as the server chooses. A level out of that
// range is an error matching ErrCompressLevel, and nothing is sent.
func (s *Session) CompressLevel(ctx context.Context, level int) error {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return fmt.Errorf("%w: %d (want %d to %d)", ErrCompressLevel, level, flate.HuffmanOnly, flate.BestCompression)
	}
	s.mu.Lock()
	on := s.compressed
	s.mu.Unlock()
	if on {
		return ErrCompressActive
	}
	if !s.HasCap("COMPRESS=DEFLATE") {
		return ErrCompressUnavailable
	}
	cmd := &Command{Name: "COMPRESS", Args: func(e *wire.Encoder) { e.SP().Atom("DEFLATE") }}
	p, err := s.register(ctx, cmd, nil)
	if err != nil {
		return err
	}
	p.upgrade = func() error {
		// Runs on the reader goroutine: nothing else reads, and nothing
		// writes (COMPRESS runs alone).
		rest := append(s.tok.Detach(), s.pr.take()...)
		raw := s.conn
		// The inflater, whose reads a body's caller's context can
		// interrupt (interruptBody), through the watchConn.
		zr := newInflater(flate.NewReader(io.MultiReader(bytes.NewReader(rest), raw)), s.bodyReadCancelable)
		s.wc.setInflater(zr)
		s.wmu.Lock()
		s.tr.restart()
		s.tok.Reset(s.pr.reset(s.tr.reader(zr)))
		// From here the tracer counts inflated bytes: in the tokenizer's
		// offsets, which continue from what it consumed.
		s.tr.delivered.Store(s.tok.Offset())
		s.cw.w = &flushWriter{w: s.tr.writer(raw), level: level}
		s.wmu.Unlock()
		s.mu.Lock()
		s.compressed = true
		s.mu.Unlock()
		return nil
	}
	if err := s.send(ctx, p, true); err != nil {
		return err
	}
	_, err = p.Wait(ctx)
	return err
}

// flushWriter compresses each write and flushes it at once: the session
// writes whole commands, and the server must see each one without waiting
// for more.
//
// A deflater holds about 850 KB at the default level (its hash chains and
// window), more than a hundred times an idle session's other memory, so a
// session waiting in IDLE gives it back (release, from idleWait) and takes
// one from a pool at its next write. That is correct because every Write
// ends with a sync flush: the stream is then at a block boundary, and a new
// deflater's blocks continue it (they only refer back to their own bytes,
// which the inflater accepts: nothing obliges a back-reference).
//
// The deflater writes into out, and each Write sends out in one write on
// the connection: flate writes a command's block and the sync flush's
// 4-byte marker apart, and a server that acts on the command as soon as it
// has the block (Dovecot's LOGOUT) may close the connection before the
// marker arrives. The marker then meets a closed socket, whose reset can
// discard the server's last answer before the client has read it (the
// LOGOUT's OK was lost through imapkit proxy, about 1 run in 12 of
// TestProxyTLS). One write per command is one TLS record, not two.
type flushWriter struct {
	w     io.Writer // the connection
	level int
	zw    *flate.Writer // nil while released
	out   sliceWriter   // the compressed bytes of the Write under way
	// fed counts the bytes the deflater took, all Writes together, for
	// the writer (under the write lock): a command whose bytes all went
	// in may have reached the server whole even if the connection
	// write failed (all but the sync flush's marker delivered), and is
	// not cut off (ErrWriteCut).
	fed int64
	// secret: a secret (a password, a Secret command or continuation
	// line) went through the deflater since it was taken. Its window
	// keeps the recent plaintext (flate.Writer.Reset does not clear it),
	// so release drops it rather than pooling it for another session;
	// and out is zeroed as each Write empties it from then on (empty),
	// until release.
	secret bool
}

// sliceWriter collects what is written to it. An array it outgrows is
// zeroed as it is let go: flushWriter's out holds compressed bytes, which
// at level 0 (stored blocks) are a password's own, and at HuffmanOnly
// nearly so. Growth is rare (out is kept from Write to Write).
type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	if len(p) > cap(s.b)-len(s.b) {
		old := s.b
		s.b = slices.Grow(s.b, len(p))
		clear(old[:cap(old)])
	}
	s.b = append(s.b, p...)
	return len(p), nil
}

// empty empties out for the next Write's bytes, zeroing what it held when
// a secret went through the deflater (the compressed bytes of a password
// sent at level 0 or HuffmanOnly are nearly the password).
func (f *flushWriter) empty() {
	if f.secret {
		clear(f.out.b)
	}
	f.out.b = f.out.b[:0]
}

// deflaters holds the released deflaters, one pool per level
// (flate.HuffmanOnly, -2, to flate.BestCompression, 9).
var deflaters [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool

func (f *flushWriter) Write(p []byte) (int, error) {
	if f.zw == nil {
		if v, ok := deflaters[f.level-flate.HuffmanOnly].Get().(*flate.Writer); ok {
			v.Reset(&f.out)
			f.zw = v
		} else {
			zw, err := flate.NewWriter(&f.out, f.level)
			if err != nil {
				return 0, err
			}
			f.zw = zw
		}
	}
	// p goes in pieces, so that out stays small for a large write (a
	// literal handed over whole); the last piece is flushed.
	n := 0
	for {
		c := p[n:]
		last := len(c) <= flushChunk
		if !last {
			c = c[:flushChunk]
		}
		_, err := f.zw.Write(c)
		if err == nil {
			f.fed += int64(len(c))
		}
		if err == nil && last {
			err = f.zw.Flush()
		}
		if err == nil && (last || len(f.out.b) >= flushChunk) {
			_, err = f.w.Write(f.out.b)
			f.empty()
		}
		if err != nil {
			f.empty()
			return n, err
		}
		n += len(c)
		if last {
			return n, nil
		}
	}
}

// flushChunk is the most flushWriter.Write compresses at a time, and the
// most it collects before writing to the connection.
const flushChunk = 32 << 10

// release gives the deflater back to the pool, or drops it for the
// garbage collector when a secret went through it (its window holds the
// secret). Only call it between two Writes (under the session's write
// lock), where the stream is flushed.
func (f *flushWriter) release() {
	if f.zw != nil {
		if !f.secret {
			if testHookDeflaterPut != nil {
				testHookDeflaterPut(f.zw)
			}
			deflaters[f.level-flate.HuffmanOnly].Put(f.zw)
		}
		f.zw = nil
	}
	if f.secret {
		clear(f.out.b[:cap(f.out.b)]) // emptied by each Write already: the last safeguard
	}
	f.secret = false
	f.out.b = nil
}

// testHookDeflaterPut, set by tests, sees each deflater release gives
// back to the pool.
var testHookDeflaterPut func(*flate.Writer)

// inflater is the session's COMPRESS input: the deflate stream's reader
// (compress/flate) over the connection, with reads a context's end can
// interrupt, as watchConn.interrupt does for a plain or TLS connection.
// compress/flate keeps a read error for good, so the connection under it is
// never interrupted; instead a read that may be (async says so: a body
// section's caller whose context can end reads) runs on a worker goroutine
// while its caller waits for it or for interrupt. An interrupted caller
// returns a timeout at once; the read goes on, and its bytes go to the next
// Read (the reading coroutine, which skips the rest of the section). Other
// reads (the reader goroutine's) run on the caller's goroutine, as before.
// Only the goroutine that drives the reading coroutine reads, and the
// worker reads only while no such read runs: never two flate reads at once.
//
// The worker is kept for the length of a body (its reads are many: one per
// network read of the section): it starts at the first read that may be
// interrupted, and ends at the first that may not with none of its reads
// under way (the body is over), when the session goes idle (release), after
// a read error (flate's are for good) or when the session ends (stop).
// Before, each such read started a goroutine of its own (three allocations:
// BenchmarkCompressPulledBody).
type inflater struct {
	zr    io.Reader   // the inflating reader
	async func() bool // whether the read about to run may be interrupted

	mu   sync.Mutex
	intr bool          // interrupted: every Read fails with a timeout until clearInterrupt
	wake chan struct{} // closed by interrupt
	// req hands the worker a buffer to read into (room for one: the
	// worker is idle when a request is sent); nil when no worker runs.
	req chan []byte
	res chan inflateResult // the read's outcome (room for one: the worker never waits on it)
	// pending: a request went to the worker, its outcome not received:
	// the worker holds buf.
	pending bool
	stopped bool          // the session ended: no worker starts again
	left    inflateResult // what the last outcome read, left[off:] not taken yet, and its error
	off     int
	buf     []byte // the worker's buffer, inflateChunk bytes once a read needed it
}

// inflateResult is the outcome of a read of the worker's.
type inflateResult struct {
	b   []byte
	err error
}

// inflateChunk is the most a worker's read reads at a time.
const inflateChunk = 32 << 10

func newInflater(zr io.Reader, async func() bool) *inflater {
	return &inflater{zr: zr, async: async, wake: make(chan struct{})}
}

// inflateWorker reads zr into each buffer received, its outcome sent
// back, until req is closed or a read fails (flate's error is for good).
func inflateWorker(zr io.Reader, req <-chan []byte, res chan<- inflateResult) {
	for buf := range req {
		n, err := zr.Read(buf)
		res <- inflateResult{b: buf[:n], err: err}
		if err != nil {
			return
		}
	}
}

// stopWorker lets the worker go, at once when it is idle, or when the read
// it is in returns (its outcome is still received). Under mu.
func (f *inflater) stopWorker() {
	if f.req != nil {
		close(f.req)
		f.req = nil
	}
}

func (f *inflater) Read(p []byte) (int, error) {
	f.mu.Lock()
	if f.intr {
		f.mu.Unlock()
		return 0, os.ErrDeadlineExceeded
	}
	if !f.pending && f.off == len(f.left.b) {
		// Nothing under way, nothing left of the last outcome but,
		// maybe, its error.
		if err := f.left.err; err != nil {
			f.mu.Unlock()
			return 0, err
		}
		if f.stopped || !f.async() {
			f.stopWorker() // the body is over
			f.mu.Unlock()
			return f.zr.Read(p)
		}
		if f.buf == nil {
			f.buf = make([]byte, inflateChunk)
		}
		if f.req == nil {
			f.req, f.res = make(chan []byte, 1), make(chan inflateResult, 1)
			go inflateWorker(f.zr, f.req, f.res)
		}
		f.req <- f.buf[:min(len(p), inflateChunk)]
		f.pending = true
	}
	if f.pending {
		res, wake := f.res, f.wake
		f.mu.Unlock()
		var r inflateResult
		select {
		case r = <-res:
		case <-wake:
			return 0, os.ErrDeadlineExceeded
		}
		f.mu.Lock()
		f.pending = false
		f.left, f.off = r, 0
		if r.err != nil && f.req != nil {
			f.req = nil // the worker has ended
		}
	}
	n := copy(p, f.left.b[f.off:])
	f.off += n
	if f.off < len(f.left.b) {
		f.mu.Unlock()
		return n, nil
	}
	// All taken: the error goes with the last bytes, and is kept (for
	// good, as flate's).
	err := f.left.err
	f.left.b, f.off = nil, 0
	f.mu.Unlock()
	return n, err
}

// stop ends the worker once the session has ended (no read to come may
// be left waiting for it) and keeps another from starting.
func (f *inflater) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	f.stopWorker()
}

// interrupt makes the Read waiting for a run, and any Read until
// clearInterrupt, return a timeout at once.
func (f *inflater) interrupt() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.intr {
		f.intr = true
		close(f.wake)
	}
}

// clearInterrupt reports whether the inflater was interrupted, and ends that.
func (f *inflater) clearInterrupt() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.intr
	if was {
		f.intr = false
		f.wake = make(chan struct{})
	}
	return was
}

// release gives the worker's buffer back, and lets the worker go, when no
// read of the worker's is under way (an idle session keeps only what it
// must).
func (f *inflater) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.pending {
		f.buf = nil
		f.stopWorker()
	}
}
