package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/wire"
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
		client := xtestServer(func(r *bufio.Reader, w io.Writer, _ string) []string {
			io.WriteString(w, "+ YzE=\r\n")
			<-ready
			io.WriteString(w, "+ YzI=\r\n")
			return readRest(r, w)
		}, after)
		ctx := context.Background()
		s := openDefault(t, client)
		defer s.Close()
		p, err := s.Start(ctx, &Command{Name: "AUTHENTICATE",
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
		if err != nil {
			t.Fatal(err)
		}
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
