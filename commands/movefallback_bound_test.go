package commands_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/workhook"
)

// moveFallbackAnswer runs Move's fallback (UIDPLUS, no MOVE) against a
// server whose UID SEARCH claims the UIDs 1:last and whose COPYUID names
// one, counting the range comparisons of the set operations (Contains,
// Intersect, Overlaps: workhook.RangesCompared) made meanwhile. It returns
// Move's error and the count, or over true as soon as the count passes
// limit, Move left to run on (a Move that spins does not return).
func moveFallbackAnswer(t *testing.T, last uint32, deadline time.Duration, limit int64) (compared int64, over bool, err error) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS ESEARCH")
		cmd, err := c.Until("UID SEARCH")
		if err != nil {
			return err
		}
		c.Linef(`* ESEARCH (TAG "%s") UID ALL 1:%d`, cmd.Tag, last)
		c.Reply(cmd.Tag, "OK done")
		if cmd, err = c.Until("UID COPY"); err != nil {
			return err
		}
		c.Reply(cmd.Tag, fmt.Sprintf("OK [COPYUID 7 1:%d 1:%d] done", last, last))
		return c.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	passed := make(chan struct{})
	var once sync.Once
	t.Cleanup(workhook.RangesCompared.Set(t, func(_, _, k int) {
		if n.Add(int64(k)) > limit {
			once.Do(func() { close(passed) })
		}
	}))
	mctx, mcancel := context.WithTimeout(context.Background(), deadline)
	t.Cleanup(mcancel) // a Move over the limit runs on
	done := make(chan error, 1)
	go func() {
		_, err := c.Move(mctx, commands.UIDs(1), "Trash")
		done <- err
	}()
	select {
	case err = <-done:
		return n.Load(), false, err
	case <-passed:
		return n.Load(), true, nil
	case <-time.After(2 * time.Minute): // a hang detector, not a measure
		t.Fatalf("Move still running 2 minutes after it began, its deadline %v, after %d range comparisons: a spin that no set operation counts", deadline, n.Load())
		return 0, false, nil
	}
}

// TestMoveFallbackHugeAnswer: Move's fallback asks for the UIDs (UID
// SEARCH RETURN (ALL)) and, once the COPY succeeded, keeps those the
// COPYUID names (copied, commands/copy.go). It went number by number over
// every range of the server's answer (Contains for each), deaf to the
// context: a 30-byte answer "ALL 1:4294967295" spun a core for about 75 s
// whatever the caller's deadline. By ranges now (Intersect): the move
// ends at once.
//
// What is counted is the work: the range comparisons of the set
// operations during the Move (workhook.RangesCompared), at most 10,000
// for sets of a range each, whatever the UIDs they name; the test fails
// as soon as they pass it. It bounded the CPU time of Move's thread at
// 5 s (RUSAGE_THREAD and /proc's schedstat), which a loaded machine's
// collector could inflate. Serial: it sets a hook of the process.
func TestMoveFallbackHugeAnswer(t *testing.T) {
	const limit = 10000
	compared, over, err := moveFallbackAnswer(t, 4294967295, 500*time.Millisecond, limit)
	if over {
		t.Fatalf("Move made over %d range comparisons (%d) and is still running; a 30-byte answer must not cost client work in proportion to the UIDs it names", limit, compared)
	}
	t.Logf("Move: %d range comparisons, err %v", compared, err)
}
