package commands

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestVanishedCutMatchesIntersect checks vanishedCut against
// codec.SeqSet.Intersect on random sets and lines (small numbers, so that
// ranges meet, cover and border each other; "*" in the set, in any
// order): what it gives for a line lies within the line ∩ the set; what
// it gave for the lines up to each together is what Intersect gives for
// them; and a range of the set is given whole at most once.
func TestVanishedCutMatchesIntersect(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	randSet := func(n, top int) codec.SeqSet {
		var s codec.SeqSet
		for range n {
			a, b := uint32(rnd.IntN(top)+1), uint32(rnd.IntN(top)+1)
			if rnd.IntN(20) == 0 {
				b = 0 // "*"
			}
			s.Append(wire.SeqRange{Start: a, Stop: b}) // any order
		}
		return s
	}
	for round := range 3000 {
		set := randSet(rnd.IntN(12), 60)
		var v vanishedCut
		v.init(set)
		var gave, want codec.SeqSet
		whole := map[wire.SeqRange]int{}
		for line := range rnd.IntN(8) + 1 {
			uids := randSet(rnd.IntN(5)+1, 64)
			if rnd.IntN(6) == 0 {
				uids = codec.SeqSetOf(wire.SeqRange{Start: 1, Stop: 4294967295})
			}
			cut := uids.Intersect(set)
			v.cut(uids, func(r wire.SeqRange) {
				if one := codec.SeqSetOf(r); !one.Intersect(cut).Equal(one) {
					t.Fatalf("round %d line %d: set %s, line %s: gave %s, not within %s", round, line, set, uids, one, cut)
				}
				for _, k := range v.set {
					if k == r {
						whole[r]++
					}
				}
				gave.AddRanges(r)
			})
			want.AddRanges(cut.Ranges()...)
			if !gave.Equal(want) {
				t.Fatalf("round %d line %d: set %s, lines to %s: gave %s in all; want %s", round, line, set, uids, gave, want)
			}
		}
		for r, n := range whole {
			if n > 1 {
				t.Fatalf("round %d: set %s: range %v given whole %d times", round, set, r, n)
			}
		}
	}
}

// TestVanishedCutInitCopiesOnlyOutOfOrder: vanishedCut.init takes the set
// to cut to canonical (codec.SeqSet.Canonical) without changing the
// caller's: a set in ascending order (built by AddNum, or by Append as
// joining COPYUIDs does) is cut to in place, without an allocation; one
// in no order is sorted into a copy, once, the caller's left in its
// order.
func TestVanishedCutInitCopiesOnlyOutOfOrder(t *testing.T) {
	var added, appended, shuffled codec.SeqSet
	perm := rand.New(rand.NewPCG(1, 2)).Perm(1000)
	for i := range 1000 {
		added.AddNum(uint32(2*i + 2))
		appended.Append(wire.SeqRange{Start: uint32(2*i + 2), Stop: uint32(2*i + 2)})
		shuffled.Append(wire.SeqRange{Start: uint32(2*perm[i] + 2), Stop: uint32(2*perm[i] + 2)})
	}
	for _, c := range []struct {
		name   string
		set    codec.SeqSet
		allocs float64
	}{{"added", added, 0}, {"appended in order", appended, 0}, {"appended in no order", shuffled, 1}} {
		before := slices.Clone(c.set.Ranges())
		var v vanishedCut
		v.init(c.set)
		if !slices.Equal(v.set, added.Ranges()) {
			t.Fatalf("%s: init cuts to %v...; want %v...", c.name, v.set[:3], added.Ranges()[:3])
		}
		if !slices.Equal(c.set.Ranges(), before) {
			t.Errorf("%s: init changed the caller's set", c.name)
		}
		if c.allocs == 0 && &v.set[0] != &c.set.Ranges()[0] {
			t.Errorf("%s: init copied a set in order", c.name)
		}
		if a := testing.AllocsPerRun(20, func() { v.init(c.set) }); a != c.allocs {
			t.Errorf("%s: init made %v allocations; want %v", c.name, a, c.allocs)
		}
	}
}
