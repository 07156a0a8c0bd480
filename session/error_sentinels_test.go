package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// The session's errors of the caller's mistakes and of a caller's panic
// are package-level sentinels: errors.Is tells them apart. They were made
// inline (errors.New, fmt.Errorf) before: nothing could match them, and
// one from another session (a Part.Open that ran a command there) went
// through a *OpenError as if it were the Open's own error, where this
// package's sentinels are kept out (they are not true of the command that
// was not sent).

// sentinelServer answers every command OK, with LITERAL+ announced.
func sentinelServer(r *bufio.Reader, w io.Writer) {
	io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
	for {
		l := readLine(r)
		if l == "" {
			return
		}
		tag, rest, _ := strings.Cut(l, " ")
		io.WriteString(w, tag+" OK "+rest+" done\r\n")
	}
}

// sentinelMatches fails unless err matches target and a *OpenError
// wrapping err does not (as for every sentinel of this package).
func sentinelMatches(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: %v; want an error matching %q", what, err, target)
	}
	if errors.Is(&session.OpenError{Err: err}, target) {
		t.Errorf("%s: a *OpenError wrapping %v matches %q: another session's error taken for the Open's own", what, err, target)
	}
}

// TestInvalidCommandSentinel: a command name that is empty or holds CR,
// LF or NUL is refused with ErrInvalidCommand, its text unchanged.
func TestInvalidCommandSentinel(t *testing.T) {
	s := openDefaults(t, fake(t, sentinelServer), nil)
	for _, name := range []string{"", "NO\r\nOP", "NO\x00OP"} {
		_, err := s.Start(hangCtx(t), &session.Command{Name: name})
		sentinelMatches(t, fmt.Sprintf("Start %q", name), err, session.ErrInvalidCommand)
		if err != nil && err.Error() != "session: invalid command name" {
			t.Errorf("Start %q: text %q", name, err)
		}
	}
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Errorf("NOOP after the refusals: %v", err)
	}
}

// TestContinueAndNextSentinels: Continue with a line holding CR, LF or
// NUL fails with ErrInvalidContinuation, Next on a command not started
// with Pull with ErrNotPull; the command goes on.
func TestContinueAndNextSentinels(t *testing.T) {
	s := openDefaults(t, fake(t, sentinelServer), nil)
	p, err := s.Start(hangCtx(t), &session.Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"a\r\nb", "a\nb", "a\x00b"} {
		sentinelMatches(t, "Continue", p.Continue(hangCtx(t), []byte(line)), session.ErrInvalidContinuation)
	}
	_, err = p.Next(hangCtx(t))
	sentinelMatches(t, "Next", err, session.ErrNotPull)
	if _, err := p.Wait(hangCtx(t)); err != nil {
		t.Errorf("NOOP: %v", err)
	}
}

// sentinelPanicReader panics on its first Read.
type sentinelPanicReader struct{}

func (sentinelPanicReader) Read([]byte) (int, error) { panic("zz: body reader panics") }

// TestSendPanicSentinel: a literal's body whose Read panics once the
// command's line went out aborts the session with an error that matches
// ErrPanicked (and ErrAborted); the panic goes on to the caller.
func TestSendPanicSentinel(t *testing.T) {
	s := openDefaults(t, fake(t, sentinelServer), nil)
	v := func() (v any) {
		defer func() { v = recover() }()
		s.Run(hangCtx(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Atom("INBOX").SP().LiteralReader(10, sentinelPanicReader{}, false)
		}})
		return nil
	}()
	if v == nil {
		t.Fatal("the body's panic did not reach the caller")
	}
	err := s.Err()
	sentinelMatches(t, "the session's end", err, session.ErrPanicked)
	if !errors.Is(err, session.ErrAborted) {
		t.Errorf("the session's end %v does not match ErrAborted", err)
	}
	if err != nil && !strings.Contains(err.Error(), "session: panic while sending APPEND: zz: body reader panics") {
		t.Errorf("text %q", err)
	}
	_, err = s.Run(context.Background(), &session.Command{Name: "NOOP"})
	if !errors.Is(err, session.ErrAborted) && !errors.Is(err, session.ErrClosed) {
		t.Errorf("NOOP after the abort: %v", err)
	}
}
