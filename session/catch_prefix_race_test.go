package session_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestCatchPrefixUnderConcurrentCommands: several goroutines run commands
// whose answers bring untagged FETCHes no command takes (numbered by a
// keyword, in the server's order), while one goroutine takes what a
// Catch holds, by Take and by TakeMarked after a command started with
// Command.Catch. Whatever the interleaving, each window a Take or
// TakeMarked returns is a run of consecutive responses followed by the
// Dropped it reports: the next window starts right after them (no
// silent hole, no response twice), and the Catch collects again after
// the report (it never drops for ever). MaxResultBytes is the subject.
func TestCatchPrefixUnderConcurrentCommands(t *testing.T) {
	var n atomic.Int64
	s := scriptedOpen(t, &session.Options{MaxResultBytes: 6000}, func(tag, line string) string {
		if !strings.Contains(line, "NOOP") {
			return tag + " OK done\r\n"
		}
		var b strings.Builder
		b.WriteString(tag + " OK done\r\n")
		for range 1 + n.Load()%7 {
			k := n.Add(1)
			pad := "" // every fifth one large: a smaller one after it may fit the room left
			if k%5 == 0 {
				pad = " " + strings.Repeat("x", 1500)
			}
			fmt.Fprintf(&b, "* 1 FETCH (FLAGS (k%d) X-PAD \"%s\")\r\n", k, pad)
		}
		return b.String()
	})
	ca := s.Catch()
	defer ca.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for range 150 {
				if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	next := int64(1) // the number the next response kept must carry
	kept, reported := 0, 0
	check := func(items []codec.Response, err error) {
		t.Helper()
		for _, r := range items {
			f, ok := r.(*codec.Fetch)
			if !ok || len(f.Flags) != 1 {
				continue
			}
			k, _ := strconv.ParseInt(strings.TrimPrefix(string(f.Flags[0]), "k"), 10, 64)
			if k != next {
				t.Fatalf("took response %d, want %d: a hole no error reported (or one taken twice)", k, next)
			}
			next++
			kept++
		}
		var tl *session.ResultTooLargeError
		if errors.As(err, &tl) {
			if testing.Verbose() {
				t.Logf("window: kept up to %d, then %d dropped", next-1, tl.Dropped)
			}
			next += int64(tl.Dropped)
			reported += tl.Dropped
		} else if err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			if i%3 == 0 {
				if _, err := s.Run(ctx, &session.Command{Name: "CHECK", Catch: ca}); err != nil {
					t.Fatal(err)
				}
				check(ca.TakeMarked())
			} else {
				check(ca.Take())
			}
			continue
		}
		break
	}
	// The FETCHes come after each NOOP's OK: a last command makes the
	// reader go past them.
	if _, err := s.Run(ctx, &session.Command{Name: "CHECK"}); err != nil {
		t.Fatal(err)
	}
	check(ca.Take())
	if got := next - 1; got != n.Load() {
		t.Errorf("accounted for %d responses (%d kept, %d reported dropped); the server sent %d", got, kept, reported, n.Load())
	}
	// The Catch collects again after the last report.
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "CHECK"}); err != nil {
		t.Fatal(err)
	}
	items, err := ca.Take()
	if err != nil || len(items) == 0 {
		t.Errorf("after the last report: %d responses, error %v; want the last NOOP's and no error", len(items), err)
	}
	t.Logf("kept %d, reported dropped %d of %d", kept, reported, n.Load())
}
