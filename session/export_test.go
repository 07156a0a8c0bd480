package session

// DirectSteps returns how many responses of pulled commands were read by
// direct steps (Session.step) rather than by the coroutine.
func DirectSteps(s *Session) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.co.steps
}
