package session

import (
	"io"
	"time"
)

// DirectSteps returns how many responses of pulled commands were read by
// direct steps (Session.step) rather than by the coroutine.
func DirectSteps(s *Session) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.co.steps
}

// HoldsDeflater reports whether s, under COMPRESS, holds a deflater now
// (see flushWriter), under the write lock. It lets go of the lock as every
// holder does (unlockWrite): an idle reader that found it held leaves the
// deflater's release to the holder.
func HoldsDeflater(s *Session) bool {
	s.wmu.Lock()
	defer s.unlockWrite()
	fw, ok := s.cw.w.(*flushWriter)
	return ok && fw.zw != nil
}

// HeldEncoder reports whether s holds a command Encoder now (one not
// given back to encoderPool), under the write lock.
func HeldEncoder(s *Session) bool {
	s.wmu.Lock()
	defer s.unlockWrite()
	return s.enc != nil
}

// WriteWaiters returns how many goroutines wait for the write lock now.
func WriteWaiters(s *Session) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.wwaiters)
}

// Waiting returns how many commands wait in Start for their turn now,
// IDLE excepted.
func Waiting(s *Session) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if s.wq != nil {
		for w := s.wq.head; w != nil; w = w.next {
			n++
		}
	}
	return n
}

// OnFlushSkipped sets a function run when a command leaves its bytes in
// the buffer for a waiting writer to flush, before the write lock is
// released, until the test ends.
func OnFlushSkipped(t interface{ Cleanup(func()) }, f func()) {
	testHookFlushSkipped = f
	t.Cleanup(func() { testHookFlushSkipped = nil })
}

// NewFlushWriter returns the writer a compressed session writes its
// commands through, over w.
func NewFlushWriter(w io.Writer, level int) io.Writer {
	return &flushWriter{w: w, level: level}
}

// StallSpeed makes the stall timeouts of the sessions opened until the
// test ends run k times faster, on the read and the write side alike (the
// errors report the timeouts they stand for), and StartTLS's handshake
// allowance past the caller's deadline (transport.DefaultHandshakeTimeout)
// with them. The test must not be parallel.
func StallSpeed(t interface{ Cleanup(func()) }, k time.Duration) {
	testStallSpeed = k
	t.Cleanup(func() { testStallSpeed = 0 })
}

// OnRecent sets a function Session.Recent calls before its NOOP
// (afterNoop false: it read the selection and found no RECENT kept) and
// once the NOOP is over (true), until the test ends. The test must not be parallel.
func OnRecent(t interface{ Cleanup(func()) }, f func(afterNoop bool)) {
	testHookRecent = f
	t.Cleanup(func() { testHookRecent = nil })
}

// OnBehindEnd sets a function run by flushBehind's goroutine that waited
// for the write lock as it returns, until the test ends. The test must
// not be parallel.
func OnBehindEnd(t interface{ Cleanup(func()) }, f func()) {
	testHookBehindEnd = f
	t.Cleanup(func() { testHookBehindEnd = nil })
}

// OnGiveBack sets a function shown the whole of each write buffer a
// session gives back to its pool, as it goes, until the test ends. The
// test must not be parallel.
func OnGiveBack(t interface{ Cleanup(func()) }, f func(buf []byte)) {
	testHookGiveBack = f
	t.Cleanup(func() { testHookGiveBack = nil })
}

// OnRefuserStart sets a function run by the goroutine RefuseContinuations
// starts before it answers any "+", until the test ends.
func OnRefuserStart(t interface{ Cleanup(func()) }, f func()) {
	testHookRefuser = f
	t.Cleanup(func() { testHookRefuser = nil })
}

// OnReadTimeout sets a function called for each read of a session's
// connection that timed out, interrupted true when an interrupt ended it
// (a pulled command's caller's context ended: watchConn.interrupt) and
// false when a deadline passed (a stall timeout, a hard deadline), until
// the test ends. The test must not be parallel.
func OnReadTimeout(t interface{ Cleanup(func()) }, f func(interrupted bool)) {
	testHookReadTimeout.Store(&f)
	t.Cleanup(func() { testHookReadTimeout.Store(nil) })
}

// WriteGrace is how long a write whose context ended may still take.
const WriteGrace = writeGrace
