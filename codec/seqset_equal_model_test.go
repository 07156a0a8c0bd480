package codec_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestSeqSetEqualMatchesContains: Equal holds exactly when Contains
// agrees on every number (and on "*", Contains(0)), for random sets whose
// ranges end at small numbers, at the last few below 4294967295, at
// 4294967295 and at "*", in any order and grouping (several trailing
// ranges: "1:4294967295,*,5", "4294967294:4294967295,*,4294967295:*");
// and Intersect and Remove of equal sets give equal sets.
func TestSeqSetEqualMatchesContains(t *testing.T) {
	ends := []string{"1", "2", "3", "5", "4294967293", "4294967294", "4294967295", "*"}
	probes := []uint32{0, 1, 2, 3, 4, 5, 6, 4294967292, 4294967293, 4294967294, 4294967295}
	rnd := rand.New(rand.NewPCG(1, 2))
	gen := func() string {
		var parts []string
		for range 1 + rnd.IntN(4) {
			a, b := ends[rnd.IntN(len(ends))], ends[rnd.IntN(len(ends))]
			if rnd.IntN(2) == 0 {
				parts = append(parts, a)
			} else {
				parts = append(parts, a+":"+b)
			}
		}
		return strings.Join(parts, ",")
	}
	parse := func(s string) codec.SeqSet {
		set, err := codec.ParseSeqSet([]byte(s))
		if err != nil {
			t.Fatalf("ParseSeqSet(%q): %v", s, err)
		}
		return set
	}
	sameModel := func(a, b codec.SeqSet) bool {
		for _, n := range probes {
			if a.Contains(n) != b.Contains(n) {
				return false
			}
		}
		return true
	}
	equal := 0
	for i := range 20000 {
		as, bs := gen(), gen()
		a, b := parse(as), parse(bs)
		if got, want := a.Equal(b), sameModel(a, b); got != want || b.Equal(a) != got {
			t.Fatalf("%d: %q.Equal(%q) = %v (reversed %v); Contains agrees on every number: %v", i, as, bs, got, b.Equal(a), want)
		}
		if !a.Equal(b) {
			continue
		}
		equal++
		c := parse(gen())
		if x, y := a.Intersect(c), b.Intersect(c); !x.Equal(y) {
			t.Errorf("%q and %q equal, ∩ %q: %v and %v", as, bs, c, x, y)
		}
		if x, y := c.Intersect(a), c.Intersect(b); !x.Equal(y) {
			t.Errorf("%q and %q equal, %q ∩ them: %v and %v", as, bs, c, x, y)
		}
		x, y := c.Clone(), c.Clone()
		x.Remove(a)
		y.Remove(b)
		if !x.Equal(y) {
			t.Errorf("%q and %q equal, %q minus them: %v and %v", as, bs, c, x, y)
		}
		if rt := parse(a.String()); !rt.Equal(a) {
			t.Errorf("%q: String %q parsed back is not Equal", as, a.String())
		}
	}
	if equal < 100 {
		t.Fatalf("only %d equal pairs drawn", equal)
	}
	t.Logf("%d equal pairs", equal)
}
