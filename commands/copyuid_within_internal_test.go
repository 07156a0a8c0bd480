package commands

import (
	"math/rand/v2"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// withinByRemove is what withinSet computed before it walked got in
// place: got minus set, a copy of got, counted. It is the model
// TestWithinSetMatchesRemove checks withinSet against.
func withinByRemove(got, set codec.SeqSet) bool {
	out := got.Clone()
	out.Remove(set)
	n, ok := out.Len()
	if !ok || n > 1 || n == 1 && !set.Dynamic() {
		return false
	}
	if n == 1 {
		last := out.Ranges()[0].Start
		for _, r := range got.Ranges() {
			if r.Stop > last {
				return false
			}
		}
	}
	return true
}

// TestWithinSetMatchesRemove checks withinSet against got minus set on
// random sets of small numbers (so that ranges meet, cover and border
// each other), "*", 4294967294 and 4294967295 among them, both in any
// order, got's ranges overlapping and repeated as a server may send
// them.
func TestWithinSetMatchesRemove(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	num := func() uint32 {
		switch rnd.IntN(30) {
		case 0:
			return 0 // "*"
		case 1:
			return 4294967295
		case 2:
			return 4294967294
		}
		return uint32(rnd.IntN(40) + 1)
	}
	randSet := func(n int) codec.SeqSet {
		var s codec.SeqSet
		for range n {
			a, b := num(), num()
			if rnd.IntN(2) == 0 {
				b = a
			}
			s.Append(wire.SeqRange{Start: a, Stop: b})
		}
		return s
	}
	within := 0
	for round := range 20000 {
		got, set := randSet(rnd.IntN(4)), randSet(rnd.IntN(8))
		if rnd.IntN(3) == 0 {
			// got nearly within set: set with a number or two taken out.
			got = set.Clone()
			set.Remove(randSet(1))
		}
		want := withinByRemove(got, set)
		if want {
			within++
		}
		if ok := withinSet(got, set); ok != want {
			t.Fatalf("round %d: withinSet(%v, %v) = %v; want %v (got minus set: not within when two numbers, or \"*\", or one without \"*\" in set, or one below another of got, lie outside)",
				round, got.Ranges(), set.Ranges(), ok, want)
		}
	}
	if within < 2000 {
		t.Fatalf("only %d of 20000 rounds within: the sets test little", within)
	}
}

// TestWithinSetAllocatesNothing: withinSet checks each COPYUID a MOVE
// takes (untagged, without end from a hostile server) against the
// part's canonical set; it cloned the COPYUID's source set, in
// proportion to what the server sent, for each one (8 KiB for a source
// of 1,000 ranges, 5,000 times in a flood of 25 MB). Walked in place, a
// check allocates nothing, within or not.
func TestWithinSetAllocatesNothing(t *testing.T) {
	var sent, wide, outside codec.SeqSet
	for i := range 1000 {
		sent.AddNum(uint32(2*i + 2))
		wide.Append(wire.SeqRange{Start: uint32(2*(999-i) + 2), Stop: uint32(2*(999-i) + 2)}) // descending
	}
	outside.Append(wide.Ranges()...)
	outside.Append(wire.SeqRange{Start: 3, Stop: 3})
	one := codec.SeqSetOf(wire.SeqRange{Start: 2000, Stop: 2000})
	for _, c := range []struct {
		name string
		got  codec.SeqSet
		want bool
	}{
		{"one UID", one, true},
		{"1,000 UIDs descending", wide, true},
		{"1,000 UIDs and one outside", outside, false},
	} {
		if ok := withinSet(c.got, sent); ok != c.want {
			t.Fatalf("%s: withinSet = %v; want %v", c.name, ok, c.want)
		}
		if a := testing.AllocsPerRun(50, func() { withinSet(c.got, sent) }); a != 0 {
			t.Errorf("%s against a canonical set of 1,000 ranges: withinSet made %v allocations; want 0", c.name, a)
		}
	}
}

// BenchmarkWithinSet measures withinSet as a MOVE's check of each
// untagged COPYUID's source set (one UID) against a part's canonical set
// of 1,000 ranges, and a source set of 1,000 ranges against it.
func BenchmarkWithinSet(b *testing.B) {
	var sent, wide codec.SeqSet
	for i := range 1000 {
		sent.AddNum(uint32(2*i + 2))
		wide.Append(wire.SeqRange{Start: uint32(2*(999-i) + 2), Stop: uint32(2*(999-i) + 2)})
	}
	one := codec.SeqSetOf(wire.SeqRange{Start: 2000, Stop: 2000})
	b.Run("OneUID", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !withinSet(one, sent) {
				b.Fatal("not within")
			}
		}
	})
	b.Run("ManyUIDs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !withinSet(wide, sent) {
				b.Fatal("not within")
			}
		}
	})
}
