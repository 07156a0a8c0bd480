package session

import (
	"math/rand/v2"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestWaitQueueModel drives the queue of commands waiting for their turn
// (waitLocked, stopWaitingLocked, turnLocked) with random arrivals and
// departures, in any order, and compares it after every step with a model
// (a slice in order of arrival): the links both ways, the first waiter
// that runs alone, and whose turn it is for every waiter and for a
// newcomer of each kind. Waiters are of random kinds (sequence numbers,
// EXPUNGE, message sets of either kind, "*", kinds of untagged data that
// cannot be told apart) and randomly free; the model finds conflicts by
// brute force over the sets' numbers.
func TestWaitQueueModel(t *testing.T) {
	s := &Session{}
	var model []*waiter
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []commandInfo{{}, {alone: true}, {alone: true, waits: true}, {waits: true}}
	sets := []*targetSet{nil, nil,
		{set: seqSetOf(1, 3), known: true}, {set: seqSetOf(5, 5), known: true},
		{set: seqSetOf(1, 3), uids: true, known: true}, {set: seqSetOf(3, 4), uids: true, known: true},
		{set: seqSetOf(9, 0), uids: true, known: true}, {uids: true}}
	type kind struct {
		info commandInfo
		set  *targetSet
	}
	randomKind := func() kind {
		k := kind{info: commandInfo{alone: rng.IntN(4) == 0, seqNums: rng.IntN(3) == 0, noExpunge: rng.IntN(2) == 0,
			untold: []uint8{0, 0, 1, 2, 3}[rng.IntN(5)]}}
		if rng.IntN(2) == 0 {
			k.info.keyed = k.info.untold & 1 // taken by key (STATUS by mailbox)
		}
		if k.set = sets[rng.IntN(len(sets))]; k.set != nil {
			k.info.bySet, k.info.uids = true, k.set.uids
		}
		return k
	}
	kindOf := map[*waiter]kind{}
	overlap := func(a, b *targetSet) bool {
		if !a.known || !b.known || a.uids != b.uids || a.set.Dynamic() || b.set.Dynamic() {
			return true
		}
		for n := uint32(1); n < 20; n++ {
			if a.set.Contains(n) && b.set.Contains(n) {
				return true
			}
		}
		return false
	}
	conflict := func(a, b kind) bool {
		return a.info.seqNums && !b.info.noExpunge || b.info.seqNums && !a.info.noExpunge ||
			a.set != nil && b.set != nil && overlap(a.set, b.set) ||
			untoldClash(a.info, b.info, 1) || untoldClash(a.info, b.info, 2)
	}
	for step := 0; step < 20000; step++ {
		if len(model) == 0 || rng.IntN(2) == 0 && len(model) < 12 {
			k := randomKind()
			w := s.waitLocked(k.info, k.set)
			w.free = rng.IntN(2) == 0
			kindOf[w] = k
			model = append(model, w)
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
			if m.info.alone {
				first = m
				break
			}
		}
		if q.alone != first {
			t.Fatalf("step %d: q.alone is not the first waiter that runs alone", step)
		}
		// Whose turn: a waiter that runs alone when all before it have
		// gone; another when no waiter that runs alone came before it,
		// nor a free one it conflicts with; a newcomer that runs alone
		// or waits on the server (IDLE) when nobody waits; another
		// newcomer when no waiter runs alone nor is free and conflicts
		// with it.
		for i, m := range model {
			k := kindOf[m]
			want := i == 0
			if !m.info.alone {
				want = true
				for _, b := range model[:i] {
					want = want && !b.info.alone && !(b.free && conflict(kindOf[b], k))
				}
			}
			if got := s.turnLocked(k.info, k.set, m); got != want {
				t.Fatalf("step %d: turn of waiter %d (%+v) = %v, want %v", step, i, k, got, want)
			}
		}
		for _, k := range kinds {
			want := len(model) == 0 || !k.alone && first == nil
			if got := s.turnLocked(k, nil, nil); got != want && (k.alone || k.waits) {
				t.Fatalf("step %d: turn of a newcomer %+v = %v, want %v (%d waiting)", step, k, got, want, len(model))
			}
		}
		for range 4 {
			k := randomKind()
			want := len(model) == 0
			if !k.info.alone && first == nil {
				want = true
				for _, b := range model {
					want = want && !(b.free && conflict(kindOf[b], k))
				}
			}
			if got := s.turnLocked(k.info, k.set, nil); got != want {
				t.Fatalf("step %d: turn of a newcomer %+v = %v, want %v (%d waiting)", step, k, got, want, len(model))
			}
		}
	}
}

// seqSetOf is the set lo:hi (hi 0: "*").
func seqSetOf(lo, hi uint32) codec.SeqSet {
	var s codec.SeqSet
	s.AddRange(lo, hi)
	return s
}

// untoldClash reports whether a and b both take the untold kind bit, and
// not both by key.
func untoldClash(a, b commandInfo, bit uint8) bool {
	both := a.untold&bit != 0 && b.untold&bit != 0
	keyed := a.keyed&bit != 0 && b.keyed&bit != 0
	return both && !keyed
}
