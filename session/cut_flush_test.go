package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestCutFlushEarlierCommandsWriteCut: a write cut by its context aborts
// the session. send gave the command it was writing an error matching
// ErrWriteCut (its last byte did not go out: the server did not run it),
// but an earlier command of the batch whose bytes that write, or
// StartBatch's flush before a later command waits for its turn, was
// pushing out got a plain *AbortError, though its last byte did not go
// either (found by review, stop 53). Every command written whose last
// byte the connection did not take now matches ErrWriteCut (and
// ErrAborted); one that went out whole does not. fillingBatch: an APPEND
// that goes out whole, then a NOOP of 12 KiB left in the write buffer,
// which the pipe cannot take whole: the server reads nothing. Defaults;
// a bubble.
func TestCutFlushEarlierCommandsWriteCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		last *session.Command
		own  error // what StartBatch's error matches besides the context's
	}{
		// A command that runs alone: StartBatch flushes the NOOP
		// before it waits for its turn (flush).
		{"Flush", &session.Command{Name: "XALONE"}, session.ErrNotSent},
		// A command past the write buffer: its own write pushes the
		// NOOP out first (send).
		{"Send", &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) { e.SP().Raw(strings.Repeat("m", 8<<10)) }}, session.ErrWriteCut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
				s, _ := heldSession(t)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ps, err := s.StartBatch(ctx, append(fillingBatch(), tc.last))
				if !errors.Is(s.Err(), session.ErrAborted) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, tc.own) || len(ps) != 2 {
					t.Fatalf("the case is not made: session %v, StartBatch %v with %d commands", s.Err(), err, len(ps))
				}
				if _, err := ps[0].Wait(context.Background()); !errors.Is(err, session.ErrAborted) || errors.Is(err, session.ErrWriteCut) {
					t.Errorf("APPEND, out whole: %v; want ErrAborted, not ErrWriteCut", err)
				}
				_, err = ps[1].Wait(context.Background())
				var ae *session.AbortError
				if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) || !errors.As(err, &ae) {
					t.Errorf("NOOP, its last byte not out: %v; want ErrWriteCut and an *AbortError", err)
				}
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, session.ErrNotSent) {
					t.Errorf("NOOP: %v; the context was the batch's later command's, and the NOOP went part way: want neither the context's error nor ErrNotSent", err)
				}
			})
		})
	}
}
