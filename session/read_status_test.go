package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// tagged status answers: a tagged response that is neither OK, NO nor BAD
// ("A2 AU Begin TLS now", or a tagged BYE, which RFC 3501 and RFC 9051
// have untagged only) ends its command with an error wrapping a
// *session.ProtocolError, the session going on, and changes the session's
// state as a failure (a BAD) does.

// statusCmd is a command as the tests below run it.
func statusCmd(name string) *session.Command {
	c := &session.Command{Name: name}
	switch name {
	case "SELECT":
		c.Args = func(e *wire.Encoder) { e.SP().Mailbox("B") }
	case "LOGIN":
		c.Args = func(e *wire.Encoder) { e.SP().AString("user").SP().Password("secret") }
	}
	return c
}

// statusAnswered opens a session (PREAUTH when preAuth, else a plain
// greeting), runs setup (each answered OK; a SELECT answered with
// "* 3 EXISTS" first and selecting "A"), then last, answered with the
// tagged line answer (its tag first); it returns last's error and the
// session's state and selected mailbox after it, and checks that a NOOP
// still runs. Library defaults (nil Options).
func statusAnswered(t *testing.T, preAuth bool, setup []string, last, answer string) (err error, st session.State, mbox string) {
	t.Helper()
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		if preAuth {
			c.PreAuth("IMAP4rev1 UNAUTHENTICATE")
		} else {
			c.Greet("IMAP4rev1 UNAUTHENTICATE")
		}
		for n := 0; ; n++ {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch {
			case n == len(setup):
				err = c.Line(cmd.Tag + " " + answer)
			case strings.EqualFold(cmd.Name, "SELECT"):
				err = c.Line("* 3 EXISTS\r\n" + cmd.Tag + " OK [READ-WRITE] selected")
			default:
				err = c.Line(cmd.Tag + " OK done")
			}
			if err != nil {
				return err
			}
		}
	})
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range setup {
		c := statusCmd(name)
		if name == "SELECT" {
			c.Args = func(e *wire.Encoder) { e.SP().Mailbox("A") }
		}
		if _, err := s.Run(ctx, c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, err = s.Run(ctx, statusCmd(last))
	st = s.State()
	mbox, _ = s.Mailbox()
	if _, nerr := s.Run(ctx, &session.Command{Name: "NOOP"}); nerr != nil {
		t.Fatalf("%s answered %q, then NOOP: %v; want the session to go on", last, answer, nerr)
	}
	return err, st, mbox
}

// TestSelectUnknownStatusUnselects: a SELECT of B answered "A2 AU ..."
// (neither OK, NO nor BAD) left the session SELECTED with A, though the
// server may have B selected now, or none: route's *codec.Unknown case
// ended the command without transition, so a STORE or EXPUNGE meant for
// A went on to whatever the server had selected. It now leaves the
// session as the same SELECT answered BAD does: AUTH, nothing selected.
// Found by review.
func TestSelectUnknownStatusUnselects(t *testing.T) {
	_, bst, bmbox := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "BAD no")
	err, st, mbox := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "AU Begin TLS now")
	if !errors.Is(err, session.ErrProtocol) {
		t.Fatalf("SELECT B answered AU: %v; want ErrProtocol", err)
	}
	if st != bst || mbox != bmbox {
		t.Fatalf("after SELECT B answered AU the session is in %v with %q selected; after the same SELECT answered BAD, %v with %q: want the same (no mailbox the caller did not mean)", st, mbox, bst, bmbox)
	}
	if st != session.StateAuth || mbox != "" {
		t.Fatalf("after SELECT B answered AU: %v with %q selected; want AUTH with none", st, mbox)
	}
}

// TestUnknownStatusTransition: every command that changes the state ends,
// answered with a tagged line neither OK, NO nor BAD, in the state the
// same command answered BAD leaves: CLOSE and UNSELECT in AUTH with
// nothing selected, LOGIN not authenticated, LOGOUT and UNAUTHENTICATE
// refused (the session as it was).
func TestUnknownStatusTransition(t *testing.T) {
	for _, tc := range []struct {
		preAuth bool
		setup   []string
		last    string
		want    session.State
	}{
		{true, []string{"SELECT"}, "CLOSE", session.StateAuth},
		{true, []string{"SELECT"}, "UNSELECT", session.StateAuth},
		{false, nil, "LOGIN", session.StateNonAuth},
		{true, []string{"SELECT"}, "LOGOUT", session.StateSelected},
		{true, nil, "UNAUTHENTICATE", session.StateAuth},
	} {
		t.Run(tc.last, func(t *testing.T) {
			_, bst, bmbox := statusAnswered(t, tc.preAuth, tc.setup, tc.last, "BAD no")
			err, st, mbox := statusAnswered(t, tc.preAuth, tc.setup, tc.last, "XYZZY what")
			if !errors.Is(err, session.ErrProtocol) || errors.Is(err, session.ErrAborted) {
				t.Fatalf("%s answered XYZZY: %v; want ErrProtocol, no abort", tc.last, err)
			}
			if st != bst || mbox != bmbox || st != tc.want {
				t.Fatalf("after %s answered XYZZY: %v with %q selected; answered BAD: %v with %q; want %v", tc.last, st, mbox, bst, bmbox, tc.want)
			}
		})
	}
}

// TestTaggedByeIsProtocolError: a tagged BYE ("A2 BYE going"; RFC 3501
// and RFC 9051 have BYE untagged only) decoded as a tagged status of kind
// BYE, and complete ended its command with a bare *StatusError matching
// none of ErrNo, ErrBad, ErrProtocol, ErrBye or ErrAborted. The codec
// decodes it as an *codec.Unknown now (a tagged response other than OK,
// NO or BAD): the command ends with an error wrapping a *ProtocolError,
// the session goes on, in the state a BAD leaves (a SELECT: nothing
// selected). Found by review.
func TestTaggedByeIsProtocolError(t *testing.T) {
	err, st, mbox := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "BYE going")
	var pe *session.ProtocolError
	if !errors.Is(err, session.ErrProtocol) || !errors.As(err, &pe) || errors.Is(err, session.ErrAborted) {
		t.Fatalf("SELECT answered %q: %v (%T); want an error wrapping a *session.ProtocolError, no abort", "A2 BYE going", err, err)
	}
	if st != session.StateAuth || mbox != "" {
		t.Fatalf("after SELECT answered a tagged BYE: %v with %q selected; want AUTH with none", st, mbox)
	}
}

// TestStartTLSTaggedByeTyped: FuzzReview47FStartTLS's exec with STARTTLS
// answered "%T BYE going" (the fuzzer's input for "AU", with the name
// BYE) fails its check that a failed StartTLS's error is of a documented
// kind (review47Typed) without TestTaggedByeIsProtocolError's fix. Found
// by review.
func TestStartTLSTaggedByeTyped(t *testing.T) {
	review47StartTLSExec(t, []byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"), []byte("%T BYE going\r\n"),
		[]byte("* CAPABILITY IMAP4rev1\r\n%T OK done\r\n"), nil)
}

// TestUnknownTaggedStatusTyped: a tagged response that is neither
// OK, NO nor BAD ("A1 AU Begin TLS now", found by FuzzReview47FStartTLS
// once it checked that every error is of a documented kind) ended its
// command with bare text (fmt.Errorf without %w): no errors.Is or
// errors.As could tell it from anything else. It now wraps a
// *session.ProtocolError, and the session goes on (only that command
// ended). Library defaults (nil Options).
func TestUnknownTaggedStatusTyped(t *testing.T) {
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
