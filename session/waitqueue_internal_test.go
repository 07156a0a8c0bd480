package session

import (
	"math/rand/v2"
	"testing"
)

// TestWaitQueueModel drives the queue of commands waiting for their turn
// (waitLocked, stopWaitingLocked, turnLocked) with random arrivals and
// departures, in any order, and compares it after every step with a model
// (a slice in order of arrival): the links both ways, the first waiter
// that runs alone, and whose turn it is for every waiter and for a
// newcomer of each kind.
func TestWaitQueueModel(t *testing.T) {
	s := &Session{}
	var model []*waiter
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []commandInfo{{}, {alone: true}, {alone: true, waits: true}, {waits: true}}
	for step := 0; step < 20000; step++ {
		if len(model) == 0 || rng.IntN(2) == 0 && len(model) < 12 {
			model = append(model, s.waitLocked(rng.IntN(3) == 0))
		} else {
			i := rng.IntN(len(model))
			s.stopWaitingLocked(model[i])
			model = append(model[:i], model[i+1:]...)
		}
		q := s.wq
		// Links.
		var prev *waiter
		w := q.head
		for i, m := range model {
			if w != m || w.prev != prev {
				t.Fatalf("step %d: the queue's links differ from the model at %d", step, i)
			}
			if prev != nil && prev.ticket >= w.ticket {
				t.Fatalf("step %d: tickets out of order", step)
			}
			prev, w = w, w.next
		}
		if w != nil || q.tail != prev {
			t.Fatalf("step %d: the queue is longer than the model, or its tail is wrong", step)
		}
		// The first waiter that runs alone.
		var first *waiter
		for _, m := range model {
			if m.alone {
				first = m
				break
			}
		}
		if q.alone != first {
			t.Fatalf("step %d: q.alone is not the first waiter that runs alone", step)
		}
		// Whose turn: a waiter that runs alone when all before it have
		// gone; another when no waiter that runs alone came before it;
		// a newcomer that runs alone or waits on the server (IDLE) when
		// nobody waits; another newcomer when no waiter runs alone.
		for i, m := range model {
			want := i == 0
			if !m.alone {
				want = true
				for _, b := range model[:i] {
					want = want && !b.alone
				}
			}
			if got := s.turnLocked(commandInfo{alone: m.alone}, m); got != want {
				t.Fatalf("step %d: turn of waiter %d (alone %v) = %v, want %v", step, i, m.alone, got, want)
			}
		}
		for _, k := range kinds {
			want := len(model) == 0 || !k.alone && first == nil
			if got := s.turnLocked(k, nil); got != want {
				t.Fatalf("step %d: turn of a newcomer %+v = %v, want %v (%d waiting)", step, k, got, want, len(model))
			}
		}
	}
}
