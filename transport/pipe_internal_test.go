package transport

import (
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeWaits returns how many calls are listed as waiting on p, and
// checks that every spare channel is empty (a token left in one would
// wake the next wait that takes it for nothing, or block a wake that
// sends to it while holding p.mu).
func pipeWaits(t *testing.T, p *pipeBuffer) (readers, writers, spare int) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ch := range p.spare {
		if len(ch.ch) != 0 {
			t.Errorf("a spare wake channel holds a token")
		}
	}
	return len(p.readers), len(p.writers), len(p.spare)
}

// readsExpire checks, in a synctest bubble, that n Reads wait listed on
// p, lets their deadline pass on the bubble's clock (wg, the Reads'
// goroutines, done) and checks that each sent errs a deadline error.
func readsExpire(t *testing.T, p *pipeBuffer, wg *sync.WaitGroup, errs <-chan error, n int) {
	t.Helper()
	synctest.Wait()
	if r, _, _ := pipeWaits(t, p); r != n {
		t.Fatalf("%d Reads listed as waiting; want %d", r, n)
	}
	wg.Wait()
	for range n {
		if err := <-errs; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a Read whose deadline passed: %v", err)
		}
	}
}

// TestPipeWaitsEndUnlisted: Reads whose deadline passes while they wait
// take their wake channels out of the buffer's list and give them back
// empty; the next waits reuse them, a write wakes each of those once and
// a Close every one left. So no channel stays listed for a call that has
// returned, none is lost, and the spare list holds no more channels than
// the most waits there were at once.
func TestPipeWaitsEndUnlisted(t *testing.T) {
	const waiters = 8
	synctest.Test(t, func(t *testing.T) {
		client, server := Pipe()
		p := server.(*pipeConn).rx
		read := func(wg *sync.WaitGroup, errs chan<- error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := make([]byte, 1)
				for {
					n, err := server.Read(b)
					if err != nil || n == 0 {
						errs <- err
						return
					}
				}
			}()
		}
		// Deadlines that pass while the Reads are listed.
		server.SetReadDeadline(time.Now().Add(time.Second))
		var wg sync.WaitGroup
		errs := make(chan error, waiters)
		for range waiters {
			read(&wg, errs)
		}
		readsExpire(t, p, &wg, errs, waiters)
		if r, w, s := pipeWaits(t, p); r != 0 || w != 0 || s != waiters {
			t.Fatalf("after the deadline: %d readers and %d writers listed, %d spare channels; want none listed and %d spare", r, w, s, waiters)
		}

		// The same channels again: a write wakes every Read, one takes
		// the byte, the others wait again; the Close wakes them all.
		server.SetReadDeadline(time.Time{})
		for range waiters {
			read(&wg, errs)
		}
		synctest.Wait()
		if _, err := client.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if r, _, s := pipeWaits(t, p); r != waiters || s != 0 {
			t.Fatalf("after a write: %d Reads listed, %d spare channels; want %d listed, none spare", r, s, waiters)
		}
		client.Close()
		wg.Wait()
		for range waiters {
			if err := <-errs; err != io.EOF {
				t.Fatalf("a Read after the peer's Close: %v", err)
			}
		}
		if r, w, s := pipeWaits(t, p); r != 0 || w != 0 || s != waiters {
			t.Fatalf("after the peer's Close: %d readers and %d writers listed, %d spare channels; want none listed and %d spare", r, w, s, waiters)
		}

		server.Close()

		// A Close of the Reads' own end ends them (done) and wakes them
		// too: a Read that left by done may be sent a token after it,
		// which it takes before it gives its channel back.
		for range 20 {
			client, server = Pipe()
			p = server.(*pipeConn).rx
			for range waiters {
				read(&wg, errs)
			}
			synctest.Wait()
			server.Close()
			wg.Wait()
			for range waiters {
				if err := <-errs; !errors.Is(err, net.ErrClosed) {
					t.Fatalf("a Read after its end's Close: %v", err)
				}
			}
			if r, w, s := pipeWaits(t, p); r != 0 || w != 0 || s != waiters {
				t.Fatalf("after the Close: %d readers and %d writers listed, %d spare channels; want none listed and %d spare", r, w, s, waiters)
			}
			client.Close()
		}
		wg.Wait()
	})
}

// TestPipeManyWaitsLeaveBounded: 64 Reads wait at once and their deadline
// passes. Each leaves the buffer's list of waiters by its index, moving
// one entry (the list's last, into its place): a walk to find it, and
// the shift of the entries after it, cost the 64 about 64^2/2 steps. The
// channels kept for reuse are at most pipeSpareMax, not one for each of
// the burst's waits for the Pipe's life, and so is the room the list of
// waiters keeps once empty (after the leaves, and after a wake); the next
// Reads still find the list right (a write wakes each, a Close ends
// them).
func TestPipeManyWaitsLeaveBounded(t *testing.T) {
	const waiters = 64
	synctest.Test(t, func(t *testing.T) {
		client, server := Pipe()
		defer client.Close()
		defer server.Close()
		p := server.(*pipeConn).rx
		var mu sync.Mutex
		steps := 0
		testHookPipeLeave = func(n int) { mu.Lock(); steps += n; mu.Unlock() }
		defer func() { testHookPipeLeave = nil }()
		server.SetReadDeadline(time.Now().Add(time.Second))
		var wg sync.WaitGroup
		errs := make(chan error, waiters)
		for range waiters {
			wg.Go(func() {
				_, err := server.Read(make([]byte, 1))
				errs <- err
			})
		}
		readsExpire(t, p, &wg, errs, waiters)
		r, w, s := pipeWaits(t, p)
		if r != 0 || w != 0 || s > pipeSpareMax {
			t.Errorf("after the deadline: %d readers and %d writers listed, %d spare channels; want none listed and at most %d spare", r, w, s, pipeSpareMax)
		}
		listRoomBounded(t, "after the deadline", p)
		if limit := 2 * waiters; steps > limit {
			t.Errorf("%d Reads leaving the list of waiters at their deadline moved or compared %d entries; want at most %d", waiters, steps, limit)
		}

		// The list is right after the leaves: Reads listed again, one
		// takes a byte a write sends, the rest are ended by the Close.
		server.SetReadDeadline(time.Time{})
		for range waiters {
			wg.Go(func() {
				b := make([]byte, 1)
				for {
					if _, err := server.Read(b); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		synctest.Wait()
		if _, err := client.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if r, _, _ := pipeWaits(t, p); r != waiters {
			t.Fatalf("after a write: %d Reads listed; want %d", r, waiters)
		}
		client.Close()
		wg.Wait()
		for range waiters {
			if err := <-errs; err != io.EOF {
				t.Fatalf("a Read after the peer's Close: %v", err)
			}
		}
		if r, w, s := pipeWaits(t, p); r != 0 || w != 0 || s > pipeSpareMax {
			t.Errorf("after the peer's Close: %d readers and %d writers listed, %d spare channels; want none listed and at most %d spare", r, w, s, pipeSpareMax)
		}
		listRoomBounded(t, "after the peer's Close", p)
	})
}

// listRoomBounded checks that p's lists of waiters and of spare channels
// keep room for at most pipeSpareMax entries.
func listRoomBounded(t *testing.T, when string, p *pipeBuffer) {
	t.Helper()
	p.mu.Lock()
	r, w, s := cap(p.readers), cap(p.writers), cap(p.spare)
	p.mu.Unlock()
	if r > pipeSpareMax || w > pipeSpareMax || s > pipeSpareMax {
		t.Errorf("%s: the lists keep room for %d readers, %d writers and %d spare channels; want at most %d each", when, r, w, s, pipeSpareMax)
	}
}

// TestPipeWaitersMatchModel drives a pipeBuffer's list of waiters with
// random waits, leaves (each wait's own deadline passing, several at
// once, some at the moment of a wake) and wakes, against a model: the
// set of waits not yet returned. After each step the list holds exactly
// those waits, each at the index it knows (a leave by a stale index
// takes another wait out of the list, leaving its own entry listed: a
// wake would then send to a channel back in spare, or in another wait's
// use), a wake returns every wait listed, and the spare channels are
// empty, unlisted and at most pipeSpareMax; the list's storage past its
// end keeps no waiter.
func TestPipeWaitersMatchModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeBuffer()
		rnd := rand.New(rand.NewPCG(11, 12))
		expire := map[int]chan struct{}{} // the waits not returned
		returned := make(chan int, 1024)
		done := make(chan struct{}) // never closed: leaves are by deadline
		next := 0
		check := func(step int, what string) {
			t.Helper()
			synctest.Wait()
			for len(returned) > 0 {
				id := <-returned
				if _, ok := expire[id]; ok {
					t.Fatalf("step %d (%s): wait %d returned while not woken nor expired", step, what, id)
				}
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.readers) != len(expire) {
				t.Fatalf("step %d (%s): %d waiters listed; want %d (the waits not returned)", step, what, len(p.readers), len(expire))
			}
			seen := map[*pipeWaiter]bool{}
			for i, w := range p.readers {
				if w == nil || w.i != i || seen[w] {
					t.Fatalf("step %d (%s): list entry %d is %+v (listed twice: %v); want a waiter knowing index %d", step, what, i, w, seen[w], i)
				}
				seen[w] = true
			}
			for _, w := range p.readers[len(p.readers):cap(p.readers)] {
				if w != nil {
					t.Fatalf("step %d (%s): the list's storage past its end keeps a waiter (index %d); want nil there, nothing kept for a wait that ended", step, what, w.i)
				}
			}
			if len(p.spare) > pipeSpareMax {
				t.Fatalf("step %d (%s): %d spare waiters; want at most %d", step, what, len(p.spare), pipeSpareMax)
			}
			for _, w := range p.spare {
				if len(w.ch) != 0 || w.i != -1 || seen[w] {
					t.Fatalf("step %d (%s): a spare waiter holds %d tokens, index %d, listed %v; want empty, unlisted", step, what, len(w.ch), w.i, seen[w])
				}
			}
		}
		// leave makes up to n waits, chosen at random, expire: those
		// not woken first leave the list by their index.
		leave := func(n int) {
			ids := slices.Sorted(maps.Keys(expire))
			for _, k := range rnd.Perm(len(ids))[:min(n, len(ids))] {
				close(expire[ids[k]])
				delete(expire, ids[k])
			}
		}
		for step := range 3000 {
			switch op := rnd.IntN(10); {
			case op < 5:
				for range rnd.IntN(4) + 1 {
					id, ch := next, make(chan struct{})
					next++
					expire[id] = ch
					go func() {
						p.mu.Lock()
						p.wait(&p.readers, ch, done)
						returned <- id
					}()
				}
				check(step, "waits")
			case op < 8:
				leave(rnd.IntN(4) + 1)
				check(step, "leaves")
			default:
				// A wake, with some waits expiring at the same time:
				// each of those leaves woken or not, never listed.
				leave(rnd.IntN(3))
				p.mu.Lock()
				wake(&p.readers)
				p.mu.Unlock()
				clear(expire)
				check(step, "wake")
			}
		}
		leave(len(expire))
		check(3000, "the last leaves")
	})
}
