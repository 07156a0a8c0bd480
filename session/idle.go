// Idle memory: a session with nothing in flight but IDLE holds neither a
// write buffer (lazyWriter), nor a command Encoder (encoderPool), nor
// under COMPRESS a deflater (flushWriter), nor the tokenizer's read
// buffer; its trace history keeps at most maxTraceLine bytes of each of
// its last lines (tracer.serverLocked). Before the
// reader blocks for the next response while idle, the tokenizer gives its
// buffer back (wire.Tokenizer.Release, and codec.Decoder.Release for the
// decoder's references into it) and the reader waits with a small
// buffer of its own (peekReader); the tokenizer takes a buffer again when
// bytes arrive.

package session

import (
	"io"
)

// peekSize is the buffer the reader waits with while idle: a short
// response (EXISTS, a flag change, a tagged OK) fits whole.
const peekSize = 256

// peekReader sits between the tokenizer and the traced connection. While
// the session is idle the reader goroutine waits in peek, reading into its
// own small buffer (through the tracer: the bytes are traced and counted
// as received as they arrive); the tokenizer's next Read gets them first.
// Only the goroutine that drives the reading coroutine uses it.
//
// It is also where the session learns that the connection failed: the
// first read error that is not a timeout (io.EOF included) is kept in
// broken, and every later Read returns it without reading again. Every
// read of the session goes through here (responses, streamed bodies, the
// idle peek), so the connection is read at most once after it failed,
// whichever goroutine reads, and readOne ends the session with that error
// even when the decoder made a *codec.DecodeError of it. Timeouts are not
// kept: an interrupted read is read again (retryRead).
type peekReader struct {
	r      io.Reader
	buf    [peekSize]byte
	off    int   // buf[off:n] is waiting for the tokenizer
	n      int   //
	err    error // what the read that filled buf returned with its bytes
	broken error // the connection's failure, once it failed
	// inRead: a read of r runs (the connection, TLS, COMPRESS, the
	// Trace writer and Logger): a panic then is not the decoder's
	// (decodeNext).
	inRead bool
}

func (pr *peekReader) Read(p []byte) (int, error) {
	if pr.off < pr.n {
		c := copy(p, pr.buf[pr.off:pr.n])
		pr.off += c
		if pr.off < pr.n {
			return c, nil
		}
		err := pr.err
		pr.off, pr.n, pr.err = 0, 0, nil
		return c, err
	}
	if err := pr.err; err != nil {
		pr.err = nil
		return 0, err
	}
	if pr.broken != nil {
		return 0, pr.broken
	}
	pr.inRead = true
	n, err := pr.r.Read(p)
	pr.inRead = false
	if err != nil {
		pr.failed(err)
	}
	return n, err
}

// failed keeps err as the connection's failure unless it is a timeout.
func (pr *peekReader) failed(err error) {
	if pr.broken == nil && !isTimeout(err) {
		pr.broken = err
	}
}

// peek waits for bytes (or an error) in the small buffer, when none is
// waiting already.
func (pr *peekReader) peek() {
	if pr.off < pr.n || pr.err != nil || pr.broken != nil {
		return
	}
	pr.off = 0
	pr.inRead = true
	pr.n, pr.err = pr.r.Read(pr.buf[:])
	pr.inRead = false
	if pr.err != nil {
		pr.failed(pr.err)
	}
}

// reset makes pr read from r, what it held dropped (the bytes received
// before STARTTLS are never parsed).
func (pr *peekReader) reset(r io.Reader) io.Reader {
	pr.r = r
	pr.off, pr.n, pr.err, pr.broken, pr.inRead = 0, 0, nil, nil, false
	return pr
}

// take returns the bytes waiting in pr and forgets them.
func (pr *peekReader) take() []byte {
	b := append([]byte(nil), pr.buf[pr.off:pr.n]...)
	pr.off, pr.n = 0, 0
	return b
}

// idleWait runs on the reading coroutine before it decodes the next
// response: when the tokenizer holds no byte and IDLE, and nothing else,
// is in flight, its buffer is given back and the reader waits for the next
// bytes in peekReader's small buffer. Not while a pulled command's caller
// drives: it never blocks on the network (see pull.go).
func (s *Session) idleWait() {
	if s.rl.holder != nil || s.tok.Buffered() > 0 {
		return
	}
	s.mu.Lock()
	// Only with IDLE (or another command that waits for the server) in
	// flight: between two sequential commands nothing is in flight
	// either, and giving the buffers back there made every command regrow
	// the decoder's values (a 200,000-number SORT allocated 6 MB each
	// time; commands' TestSearchResultMemory).
	idle := s.counts.waits > 0 && len(s.inflight) == int(s.counts.waits) && s.co.lent == nil
	s.mu.Unlock()
	if !idle || !s.tok.Release() {
		return
	}
	s.dec.Release() // its reusable values point into the buffer
	s.wc.releaseInflater()
	// Under COMPRESS the deflater is most of an idle session's memory:
	// give it back too (see flushWriter). When a write holds the lock (the
	// IDLE command itself may not have let go of it yet), the writer gives
	// it back as it unlocks.
	s.idleDeflater.Store(true)
	if s.wmu.tryLock() {
		s.unlockWrite()
	}
	s.pr.peek()
}
