package commands_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// review46JPanicBody blocks in its Read until released, then panics.
type review46JPanicBody struct {
	in      chan struct{} // closed when the Read has begun
	release chan struct{}
}

func (b *review46JPanicBody) Read(p []byte) (int, error) {
	close(b.in)
	<-b.release
	panic("review46J: the body's Read panicked")
}

// TestReview46JPanicAfterGraceNotLost (found by review): a caller's body
// Read that panics after the writer stopped waiting for it (the context
// ended, the grace passed, Append returned) was recovered on the session's
// pump goroutine and dropped: a bug in the caller's reader went unseen. It
// is raised on that goroutine now, as net/http does: the process crashes
// with it. Run in a child process (the crash is the outcome); the child
// cancels only once the Read is known to be blocked. The defaults.
func TestReview46JPanicAfterGraceNotLost(t *testing.T) {
	if os.Getenv("REVIEW46J_PANIC_CHILD") == "1" {
		review46JPanicChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReview46JPanicAfterGraceNotLost$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REVIEW46J_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "panic: review46J: the body's Read panicked") {
		t.Fatalf("the child did not crash with the Read's panic (%v):\n%s", err, out)
	}
}

func review46JPanicChild(t *testing.T) {
	cl := review46DClient(t, "IMAP4rev1 LITERAL+", review46JOKServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := &review46JPanicBody{in: make(chan struct{}), release: make(chan struct{})}
	go func() {
		<-b.in
		cancel()
	}()
	_, err := cl.Append(ctx, "INBOX", b, 100, nil)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrWriteCut) {
		t.Fatalf("Append: %v", err)
	}
	close(b.release)
	time.Sleep(5 * time.Second) // the crash comes well before
}

// review46JFailingBody gives 10 bytes, then fails.
type review46JFailingBody struct{ n int }

func (b *review46JFailingBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, errors.New("review46J: the source failed")
}

// TestReview46JWriteCutWithoutContext: an APPEND cut off in its literal
// for a reason other than its context (the message's Read failed; the
// context cannot end, so the body is read on the writer's goroutine)
// fails with an error matching session.ErrWriteCut and ErrAborted, the
// sign that nothing was appended, which the CLI's appender now reads
// instead of a flag its reader set. The defaults.
func TestReview46JWriteCutWithoutContext(t *testing.T) {
	for _, ctxCanEnd := range []bool{false, true} {
		cl := review46DClient(t, "IMAP4rev1 LITERAL+", review46JOKServer)
		ctx := context.Background()
		if ctxCanEnd {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
		}
		_, err := cl.Append(ctx, "INBOX", &review46JFailingBody{}, 100, nil)
		if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) || errors.Is(err, context.Canceled) {
			t.Fatalf("ctx can end %v: Append: %v", ctxCanEnd, err)
		}
	}
}
