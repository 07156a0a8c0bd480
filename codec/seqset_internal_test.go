package codec

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/wire"
)

// TestSeqSetOverlapsNotProduct: Overlaps of a set in the order a server
// sent it (not canonical) fell back to a nested loop, O(r*q): a session
// routes each VANISHED (EARLIER) by Overlaps with the set of every UID
// command in flight, so a server's descending list of q UIDs cost q times
// the command's ranges. It must cost about O(q log r): what is counted is
// the range comparisons Overlaps makes (overlaps' n, what it reports to
// workhook.RangesCompared), at most q*(bits.Len(r)+1) for a command of r
// ranges (a binary search in the command's ranges for each of the
// server's), 1,300,000 for r = 2,048 where the nested loop made 204,800,000.
// It measured the time against a command of one range (x2048 for the
// nested loop, x11 for binary searches, bound x200), which a loaded
// machine could stretch. The common case (one set canonical) must not
// allocate.
func TestSeqSetOverlapsNotProduct(t *testing.T) {
	const q = 100000
	var b strings.Builder
	for i := q; i > 0; i-- {
		if i != q {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(2*i + 1000000))
	}
	server, err := ParseSeqSet([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	command := func(r int) SeqSet {
		var s SeqSet
		for i := 0; i < r; i++ {
			s.AddNum(uint32(2*i + 1))
		}
		return s
	}
	// The same command set as a raw command's arguments would give it:
	// in the order written (descending), not canonical either.
	parsedDesc := func(s SeqSet) SeqSet {
		rs := s.Ranges()
		var b strings.Builder
		for i := len(rs) - 1; i >= 0; i-- {
			if i != len(rs)-1 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(int(rs[i].Start)))
		}
		p, err := ParseSeqSet([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const r = 2048
	one, many := command(1), command(r)
	manyDesc := parsedDesc(many)
	for _, c := range []struct {
		name string
		r    int
		f    func() (bool, int)
	}{
		{"one range, server's set", 1, func() (bool, int) { return one.overlaps(server) }},
		{"canonical command, server's set", r, func() (bool, int) { return many.overlaps(server) }},
		{"server's set, canonical command", r, func() (bool, int) { return server.overlaps(many) }},
		{"descending command, server's set", r, func() (bool, int) { return manyDesc.overlaps(server) }},
	} {
		ok, n := c.f()
		if ok {
			t.Fatalf("%s: the sets overlap: they should not", c.name)
		}
		bound := q * (bits.Len(uint(c.r)) + 1)
		t.Logf("%s: %d range comparisons for %d ranges against %d (bound %d)", c.name, n, c.r, q, bound)
		if n > bound {
			t.Errorf("%s: Overlaps of %d ranges with %d made %d range comparisons; want at most %d (a binary search each): O(r*q)", c.name, c.r, q, n, bound)
		}
	}
	if a := testing.AllocsPerRun(5, func() { many.Overlaps(server) }); a != 0 {
		t.Errorf("Overlaps of a canonical set with a server's set allocates %v times; want 0", a)
	}
	// The answers are those of the nested loop.
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"5,3,1", "2,4,6", false}, {"5,3,1", "6,4,3", true}, {"1:3", "9,7,3", true},
		{"9,7,3", "1:2", false}, {"1:*", "9,2", true}, {"9,*", "10:12,1", false},
		{"9,*", "12,*", true}, {"4:*,2", "3", false}, {"4:*,2", "100", true},
		{"30,29,28,27,26,25,24,23,22,21", "1,3,5,7,9,11,13,15,17,19", false},
		{"30,29,28,27,26,25,24,23,22,21", "1,3,5,7,9,11,13,15,17,29", true},
	} {
		a, _ := ParseSeqSet([]byte(c.a))
		b, _ := ParseSeqSet([]byte(c.b))
		for _, x := range [][2]SeqSet{{a, b}, {b, a}, {a.canonicalSet(), b}, {a, b.canonicalSet()}, {b, a.canonicalSet()}, {a.canonicalSet(), b.canonicalSet()}} {
			if got := x[0].Overlaps(x[1]); got != c.want {
				t.Errorf("%v Overlaps %v = %v; want %v", x[0].Ranges(), x[1].Ranges(), got, c.want)
			}
		}
	}
}

// TestSeqSetOverlapsOracle: Overlaps, by each of its paths (both sets
// canonical, merged or by binary search; one canonical; neither, small or
// with a sorted copy), answers as the nested loop over the ranges does;
// Dynamic (O(1) on a canonical set) as a look at every range does.
func TestSeqSetOverlapsOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 18))
	gen := func() SeqSet {
		var s SeqSet
		n := 1 + rng.IntN(40)
		if rng.IntN(4) == 0 {
			n = 1 + rng.IntN(3)
		}
		for range n {
			a, b := uint32(1+rng.IntN(300)), uint32(1+rng.IntN(300))
			if rng.IntN(2) == 0 {
				b = a
			} else if rng.IntN(30) == 0 {
				b = 0 // "*"
			}
			s.Append(wire.SeqRange{Start: a, Stop: b})
		}
		if rng.IntN(2) == 0 {
			s.Compact()
		}
		return s
	}
	for range 20000 {
		a, b := gen(), gen()
		want := false
		for _, x := range a.Ranges() {
			for _, y := range b.Ranges() {
				want = want || seqMeet(x, y)
			}
		}
		dyn := false
		for _, x := range a.Ranges() {
			dyn = dyn || x.Stop == 0
		}
		if a.Dynamic() != dyn {
			t.Fatalf("%v (canonical %v) Dynamic = %v; want %v", a.Ranges(), !a.unsorted, !dyn, dyn)
		}
		if got := a.Overlaps(b); got != want {
			t.Fatalf("%v (canonical %v) Overlaps %v (canonical %v) = %v; want %v", a.Ranges(), !a.unsorted, b.Ranges(), !b.unsorted, got, want)
		}
	}
}

// canonicalSet returns a canonical copy of s.
func (s SeqSet) canonicalSet() SeqSet {
	c := s.Clone()
	c.Compact()
	return c
}

// TestSeqSetLenInOrder: Len counts a set in the order a peer sent it,
// ascending or descending without overlaps, as it comes (no sorted copy,
// no allocation), and any other set as before: the same count as its
// canonical form.
func TestSeqSetLenInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 19))
	for range 20000 {
		var s SeqSet
		for range 1 + rng.IntN(12) {
			a, b := uint32(1+rng.IntN(60)), uint32(1+rng.IntN(60))
			if rng.IntN(2) == 0 {
				b = a
			}
			s.Append(wire.SeqRange{Start: a, Stop: b})
		}
		got, ok := s.Len()
		want, wok := s.canonicalSet().Len()
		if got != want || ok != wok {
			t.Fatalf("%v: Len = %d, %v; want %d, %v", s.Ranges(), got, ok, want, wok)
		}
	}
	for _, text := range []string{"1001,1002,1003,1004", "9,7,5:6,1", "20:30,10:19,3"} {
		s, err := ParseSeqSet([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(10, func() { s.Len() }); a != 0 {
			t.Errorf("%s: Len allocates %v times; want 0", text, a)
		}
	}
}

// TestMeetRangesSkipSameAsWalk: the walk that skips by search the ranges
// of one set that meet none of the other's (meetRanges' skip, which
// Intersect takes for few ranges against many) emits what the walk one
// range at a time emits, range for range, on random canonical sets of
// few ranges and of many, "*" and 4294967295 among them (x:* of one set
// met by 4294967295 and "*" of the other emitted as one range), each
// way round.
func TestMeetRangesSkipSameAsWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	num := func() uint32 {
		switch rng.IntN(20) {
		case 0:
			return 0 // "*"
		case 1:
			return 4294967295
		case 2:
			return 4294967294
		}
		return uint32(rng.IntN(2000) + 1)
	}
	set := func(n int) []wire.SeqRange {
		var s SeqSet
		for range n {
			a := num()
			b := a
			if rng.IntN(3) == 0 {
				b = num()
			}
			s.AddRange(a, b)
		}
		return s.Ranges()
	}
	collect := func(a, b []wire.SeqRange, skip bool) []wire.SeqRange {
		var out []wire.SeqRange
		meetRanges(a, b, skip, func(r wire.SeqRange) { out = append(out, r) })
		return out
	}
	for iter := 0; iter < 5000; iter++ {
		few, many := set(1+rng.IntN(4)), set(rng.IntN(400))
		for _, p := range [][2][]wire.SeqRange{{few, many}, {many, few}, {many, set(rng.IntN(400))}} {
			walk, skip := collect(p[0], p[1], false), collect(p[0], p[1], true)
			if len(walk) != len(skip) {
				t.Fatalf("%v ∩ %v: walked %v, skipping %v", p[0], p[1], walk, skip)
			}
			for i := range walk {
				if walk[i] != skip[i] {
					t.Fatalf("%v ∩ %v: walked %v, skipping %v", p[0], p[1], walk, skip)
				}
			}
		}
	}
}

// TestIntersectFewAgainstManyBySearch: Intersect of one range against
// 100,000 (a VANISHED (EARLIER) of one UID cut to the UIDs a client
// knows), each way round, compares at most 8*(bits.Len(100,000)+1) pairs
// of ranges (two walks, as Intersect makes, each a search in the many),
// wherever the one lies among them: the walk one range at a time made up
// to 200,000, and a million such lines 2*10^11.
func TestIntersectFewAgainstManyBySearch(t *testing.T) {
	const n = 100000
	many := evensTo(2 * n)
	limit := 8 * (bits.Len(n) + 1)
	for _, u := range []uint32{1, 2, 3, 1000, 99999, 100000, 2*n - 2, 2 * n, 2*n + 1, 4294967295, 0} {
		one := SeqSetOf(wire.SeqRange{Start: u, Stop: u})
		for _, p := range [][2]SeqSet{{one, many}, {many, one}} {
			got := 0
			restore := workhook.RangesCompared.Set(t, func(_, _, k int) { got += k })
			x := p[0].Intersect(p[1])
			restore()
			if want := u != 0 && u%2 == 0 && u <= 2*n; !x.IsEmpty() != want || want && x.String() != strconv.Itoa(int(u)) {
				t.Errorf("%d against evens to %d: %q", u, 2*n, x.String())
			}
			if got > limit {
				t.Errorf("%d against evens to %d (%d ranges): %d ranges compared; want at most %d", u, 2*n, n, got, limit)
			}
		}
	}
}

// TestRemoveFewFromManyBySearch: Remove of 100,000 ranges from a set of
// one (a server's COPYUID source set checked against the many ranges of
// the part a MOVE sent, commands' withinSet, once for each COPYUID a
// hostile server sends without end) compares at most
// 8*(bits.Len(100,000)+1) ranges (two walks, as Remove makes, each a
// search in the many), wherever the one lies among them: the walk one
// range at a time made up to 200,000. The other way round (the many
// minus the one) gives a result of the many's size, and costs at most
// a few steps a range of it.
func TestRemoveFewFromManyBySearch(t *testing.T) {
	const n = 100000
	many := evensTo(2 * n)
	limit := 8 * (bits.Len(n) + 1)
	for _, u := range []uint32{1, 2, 3, 1000, 99999, 100000, 2*n - 2, 2*n - 1, 2 * n, 2*n + 1, 4294967295, 0} {
		one := SeqSetOf(wire.SeqRange{Start: u, Stop: u})
		got := 0
		restore := workhook.RangesCompared.Set(t, func(_, _, k int) { got += k })
		x := one.Clone()
		x.Remove(many)
		restore()
		if want := u == 0 || u%2 == 1 || u > 2*n; !x.IsEmpty() != want || want && !x.Equal(one) {
			t.Errorf("%d minus evens to %d: %q", u, 2*n, x.String())
		}
		if got > limit {
			t.Errorf("%d minus evens to %d (%d ranges): %d ranges compared; want at most %d", u, 2*n, n, got, limit)
		}
		got = 0
		restore = workhook.RangesCompared.Set(t, func(_, _, k int) { got += k })
		x = many.Clone()
		x.Remove(one)
		restore()
		if l := len(x.Ranges()); l != n && l != n-1 {
			t.Errorf("evens to %d minus %d: %d ranges", 2*n, u, l)
		}
		if limit := 6*n + 8; got > limit {
			t.Errorf("evens to %d (%d ranges) minus %d: %d ranges compared; want at most %d", 2*n, n, u, got, limit)
		}
	}
}

// TestRemoveFewFromManyMatchesContains checks Remove where it skips by
// search (few ranges of s against many of t, in any order, "*" among
// them) against Contains: s minus t holds exactly the numbers s holds
// and t does not.
func TestRemoveFewFromManyMatchesContains(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	num := func(top int) uint32 {
		if rnd.IntN(40) == 0 {
			return 0 // "*"
		}
		return uint32(rnd.IntN(top) + 1)
	}
	for iter := range 300 {
		var s, tt SeqSet
		for range rnd.IntN(3) + 1 {
			a := num(3000)
			s.Append(wire.SeqRange{Start: a, Stop: a + uint32(rnd.IntN(400))})
		}
		for range 300 {
			a := num(3000)
			tt.Append(wire.SeqRange{Start: a, Stop: a + uint32(rnd.IntN(3))})
		}
		r := s.Clone()
		r.Remove(tt)
		for p := uint32(0); p <= 3500; p++ {
			if want := s.Contains(p) && !tt.Contains(p); r.Contains(p) != want {
				t.Fatalf("iter %d: (%s minus %s = %s).Contains(%d) = %v; want %v", iter, s.String(), tt.String(), r.String(), p, !want, want)
			}
		}
	}
}

// evensTo returns the set of the even numbers 2 to top, one range each:
// the many ranges of the tests of few against many.
func evensTo(top uint32) SeqSet {
	var s SeqSet
	for i := uint32(2); i <= top; i += 2 {
		s.AddNum(i)
	}
	return s
}
