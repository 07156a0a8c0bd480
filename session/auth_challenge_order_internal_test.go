package session

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

// TestAuthenticateChallengeBeforeAnswerAborts: a caller answering an
// AUTHENTICATE from Continuations takes the first challenge, and the
// server, not waiting for the response, sends a second one (no tagged
// answer yet). The server broke the exchange's order (RFC 9051 section
// 6.2.2: one challenge, then the client's response): the session is
// aborted as the second "+" is read (ErrProtocol), and the caller's
// Continue and Wait say so; nothing more is written. Before, the second
// "+" waited in Continuations and the answer to the first went out, read
// by the server as the answer to the second. Library defaults.
func TestAuthenticateChallengeBeforeAnswerAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		after := make(chan []string, 1)
		ready := make(chan struct{})
		ctx := context.Background()
		s, p := startXTest(t, secondChallengeServer(ready, false, nil, after), nil)
		defer s.Close()
		<-p.Continuations() // the first challenge, taken
		close(ready)
		synctest.Wait() // the reader took the second "+"
		cerr := p.Continue(ctx, []byte("cjE="))
		_, werr := p.Wait(ctx)
		s.Close()
		lines := <-after
		if !errors.Is(cerr, ErrProtocol) || !errors.Is(werr, ErrProtocol) || len(lines) > 0 {
			t.Errorf("a second challenge before the answer to the first: Continue %v; Wait %v; the server read %q after it; want both ErrProtocol, nothing written", cerr, werr, lines)
		}
	})
}
