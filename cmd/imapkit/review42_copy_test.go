package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// review42MapAdd adds n pairs found by Message-ID (odd source UIDs, in
// descending order, as a search could find them) to the map of a box
// holding n runs of one message each (the even UIDs: a source with gaps),
// as the flag sync's fallback records them, and returns the CPU time its
// thread took (threadCPU: the best of three) and the map.
func review42MapAdd(n int) (time.Duration, uidMap) {
	best := time.Duration(1 << 62)
	var m uidMap
	for range 3 {
		box := &copyBox{DstUIDValidity: 9}
		for i := 1; i <= n; i++ {
			box.UIDMap = append(box.UIDMap, uidRun{uint32(2 * i), uint32(6 * i), 1})
		}
		src, dst := make([]uint32, n), make([]uint32, n)
		for i := range n {
			u := uint32(2*(n-i) + 1)
			src[i], dst[i] = u, 3*u
		}
		best = min(best, threadCPU(func() { box.mapAppended(9, src, dst) }))
		m = box.UIDMap
	}
	return best, m
}

// TestReview42F1CCopyMapFallbackScales: copy's flag sync without UIDPLUS
// finds copies by Message-ID and adds each to the source-to-destination
// UID map, whose runs are kept sorted: each pair was inserted on its own
// (uidMap.add, slices.Insert), moving every run after it, so k pairs
// into a map of n runs cost O(k*n): quadratic in the mailbox's size
// (minutes of CPU for a mailbox of a few hundred thousand messages with
// gaps). They are sorted once and merged now. 8 times the pairs must
// take well under 64 times as long (the ratio is about 8 now; it was
// about 64), and the map must hold what add one by one gave.
func TestReview42F1CCopyMapFallbackScales(t *testing.T) {
	const n = 4000
	small, _ := review42MapAdd(n)
	large, m := review42MapAdd(8 * n)
	ratio := float64(large) / float64(max(small, time.Microsecond))
	t.Logf("%d pairs: %v; %d pairs: %v; ratio %.1f", n, small, 8*n, large, ratio)
	if ratio > 24 {
		t.Errorf("8 times the pairs took %.1f times as long: quadratic", ratio)
	}
	if len(m) != 16*n {
		t.Fatalf("map has %d runs, want %d", len(m), 16*n)
	}
	for u := uint32(2); u <= uint32(16*n+1); u++ {
		if got, want := m.lookup(u), 3*u; got != want {
			t.Fatalf("lookup(%d) = %d, want %d", u, got, want)
		}
	}
}

// TestReview42F1CCopyMapAddManySame: addMany gives the map that add gives
// one pair at a time, for random maps and pairs (remaps, duplicates,
// runs cut and joined, the UID range's end).
func TestReview42F1CCopyMapAddManySame(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	for iter := range 3000 {
		var base uidMap
		span := uint32(1 + r.IntN(60))
		lo := uint32(1)
		if iter%5 == 0 {
			lo = 1<<32 - 1 - span
		}
		for range r.IntN(30) {
			base.add(lo+uint32(r.IntN(int(span))), lo+uint32(r.IntN(int(span))))
		}
		var src, dst []uint32
		for range r.IntN(40) {
			src = append(src, lo+uint32(r.IntN(int(span+1))))
			dst = append(dst, lo+uint32(r.IntN(int(span+1))))
		}
		one := slices.Clone(base)
		for i := range src {
			one.add(src[i], dst[i])
		}
		many := slices.Clone(base)
		many.addMany(src, dst)
		for u := lo; u <= lo+span && u != 0; u++ {
			if a, b := one.lookup(u), many.lookup(u); a != b {
				t.Fatalf("iteration %d: base %v, pairs %v %v: lookup(%d) = %d one by one, %d with addMany (%v, %v)", iter, base, src, dst, u, a, b, one, many)
			}
		}
		for k := 1; k < len(many); k++ {
			if uint64(many[k].Src) < many[k-1].srcEnd() {
				t.Fatalf("iteration %d: addMany's map out of order: %v", iter, many)
			}
		}
	}
}
