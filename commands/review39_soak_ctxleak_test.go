package commands_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestReview39SOtherContextCanceledLeaks: two goroutines append on one Client
// (found by the soak). A's context is cancelled while its 20 MiB literal is
// blocked (the network frozen): the session is aborted, as documented. B,
// queued behind A with context.Background(), gets a *NotSentError wrapping
// A's *AbortError, which wraps context.Canceled: errors.Is(errB,
// context.Canceled) is true though B's context never ended. By
// docs/errors.md a context error is "Our own deadline"; a caller that
// treats context.Canceled as "the user gave up" (stops, does not retry)
// drops B's message that was never sent. B's error should not match a
// context error it does not own (the abort's cause could be kept as text,
// or under a type that does not unwrap to it).
func TestReview39SOtherContextCanceledLeaks(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	r.Freeze()
	big := rs39BigMsg(1, 20<<20)
	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() {
		_, err := c.Append(ctxA, mb, bytes.NewReader(big), int64(len(big)), nil)
		errA <- err
	}()
	time.Sleep(500 * time.Millisecond) // A is blocked mid-literal
	small := []byte("Subject: x\r\n\r\nx\r\n")
	errB := make(chan error, 1)
	go func() {
		_, err := c.Append(context.Background(), mb, bytes.NewReader(small), int64(len(small)), nil)
		errB <- err
	}()
	time.Sleep(500 * time.Millisecond) // B waits for its turn to write
	cancelA()
	ea, eb := <-errA, <-errB
	r.Thaw()
	t.Logf("A (cancelled mid-literal): %v", ea)
	t.Logf("B (context.Background, never written): %v", eb)
	if errors.Is(eb, context.Canceled) {
		t.Fatalf("B's error matches context.Canceled though B's context never ended (it is A's): %v", eb)
	}
	if !errors.Is(eb, session.ErrNotSent) {
		t.Fatalf("B: %v; want ErrNotSent", eb)
	}
}
