package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestOpenErrorHidesOtherSessionTypes (found by review): OpenError's doc
// (and docs/errors.md) says the not-sent command's error never matches
// this package's sentinel errors and error types of the Open's chain
// (another session's), so that it does not look timed out, aborted or
// refused. Its Is refused only the sentinels' identities and its As only
// targets whose type is declared in package session: another session's
// *TimeoutError still answered errors.Is(err, os.ErrDeadlineExceeded)
// (through its own Is), and its *TimeoutError / *StatusError were still
// found through an interface target (net.Error-style interface{
// Timeout() bool }, interface{ Code() *codec.Code }), so a caller asking
// "is this a timeout?" the usual Go way was told this not-sent command on
// a live session timed out. Defaults.
func TestOpenErrorHidesOtherSessionTypes(t *testing.T) {
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
		br := bufio.NewReader(server)
		for {
			l := readLine(br)
			if l == "" {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(server, tag+" OK done\r\n")
		}
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-done })
	s := openDefaults(t, client, nil)
	// What another session's stall timeout and refusal look like.
	other := fmt.Errorf("reading the source: %w; %w",
		&session.TimeoutError{What: session.TimeoutStall, After: time.Minute},
		&session.StatusError{Command: "UID FETCH", Status: &codec.Status{Kind: codec.StatusNO, Code: &codec.Code{Name: codec.Bytes("SERVERBUG")}, Text: codec.Bytes("x")}})
	_, err := s.Run(hangCtx(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.Atom("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) { return nil, 0, other }, false)
	}})
	if !errors.Is(err, session.ErrNotSent) {
		t.Fatalf("APPEND: %v; want not sent", err)
	}
	if errors.Is(err, session.ErrTimeout) {
		t.Fatalf("ErrTimeout leaks: %v", err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the not-sent command's error matches os.ErrDeadlineExceeded, through another session's *TimeoutError.Is: %v", err)
	}
	var to interface{ Timeout() bool }
	if errors.As(err, &to) && to.Timeout() {
		t.Errorf("the not-sent command's error holds a Timeout() error (another session's %T)", to)
	}
	var coded interface{ Code() *codec.Code }
	if errors.As(err, &coded) {
		t.Errorf("the not-sent command's error holds a Code() error (another session's %T, code %s)", coded, coded.Code().Name)
	}
	var oe *session.OpenError
	if !errors.As(err, &oe) || oe.Err != other {
		t.Errorf("the Open's error is not given whole through *OpenError: %v", err)
	}
}

// ownTimeout is a caller's own error with a Timeout method and an As
// that gives itself as a *ownTimeout.
type ownTimeout struct{ msg string }

func (e *ownTimeout) Error() string { return e.msg }
func (e *ownTimeout) Timeout() bool { return true }

// TestOpenErrorChainWalk: an *OpenError looks at Err's chain as errors.Is
// and errors.As do (Unwrap() error, Unwrap() []error, an error's own Is),
// but passes over every error of it whose type this package declares,
// sentinels included, walking only into what such an error wraps: the
// caller's errors and a context's error behind another session's
// *NotSentError or *TimeoutError are found; that session's sentinels,
// types and what they answer for are not.
func TestOpenErrorChainWalk(t *testing.T) {
	own := &ownTimeout{"the caller's own"}
	chain := errors.Join(
		fmt.Errorf("source: %w", &session.AbortError{Err: fmt.Errorf("cut: %w", session.ErrWriteCut)}),
		&session.NotSentError{Err: context.Canceled},
		&session.TimeoutError{What: session.TimeoutCommand, After: time.Second, Err: fmt.Errorf("%w", own)},
		session.ErrNo, session.ErrNotSent,
		&session.ResultTooLargeError{},
	)
	oe := &session.OpenError{Err: chain}
	for _, target := range []error{
		session.ErrAborted, session.ErrWriteCut, session.ErrNo, session.ErrNotSent,
		session.ErrTimeout, session.ErrResultTooLarge, os.ErrDeadlineExceeded,
	} {
		if errors.Is(oe, target) {
			t.Errorf("matches %v", target)
		}
	}
	for _, target := range []error{context.Canceled, own, chain} {
		if !errors.Is(oe, target) {
			t.Errorf("does not match %v", target)
		}
	}
	var ae *session.AbortError
	var ne *session.NotSentError
	var te *session.TimeoutError
	for _, target := range []any{&ae, &ne, &te} {
		if errors.As(oe, target) {
			t.Errorf("gives a %T", target)
		}
	}
	var to interface{ Timeout() bool }
	if !errors.As(oe, &to) || any(to) != any(own) {
		t.Errorf("the first Timeout() error is %v, want the caller's own (behind another session's *TimeoutError)", to)
	}
	var ot *ownTimeout
	if !errors.As(oe, &ot) || ot != own {
		t.Errorf("the caller's *ownTimeout not found: %v", ot)
	}
}

// callerOpenErr is a caller's own error.
type callerOpenErr struct{ msg string }

func (e *callerOpenErr) Error() string { return e.msg }

// TestOpenErrorKeepsOtherSessionOut: the first Part.Open of a
// command (AppendMany's first message) fails with an error that wraps
// another session's cut command (a copy tool reading its message from a
// second session: ErrWriteCut, ErrAborted, that session's *StatusError)
// and the caller's own error. The command is not sent (ErrNotSent) and
// the session goes on; the error must not match ErrWriteCut (which says
// "this command was cut off, this session aborted": a caller would take
// "maybe sent, reconnect"), ErrAborted nor a *StatusError, but still
// matches the caller's own error, a context's error the Open wrapped,
// and gives the Open's error whole through *OpenError. With a context
// that can end (the Open runs on a goroutine of its own) and without.
// The NotSentError wrapped the Open's whole chain. Defaults.
func TestOpenErrorKeepsOtherSessionOut(t *testing.T) {
	for _, cancelable := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancelable=%v", cancelable), func(t *testing.T) {
			client, server := transport.Pipe()
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer server.Close()
				io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
				br := bufio.NewReader(server)
				for {
					l := readLine(br)
					if l == "" {
						return
					}
					tag, _, _ := strings.Cut(l, " ")
					io.WriteString(server, tag+" OK done\r\n")
				}
			}()
			t.Cleanup(func() { client.Close(); server.Close(); <-done })
			s := openDefaults(t, client, nil)
			ctx := context.WithoutCancel(context.Background())
			if cancelable {
				c, cancel := context.WithCancel(context.Background())
				defer cancel()
				ctx = c
			}
			// What another session's cut APPEND looks like to the
			// copy tool: its error chain, with a refusal and a
			// cancellation further in.
			other := fmt.Errorf("reading the source: %w (then %w, after %w)", session.ErrWriteCut,
				&session.StatusError{Command: "FETCH", Status: &codec.Status{Kind: codec.StatusNO, Text: codec.Bytes("gone")}}, context.Canceled)
			own := &callerOpenErr{"message 1 vanished"}
			openErr := fmt.Errorf("%w: %w", own, fmt.Errorf("%w; %w", other, session.ErrAborted))
			_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
				e.Atom("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) {
					return nil, 0, openErr
				}, false)
			}})
			if !errors.Is(err, session.ErrNotSent) {
				t.Fatalf("APPEND: %v; want not sent", err)
			}
			for _, e := range []error{session.ErrWriteCut, session.ErrAborted, session.ErrNo} {
				if errors.Is(err, e) {
					t.Errorf("the not-sent command's error matches %v (from the Open's chain): %v", e, err)
				}
			}
			var se *session.StatusError
			if errors.As(err, &se) {
				t.Errorf("the not-sent command's error holds a *StatusError (the Open's): %v", se)
			}
			var ab *session.AbortError
			if errors.As(err, &ab) {
				t.Errorf("the not-sent command's error holds an *AbortError: %v", ab)
			}
			var mine *callerOpenErr
			if !errors.As(err, &mine) || mine != own || !errors.Is(err, own) || !errors.Is(err, context.Canceled) {
				t.Errorf("the caller's own error or the context's is lost: %v", err)
			}
			var oe *session.OpenError
			if !errors.As(err, &oe) || oe.Err != openErr || !errors.Is(oe.Err, session.ErrWriteCut) {
				t.Errorf("the Open's error is not there whole: %v", err)
			}
			if !strings.Contains(err.Error(), openErr.Error()) {
				t.Errorf("the error's text lost the Open's: %v", err)
			}
			if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
				t.Fatalf("NOOP after the command not sent: %v", err)
			}
		})
	}
}
