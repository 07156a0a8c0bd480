package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview46BSelectionOfSelect: Pending.Selection of a SELECT is the
// count of the mailbox that SELECT selected, even once another
// goroutine's SELECT, queued behind it, has started (and made the
// session's count another) before the first one's caller looks: the
// session's count read after Wait would be the second mailbox's, and a
// command bound to it would go to that mailbox. A command bound to the
// first SELECT's count is not sent (ErrReselected).
func TestReview46BSelectionOfSelect(t *testing.T) {
	answerA := make(chan struct{}) // the test lets the server answer SELECT A
	gotB := make(chan struct{})    // the server has read SELECT B
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Expect("SELECT")
		if err != nil {
			return err
		}
		<-answerA
		if err := c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done"); err != nil {
			return err
		}
		if cmd, err = c.Expect("SELECT"); err != nil {
			return err
		}
		close(gotB)
		if err := c.Lines("* 5 EXISTS", cmd.Tag+" OK [READ-WRITE] done"); err != nil {
			return err
		}
		return c.Serve()
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sel := func(name string) *session.Command {
		return &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom(name) }}
	}
	pa, err := s.Start(ctx, sel("A"))
	if err != nil {
		t.Fatal(err)
	}
	countA := s.Selections() // A is in flight and runs alone: nothing else started
	bDone := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, sel("B"))
		bDone <- err
	}()
	close(answerA)
	select {
	case <-gotB:
	case <-ctx.Done():
		t.Fatal("SELECT B never reached the server")
	}
	if _, err := pa.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	if got := pa.Selection(); got != countA || got == 0 {
		t.Fatalf("SELECT A's Selection = %d, want %d (its own count; the session's is now %d)", got, countA, s.Selections())
	}
	if s.Selections() == countA {
		t.Fatalf("SELECT B did not change the count (%d)", countA)
	}
	_, err = s.Run(ctx, &session.Command{Name: "NOOP", Selection: pa.Selection()})
	var ns *session.NotSentError
	if !errors.Is(err, session.ErrReselected) || !errors.As(err, &ns) {
		t.Fatalf("NOOP bound to SELECT A's selection, B selected: %v; want a *NotSentError wrapping ErrReselected", err)
	}
	pn, err := s.Start(ctx, &session.Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	if pn.Selection() != 0 {
		t.Fatalf("NOOP's Selection = %d, want 0", pn.Selection())
	}
	if _, err := pn.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
