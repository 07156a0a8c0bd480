package session_test

import (
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview41QContinueAfterNoThenEOF: a server that answers an
// AUTHENTICATE's challenge round with its NO and then closes. When both
// were read before the caller's Continue, Continue returned the session's
// end (unexpected EOF) instead of ErrCommandEnded, and auth's exchange
// reported "connection aborted" instead of the refusal: the flaky
// TestAuthenticateEndedBeforeAnswer (1 run in 10 at load 13). Continue
// now looks at the command first; Wait gives the NO.
func TestReview41QContinueAfterNoThenEOF(t *testing.T) {
	ctx, s := r41Open(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("AUTHENTICATE")
		if err != nil {
			return err
		}
		c.Line("+ Y2hhbGxlbmdl")
		c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] no")
		return c.Close()
	})
	p, err := s.Start(ctx, &session.Command{Name: "AUTHENTICATE", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation")
	}
	// Both the NO and the EOF are read before Continue.
	for s.Err() == nil && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	<-p.Done()
	err = p.Continue(ctx, []byte("cmVzcG9uc2U="))
	if !errors.Is(err, session.ErrCommandEnded) {
		t.Fatalf("Continue after the NO and the EOF: %v; want ErrCommandEnded", err)
	}
	_, err = p.Wait(ctx)
	var se *session.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Wait: %v; want the server's NO", err)
	}
}
