package session

// FlushBehindAfter runs send with a writer counted as waiting for the
// write lock, so that the commands it sends are left in the write buffer
// for that writer to flush (shouldFlush), then calls flushBehind as that
// writer does when its context ends before it got the lock.
func FlushBehindAfter(s *Session, send func()) {
	s.mu.Lock()
	s.wwaiters++
	s.mu.Unlock()
	send()
	s.mu.Lock()
	s.wwaiters--
	s.mu.Unlock()
	s.flushBehind()
}
