package wire

import "sync"

// bufferPool holds the buffers of tokenizers that released theirs, of
// DefaultBufferSize only (pointers to arrays: a Put allocates nothing).
var bufferPool sync.Pool

// Release hands the tokenizer's buffer back when nothing is buffered, no
// line is half read and no literal is open, so that a tokenizer waiting for
// the next line (an idle connection) holds none; the next read takes a
// buffer of the same size again, from a pool. It reports whether it
// released the buffer. Bytes borrowed from the tokenizer before Release are
// no longer valid (the buffer may go to another Tokenizer): call it only
// when nothing it returned is still in use.
func (t *Tokenizer) Release() bool {
	if len(t.buf) == 0 || t.r != t.w || t.pend&(pendLit|pendBroken) != 0 || t.rerr != nil ||
		(t.pend&pendEOL == 0 && t.r != t.lineStart) {
		return false
	}
	t.pinToken()
	t.base += int64(t.r)
	t.r, t.w, t.lineStart, t.heldFrom = 0, 0, 0, 0
	t.gen++
	t.scratch = nil
	t.released = len(t.buf)
	if len(t.buf) == DefaultBufferSize {
		bufferPool.Put((*[DefaultBufferSize]byte)(t.buf))
	}
	t.buf = nil
	return true
}

// reacquire takes a buffer again after Release.
func (t *Tokenizer) reacquire() {
	n := t.released
	t.released = 0
	if n == DefaultBufferSize {
		if a, ok := bufferPool.Get().(*[DefaultBufferSize]byte); ok {
			t.buf = a[:]
			return
		}
	}
	t.buf = make([]byte, n)
}
