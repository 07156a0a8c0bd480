package codec

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/wire"
)

// shuffledSingles returns the set of the n even numbers 2 to 2n, one
// range each, appended in a random order (not canonical), and the same
// appended in ascending order.
func shuffledSingles(n int) (shuffled, ascending SeqSet) {
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		shuffled.Append(wire.SeqRange{Start: uint32(2*i + 2), Stop: uint32(2*i + 2)})
	}
	for i := range n {
		ascending.Append(wire.SeqRange{Start: uint32(2*i + 2), Stop: uint32(2*i + 2)})
	}
	return shuffled, ascending
}

// counted returns what f reports to workhook.RangesCompared.
func counted(t *testing.T, f func()) int {
	t.Helper()
	n := 0
	restore := workhook.RangesCompared.Set(t, func(_, _, k int) { n += k })
	defer restore()
	f()
	return n
}

// TestCanonicalCopiesOnlyOutOfOrder: Canonical returns a set known
// canonical in one allocation when it must sort, none otherwise, and
// never changes the set it was given. A set in ascending order, known so
// (SeqSetOf, or Append of ranges in order, as joining the COPYUIDs of
// parts does) or not (checked once), is returned as it is, sharing its
// storage; one in no order gives a sorted copy, the set given left in
// the order it had.
func TestCanonicalCopiesOnlyOutOfOrder(t *testing.T) {
	const n = 1000
	shuffled, ascending := shuffledSingles(n)
	want := SeqSetOf(ascending.Ranges()...)
	notKnown := SeqSet{r: slices.Clone(want.r), unsorted: true} // in order, not known to be
	for _, c := range []struct {
		name        string
		set         SeqSet
		copied      bool
		steps       int // comparisons reported
		allocations float64
	}{
		{"known canonical", want, false, 0, 0},
		{"appended in order", ascending, false, 0, 0},
		{"in order, not known to be", notKnown, false, n - 1, 0},
		{"in no order", shuffled, true, -1, 1},
	} {
		before := slices.Clone(c.set.r)
		var got SeqSet
		var copied bool
		steps := counted(t, func() { got, copied = c.set.Canonical() })
		if copied != c.copied || got.unsorted || !slices.Equal(got.r, want.r) {
			t.Errorf("%s: Canonical() = %v (known canonical %v), copied %v; want %v, known canonical, copied %v", c.name, got.r[:3], !got.unsorted, copied, want.r[:3], c.copied)
		}
		if !copied && &got.r[0] != &c.set.r[0] {
			t.Errorf("%s: Canonical() did not copy but does not share the set's storage", c.name)
		}
		if !slices.Equal(c.set.r, before) {
			t.Errorf("%s: Canonical() changed the set it was given", c.name)
		}
		if c.steps >= 0 && steps != c.steps {
			t.Errorf("%s: Canonical() reported %d comparisons; want %d", c.name, steps, c.steps)
		}
		if a := testing.AllocsPerRun(20, func() { c.set.Canonical() }); a != c.allocations {
			t.Errorf("%s: Canonical() made %v allocations; want %v", c.name, a, c.allocations)
		}
	}
}

// TestCanonicalSetNotSortedAgain: a set in ascending order, built with
// Append (known canonical) or made canonical once by Canonical (checked
// once: in order, not known to be), costs each use what a set built by
// SeqSetOf costs: Remove, Intersect, Overlaps and Contains against it
// compare the same ranges and allocate the same. Sorted or checked again
// at each use, it cost its 1,000 ranges each time, and a copy of them.
func TestCanonicalSetNotSortedAgain(t *testing.T) {
	const n, uses = 1000, 50
	_, ascending := shuffledSingles(n)
	canonical := SeqSetOf(ascending.Ranges()...)
	verified, _ := SeqSet{r: slices.Clone(canonical.r), unsorted: true}.Canonical()
	one := SeqSetOf(wire.SeqRange{Start: 7, Stop: 7})
	use := func(s SeqSet) func() {
		return func() {
			for range uses {
				x := one
				x.Remove(s)
				one.Intersect(s)
				s.Overlaps(ascending)
				s.Contains(1000)
			}
		}
	}
	want := counted(t, use(canonical))
	wantAllocs := testing.AllocsPerRun(5, use(canonical))
	for _, c := range []struct {
		name string
		set  SeqSet
	}{{"appended in order", ascending}, {"made canonical by Canonical", verified}} {
		if got := counted(t, use(c.set)); got != want {
			t.Errorf("%s: %d uses compared %d ranges; want %d, as a set built by SeqSetOf", c.name, uses, got, want)
		}
		if got := testing.AllocsPerRun(5, use(c.set)); got != wantAllocs {
			t.Errorf("%s: %d uses made %v allocations; want %v, as a set built by SeqSetOf", c.name, uses, got, wantAllocs)
		}
	}
}

// TestSortOfNotCanonicalCounted: Remove, Intersect and Overlaps sort a
// copy of a set not canonical (Overlaps when neither is, past 8 ranges),
// Len a copy of one neither ascending nor descending, and AddNum and
// AddRanges the numbers added out of order, in one sort; that sort's
// comparisons are reported to workhook.RangesCompared with the rest of
// their work: a sort of n ranges compares at least n-1 pairs. Left out, a
// set of one UID against a million ranges in no order counted a few dozen
// steps for an O(n log n) call.
func TestSortOfNotCanonicalCounted(t *testing.T) {
	const n = 1000
	shuffled, _ := shuffledSingles(n)
	other, _ := shuffledSingles(n / 2)
	one := SeqSetOf(wire.SeqRange{Start: 7, Stop: 7})
	nums, _ := shuffled.Nums()
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"one.Remove(shuffled)", func() { x := one; x.Remove(shuffled) }},
		{"shuffled.Remove(one)", func() { x := shuffled.Clone(); x.Remove(one) }},
		{"one.Intersect(shuffled)", func() { one.Intersect(shuffled) }},
		{"shuffled.Intersect(one)", func() { shuffled.Intersect(one) }},
		{"shuffled.Overlaps(other)", func() { shuffled.Overlaps(other) }},
		{"shuffled.Canonical()", func() { shuffled.Canonical() }},
		{"shuffled.Compact()", func() { x := shuffled.Clone(); x.Compact() }},
		{"shuffled.Len()", func() { shuffled.Len() }},
		{"AddNum(shuffled numbers)", func() { var x SeqSet; x.AddNum(nums...) }},
		{"AddRanges(shuffled ranges)", func() { var x SeqSet; x.AddRanges(shuffled.Ranges()...) }},
	} {
		least := n - 1
		if c.name == "shuffled.Overlaps(other)" {
			least = n/2 - 1 // the smaller is sorted
		}
		if got := counted(t, c.f); got < least {
			t.Errorf("%s (%d ranges in no order): %d comparisons reported; want at least %d (its sort's)", c.name, n, got, least)
		}
	}
}

// BenchmarkSeqSetOpsNotCanonical measures Remove, Intersect and Overlaps
// against a set of 1,000 ranges in no order (built with Append, as a
// peer may write it), and against the same set in ascending order built
// with Append: what a set not known canonical costs each use.
func BenchmarkSeqSetOpsNotCanonical(b *testing.B) {
	shuffled, ascending := shuffledSingles(1000)
	one := SeqSetOf(wire.SeqRange{Start: 5, Stop: 5})
	for _, c := range []struct {
		name string
		set  SeqSet
	}{{"Shuffled", shuffled}, {"Ascending", ascending}} {
		b.Run("Remove/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := one
				s.Remove(c.set)
			}
		})
		b.Run("Intersect/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				one.Intersect(c.set)
			}
		})
		b.Run("Overlaps/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.set.Overlaps(shuffled)
			}
		})
	}
}

// TestSliceKnownCanonicalNoRoomPast: Slice of a set known canonical is a
// set known canonical (Canonical and Contains on it neither check nor
// sort: nothing reported to workhook.RangesCompared by Canonical) that
// holds the ranges asked for, without allocating; one of a set not known
// canonical is not known so either. Adding to a slice never writes over
// the ranges of the set after it.
func TestSliceKnownCanonicalNoRoomPast(t *testing.T) {
	shuffled, ascending := shuffledSingles(100)
	var part SeqSet
	if allocs := testing.AllocsPerRun(10, func() { part = ascending.Slice(10, 20) }); allocs != 0 {
		t.Errorf("Slice made %v allocations; want none", allocs)
	}
	if part.unsorted || !slices.Equal(part.Ranges(), ascending.Ranges()[10:20]) {
		t.Fatalf("Slice(10, 20) of a canonical set: %v (known canonical %v); want %v, known canonical", part.Ranges(), !part.unsorted, ascending.Ranges()[10:20])
	}
	if n := counted(t, func() { part.Canonical() }); n != 0 {
		t.Errorf("Canonical of a slice of a canonical set compared %d ranges; want none", n)
	}
	if s := shuffled.Slice(10, 20); !s.unsorted {
		t.Errorf("a slice of a set in no order is known canonical")
	}
	next := ascending.Ranges()[20]
	part.AddRange(1, 1) // before its first range: the others shift
	if got := ascending.Ranges()[20]; got != next {
		t.Errorf("adding to Slice(10, 20) wrote %v over range 20 of the set, %v", got, next)
	}
	if !part.Contains(1) || part.Contains(next.Start) {
		t.Errorf("the slice added to: %v", part.Ranges())
	}
}

// TestSliceBeyondItsRangesPanics: Slice past the ranges a set holds
// panics, as its doc says, even where the set's storage has room there
// (after Reset, or the spare room appending left): the room holds ranges
// removed or never set (zero, "*"), which a slice known canonical would
// hand out as the set's.
func TestSliceBeyondItsRangesPanics(t *testing.T) {
	var s SeqSet
	s.AddNum(1, 3, 5)
	s.Reset()
	for _, c := range []struct{ i, j int }{{0, 3}, {0, 1}, {1, cap(s.r)}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Slice(%d, %d) of an empty set (room for %d ranges) did not panic", c.i, c.j, cap(s.r))
				}
			}()
			got := s.Slice(c.i, c.j)
			t.Errorf("Slice(%d, %d) of an empty set gave %v, known canonical %v; want a panic", c.i, c.j, got.Ranges(), !got.unsorted)
		}()
	}
	if got := s.Slice(0, 0); !got.IsEmpty() {
		t.Errorf("Slice(0, 0) of an empty set: %v; want empty", got.Ranges())
	}
}
