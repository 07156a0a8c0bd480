package codec_test

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

func rg(start, stop uint32) wire.SeqRange { return wire.SeqRange{Start: start, Stop: stop} }

func mustSeqSet(t testing.TB, s string) codec.SeqSet {
	t.Helper()
	set, err := codec.ParseSeqSet([]byte(s))
	if err != nil {
		t.Fatalf("ParseSeqSet(%q) = %v", s, err)
	}
	return set
}

func TestParseSeqSet(t *testing.T) {
	tests := []struct {
		in     string
		ranges []wire.SeqRange
		str    string
	}{
		{"1", []wire.SeqRange{rg(1, 1)}, "1"},
		{"*", []wire.SeqRange{rg(0, 0)}, "*"},
		{"1:5,7,9:*", []wire.SeqRange{rg(1, 5), rg(7, 7), rg(9, 0)}, "1:5,7,9:*"},
		{"5:2", []wire.SeqRange{rg(2, 5)}, "2:5"},
		{"*:4", []wire.SeqRange{rg(4, 0)}, "4:*"},
		{"4:*", []wire.SeqRange{rg(4, 0)}, "4:*"},
		{"*:*", []wire.SeqRange{rg(0, 0)}, "*"},
		{"3:3", []wire.SeqRange{rg(3, 3)}, "3"},
		{"4294967295", []wire.SeqRange{rg(4294967295, 4294967295)}, "4294967295"},
		{"1:4294967295", []wire.SeqRange{rg(1, 4294967295)}, "1:4294967295"},
		{"4294967295,*", []wire.SeqRange{rg(4294967295, 4294967295), rg(0, 0)}, "4294967295,*"},
		// Kept as given; String is canonical.
		{"9,1:3", []wire.SeqRange{rg(9, 9), rg(1, 3)}, "1:3,9"},
		{"1,2,3", []wire.SeqRange{rg(1, 1), rg(2, 2), rg(3, 3)}, "1:3"},
		{"1:5,3:8,20,*", []wire.SeqRange{rg(1, 5), rg(3, 8), rg(20, 20), rg(0, 0)}, "1:8,20,*"},
		{"10:*,12,*", []wire.SeqRange{rg(10, 0), rg(12, 12), rg(0, 0)}, "10:*"},
	}
	for _, tt := range tests {
		s, err := codec.ParseSeqSet([]byte(tt.in))
		if err != nil {
			t.Errorf("ParseSeqSet(%q) = %v; want nil error", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.ranges, s.Ranges()); diff != "" {
			t.Errorf("ParseSeqSet(%q).Ranges() mismatch (-want +got):\n%s", tt.in, diff)
		}
		if got := s.String(); got != tt.str {
			t.Errorf("ParseSeqSet(%q).String() = %q; want %q", tt.in, got, tt.str)
		}
		if got := string(s.AppendTo([]byte("x "))); got != "x "+tt.str {
			t.Errorf("ParseSeqSet(%q).AppendTo(\"x \") = %q; want %q", tt.in, got, "x "+tt.str)
		}
	}
}

func TestParseSeqSetErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
	}{
		{"", 0},
		{"0", 0},
		{"1:0", 2},
		{"01", 0},
		{"4294967296", 0},
		{"99999999999999999999999", 0},
		{"1,", 2},
		{",1", 0},
		{"1:", 2},
		{":1", 0},
		{"1 ", 1},
		{" 1", 0},
		{"1:2:3", 3},
		{"1,,2", 2},
		{"a", 0},
		{"$", 0},
		{"**", 1},
		{"1:*:", 3},
		{"-1", 0},
	}
	for _, tt := range tests {
		s, err := codec.ParseSeqSet([]byte(tt.in))
		var se *codec.SeqSetError
		if !errors.As(err, &se) {
			t.Errorf("ParseSeqSet(%q) = %v, %v; want *SeqSetError", tt.in, s, err)
			continue
		}
		if se.Offset != tt.offset {
			t.Errorf("ParseSeqSet(%q) error offset = %d; want %d (%v)", tt.in, se.Offset, tt.offset, err)
		}
		if !strings.HasPrefix(err.Error(), "codec: ") {
			t.Errorf("ParseSeqSet(%q) error = %q; want prefix \"codec: \"", tt.in, err)
		}
		if !s.IsEmpty() {
			t.Errorf("ParseSeqSet(%q) on error = %v; want empty set", tt.in, s)
		}
	}
}

func TestSeqSetParseIntoResetsOnError(t *testing.T) {
	s := mustSeqSet(t, "1:5")
	if err := s.ParseInto([]byte("7,x")); err == nil {
		t.Fatalf("ParseInto(\"7,x\") = nil; want error")
	}
	if !s.IsEmpty() {
		t.Errorf("after failed ParseInto, s = %v; want empty", s)
	}
}

// TestSeqSetParseIntoErrorForgetsOrder: a ParseInto that fails after
// ranges out of order leaves s empty and canonical, as Reset does: ranges
// appended after it in ascending order are taken as canonical, so that
// Intersect does not sort a copy of them at each call (a QRESYNC select's
// KnownUIDs are met with each VANISHED (EARLIER) line).
func TestSeqSetParseIntoErrorForgetsOrder(t *testing.T) {
	var s codec.SeqSet
	if err := s.ParseInto([]byte("9,1,x")); err == nil {
		t.Fatalf("ParseInto(\"9,1,x\") = nil; want error")
	}
	for i := uint32(1); i <= 100; i++ {
		s.Append(wire.SeqRange{Start: 2 * i, Stop: 2 * i})
	}
	one := codec.SeqSetOf(wire.SeqRange{Start: 100, Stop: 100})
	if a := testing.AllocsPerRun(100, func() { s.Intersect(one) }); a != 1 {
		t.Errorf("after a failed ParseInto, evens to 200 appended in order ∩ 100: %v allocations; want 1 (the result)", a)
	}
}

func TestSeqSetAdd(t *testing.T) {
	tests := []struct {
		name string
		add  func(s *codec.SeqSet)
		want string
	}{
		{"ascending nums", func(s *codec.SeqSet) { s.AddNum(1, 2, 3, 5, 6, 9) }, "1:3,5:6,9"},
		{"descending nums", func(s *codec.SeqSet) { s.AddNum(9, 6, 5, 3, 2, 1) }, "1:3,5:6,9"},
		{"fill gap", func(s *codec.SeqSet) { s.AddNum(1, 3); s.AddNum(2) }, "1:3"},
		{"duplicates", func(s *codec.SeqSet) { s.AddNum(4, 4, 4) }, "4"},
		{"bridge ranges", func(s *codec.SeqSet) {
			s.AddRange(1, 3)
			s.AddRange(10, 12)
			s.AddRange(20, 22)
			s.AddRange(4, 19)
		}, "1:22"},
		{"overlap several", func(s *codec.SeqSet) {
			s.AddRange(5, 6)
			s.AddRange(8, 9)
			s.AddRange(11, 12)
			s.AddRange(30, 31)
			s.AddRange(7, 10)
		}, "5:12,30:31"},
		{"insert in middle", func(s *codec.SeqSet) { s.AddNum(1, 10); s.AddNum(5) }, "1,5,10"},
		{"reversed range", func(s *codec.SeqSet) { s.AddRange(9, 3) }, "3:9"},
		{"contained", func(s *codec.SeqSet) { s.AddRange(1, 100); s.AddRange(5, 6) }, "1:100"},
		{"covering", func(s *codec.SeqSet) { s.AddNum(5, 7, 9); s.AddRange(1, 100) }, "1:100"},
		{"star", func(s *codec.SeqSet) { s.AddNum(0) }, "*"},
		{"star absorbs", func(s *codec.SeqSet) { s.AddNum(3, 7, 0); s.AddRange(5, 0) }, "3,5:*"},
		{"star and max", func(s *codec.SeqSet) { s.AddNum(0, 4294967295) }, "4294967295,*"},
		{"max adjacent", func(s *codec.SeqSet) { s.AddNum(4294967295, 4294967294) }, "4294967294:4294967295"},
		{"range to star", func(s *codec.SeqSet) { s.AddRange(0, 4) }, "4:*"},
		{"adjacent below", func(s *codec.SeqSet) { s.AddRange(5, 9); s.AddRange(1, 4) }, "1:9"},
		{"adjacent above", func(s *codec.SeqSet) { s.AddRange(5, 9); s.AddRange(1, 2); s.AddRange(10, 12) }, "1:2,5:12"},
	}
	for _, tt := range tests {
		var s codec.SeqSet
		tt.add(&s)
		if got := s.String(); got != tt.want {
			t.Errorf("%s: String() = %q; want %q", tt.name, got, tt.want)
		}
		// Added sets are kept canonical: Ranges is the canonical form.
		if got := string(wire.AppendSeqSet(nil, s.Ranges())); got != tt.want {
			t.Errorf("%s: Ranges() = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestSeqSetAddToParsedCompacts(t *testing.T) {
	s := mustSeqSet(t, "9,1:3,2")
	s.AddNum(4)
	want := []wire.SeqRange{rg(1, 4), rg(9, 9)}
	if diff := cmp.Diff(want, s.Ranges()); diff != "" {
		t.Errorf("AddNum(4) on %q: Ranges() mismatch (-want +got):\n%s", "9,1:3,2", diff)
	}
}

func TestSeqSetContains(t *testing.T) {
	tests := []struct {
		set  string
		in   []uint32
		out  []uint32
		star bool
	}{
		{"1:5,7,9:*", []uint32{1, 3, 5, 7, 9, 10, 4294967295}, []uint32{6, 8}, true},
		{"*", nil, []uint32{1, 4294967295}, true},
		{"3:1", []uint32{1, 2, 3}, []uint32{4}, false},
		{"20,1:3,10", []uint32{1, 3, 10, 20}, []uint32{4, 9, 11, 19, 21}, false}, // not canonical: linear
		{"1,3,5,7,9,11", []uint32{1, 5, 11}, []uint32{2, 6, 10, 12}, false},
	}
	for _, tt := range tests {
		s := mustSeqSet(t, tt.set)
		for _, n := range tt.in {
			if !s.Contains(n) {
				t.Errorf("ParseSeqSet(%q).Contains(%d) = false; want true", tt.set, n)
			}
		}
		for _, n := range tt.out {
			if s.Contains(n) {
				t.Errorf("ParseSeqSet(%q).Contains(%d) = true; want false", tt.set, n)
			}
		}
		if got := s.Contains(0); got != tt.star {
			t.Errorf("ParseSeqSet(%q).Contains(0) = %v; want %v", tt.set, got, tt.star)
		}
		if got := s.Dynamic(); got != tt.star {
			t.Errorf("ParseSeqSet(%q).Dynamic() = %v; want %v", tt.set, got, tt.star)
		}
	}
}

func TestSeqSetLenNums(t *testing.T) {
	tests := []struct {
		set   string
		n     uint64
		nums  []uint32
		dyn   bool
		count int // numbers yielded by All
	}{
		{"1:3,5", 4, []uint32{1, 2, 3, 5}, false, 4},
		{"5,1:3", 4, []uint32{5, 1, 2, 3}, false, 4}, // order as sent (COPYUID)
		{"1:3,2:4", 4, []uint32{1, 2, 3, 2, 3, 4}, false, 6},
		{"4294967294:4294967295", 2, []uint32{4294967294, 4294967295}, false, 2},
		{"1:3,7:*", 0, nil, true, 3},
		{"1:4294967295", 4294967295, nil, false, -1},
	}
	for _, tt := range tests {
		s := mustSeqSet(t, tt.set)
		n, ok := s.Len()
		if ok == tt.dyn || n != tt.n {
			t.Errorf("ParseSeqSet(%q).Len() = %d, %v; want %d, %v", tt.set, n, ok, tt.n, !tt.dyn)
		}
		if tt.count < 0 {
			continue
		}
		nums, ok := s.Nums()
		if ok == tt.dyn || !slices.Equal(nums, tt.nums) {
			t.Errorf("ParseSeqSet(%q).Nums() = %v, %v; want %v, %v", tt.set, nums, ok, tt.nums, !tt.dyn)
		}
		count := 0
		for range s.All {
			count++
		}
		if count != tt.count {
			t.Errorf("ParseSeqSet(%q).All yielded %d numbers; want %d", tt.set, count, tt.count)
		}
	}
}

func TestSeqSetAllBreak(t *testing.T) {
	s := mustSeqSet(t, "1:1000000")
	var got []uint32
	for n := range s.All {
		got = append(got, n)
		if n == 3 {
			break
		}
	}
	if want := []uint32{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("All with break = %v; want %v", got, want)
	}
}

func TestSeqSetCompactEqualCloneReset(t *testing.T) {
	a := mustSeqSet(t, "7,1:3,2:5,*,9:8")
	b := mustSeqSet(t, "1:5,7:9,*")
	if !a.Equal(b) || !b.Equal(a) {
		t.Errorf("%q.Equal(%q) = false; want true", "7,1:3,2:5,*,9:8", "1:5,7:9,*")
	}
	if c := mustSeqSet(t, "1:5,7:9"); a.Equal(c) {
		t.Errorf("Equal ignored \"*\"")
	}
	c := a.Clone()
	a.Compact()
	if diff := cmp.Diff([]wire.SeqRange{rg(1, 5), rg(7, 9), rg(0, 0)}, a.Ranges()); diff != "" {
		t.Errorf("Compact() mismatch (-want +got):\n%s", diff)
	}
	if got := string(wire.AppendSeqSet(nil, c.Ranges())); got != "7,1:3,2:5,*,8:9" {
		t.Errorf("Clone changed by Compact of the original: %q", got)
	}
	a.Reset()
	if !a.IsEmpty() || a.String() != "" {
		t.Errorf("after Reset, s = %q; want empty", a.String())
	}
	a.AddNum(2)
	if a.String() != "2" {
		t.Errorf("AddNum after Reset: %q; want \"2\"", a.String())
	}
	var zero codec.SeqSet
	if !zero.IsEmpty() || zero.Contains(1) || zero.Dynamic() {
		t.Errorf("zero SeqSet is not empty")
	}
	if n, ok := zero.Len(); n != 0 || !ok {
		t.Errorf("zero SeqSet Len() = %d, %v; want 0, true", n, ok)
	}
}

// TestSeqSetAddRandom checks AddNum/AddRange against a bitmap model.
func TestSeqSetAddRandom(t *testing.T) {
	seed := uint64(1)
	rnd := func(n uint64) uint32 { // xorshift, deterministic
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return uint32(seed % n)
	}
	for iter := 0; iter < 300; iter++ {
		var s codec.SeqSet
		model := make([]bool, 202)
		for k := 0; k < 1+int(rnd(30)); k++ {
			a, b := rnd(200)+1, rnd(200)+1
			if rnd(3) == 0 {
				b = a
			}
			s.AddRange(a, b)
			lo, hi := min(a, b), max(a, b)
			for v := lo; v <= hi; v++ {
				model[v] = true
			}
		}
		var want codec.SeqSet
		for v := uint32(1); v <= 200; v++ {
			if model[v] != s.Contains(v) {
				t.Fatalf("iter %d: %q.Contains(%d) = %v; want %v", iter, s.String(), v, !model[v], model[v])
			}
			if model[v] {
				want.AddNum(v)
			}
		}
		if s.String() != want.String() {
			t.Fatalf("iter %d: got %q; want %q", iter, s.String(), want.String())
		}
		// Canonical: each range separated from the next by a gap.
		r := s.Ranges()
		for i := 1; i < len(r); i++ {
			if r[i].Start <= r[i-1].Stop+1 {
				t.Fatalf("iter %d: ranges not canonical: %v", iter, r)
			}
		}
		// Round trip through the wire form.
		if p := mustSeqSet(t, s.String()); !p.Equal(s) || p.String() != s.String() {
			t.Fatalf("iter %d: parse(%q) = %q", iter, s.String(), p.String())
		}
	}
}

func TestSeqSetParseIntoAllocs(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 100000; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i * 2))
	}
	in := []byte(b.String())
	var s codec.SeqSet
	if err := s.ParseInto(in); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		if err := s.ParseInto(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseInto(100,000 UIDs) allocs = %v; want 0", allocs)
	}
	if got := len(s.Ranges()); got != 100000 {
		t.Errorf("len(Ranges()) = %d; want 100000", got)
	}
	if !s.Contains(200000) || s.Contains(199999) {
		t.Errorf("Contains wrong on a large set")
	}
	var out []byte
	out = s.AppendTo(out)
	if allocs := testing.AllocsPerRun(10, func() { out = s.AppendTo(out[:0]) }); allocs != 0 {
		t.Errorf("AppendTo on a canonical set allocs = %v; want 0", allocs)
	}
}

// TestSeqSetOverlaps compares Overlaps with a brute force over 1..40 and
// "*", for random sets built in order (canonical) and parsed as sent
// (not canonical), with single numbers, ranges, x:* and a lone *.
func TestSeqSetOverlaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	num := func() uint32 {
		if rng.IntN(8) == 0 {
			return 0 // "*"
		}
		return uint32(1 + rng.IntN(40))
	}
	gen := func() (codec.SeqSet, string) {
		var parts []string
		for range 1 + rng.IntN(4) {
			a, b := num(), num()
			str := func(n uint32) string {
				if n == 0 {
					return "*"
				}
				return strconv.Itoa(int(n))
			}
			if rng.IntN(2) == 0 {
				parts = append(parts, str(a))
			} else {
				parts = append(parts, str(a)+":"+str(b))
			}
		}
		text := strings.Join(parts, ",")
		var parsed codec.SeqSet
		if err := parsed.ParseInto([]byte(text)); err != nil {
			t.Fatalf("ParseInto(%q): %v", text, err)
		}
		return parsed, text
	}
	for range 5000 {
		s, st := gen()
		u, ut := gen()
		want := false
		for n := uint32(0); n <= 40 && !want; n++ {
			want = s.Contains(n) && u.Contains(n)
		}
		if got := s.Overlaps(u); got != want {
			t.Fatalf("%q overlaps %q: %v, want %v", st, ut, got, want)
		}
		cs, cu := s.Clone(), u.Clone()
		cs.Compact()
		cu.Compact()
		if got := cs.Overlaps(cu); got != want {
			t.Fatalf("compacted %q overlaps %q: %v, want %v", st, ut, got, want)
		}
	}
}

// TestSeqSetAddBulk: AddNum and AddRanges, which sort once when numbers
// come out of order, give the set that adding each with AddRange gives,
// from empty, canonical and parsed (unsorted) sets alike, "*" included; and
// AddRanges leaves its argument as it was.
func TestSeqSetAddBulk(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	num := func() uint32 {
		if rng.IntN(20) == 0 {
			return 0 // "*"
		}
		return uint32(rng.IntN(300) + 1)
	}
	for iter := range 2000 {
		var start codec.SeqSet
		switch rng.IntN(3) {
		case 1:
			for range rng.IntN(10) {
				start.AddRange(num(), num())
			}
		case 2:
			start = mustSeqSet(t, "250,3:9,100:120,7,1")
		}
		nums := make([]uint32, rng.IntN(40))
		for i := range nums {
			nums[i] = num()
		}
		ranges := make([]wire.SeqRange, rng.IntN(20))
		for i := range ranges {
			ranges[i] = wire.SeqRange{Start: num(), Stop: num()}
		}
		kept := slices.Clone(ranges)

		want, got := start.Clone(), start.Clone()
		for _, n := range nums {
			want.AddRange(n, n)
		}
		got.AddNum(nums...)
		if got.String() != want.String() {
			t.Fatalf("iter %d: %q.AddNum(%v) = %q; one by one %q", iter, start.String(), nums, got.String(), want.String())
		}
		for _, r := range ranges {
			want.AddRange(r.Start, r.Stop)
		}
		got.AddRanges(ranges...)
		if got.String() != want.String() || !slices.Equal(ranges, kept) {
			t.Fatalf("iter %d: AddRanges(%v) = %q; one by one %q", iter, kept, got.String(), want.String())
		}
		if r := got.Ranges(); !slices.Equal(r, want.Ranges()) {
			t.Fatalf("iter %d: ranges %v, want %v (canonical)", iter, r, want.Ranges())
		}
	}
}

// BenchmarkSeqSetAddDescending adds 100,000 UIDs in descending order, as a
// server may send a SEARCH: one sort, where adding them one by one shifts
// every range each time (quadratic: 80,000 took 270 ms, a million an hour).
func BenchmarkSeqSetAddDescending(b *testing.B) {
	nums := make([]uint32, 100000)
	for i := range nums {
		nums[i] = uint32(2 * (len(nums) - i))
	}
	b.ReportAllocs()
	for b.Loop() {
		var s codec.SeqSet
		s.AddNum(nums...)
	}
}

// TestSeqSetOf checks SeqSetOf against AddRanges on random ranges, "*"
// and reversed bounds included, in order and not, and that it makes one
// allocation and leaves its argument as it was.
func TestSeqSetOf(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	if s := codec.SeqSetOf(); !s.IsEmpty() {
		t.Fatalf("SeqSetOf(): %q", s.String())
	}
	for iter := 0; iter < 2000; iter++ {
		rs := make([]wire.SeqRange, rnd.IntN(40))
		next := uint32(1)
		ascending := iter%2 == 0
		for i := range rs {
			a := rnd.Uint32N(300)
			if ascending {
				a = next + rnd.Uint32N(4)
				next = a + rnd.Uint32N(5) + 2
			}
			b := a + rnd.Uint32N(5)
			if rnd.IntN(10) == 0 {
				b = 0 // "*"
			}
			if rnd.IntN(2) == 0 {
				a, b = b, a
			}
			rs[i] = rg(a, b)
		}
		before := slices.Clone(rs)
		got := codec.SeqSetOf(rs...)
		var want codec.SeqSet
		want.AddRanges(rs...)
		if !slices.Equal(got.Ranges(), want.Ranges()) {
			t.Fatalf("SeqSetOf(%v) = %v; want %v", before, got.Ranges(), want.Ranges())
		}
		if !slices.Equal(rs, before) {
			t.Fatalf("SeqSetOf changed its argument: %v, was %v", rs, before)
		}
	}
	rs := []wire.SeqRange{rg(1, 3), rg(5, 5), rg(9, 0)}
	if n := testing.AllocsPerRun(100, func() { codec.SeqSetOf(rs...) }); n != 1 {
		t.Fatalf("SeqSetOf: %v allocations; want 1", n)
	}
}

// TestSeqSetAppend: Append keeps the order given (as a parse keeps the
// peer's), for COPYUIDs joined from several commands; the canonical forms
// (String, Equal, Contains, Len) see the set sorted, and the additions
// that keep a set canonical compact it first.
func TestSeqSetAppend(t *testing.T) {
	s, err := codec.ParseSeqSet([]byte("7,3"))
	if err != nil {
		t.Fatal(err)
	}
	s.Append(wire.SeqRange{Start: 9, Stop: 8}, wire.SeqRange{Start: 1, Stop: 1})
	want := []wire.SeqRange{{Start: 7, Stop: 7}, {Start: 3, Stop: 3}, {Start: 8, Stop: 9}, {Start: 1, Stop: 1}}
	if got := s.Ranges(); !slices.Equal(got, want) {
		t.Errorf("Ranges %v; want %v", got, want)
	}
	if n, ok := s.Len(); s.String() != "1,3,7:9" || !ok || n != 5 || !s.Contains(8) || s.Contains(2) {
		t.Errorf("canonical view: %s, %d", s, n)
	}
	var a codec.SeqSet
	a.Append(wire.SeqRange{Start: 1, Stop: 2}, wire.SeqRange{Start: 5, Stop: 5})
	a.AddRange(3, 3) // canonical still: merges
	if got := a.Ranges(); !slices.Equal(got, []wire.SeqRange{{Start: 1, Stop: 3}, {Start: 5, Stop: 5}}) {
		t.Errorf("ascending appends then AddRange: %v", got)
	}
	a.Append(wire.SeqRange{Start: 4, Stop: 4})
	a.AddRange(9, 9)
	var j codec.SeqSet
	j.Append(wire.SeqRange{Start: 1, Stop: 1711}, wire.SeqRange{Start: 1712, Stop: 2000}, wire.SeqRange{Start: 7, Stop: 7}, wire.SeqRange{Start: 8, Stop: 0}, wire.SeqRange{Start: 9, Stop: 9})
	if got := j.Ranges(); !slices.Equal(got, []wire.SeqRange{{Start: 1, Stop: 2000}, {Start: 7, Stop: 0}, {Start: 9, Stop: 9}}) {
		t.Errorf("a range going on from the last joins it (none goes on from *): %v", got)
	}
	if got := a.Ranges(); !slices.Equal(got, []wire.SeqRange{{Start: 1, Stop: 5}, {Start: 9, Stop: 9}}) {
		t.Errorf("an adjacent append then AddRange: %v", got)
	}
}

// TestSeqSetRemove: the set difference, "*" as a number above every other
// (SeqSet's model), the result canonical, t left alone.
func TestSeqSetRemove(t *testing.T) {
	for _, c := range []struct{ s, t, want string }{
		{"1:10", "3:4,8", "1:2,5:7,9:10"},
		{"1:*", "5", "1:4,6:*"},
		{"1:*", "5:*", "1:4"},
		{"1:*", "*", "1:4294967295"},
		{"1:*", "4294967295", "1:4294967294,*"},
		{"1:*", "4294967295:*", "1:4294967294"},
		{"*", "1:100", "*"},
		{"*", "100:*", ""},
		{"7,3,1:2", "2:3", "1,7"}, // not canonical: compacted first
		{"1:5", "10:20", "1:5"},
		{"1:5", "1:5", ""},
		{"10:20", "1:5,15,25:*", "10:14,16:20"},
	} {
		s := mustSeqSet(t, c.s)
		tt := mustSeqSet(t, c.t)
		before := tt.String()
		s.Remove(tt)
		if got := s.String(); got != c.want {
			t.Errorf("%s minus %s = %q; want %q", c.s, c.t, got, c.want)
		}
		if tt.String() != before {
			t.Errorf("%s minus %s changed t to %s", c.s, c.t, tt.String())
		}
	}
	var empty codec.SeqSet
	empty.Remove(mustSeqSet(t, "1:5"))
	if !empty.IsEmpty() {
		t.Errorf("empty minus 1:5 = %s", empty.String())
	}
}

// TestSeqSetRemoveRandom checks Remove against Contains on random sets,
// "*" among them.
func TestSeqSetRemoveRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	num := func() uint32 {
		if rng.IntN(12) == 0 {
			return 0 // "*"
		}
		return uint32(rng.IntN(60) + 1)
	}
	set := func() codec.SeqSet {
		var s codec.SeqSet
		rs := make([]wire.SeqRange, rng.IntN(5))
		for i := range rs {
			rs[i] = rg(num(), num())
		}
		s.Append(rs...) // unsorted, as a peer may write it
		return s
	}
	probes := []uint32{0, 4294967295, 4294967294, 61, 62, 100}
	for n := uint32(1); n <= 60; n++ {
		probes = append(probes, n)
	}
	for iter := 0; iter < 2000; iter++ {
		s, tt := set(), set()
		r := s.Clone()
		r.Remove(tt)
		for _, p := range probes {
			if want := s.Contains(p) && !tt.Contains(p); r.Contains(p) != want {
				t.Fatalf("(%s minus %s = %s).Contains(%d) = %v; want %v", s.String(), tt.String(), r.String(), p, !want, want)
			}
		}
		rs := r.Ranges()
		for i := 1; i < len(rs); i++ {
			if rs[i-1].Stop == 0 || (rs[i].Start != 0 && rs[i].Start <= rs[i-1].Stop+1) {
				t.Fatalf("%s minus %s: not canonical: %v", s.String(), tt.String(), rs)
			}
		}
	}
}

// TestSeqSetRemoveAllocs: Remove allocates its result once, however many
// ranges t splits s into (the review of this stop: a capacity of one more
// range than s grew the slice three times for 1:100 minus 2,4,6,8).
func TestSeqSetRemoveAllocs(t *testing.T) {
	tt := mustSeqSet(t, "2,4,6,8")
	allocs := testing.AllocsPerRun(100, func() {
		s := codec.SeqSetOf(rg(1, 100))
		s.Remove(tt)
	})
	if allocs > 2 { // SeqSetOf's slice, Remove's
		t.Errorf("%v allocations; want 2", allocs)
	}
}

// TestSeqSetRemoveLargeT: a t of a million ranges that touch s nowhere
// costs s nothing more than its result (the second review of this stop:
// the result was sized for every range of t, 8 MB for {5}).
func TestSeqSetRemoveLargeT(t *testing.T) {
	var tt codec.SeqSet
	for i := uint32(0); i < 1_000_000; i++ {
		tt.Append(rg(100+2*i, 100+2*i))
	}
	var s codec.SeqSet
	s.AddNum(5)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s.Remove(tt)
	runtime.ReadMemStats(&m1)
	if got := s.String(); got != "5" {
		t.Fatalf("5 minus far ranges = %q", got)
	}
	if b := m1.TotalAlloc - m0.TotalAlloc; b > 1024 {
		t.Errorf("Remove allocated %d bytes for a one-range result", b)
	}
}
