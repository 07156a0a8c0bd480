package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestReview43ACatchTakeMarkedSplitsAtStart (CI of stop 42, 1 run of 10 of
// TestReview42SBIdlePollTakesLaterFirst): commands.Client.Idle's polling
// took its Catch with Take right after Start returned, meaning "what came
// before the NOOP"; a quick server's answer, and the FETCH it sent right
// after it, could be read by then, and that later FETCH went to onEvent
// before the NOOP's own data. Command.Catch marks the Catch as the
// command goes in flight, under the lock that routes responses:
// TakeMarked returns what came before, whatever was read since, and
// leaves what came after the answer for the next Take.
func TestReview43ACatchTakeMarkedSplitsAtStart(t *testing.T) {
	var checks atomic.Int32
	s := r42Open(t, nil, func(tag, line string) string {
		switch {
		case strings.Contains(line, "NOOP"):
			return "* 3 FETCH (FLAGS (\\Seen))\r\n" + tag + " OK done\r\n* 3 FETCH (FLAGS ())\r\n"
		case strings.Contains(line, "CHECK") && checks.Add(1) == 1:
			return tag + " OK done\r\n* 2 FETCH (FLAGS (\\Flagged))\r\n"
		}
		return tag + " OK done\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca := s.Catch()
	defer ca.Stop()
	// Two CHECKs: by the second one's answer, the FETCH sent after the
	// first one's is read (and caught: no command in flight).
	for range 2 {
		if _, err := s.Run(ctx, &session.Command{Name: "CHECK"}); err != nil {
			t.Fatal(err)
		}
	}
	all := func(codec.Response) bool { return true }
	p, err := s.Start(ctx, &session.Command{Name: "NOOP", Want: all, Catch: ca})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The FETCH after the NOOP's answer is read by the CHECK's answer:
	// the state a caller slower than the server meets.
	if _, err := s.Run(ctx, &session.Command{Name: "CHECK"}); err != nil {
		t.Fatal(err)
	}
	flags := func(rs []codec.Response) string {
		var b strings.Builder
		for _, x := range rs {
			if f, ok := x.(*codec.Fetch); ok {
				fmt.Fprintf(&b, "%d%v ", f.Seq, f.Flags)
			}
		}
		return b.String()
	}
	before, err := ca.TakeMarked()
	if err != nil {
		t.Fatal(err)
	}
	if got := flags(before); got != "2[\\Flagged] " {
		t.Errorf("TakeMarked: %q; want only what came before the NOOP went in flight, 2[\\Flagged]", got)
	}
	if got := flags(r.Data); got != "3[\\Seen] " {
		t.Errorf("the NOOP's data: %q; want 3[\\Seen]", got)
	}
	after, err := ca.Take()
	if err != nil {
		t.Fatal(err)
	}
	if got := flags(after); got != "3[] " {
		t.Errorf("Take after TakeMarked: %q; want what came after the NOOP's answer, 3[]", got)
	}
	if again, _ := ca.TakeMarked(); len(again) != 0 {
		t.Errorf("a second TakeMarked returned %d responses; want none (no command marked since)", len(again))
	}
}

// TestReview43BCatchTakeMarkedDropped: what the bound dropped before the
// mark is TakeMarked's error; what it dropped after is the next Take's.
func TestReview43BCatchTakeMarkedDropped(t *testing.T) {
	var noops atomic.Int32
	s := r42Open(t, &session.Options{MaxResultBytes: 2000}, func(tag, line string) string {
		if strings.Contains(line, "NOOP") {
			if noops.Add(1) == 1 {
				return tag + " OK done\r\n" + strings.Repeat("* 1 FETCH (FLAGS (\\Seen))\r\n", 20)
			}
			return tag + " OK done\r\n" + strings.Repeat("* 2 FETCH (FLAGS (\\Seen))\r\n", 20)
		}
		return tag + " OK done\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca := s.Catch()
	defer ca.Stop()
	run := func(cmd *session.Command) {
		t.Helper()
		if _, err := s.Run(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	run(&session.Command{Name: "NOOP"})
	run(&session.Command{Name: "CHECK"}) // the 20 FETCHes are read: some dropped
	run(&session.Command{Name: "CHECK", Catch: ca})
	_, err := ca.TakeMarked()
	if err == nil {
		t.Fatal("TakeMarked: no error; want the *ResultTooLargeError of what was dropped before the mark")
	}
	// TakeMarked gave back the room of what it returned: the second
	// NOOP's FETCHes are held up to the bound again, and past it dropped,
	// reported by Take.
	run(&session.Command{Name: "NOOP"})
	run(&session.Command{Name: "CHECK"})
	items, err := ca.Take()
	if err == nil || len(items) == 0 {
		t.Fatalf("Take: %d responses, error %v; want some of the second 20 and an error for the rest", len(items), err)
	}
	for _, x := range items {
		if f, ok := x.(*codec.Fetch); !ok || f.Seq != 2 {
			t.Fatalf("Take returned %v; want only the FETCHes of 2 sent after the mark", x)
		}
	}
}
