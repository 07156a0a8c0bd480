package session

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// TestEarlyOKCallerLoopOlderAnswerNotStalled: one goroutine answers an
// AUTHENTICATE from Continuations (Start, Continuations, Continue, Wait,
// no OnContinue), as package auth does: it takes the first challenge,
// and the server, not waiting for the answer, sends a second and its
// tagged OK. Continue, the answer to the first, says ErrCommandEnded
// (the command is over, the doc's cue to Wait for its answer), and Wait
// returns the OK with no error: nothing tells the caller that the
// second challenge, held with the OK, is still its to judge
// (Continue's held branch keeps the hold while a newer "+" is queued).
// The next command waits the whole command bound (15 min), then the
// session is aborted: a login the client took for done is lost.
// Either Wait (or Continue) tells the caller that a challenge is still
// to be judged, or the next command is not stalled to the bound.
// Forced interleaving; library defaults.
func TestEarlyOKCallerLoopOlderAnswerNotStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		after := make(chan []string, 1)
		ready := make(chan struct{})
		ctx := context.Background()
		s, p := startXTest(t, secondChallengeServer(ready, true, nil, after), nil)
		defer s.Close()
		<-p.Continuations() // the first challenge
		close(ready)
		synctest.Wait() // the reader took the second "+" and the OK
		cerr := p.Continue(ctx, []byte("cjE="))
		start := time.Now()
		_, werr := p.Wait(ctx)
		if !errors.Is(cerr, ErrCommandEnded) || werr != nil {
			return // the caller is told: no stall to find here
		}
		_, nerr := s.Run(ctx, &Command{Name: "NOOP"})
		if nerr != nil {
			t.Errorf("Continue %v, Wait <nil> (a login the caller takes for done); the NOOP after it: %v after %v", cerr, nerr, time.Since(start))
		}
		s.Close()
		<-after
	})
}

// TestEarlyOKResponseNotFinalKeepsQueued: Run with OnContinue; the
// server sends its first challenge and its tagged OK together, before
// the client's response (a SCRAM server-first-message with the OK, no
// server-final-message: an impostor that skips proving itself). The
// response OnContinue gives is not empty: the client's exchange goes on
// (a client-final-message), the server said OK without reading it, and
// the mechanism has checked nothing of the server. Continue's held
// branch takes it as the verdict (no newer "+" queued) and releases the
// NOOP queued behind: it is written to that server, and Run returns
// nil. Wanted: the NOOP not written (a non-empty response to a challenge
// held with the OK is no acceptance of a finished exchange). Forced
// interleaving; library defaults.
func TestEarlyOKResponseNotFinalKeepsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		after := make(chan []string, 1)
		s := openDefault(t, scriptedEarlyOKServer(readRest, after))
		defer s.Close()
		var noop <-chan error
		_, werr := s.Run(context.Background(), &Command{Name: "AUTHENTICATE",
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
			OnContinue: func(ch []byte) ([]byte, error) {
				synctest.Wait() // the reader took the OK
				noop = runNoop(s)
				synctest.Wait()
				return []byte("Yy1maW5hbA=="), nil // the exchange goes on
			}})
		synctest.Wait() // room for a released NOOP to go
		nerr := <-noop
		s.Close()
		lines := <-after
		if len(lines) > 0 {
			t.Errorf("a non-empty response to the challenge held with the OK: Run %v; NOOP %v; the server read %q after its OK; want the NOOP not written", werr, nerr, lines)
		}
	})
}
