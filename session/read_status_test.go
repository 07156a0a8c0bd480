package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
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
// tagged line answer (its tag first); it returns the session's state
// and selected mailbox after it and last's error, and checks that a NOOP
// still runs. Library defaults (nil Options).
func statusAnswered(t *testing.T, preAuth bool, setup []string, last, answer string) (st session.State, mbox string, err error) {
	t.Helper()
	ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
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
	return st, mbox, err
}

// TestSelectUnknownStatusUnselects: a SELECT of B answered "A2 AU ..."
// (neither OK, NO nor BAD) left the session SELECTED with A, though the
// server may have B selected now, or none: route's *codec.Unknown case
// ended the command without transition, so a STORE or EXPUNGE meant for
// A went on to whatever the server had selected. It now leaves the
// session as the same SELECT answered BAD does: AUTH, nothing selected.
// Found by review.
func TestSelectUnknownStatusUnselects(t *testing.T) {
	bst, bmbox, _ := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "BAD no")
	st, mbox, err := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "AU Begin TLS now")
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
			bst, bmbox, _ := statusAnswered(t, tc.preAuth, tc.setup, tc.last, "BAD no")
			st, mbox, err := statusAnswered(t, tc.preAuth, tc.setup, tc.last, "XYZZY what")
			if !errors.Is(err, session.ErrProtocol) || errors.Is(err, session.ErrAborted) {
				t.Fatalf("%s answered XYZZY: %v; want ErrProtocol, no abort", tc.last, err)
			}
			if st != bst || mbox != bmbox || st != tc.want {
				t.Fatalf("after %s answered XYZZY: %v with %q selected; answered BAD: %v with %q; want %v", tc.last, st, mbox, bst, bmbox, tc.want)
			}
			// A tagged line that cannot be decoded ("A2 "): the
			// command ends with the *codec.DecodeError, in the same
			// state (TestUndecodableStatusUnselects).
			st, mbox, err = statusAnswered(t, tc.preAuth, tc.setup, tc.last, "")
			var de *codec.DecodeError
			if !errors.As(err, &de) || errors.Is(err, session.ErrAborted) {
				t.Fatalf("%s answered with an undecodable tagged line: %v; want a *codec.DecodeError, no abort", tc.last, err)
			}
			if st != bst || mbox != bmbox || st != tc.want {
				t.Fatalf("after %s answered with an undecodable tagged line: %v with %q selected; answered BAD: %v with %q; want %v", tc.last, st, mbox, bst, bmbox, tc.want)
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
	st, mbox, err := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "BYE going")
	var pe *session.ProtocolError
	if !errors.Is(err, session.ErrProtocol) || !errors.As(err, &pe) || errors.Is(err, session.ErrAborted) {
		t.Fatalf("SELECT answered %q: %v (%T); want an error wrapping a *session.ProtocolError, no abort", "A2 BYE going", err, err)
	}
	if st != session.StateAuth || mbox != "" {
		t.Fatalf("after SELECT answered a tagged BYE: %v with %q selected; want AUTH with none", st, mbox)
	}
}

// TestStartTLSTaggedByeTyped: FuzzStartTLS's exec with STARTTLS
// answered "%T BYE going" (the fuzzer's input for "AU", with the name
// BYE) fails its check that a failed StartTLS's error is of a documented
// kind (startTLSTyped) without TestTaggedByeIsProtocolError's fix. Found
// by review.
func TestStartTLSTaggedByeTyped(t *testing.T) {
	startTLSExec(t, []byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"), []byte("%T BYE going\r\n"),
		[]byte("* CAPABILITY IMAP4rev1\r\n%T OK done\r\n"), nil)
}

// TestUnknownTaggedStatusTyped: a tagged response that is neither
// OK, NO nor BAD ("A1 AU Begin TLS now", found by FuzzStartTLS
// once it checked that every error is of a documented kind) ended its
// command with bare text (fmt.Errorf without %w): no errors.Is or
// errors.As could tell it from anything else. It now wraps a
// *session.ProtocolError, and the session goes on (only that command
// ended). Library defaults (nil Options).
func TestUnknownTaggedStatusTyped(t *testing.T) {
	ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
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
	_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
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

// TestUndecodableStatusUnselects: a SELECT of B answered with a tagged
// line that cannot be decoded ("A2 ", a tag and nothing after) left the
// session SELECTED with A, as the *codec.Unknown case did before
// TestSelectUnknownStatusUnselects: blame ended the command with the
// *codec.DecodeError and no transition. It now leaves the session as the
// same SELECT answered BAD does: AUTH, nothing selected. Found by review.
func TestUndecodableStatusUnselects(t *testing.T) {
	bst, bmbox, _ := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "BAD no")
	st, mbox, err := statusAnswered(t, true, []string{"SELECT"}, "SELECT", "")
	var de *codec.DecodeError
	if !errors.As(err, &de) || errors.Is(err, session.ErrAborted) {
		t.Fatalf("SELECT B answered %q: %v; want a *codec.DecodeError, no abort", "A2 ", err)
	}
	if st != bst || mbox != bmbox || st != session.StateAuth || mbox != "" {
		t.Fatalf("after SELECT B answered %q the session is in %v with %q selected; after the same SELECT answered BAD, %v with %q: want AUTH with none", "A2 ", st, mbox, bst, bmbox)
	}
}

// TestStrayDoneOtherAnswer: as TestStrayDoneAnswer (the server ends IDLE as
// the client sends DONE, and answers the DONE as a command whose tag is
// "DONE"), with an answer neither OK, NO nor BAD ("DONE BYE ...", a
// tagged BYE, or another name): route's *codec.Unknown case did not ask
// strayDone, and aborted the session ("tagged response for an unknown tag
// \"DONE\""), where the same race answered BAD is dropped. Such answers go
// through the same checks as an OK's now (taggedFor), and are dropped. A
// DONE answered with a line that cannot be decoded ("DONE ") is dropped
// too: it was blamed on whatever command was in flight. Found by review.
// Library defaults (TagPrefix only, for the fake's script).
func TestStrayDoneOtherAnswer(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{{"Bye", "BYE Error in IMAP command received by server."}, {"Unknown", "XYZZY what"}, {"Undecodable", ""}} {
		answer := tc.answer
		t.Run(tc.name, func(t *testing.T) {
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
				readLine(r)
				io.WriteString(w, "+ idling\r\n")
				if readLine(r) != "DONE" {
					return
				}
				// As if the IDLE had ended before the DONE was read;
				// the DONE's answer comes with the NOOP in flight,
				// which the undecodable one was blamed on.
				io.WriteString(w, "A1 OK IDLE terminated\r\n")
				tag, _, _ := strings.Cut(readLine(r), " ")
				io.WriteString(w, "DONE "+answer+"\r\n"+tag+" OK done\r\n")
				answerOK(r, w)
			})
			s := openDefaults(t, conn, nil)
			ctx := hangCtx(t)
			p := startIdle(t, ctx, s)
			if err := p.Continue(ctx, []byte("DONE")); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
				t.Fatalf("NOOP after the stray %q: %v", "DONE "+answer, err)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// nextTag is the tag a session sends after tag (the number after its
// prefix, plus one).
func nextTag(t *testing.T, tag string) string {
	t.Helper()
	i := len(tag)
	for i > 0 && tag[i-1] >= '0' && tag[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(tag[i:])
	if err != nil {
		t.Fatalf("tag %q ends with no number", tag)
	}
	return tag[:i] + strconv.Itoa(n+1)
}

// TestTaggedAnswerReceivedBeforeSent: a tagged answer that was already in
// the read buffer when its command went out (the server "answered" a tag
// it had not read: an injection) aborts the session with a
// *ProtocolError, whatever its kind. complete refused an OK so, but route's
// *codec.Unknown case ("A2 XYZZY early") only checked that the command
// was sent by the time the line was read, and ended it alone; a tagged
// line that could not be decoded ("A2 ") was not checked at all (blame).
// Both go through complete's checks now (taggedFor). The server sends
// the answer for the NOOP it has not read behind a UID FETCH body (a
// FETCH by number would hold the NOOP back), whose
// Sections handler holds the reader until the NOOP is written. Found by
// review. Library defaults (nil Options).
func TestTaggedAnswerReceivedBeforeSent(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{{"OK", "OK early"}, {"Unknown", "XYZZY early"}, {"Undecodable", ""}} {
		answer := tc.answer
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
				c.PreAuth("IMAP4rev1")
				fetch, err := c.Expect("UID FETCH")
				if err != nil {
					return err
				}
				// One write: the answer is delivered with the body.
				if err := c.Line("* 1 FETCH (UID 7 BODY[] {3}\r\nabc)\r\n" + nextTag(t, fetch.Tag) + " " + answer); err != nil {
					return err
				}
				if _, err := c.Expect("NOOP"); err != nil {
					return err
				}
				close(release)
				if err := c.Reply(fetch.Tag, "OK done"); err != nil {
					return err
				}
				return c.Serve()
			})
			inHandler := make(chan struct{})
			fp, err := s.Start(ctx, &session.Command{Name: "UID FETCH", AnyState: true,
				Args: func(e *wire.Encoder) { e.SP().Raw("7").SP().Raw("(BODY[])") },
				Sections: func(_ *codec.Fetch, _ *codec.Section, r io.Reader) error {
					close(inHandler)
					select {
					case <-release:
					case <-ctx.Done():
					}
					_, err := io.Copy(io.Discard, r)
					return err
				}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-inHandler:
			case <-ctx.Done():
				t.Fatal("the UID FETCH body never reached its handler")
			}
			_, err = s.Run(ctx, &session.Command{Name: "NOOP"})
			var pe *session.ProtocolError
			if !errors.Is(err, session.ErrAborted) || !errors.As(err, &pe) || !strings.Contains(pe.Reason, "received before the command was sent") {
				t.Fatalf("NOOP answered %q before it was sent: %v; want an abort with a *session.ProtocolError (received before the command was sent)", answer, err)
			}
			if _, err := fp.Wait(ctx); !errors.Is(err, session.ErrAborted) {
				t.Fatalf("UID FETCH after the abort: %v; want ErrAborted", err)
			}
		})
	}
}

// TestAbandonedCommandUnknownStatus: a command whose caller gave up (Wait's
// context ended) keeps its tag until its answer comes, and an answer
// neither OK, NO nor BAD ends it as an OK would: the session goes on, no
// abort. (Checked when the unknown-status path was made to go through
// complete's checks: strayDone is for a DONE answered as a command, not
// for abandoned commands, whose answers were never at risk.) Library
// defaults (nil Options).
func TestAbandonedCommandUnknownStatus(t *testing.T) {
	abandoned := make(chan struct{})
	ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Expect("NOOP")
		if err != nil {
			return err
		}
		<-abandoned
		if err := c.Reply(cmd.Tag, "XYZZY later"); err != nil {
			return err
		}
		return c.Serve()
	})
	p, err := s.Start(ctx, &session.Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := p.Wait(gone); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with an ended context: %v; want context.Canceled", err)
	}
	close(abandoned)
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after the abandoned NOOP's XYZZY: %v; want the session to go on", err)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}
