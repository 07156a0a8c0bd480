package commands

import (
	"math/rand/v2"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestParts checks the cutting of long sets: every part within the
// limit (a lone range excepted), in ascending order, together the whole
// set; a set that fits, "$" and a negative limit stay whole.
func TestParts(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, limit := range []int{1, 5, 21, 100, 0, DefaultMaxSetLength} {
		c := &Client{}
		c.SetMaxSetLength(limit)
		if limit == 0 {
			limit = DefaultMaxSetLength
		}
		for i := 0; i < 300; i++ {
			var set Set
			set.UID = i%2 == 0
			n := rnd.IntN(3000)
			for j := 0; j < n; j++ {
				a := rnd.Uint32N(1 << uint(1+rnd.IntN(31)))
				if rnd.IntN(4) == 0 {
					set.Nums.AddRange(a, a+rnd.Uint32N(100)) // a 0 is "*"
				} else {
					set.Nums.AddNum(a)
				}
			}
			if set.IsEmpty() {
				continue
			}
			parts := c.parts(set)
			whole := set.Nums.String()
			if len(whole) <= limit {
				if len(parts) != 1 || parts[0].Nums.String() != whole {
					t.Fatalf("limit %d: %q fits, cut into %d", limit, whole, len(parts))
				}
				continue
			}
			var joined codec.SeqSet
			for k, p := range parts {
				s := p.Nums.String()
				if p.UID != set.UID || (len(s) > limit && len(p.Nums.Ranges()) > 1) || p.IsEmpty() {
					t.Fatalf("limit %d: part %d %q (uid %v)", limit, k, s, p.UID)
				}
				if k > 0 && len(parts) > 1 {
					prev := parts[k-1].Nums.Ranges()
					last, first := prev[len(prev)-1], p.Nums.Ranges()[0]
					if seqKey(last.Stop) >= seqKey(first.Start) {
						t.Fatalf("limit %d: part %d starts at %v, after %v", limit, k, first, last)
					}
				}
				joined.AddRanges(p.Nums.Ranges()...)
			}
			if !joined.Equal(set.Nums) {
				t.Fatalf("limit %d: parts hold %q, want %q", limit, joined.String(), whole)
			}
		}
	}
	c := &Client{}
	c.SetMaxSetLength(-1)
	long := UIDs()
	for i := uint32(1); i < 10000; i += 2 {
		long.Nums.AddNum(i)
	}
	if p := c.parts(long); len(p) != 1 {
		t.Fatalf("negative limit: %d parts", len(p))
	}
	c.SetMaxSetLength(0)
	if p := c.parts(SavedUIDs()); len(p) != 1 || !p[0].Saved {
		t.Fatalf("$: %+v", p)
	}
	if p := c.parts(long); len(p) != 4 {
		t.Fatalf("5,000 UIDs of 4 and 5 digits (%d bytes) at the default: %d parts", len(long.Nums.String()), len(p))
	}
}

// seqKey orders numbers with "*" (0) the largest.
func seqKey(n uint32) uint64 {
	if n == 0 {
		return 1 << 32
	}
	return uint64(n)
}

// TestRangeLength checks the arithmetic length against the wire form.
func TestRangeLength(t *testing.T) {
	for _, n := range []uint32{0, 1, 9, 10, 99, 100, 999999999, 1000000000, 4294967295} {
		for _, m := range []uint32{0, 1, 10, 4294967295, n} {
			r := wire.SeqRange{Start: n, Stop: m}
			if got, want := rangeLength(r), int64(len(r.String())); got != want {
				t.Errorf("rangeLength(%v) = %d; want %d", r, got, want)
			}
		}
	}
}

// TestPartsOneCopyOfTheSet: a long set is cut into parts that are slices
// of one copy of it, made canonical: one allocation for the copy (and
// those of the list of parts), not one per part. The parts share nothing
// with the caller's set, whose memory the caller may reuse while a
// Fetch's later parts are still to be sent; a part added to does not
// write over the next part.
func TestPartsOneCopyOfTheSet(t *testing.T) {
	c := &Client{}
	c.SetMaxSetLength(100)
	var inOrder, noOrder Set
	inOrder.UID, noOrder.UID = true, true
	for i := uint32(1); i <= 2000; i++ {
		inOrder.Nums.AddNum(3 * i)
		noOrder.Nums.Append(wire.SeqRange{Start: 3 * (2001 - i), Stop: 3 * (2001 - i)})
	}
	for _, tc := range []struct {
		name string
		set  Set
	}{{"canonical", inOrder}, {"descending", noOrder}} {
		set := Set{UID: true, Nums: tc.set.Nums.Clone()}
		parts := c.parts(set)
		held := make([]string, len(parts))
		for k, p := range parts {
			held[k] = p.Nums.String()
		}
		if len(parts) < 50 {
			t.Fatalf("%s: %d parts; want at least 50", tc.name, len(parts))
		}
		list := testing.AllocsPerRun(10, func() {
			var l []Set
			for range parts {
				l = append(l, Set{})
			}
			partsListSink = l
		})
		if got := testing.AllocsPerRun(10, func() { c.parts(set) }); got > 1+list {
			t.Errorf("%s: cutting %d UIDs into %d parts made %v allocations; want at most %v (one copy of the set, and the list of parts)", tc.name, 2000, len(parts), got, 1+list)
		}
		// The caller reuses its set's memory for other numbers.
		set.Nums.Reset()
		for i := uint32(1); i <= 2000; i++ {
			set.Nums.AddNum(3*i + 1)
		}
		// A part added to (before its first range, shifting the others)
		// leaves the next as it was.
		parts[0].Nums.AddRange(1, 1)
		held[0] = "1," + held[0]
		for k, p := range parts {
			if got := p.Nums.String(); got != held[k] {
				t.Fatalf("%s: part %d holds %.40q... after the caller reused its set and part 0 was added 1 to; want %.40q...", tc.name, k, got, held[k])
			}
		}
	}
}

// partsListSink keeps the list TestPartsOneCopyOfTheSet builds to measure
// a list of parts' allocations, so that the list is used (staticcheck
// SA4010) and its growth is not optimised away.
var partsListSink []Set
