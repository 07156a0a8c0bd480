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

// TestReview40BCheckSelectionZero: a Command.Selection of 0 (no mailbox
// selected yet) checks nothing, as before; with CheckSelection it is
// checked like any other count, so that a command meant for the
// authenticated state of a session that never selected a mailbox
// (commands.Client.Idle called there) is not sent once one was.
func TestReview40BCheckSelectionZero(t *testing.T) {
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
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
	if n := s.Selections(); n != 0 {
		t.Fatalf("Selections before any SELECT = %d", n)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP", CheckSelection: true}); err != nil {
		t.Fatalf("NOOP bound to no selection yet, none made: %v", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("unbound NOOP: %v", err)
	}
	_, err = s.Run(ctx, &session.Command{Name: "NOOP", CheckSelection: true})
	var ns *session.NotSentError
	if !errors.Is(err, session.ErrReselected) || !errors.As(err, &ns) {
		t.Fatalf("NOOP bound to no selection, after a SELECT: %v; want a *NotSentError wrapping ErrReselected", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP", Selection: s.Selections(), CheckSelection: true}); err != nil {
		t.Fatalf("NOOP bound to the current selection: %v", err)
	}
}
