package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestReview48EUnknownTaggedStatusTyped: a tagged response that is neither
// OK, NO nor BAD ("A1 AU Begin TLS now", found by FuzzReview47FStartTLS
// once it checked that every error is of a documented kind) ended its
// command with bare text (fmt.Errorf without %w): no errors.Is or
// errors.As could tell it from anything else. It now wraps a
// *session.ProtocolError, and the session goes on (only that command
// ended). Library defaults (nil Options).
func TestReview48EUnknownTaggedStatusTyped(t *testing.T) {
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		if err := c.Line(cmd.Tag + " AU Begin TLS now"); err != nil {
			return err
		}
		cmd, err = c.ReadCommand()
		if err != nil {
			return err
		}
		return c.Line(cmd.Tag + " OK done")
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Run(ctx, &session.Command{Name: "NOOP"})
	var pe *session.ProtocolError
	if !errors.Is(err, session.ErrProtocol) || !errors.As(err, &pe) {
		t.Fatalf("NOOP answered %q: %v (%T); want an error matching session.ErrProtocol, with a *session.ProtocolError", "A1 AU Begin TLS now", err, err)
	}
	if errors.Is(err, session.ErrAborted) {
		t.Fatalf("NOOP answered AU aborted the session: %v", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("the next NOOP: %v; want the session to go on", err)
	}
}
