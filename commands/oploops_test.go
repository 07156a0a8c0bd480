package commands_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/fuzzseed"
)

// opLoops runs a concurrency test's operations, each kind in a loop of
// its own goroutine, for as long as it takes every loop to do minOps of
// them, not for a time: a loaded machine (CI at a load of 20) did fewer
// in a fixed second, and a test that needed some of them to have run
// failed. Its context (Ctx) ends when every loop has done minOps and
// every further condition (Until) holds, or when Stop is called.
//
// Wait waits for the loops to end. It is a hang detector, not a bound on
// the test's time: it fails, with every goroutine's stack, only when a
// loop still running has ended no operation for quiet; a slow machine
// still moves.
type opLoops struct {
	// Ctx is the loops' context; Stop ends it.
	Ctx  context.Context
	Stop context.CancelFunc
	// MinTotal, if set, is how many operations the loops together must
	// also have done before they are stopped.
	MinTotal int64
	// Until, if set, must also hold before the loops are stopped, until
	// every loop has done untilCap times minOps: then they stop anyway,
	// and the test's own check of what Until waited for fails.
	Until func() bool

	min   int64
	wg    sync.WaitGroup
	ops   atomic.Int64
	mu    sync.Mutex
	loops []*opLoop
}

// opLoop is one loop's count of operations done, what its operations
// moved (moved: messages, bytes, as its operations count them), and
// whether it ended.
type opLoop struct {
	what  string
	n     atomic.Int64
	moved atomic.Int64
	ended atomic.Bool
}

// newOpLoops returns the loops' set, their context a child of ctx. With
// minOps 0 they are never stopped for their count: only by Stop (a
// test that closes the session under them, after which they fail).
func newOpLoops(ctx context.Context, minOps int64) *opLoops {
	l := &opLoops{min: minOps}
	l.Ctx, l.Stop = context.WithCancel(ctx)
	return l
}

// Go starts a loop named what that calls op until the loops' context
// ends or op fails; a failure goes to fail, which should call Stop. Each
// operation done adds one to the loop's count and to Ops. An operation
// that may take long (a fetch of every body of a growing mailbox, under
// COMPRESS at a load of 20: over 30 s) adds to moved as it goes, so that
// Wait sees it move.
func (l *opLoops) Go(what string, op func(moved *atomic.Int64) error, fail func(what string, err error)) {
	lp := &opLoop{what: what}
	l.mu.Lock()
	l.loops = append(l.loops, lp)
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer lp.ended.Store(true)
		for l.Ctx.Err() == nil {
			if err := op(&lp.moved); err != nil {
				fail(what, err)
				return
			}
			lp.n.Add(1)
			l.ops.Add(1)
		}
	}()
}

// Ops returns the operations done so far, by every loop.
func (l *opLoops) Ops() int64 { return l.ops.Load() }

// Counts says how many operations each loop did.
func (l *opLoops) Counts() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []string
	for _, lp := range l.loops {
		s = append(s, fmt.Sprintf("%s %d", lp.what, lp.n.Load()))
	}
	return strings.Join(s, ", ")
}

// untilCap bounds the wait for opLoops.Until, in minOps of every loop.
const untilCap = 25

// enough reports whether every loop has done its minOps, the loops
// together MinTotal, and Until holds
// (or every loop has done untilCap times minOps).
func (l *opLoops) enough() bool {
	if l.min == 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	least := int64(-1)
	for _, lp := range l.loops {
		if n := lp.n.Load(); least < 0 || n < least {
			least = n
		}
	}
	if least < l.min || l.ops.Load() < l.MinTotal {
		return false
	}
	return l.Until == nil || l.Until() || least >= untilCap*l.min
}

// Wait stops the loops once they have done enough, and waits for them to
// end; it fails the test with every goroutine's stack when no loop has
// ended an operation or moved anything for quiet, or one loop not yet
// ended has not for opLoneQuiet (a hang, in an operation or in its
// ending after Stop).
func (l *opLoops) Wait(t *testing.T, quiet time.Duration) {
	t.Helper()
	ended := make(chan struct{})
	go func() { l.wg.Wait(); close(ended) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	type seen struct {
		n    int64
		when time.Time
	}
	last := map[*opLoop]seen{}
	all := seen{-1, time.Now()}
	for {
		select {
		case <-ended:
			l.Stop()
			return
		case <-tick.C:
		}
		if l.enough() {
			l.Stop()
		}
		now := time.Now()
		l.mu.Lock()
		loops := l.loops
		l.mu.Unlock()
		var sum int64
		for _, lp := range loops {
			sum += lp.n.Load() + lp.moved.Load()
		}
		if sum != all.n {
			all = seen{sum, now}
		}
		for _, lp := range loops {
			n := lp.n.Load() + lp.moved.Load()
			s, ok := last[lp]
			if !ok || n != s.n || lp.ended.Load() {
				last[lp] = seen{n, now}
				continue
			}
			// A loop may wait while others move (an EXPUNGE behind a
			// fetch of every body): alone it is hung after
			// opLoneQuiet; all of them after quiet.
			if q := now.Sub(s.when); q > opLoneQuiet || now.Sub(all.when) > quiet {
				stopped := l.Ctx.Err() != nil
				l.Stop()
				t.Fatalf("loop %q (stopped: %v) ended no operation and moved nothing for %v, the loops together for %v, after %d operations (all: %s); every goroutine:\n%s",
					lp.what, stopped, q.Round(time.Second), now.Sub(all.when).Round(time.Second), lp.n.Load(), l.Counts(), fuzzseed.Stacks())
			}
		}
	}
}

// opQuiet is how long a loop of opLoops may end no operation before Wait
// takes it for a hung one: an operation of these tests takes milliseconds
// on a quiet machine, and seconds at a load of 20.
const opQuiet = 30 * time.Second

// opLoneQuiet is how long one loop of opLoops may end no operation while
// others move: a command that runs alone (EXPUNGE, SELECT) waits for the
// fetches of every body before it, which took over 30 s under COMPRESS
// at a load of 20.
const opLoneQuiet = 4 * opQuiet
