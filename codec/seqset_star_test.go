package codec_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestSeqSetEqualStarAndLargest: "*" is the largest number in use (RFC
// 9051 section 9, seq-number), never above 4294967295, so x:* and
// x:4294967295,* name the same messages in every mailbox (those from x
// to the last, the last alone when x is past it), and they hold the same
// numbers in SeqSet's model: Contains, Len, Dynamic, Overlaps, Intersect
// and Remove take them alike, and Equal must too. It did not: it
// compared the canonical ranges, where 4294967295 and "*" are kept apart
// (x:4294967295,* stays two ranges). Sets that differ by the last number
// in use ("*" alone is not 4294967295; x:4294967295 without "*" misses a
// last message below x) stay unequal.
func TestSeqSetEqualStarAndLargest(t *testing.T) {
	same := [][2]string{
		{"1:*", "1:4294967295,*"},
		{"5:*", "*,5:4294967295"},
		{"4294967295:*", "4294967295,*"},
		{"*:4294967295", "*,4294967295"},
		{"1:3,7:*", "7:4294967295,1:3,*"},
		{"1:3,4294967295:*", "1:3,4294967295,*"},
		{"3:*", "3:10,11:4294967295,*"},
	}
	differ := [][2]string{
		{"1:*", "1:4294967295"},
		{"*", "4294967295"},
		{"5:*", "5:4294967294,*"},
		{"5:*", "6:4294967295,*"},
		{"4294967295:*", "4294967295"},
		{"1:3,7:*", "1:3,7:4294967295"},
	}
	probes := []string{"*", "4294967295", "4294967294", "1", "5", "6", "7:9", "3:*", "4294967295:*", "1:4294967295", "2,4294967294:4294967295"}
	nums := []uint32{0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 4294967294, 4294967295}
	parse := func(s string) codec.SeqSet {
		t.Helper()
		set, err := codec.ParseSeqSet([]byte(s))
		if err != nil {
			t.Fatalf("ParseSeqSet(%q): %v", s, err)
		}
		return set
	}
	for _, p := range same {
		a, b := parse(p[0]), parse(p[1])
		if !a.Equal(b) || !b.Equal(a) {
			t.Errorf("%q.Equal(%q) = %v, reversed %v; want true (the same set)", p[0], p[1], a.Equal(b), b.Equal(a))
		}
		for _, n := range nums {
			if a.Contains(n) != b.Contains(n) {
				t.Errorf("Contains(%d): %q %v, %q %v", n, p[0], a.Contains(n), p[1], b.Contains(n))
			}
		}
		if na, oka := a.Len(); true {
			if nb, okb := b.Len(); na != nb || oka != okb || a.Dynamic() != b.Dynamic() {
				t.Errorf("Len, Dynamic: %q %d %v %v, %q %d %v %v", p[0], na, oka, a.Dynamic(), p[1], nb, okb, b.Dynamic())
			}
		}
		for _, q := range probes {
			pr := parse(q)
			if a.Overlaps(pr) != b.Overlaps(pr) {
				t.Errorf("Overlaps(%q): %q %v, %q %v", q, p[0], a.Overlaps(pr), p[1], b.Overlaps(pr))
			}
			if ia, ib := a.Intersect(pr), b.Intersect(pr); !ia.Equal(ib) {
				t.Errorf("Intersect(%q): %q gives %v, %q gives %v", q, p[0], ia, p[1], ib)
			}
			if ia, ib := pr.Intersect(a), pr.Intersect(b); !ia.Equal(ib) {
				t.Errorf("%q.Intersect: %q gives %v, %q gives %v", q, p[0], ia, p[1], ib)
			}
			ra, rb := a.Clone(), b.Clone()
			ra.Remove(pr)
			rb.Remove(pr)
			if !ra.Equal(rb) {
				t.Errorf("Remove(%q): from %q leaves %v, from %q %v", q, p[0], ra, p[1], rb)
			}
			ra, rb = pr.Clone(), pr.Clone()
			ra.Remove(a)
			rb.Remove(b)
			if !ra.Equal(rb) {
				t.Errorf("%q.Remove: %q leaves %v, %q %v", q, p[0], ra, p[1], rb)
			}
		}
	}
	for _, p := range differ {
		if a, b := parse(p[0]), parse(p[1]); a.Equal(b) || b.Equal(a) {
			t.Errorf("%q.Equal(%q) = true; want false (they differ by the last number in use)", p[0], p[1])
		}
	}
}
