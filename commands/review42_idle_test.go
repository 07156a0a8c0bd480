package commands_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// review42IdleEvents runs Idle (Restart restart) on a scripted server that
// announces a message at the first IDLE (* 4 EXISTS) and, at the DONE
// that ends it, sends doneLines in one write; onEvent says stop when stop
// says so. It returns what onEvent got, as text.
func review42IdleEvents(t *testing.T, restart time.Duration, doneLines func(tag string) []string, stop func(r codec.Response) bool) []string {
	t.Helper()
	idles := 0
	on := handlers{"IDLE": func(c *hostile.Conn, cmd *hostile.Command) error {
		idles++
		c.Continue("idling")
		if idles == 1 {
			c.Line("* 4 EXISTS")
		}
		if _, err := c.ReadLine(); err != nil { // DONE
			return err
		}
		if idles == 1 {
			return c.WriteString(strings.Join(doneLines(cmd.Tag), "\r\n") + "\r\n")
		}
		return c.Line(cmd.Tag + " OK IDLE terminated")
	}}
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 IDLE", exists: 3, on: on})
	var mu sync.Mutex
	var got []string
	ictx, icancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer icancel()
	err := c.Idle(ictx, &commands.IdleOptions{Restart: restart}, func(r codec.Response) bool {
		mu.Lock()
		defer mu.Unlock()
		if e, ok := r.(*codec.Exists); ok {
			got = append(got, "EXISTS "+itoa(e.Count))
		}
		return !stop(r)
	})
	if err != nil && ictx.Err() == nil {
		t.Fatalf("Idle: %v", err)
	}
	// The session is still usable.
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after Idle: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

func itoa(n uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// TestReview42F1AIdleRestartGapGuard: Idle re-issues IDLE (opts.Restart);
// an EXISTS the server sends with its answer to the DONE, right after the
// tagged OK, comes when no command is in flight, before the next IDLE
// went out, and must reach onEvent, in order. A guard: it passed before
// too (no one else reads on between Idle's two IDLEs, and the next one is
// in flight before the reader goes past the tagged OK); the gap Idle now
// catches (session.Catch) showed with another goroutine's command
// (TestReview42F1AIdleOtherCommandGap).
func TestReview42F1AIdleRestartGapGuard(t *testing.T) {
	got := review42IdleEvents(t, 200*time.Millisecond, func(tag string) []string {
		return []string{"* 5 EXISTS", tag + " OK IDLE terminated", "* 6 EXISTS"}
	}, func(codec.Response) bool { return false })
	if want := "EXISTS 4,EXISTS 5,EXISTS 6"; strings.Join(got, ",") != want {
		t.Fatalf("onEvent got %q, want %s", got, want)
	}
}

// TestReview42F1AIdleOtherCommandGap: a command another goroutine runs
// while Idle watches ends the IDLE, goes, and Idle idles again after it
// (Idle's doc). An EXISTS the server sends right after that command's
// tagged answer comes when no command is in flight: it went to the
// session's unsolicited stream, never to onEvent (Idle's doc said so:
// "Untagged responses that come between two IDLEs go to the session"),
// and a caller that watches with Idle alone missed the new mail.
func TestReview42F1AIdleOtherCommandGap(t *testing.T) {
	for i := 0; i < 5; i++ {
		ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 IDLE", exists: 3, on: handlers{
			"IDLE": idleAnswer("* 3 RECENT"),
			"CHECK": func(c *hostile.Conn, cmd *hostile.Command) error {
				return c.WriteString(cmd.Tag + " OK done\r\n* 4 EXISTS\r\n")
			},
		}})
		got := make(chan uint32, 10)
		ictx, icancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- c.Idle(ictx, nil, func(r codec.Response) bool {
				switch r := r.(type) {
				case *codec.Recent:
					got <- 0
				case *codec.Exists:
					got <- r.Count
				}
				return true
			})
		}()
		<-got // the first IDLE is under way
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		var n uint32
		for n == 0 {
			select {
			case n = <-got:
			case <-time.After(2 * time.Second):
				n = 1
			}
		}
		icancel()
		<-done
		if n != 4 {
			t.Fatalf("run %d: onEvent never got the EXISTS sent right after the other goroutine's CHECK", i)
		}
	}
}
