package codec_test

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestSeqSetIntersect: the numbers both sets hold, "*" as a number above
// every other (SeqSet's model), the result canonical, s and t left alone
// (a parsed set keeps its order).
func TestSeqSetIntersect(t *testing.T) {
	for _, c := range []struct{ name, s, t, want string }{
		{"empty s", "", "1:5", ""},
		{"empty t", "1:5", "", ""},
		{"both empty", "", "", ""},
		{"disjoint", "1:5,10:12", "6:9,13:20", ""},
		{"adjacent", "1:5", "6:10", ""},
		{"adjacent at max", "4294967294", "4294967295", ""},
		{"touching", "1:5", "5:10", "5"},
		{"overlapping", "1:10", "5:20", "5:10"},
		{"contained", "1:100", "3:4,8,50:60", "3:4,8,50:60"},
		{"equal", "1:5,7", "1:5,7", "1:5,7"},
		{"several per range", "1:10,20:30", "5:25", "5:10,20:25"},
		{"interleaved", "1,3,5,7,9", "2:3,6:9", "3,7,9"},
		{"range to * and number", "1:*", "5", "5"},
		{"ranges to *", "1:*", "3:*", "3:*"},
		{"range to * and ranges", "10:*", "1:5,8:12,4294967295", "10:12,4294967295"},
		{"lone * and range to *", "*", "7:*", "*"},
		{"lone * and every number", "*", "1:4294967295", ""},
		{"lone * and lone *", "*", "*", "*"},
		{"largest number and *", "4294967295", "*", ""},
		{"largest number and range to *", "4294967295", "5:*", "4294967295"},
		{"s's range to * kept whole", "22:*", "1:4294967295,*", "22:*"},
		{"s's largest number and * kept apart", "1:4294967295,*", "22:*", "22:4294967295,*"},
		{"not canonical s", "9,7,1:3,2", "2:8", "2:3,7"},
		{"not canonical both", "9,1:3,5", "5:9,1", "1,5,9"},
		{"overlapping parsed ranges", "1:10,5:15", "8:12", "8:12"},
	} {
		s := parseOrEmpty(t, c.s)
		tt := parseOrEmpty(t, c.t)
		sr, tr := append([]wire.SeqRange(nil), s.Ranges()...), append([]wire.SeqRange(nil), tt.Ranges()...)
		got := s.Intersect(tt)
		if got.String() != c.want {
			t.Errorf("%s: %q ∩ %q = %q; want %q", c.name, c.s, c.t, got.String(), c.want)
		}
		if !slicesEqualRanges(got, codec.SeqSetOf(got.Ranges()...)) {
			t.Errorf("%s: %q ∩ %q: not canonical: %v", c.name, c.s, c.t, got.Ranges())
		}
		if back := tt.Intersect(s); !splitStar(back).Equal(splitStar(got)) {
			t.Errorf("%s: %q ∩ %q = %q but %q ∩ %q = %q", c.name, c.s, c.t, got.String(), c.t, c.s, back.String())
		}
		if !rangesAre(s, sr) || !rangesAre(tt, tr) {
			t.Errorf("%s: %q ∩ %q changed its operands to %v, %v", c.name, c.s, c.t, s.Ranges(), tt.Ranges())
		}
	}
}

// parseOrEmpty is mustSeqSet with "" for the empty set.
func parseOrEmpty(t *testing.T, s string) codec.SeqSet {
	if s == "" {
		return codec.SeqSet{}
	}
	return mustSeqSet(t, s)
}

// rangesAre reports whether s has exactly the ranges rs, in that order.
func rangesAre(s codec.SeqSet, rs []wire.SeqRange) bool {
	return slicesEqualRanges(s, seqSetAppended(rs))
}

// seqSetAppended returns a set of the ranges rs in the order given.
func seqSetAppended(rs []wire.SeqRange) codec.SeqSet {
	var s codec.SeqSet
	s.Append(rs...)
	return s
}

// TestSeqSetIntersectRandom checks Intersect against Contains and against
// the naive model (every pair of ranges met) on random sets, "*" among
// them, as a peer may write them.
func TestSeqSetIntersectRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	num := func() uint32 {
		switch rng.IntN(16) {
		case 0:
			return 0 // "*"
		case 1:
			return 4294967295
		}
		return uint32(rng.IntN(60) + 1)
	}
	set := func() codec.SeqSet {
		rs := make([]wire.SeqRange, rng.IntN(6))
		for i := range rs {
			rs[i] = rg(num(), num())
		}
		if rng.IntN(2) == 0 {
			return codec.SeqSetOf(rs...)
		}
		return seqSetAppended(rs) // unsorted, as a peer may write it
	}
	for iter := 0; iter < 3000; iter++ {
		checkIntersect(t, set(), set())
	}
}

// checkIntersect checks s.Intersect(t) against the naive model, against
// Contains at every bound of either set and next to it, and against the
// intersection by two Removes (what commands did before Intersect).
func checkIntersect(t *testing.T, s, u codec.SeqSet) {
	t.Helper()
	got := s.Intersect(u)
	if want := splitStar(naiveIntersect(s, u)); !slicesEqualRanges(splitStar(got), want) {
		t.Fatalf("%v ∩ %v = %v; the naive model gives %v", s.Ranges(), u.Ranges(), got.Ranges(), want.Ranges())
	}
	probes := []uint32{0, 1, 4294967294, 4294967295}
	for _, r := range append(append([]wire.SeqRange(nil), s.Ranges()...), u.Ranges()...) {
		for _, b := range []uint32{r.Start, r.Stop} {
			probes = append(probes, b, b-1, b+1) // 0-1 is 4294967295, 4294967295+1 is "*"
		}
	}
	for _, p := range probes {
		if want := s.Contains(p) && u.Contains(p); got.Contains(p) != want {
			t.Fatalf("(%v ∩ %v = %v).Contains(%d) = %v; want %v", s.Ranges(), u.Ranges(), got.Ranges(), p, !want, want)
		}
	}
	out := s.Clone()
	out.Remove(u)
	in := s.Clone()
	in.Remove(out)
	if !slicesEqualRanges(got, in) {
		t.Fatalf("%v ∩ %v = %v; by two Removes %v", s.Ranges(), u.Ranges(), got.Ranges(), in.Ranges())
	}
}

// splitStar returns s with each range x:* (x a number) written
// x:4294967295,*, as SeqSetOf keeps them: the same numbers in SeqSet's
// model, in SeqSetOf's grouping.
func splitStar(s codec.SeqSet) codec.SeqSet {
	var rs []wire.SeqRange
	for _, r := range s.Ranges() {
		if r.Stop == 0 && r.Start != 0 {
			rs = append(rs, rg(r.Start, 4294967295), rg(0, 0))
			continue
		}
		rs = append(rs, r)
	}
	return codec.SeqSetOf(rs...)
}

// naiveIntersect meets every range of s with every range of t, in
// O(r*q), and makes the result canonical with SeqSetOf.
func naiveIntersect(s, t codec.SeqSet) codec.SeqSet {
	key := func(n uint32) uint64 { // "*" above every number, not next to 4294967295
		if n == 0 {
			return 1<<32 + 1
		}
		return uint64(n)
	}
	var meets []wire.SeqRange
	for _, a := range s.Ranges() {
		for _, b := range t.Ranges() {
			lo, hi := a.Start, a.Stop
			if key(b.Start) > key(lo) {
				lo = b.Start
			}
			if key(b.Stop) < key(hi) {
				hi = b.Stop
			}
			if key(lo) <= key(hi) {
				meets = append(meets, rg(lo, hi))
			}
		}
	}
	return codec.SeqSetOf(meets...)
}

// TestSeqSetIntersectAllocs: Intersect of canonical sets allocates its
// result once, however many ranges it has, and nothing when it is empty.
func TestSeqSetIntersectAllocs(t *testing.T) {
	s := mustSeqSet(t, "1:100")
	u := mustSeqSet(t, "2,4,6,8,10:20,30:*")
	if a := testing.AllocsPerRun(100, func() { s.Intersect(u) }); a != 1 {
		t.Errorf("1:100 ∩ 2,4,6,8,10:20,30:*: %v allocations; want 1", a)
	}
	far := mustSeqSet(t, "200:300,400")
	if a := testing.AllocsPerRun(100, func() { s.Intersect(far) }); a != 0 {
		t.Errorf("an empty intersection: %v allocations; want 0", a)
	}
}

// TestSeqSetIntersectLarge: sets of a million ranges, each way round;
// the result costs its own size, not the operands' (a t of a million
// ranges that meet s nowhere costs nothing).
func TestSeqSetIntersectLarge(t *testing.T) {
	var evens, odds codec.SeqSet
	for i := uint32(1); i <= 1_000_000; i++ {
		evens.AddNum(2 * i)
		odds.AddNum(2*i + 1)
	}
	all := codec.SeqSetOf(rg(1, 0))
	if got := evens.Intersect(all); !got.Equal(evens) {
		t.Errorf("evens ∩ 1:* has %d ranges; want evens' %d", len(got.Ranges()), len(evens.Ranges()))
	}
	if got := all.Intersect(odds); !got.Equal(odds) {
		t.Errorf("1:* ∩ odds has %d ranges; want odds' %d", len(got.Ranges()), len(odds.Ranges()))
	}
	five := codec.SeqSetOf(rg(5, 5))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	disjoint := evens.Intersect(odds)
	one := five.Intersect(odds)
	runtime.ReadMemStats(&m1)
	if !disjoint.IsEmpty() || one.String() != "5" {
		t.Fatalf("evens ∩ odds = %d ranges, 5 ∩ odds = %q; want none, 5", len(disjoint.Ranges()), one.String())
	}
	if b := m1.TotalAlloc - m0.TotalAlloc; b > 1024 {
		t.Errorf("Intersect allocated %d bytes for results of 0 and 1 ranges", b)
	}
}

// BenchmarkSeqSetIntersect compares Intersect with the intersection by
// two Clones and two Removes that commands' within used before it: a
// VANISHED (EARLIER) of many ranges cut to the UIDs known.
func BenchmarkSeqSetIntersect(b *testing.B) {
	var known, vanished codec.SeqSet
	for i := uint32(1); i <= 10_000; i++ {
		known.AddRange(10*i, 10*i+5)
		vanished.AddRange(10*i+3, 10*i+8)
	}
	b.Run("Intersect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			vanished.Intersect(known)
		}
	})
	b.Run("TwoRemoves", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := vanished.Clone()
			out.Remove(known)
			in := vanished.Clone()
			in.Remove(out)
		}
	})
}
