package auth

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestLateChallengePanicAborts: the auth twin of session's
// TestOnContinueLateChallengePanicAborts. The server sent a challenge and
// the tagged OK together, and authenticate's loop took the command's end
// first (lateChallenge hands the queued challenge to the mechanism). A
// mechanism that panics on it (a bug on a hostile server's signature)
// left the session open in AUTH, logged in to a server whose challenge
// was never checked: only its error aborted (cancel). The panic must go
// on, as for a challenge before the answer (callNext), and the session
// be aborted first (ErrCancelAccepted). The loop's select is random when
// both are ready: the test calls lateChallenge once the end was read.
func TestLateChallengePanicAborts(t *testing.T) {
	client, done := fakeServer("AUTH=X-TEST", func(w io.Writer, _ *bufio.Reader, tag string) {
		io.WriteString(w, "+ Y2hhbA==\r\n"+tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
	})
	t.Cleanup(func() { client.Close(); <-done })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(ctx, &session.Command{Name: "AUTHENTICATE", Secret: true,
		Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatal("AUTHENTICATE not answered") // hang detector
	}
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		lateChallenge(ctx, s, p, "X-TEST", func([]byte) ([]byte, error) { panic("mechanism bug") }, false, nil)
	}()
	if panicked == nil || s.State() == session.StateAuth || !errors.Is(s.Err(), session.ErrCancelAccepted) {
		t.Errorf("mechanism panicked on the challenge sent with the OK: panic %v; session state %v, err %v; want the panic to go on and the session aborted (ErrCancelAccepted), not left in AUTH", panicked, s.State(), s.Err())
	}
}
