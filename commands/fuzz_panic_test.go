package commands_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// fcCheckPanics fails the exec when one of errs (an operation's error,
// the session's Err) matches session.ErrDecoderPanic (the decoder's own
// code panicked on the server's bytes, and the session ended with an
// abort instead of the process: a bug) or session.ErrPanicked (a panic
// in code the session ran for a command; the harnesses' callbacks never
// panic, so it is the module's). FuzzClient, FuzzClientReadError,
// FuzzClientConcurrent and FuzzConnectAuthCompress call it on every error
// they collect: a recovered panic otherwise passes as an ordinary abort.
func fcCheckPanics(t testing.TB, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if errors.Is(err, session.ErrDecoderPanic) || errors.Is(err, session.ErrPanicked) {
			t.Errorf("the session turned a panic on the input into an error (a bug: the decoder must not panic): %v", err)
			return
		}
	}
}

// fcRecorder is a testing.TB that records Errorf's messages instead of
// failing, for the test of a harness's check.
type fcRecorder struct {
	testing.TB
	msgs []string
}

func (r *fcRecorder) Helper() {}

func (r *fcRecorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// TestFuzzClientCheckPanics: the commands fuzz harnesses' panic check
// fails an exec on an error matching session.ErrDecoderPanic or
// session.ErrPanicked, wrapped as the client wraps a session's error, and
// passes the ordinary ends of an exec. (session's TestFuzzCheckPanics
// runs the same check on a session whose decoder panics.)
func TestFuzzClientCheckPanics(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("commands: fetch: %w", fmt.Errorf("%w: %w", session.ErrAborted, fmt.Errorf("%w: planted", session.ErrDecoderPanic))),
		fmt.Errorf("commands: append: %w", fmt.Errorf("%w while sending APPEND: boom", session.ErrPanicked)),
	} {
		r := &fcRecorder{TB: t}
		fcCheckPanics(r, nil, io.EOF, err)
		if len(r.msgs) != 1 {
			t.Errorf("fcCheckPanics(%v) reported %q; want the exec failed", err, r.msgs)
		}
	}
	r := &fcRecorder{TB: t}
	fcCheckPanics(r, nil, io.EOF, session.ErrAborted, session.ErrProtocol, session.ErrClosed)
	if len(r.msgs) != 0 {
		t.Errorf("ordinary ends of an exec failed it: %q", r.msgs)
	}
}
