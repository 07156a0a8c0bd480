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
	_, err := s.Run(ctx20(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
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
