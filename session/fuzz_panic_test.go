package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// fzPanicked returns the first of errs that reports a panic the session
// turned into an error: ErrDecoderPanic (the decoder's own code panicked
// on the server's bytes: a bug of wire, codec or session) or ErrPanicked
// (a panic in code the session ran for a command; the fuzz harnesses'
// own callbacks never panic, so on their execs it is the module's). The
// session survives either as an ordinary abort, and every error of the
// exec also matches ErrAborted: without this check a fuzz target passes
// on an input that makes the decoder panic.
func fzPanicked(errs ...error) error {
	for _, err := range errs {
		if errors.Is(err, session.ErrDecoderPanic) || errors.Is(err, session.ErrPanicked) {
			return err
		}
	}
	return nil
}

// fzCheckPanics fails the exec when one of errs (a command's error, the
// session's Err) reports a panic (fzPanicked). Every session fuzz
// harness calls it on all the errors it collects.
func fzCheckPanics(t testing.TB, errs ...error) {
	t.Helper()
	if err := fzPanicked(errs...); err != nil {
		t.Errorf("the session turned a panic on the input into an error (a bug: the decoder must not panic): %v", err)
	}
}

// fzRecorder is a testing.TB that records Errorf's messages instead of
// failing, for the test of a harness's check.
type fzRecorder struct {
	testing.TB
	msgs []string
}

func (r *fzRecorder) Helper() {}

func (r *fzRecorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// TestFuzzCheckPanics: the fuzz harnesses' panic check fails an exec on a
// session whose decoder panicked (a planted panic, as a bug of codec's
// would: the NOOP's error and the session's Err match ErrDecoderPanic and
// ErrAborted), and passes the ordinary ends of an exec (a hang-up, an
// abort, a protocol error). Before it, every session and commands fuzz
// target passed with a panic planted in codec's Decoder.Next on every
// FETCH.
func TestFuzzCheckPanics(t *testing.T) {
	ctx, s := session.PlantedDecoderPanicSession(t)
	_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
	if !errors.Is(err, session.ErrDecoderPanic) {
		t.Fatalf("NOOP: %v; want the planted panic's ErrDecoderPanic", err)
	}
	for _, errs := range [][]error{{nil, err}, {s.Err()}} {
		r := &fzRecorder{TB: t}
		fzCheckPanics(r, errs...)
		if len(r.msgs) != 1 {
			t.Errorf("fzCheckPanics(%v) reported %q; want the exec failed", errs, r.msgs)
		}
	}
	r := &fzRecorder{TB: t}
	fzCheckPanics(r, nil, io.EOF, session.ErrAborted, session.ErrProtocol, fmt.Errorf("%w: %w", session.ErrAborted, io.ErrUnexpectedEOF))
	if len(r.msgs) != 0 {
		t.Errorf("ordinary ends of an exec failed it: %q", r.msgs)
	}
	r = &fzRecorder{TB: t}
	fzCheckPanics(r, fmt.Errorf("%w while sending NOOP: boom", session.ErrPanicked))
	if len(r.msgs) != 1 {
		t.Errorf("an error matching ErrPanicked did not fail the exec: %q", r.msgs)
	}
}

// TestFuzzBubbleLeakHiddenFromCountFails: fzCheckBubbleGoroutines's quick
// path counts the process's goroutines, so goroutines outside the bubble
// that end during an exec can hide one of the exec's left behind (here
// played by a count at the start one too high). The exec still fails:
// synctest.Test panics at the bubble's end on a goroutine left blocked,
// and the panic goes on from fzBubbled (in a fuzz run, the worker's
// crash, with the input). In a child process: the goroutine stays
// blocked for ever. Found by review.
func TestFuzzBubbleLeakHiddenFromCountFails(t *testing.T) {
	if os.Getenv("IMAPKIT_BUBBLE_LEAK_CHILD") == "1" {
		fzBubbled(t, func(t *testing.T) {
			n0 := runtime.NumGoroutine()
			left := make(chan struct{})
			go func() { <-left }() // left behind
			fzCheckBubbleGoroutines(t, n0+1)
		})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFuzzBubbleLeakHiddenFromCountFails$", "-test.count=1")
	cmd.Env = append(os.Environ(), "IMAPKIT_BUBBLE_LEAK_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "blocked goroutines remain") {
		t.Fatalf("a goroutine left in the bubble, hidden from the quick count: the child %v; want synctest.Test's deadlock panic:\n%s", err, out)
	}
}
