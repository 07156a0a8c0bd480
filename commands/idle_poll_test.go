package commands_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestIdlePoll replays Idle against a server without IDLE: NOOP at the
// poll interval, the same events as IDLE in order, the end by onEvent, by
// the context and by a refused NOOP, and NoPoll's refusal.
//
// In a testing/synctest bubble: the client waits for timers (the poll
// interval, a 250 ms context, the script's QUIET 300ms), which on the wall
// clock a loaded machine could stretch past the QUIET's deadline before
// the player saw it pass (transcript's doc: such scripts belong in a
// bubble); the 500 ms after A5's OK are on the bubble's clock.
func TestIdlePoll(t *testing.T) { synctest.Test(t, testIdlePoll) }

func testIdlePoll(t *testing.T) {
	answered := &lineClock{prefix: "S: A5 OK"}
	c, ctx := scriptedOpts(t, "idle/poll", &session.Options{Trace: answered})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var events []string
	err := c.Idle(ctx, &commands.IdleOptions{PollInterval: 20 * time.Millisecond}, func(r codec.Response) bool {
		events = append(events, codec.ResponseName(r))
		return codec.ResponseName(r) != "OK"
	})
	if err != nil || !slices.Equal(events, []string{"EXISTS", "FETCH", "EXPUNGE", "OK"}) {
		t.Fatalf("polled IDLE: %v %v", err, events)
	}
	short, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
	defer cancel()
	err = c.Idle(short, &commands.IdleOptions{PollInterval: time.Hour}, func(codec.Response) bool {
		t.Error("an event from an empty NOOP")
		return true
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("polled IDLE until the deadline: %v", err)
	}
	// Past the script's QUIET 300ms, which starts when the server has
	// written A5's OK, so before the client read it: a fixed 100 ms after
	// the context's end assumed that OK came within the first 50 ms. Wait
	// until 300 ms after the client read it, and a margin, on the
	// bubble's clock; sleepPast then lets the player see its read
	// deadline pass (synctest.Wait) before A6 goes out.
	answered.sleepPast(t, 300*time.Millisecond+200*time.Millisecond)
	err = c.Idle(ctx, &commands.IdleOptions{PollInterval: time.Hour}, func(codec.Response) bool { return true })
	if !errors.Is(err, session.ErrBad) {
		t.Fatalf("polled IDLE, NOOP refused: %v", err)
	}
	if err := c.Idle(ctx, &commands.IdleOptions{NoPoll: true}, func(codec.Response) bool { return true }); !errors.Is(err, commands.ErrUnsupported) {
		t.Fatalf("NoPoll: %v", err)
	}
}

// lineClock is a session trace that records when the first line starting
// with prefix was received, and closes seen then.
type lineClock struct {
	prefix string
	mu     sync.Mutex
	at     time.Time
	seen   chan struct{} // closed at the line; made on first use
}

// seenLocked returns seen, made on first use (under mu).
func (l *lineClock) seenLocked() chan struct{} {
	if l.seen == nil {
		l.seen = make(chan struct{})
	}
	return l.seen
}

func (l *lineClock) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at.IsZero() && strings.HasPrefix(string(b), l.prefix) {
		l.at = time.Now()
		close(l.seenLocked())
	}
	return len(b), nil
}

// sleepPast waits for the line (it may come after the command's context
// ended; a minute of the bubble's clock bounds a hang), then until d
// after it came, then (synctest.Wait) until every other goroutine of the
// bubble, the script's player among them, has done what that instant let
// it do. It runs in a synctest bubble: the line is an event, d passes on
// the bubble's clock.
func (l *lineClock) sleepPast(t *testing.T, d time.Duration) {
	t.Helper()
	l.mu.Lock()
	seen := l.seenLocked()
	l.mu.Unlock()
	select {
	case <-seen:
	case <-time.After(time.Minute):
		t.Fatalf("no %q line in the trace after a minute", l.prefix)
	}
	l.mu.Lock()
	at := l.at
	l.mu.Unlock()
	time.Sleep(time.Until(at.Add(d)))
	synctest.Wait()
}
