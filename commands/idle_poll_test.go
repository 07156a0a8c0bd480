package commands_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestIdlePoll replays Idle against a server without IDLE: NOOP at the
// poll interval, the same events as IDLE in order, the end by onEvent, by
// the context and by a refused NOOP, and NoPoll's refusal.
func TestIdlePoll(t *testing.T) {
	c, ctx := scripted(t, "idle/poll")
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
	time.Sleep(100 * time.Millisecond) // past the script's QUIET
	err = c.Idle(ctx, &commands.IdleOptions{PollInterval: time.Hour}, func(codec.Response) bool { return true })
	if !errors.Is(err, session.ErrBad) {
		t.Fatalf("polled IDLE, NOOP refused: %v", err)
	}
	if err := c.Idle(ctx, &commands.IdleOptions{NoPoll: true}, func(codec.Response) bool { return true }); !errors.Is(err, commands.ErrUnsupported) {
		t.Fatalf("NoPoll: %v", err)
	}
}
