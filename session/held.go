// The hold of the commands queued behind an AUTHENTICATE answered by an
// "early OK": the server sent its last challenge (SCRAM's
// server-final-message) and its tagged OK together, and the reader took
// the OK before the client answered the challenge. The session is in AUTH
// then, but the client may still refuse the challenge (a SCRAM server
// signature wrong: an impostor server), which aborts the session: no
// command may go out on it before the client's verdict.

package session

import "time"

// holdLocked holds every command behind p, whose OK the reader has just
// settled (acceptedCancel) with a challenge not answered (contHeld), until
// the client's verdict on it (under s.mu): counted as a command that runs
// alone (canStart) with nothing in flight, and watched by the session's
// bound timer (boundFired), which aborts the session at p's command bound
// (or DefaultCommandTimeout from now, for a command with none) when no
// verdict came: a caller that leaves without Wait, Continue or
// RefuseContinuations does not hold the session for ever, and the
// commands behind are never sent unverified.
func (s *Session) holdLocked(p *Pending) {
	q := s.wq
	if q == nil {
		q = &waitQueue{}
		s.wq = q
	}
	q.held = p
	s.counts.alone++
	if p.bound <= 0 {
		p.bound = time.Since(p.start) + DefaultCommandTimeout
	}
	s.armBoundLocked(p.boundAt())
}

// heldLocked reports whether p holds the commands behind it (holdLocked)
// with no verdict yet (under s.mu).
func (s *Session) heldLocked(p *Pending) bool {
	return s.wq != nil && s.wq.held == p && p != nil
}

// releaseLocked ends p's hold once the client accepted the challenge that
// came with the OK (an empty response given to Continue, from the caller
// or from OnContinue's check), and lets the commands behind it go (under s.mu). The session's
// abort ends a hold too (abortEnd: the counts go with it).
func (s *Session) releaseLocked(p *Pending) {
	if !s.heldLocked(p) {
		return
	}
	s.wq.held = nil
	s.counts.alone--
	s.changedLocked()
}

// refuseHeld aborts the session for the "*" that refused the challenge
// held with p's OK (Continue, under the write lock, not s.mu): the
// session reached AUTH with a server the client refuses. The abort
// matches ErrCancelAccepted, as acceptedCancel's for an OK to a "*"
// written; the commands held behind p end not sent (ErrNotSent).
func (s *Session) refuseHeld(p *Pending) { s.abortHeld(p, acceptedEarly(p)) }

// abortHeld aborts the session with cause for the verdict on the
// challenge held with p's OK, or its absence (boundFired), and makes the
// abort p's error first: a Wait of p, also one that a command held behind
// it wakes by failing, returns it, not the OK. After p's end: the reader
// may still be ending p (finish sets its result and error), which it does
// whatever the session's state.
func (s *Session) abortHeld(p *Pending, cause error) {
	s.mu.Lock()
	done := p.doneLocked()
	s.mu.Unlock()
	<-done
	err := &AbortError{Err: cause, History: s.tr.history()}
	s.mu.Lock()
	if s.err == nil && !p.cut {
		p.cut, p.err = true, err
	}
	s.mu.Unlock()
	s.abortWith(err)
}

// acceptedEarly is the abort of a session whose AUTHENTICATE was answered
// OK before the client's "*" could go.
func acceptedEarly(p *Pending) *ProtocolError {
	return &ProtocolError{kind: ErrCancelAccepted,
		Reason: "tagged OK for " + p.name + " read before the client could cancel the exchange"}
}

// notFinalEarly is the abort of a session whose AUTHENTICATE was answered
// OK with a challenge the client answered with a non-empty response
// (Continue): the exchange was not over for the client (SCRAM's
// client-final-message to a server-first-message), the server said OK
// without reading that response, and the client has checked nothing of
// it. It matches ErrCancelAccepted, as the refusal's abort does.
func notFinalEarly(p *Pending) *ProtocolError {
	return &ProtocolError{kind: ErrCancelAccepted,
		Reason: "tagged OK for " + p.name + " read before the client's response to its challenge: the exchange was not over"}
}

// heldLate returns the held command (holdLocked) when its bound has
// passed at now, and otherwise, in at, when it will (zero: none held);
// under s.mu.
func (s *Session) heldLate(now time.Time) (late *Pending, at time.Time) {
	if s.wq == nil || s.wq.held == nil {
		return nil, time.Time{}
	}
	p := s.wq.held
	if at = p.boundAt(); !at.After(now) {
		return p, at
	}
	return nil, at
}

// refuseHeldForRun refuses the challenge held with p's OK (holdLocked)
// once Run's Wait has returned with no verdict on it (an AUTHENTICATE
// without Command.OnContinue, whose server sent a "+" with its OK): Run's
// caller has no Pending to give one (Continue, RefuseContinuations), so
// the hold would last the command bound and then abort the session
// anyway. Refused at once, as RefuseContinuations refuses it: the
// session is aborted (ErrCancelAccepted) and the commands held behind p
// end not sent. It returns that abort, or nil when p holds nothing.
func (p *Pending) refuseHeldForRun() error {
	s := p.s
	s.mu.Lock()
	held := s.heldLocked(p)
	s.mu.Unlock()
	if !held {
		return nil
	}
	p.refuse() // Continue's "*": refuseHeld
	s.mu.Lock()
	err := p.err
	s.mu.Unlock()
	if err == nil {
		err = s.Err()
	}
	return err
}
