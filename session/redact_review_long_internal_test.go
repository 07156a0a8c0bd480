package session

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestPartialSuffixLongSecretsAllPaths compares partialSuffix, its scan
// (bytes.Index of the first 16 bytes, at every budget) and its automaton
// with the quadratic search, for secrets of 2 to 48 bytes over a
// two-letter alphabet: the scan's 16-byte path is taken only by secrets
// of 16 bytes or more, which TestRedactCutShowsOnlyWhatWholeLineShows
// (secrets of at most 7 bytes) never makes.
func TestPartialSuffixLongSecretsAllPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 99))
	word := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab"[r.IntN(2)]
		}
		return b
	}
	var fail []int32
	for range 200000 {
		s := word(2 + r.IntN(47))
		var b []byte
		if r.IntN(2) == 0 {
			b = append(word(r.IntN(40)), s[:r.IntN(len(s))]...)
		} else {
			b = word(r.IntN(90))
		}
		want := 0
		for k := min(len(b), len(s)-1); k > 0; k-- {
			if bytes.Equal(b[len(b)-k:], s[:k]) {
				want = k
				break
			}
		}
		var got int
		got, fail = partialSuffix(b, s, fail)
		if got != want {
			t.Fatalf("partialSuffix(%q, %q) = %d; want %d", b, s, got, want)
		}
		tail := b[max(0, len(b)-(len(s)-1)):]
		if len(tail) == 0 {
			continue
		}
		if got, _ := partialSuffixKMP(tail, s, fail); got != want {
			t.Fatalf("partialSuffixKMP(%q, %q) = %d; want %d", tail, s, got, want)
		}
		for _, budget := range []int{0, 1, 16, 40, 100, partialSuffixQuick + 16*len(tail), 1 << 20} {
			if got, ok := partialSuffixScan(tail, s, budget); ok && got != want {
				t.Fatalf("partialSuffixScan(%q, %q, %d) = %d; want %d", tail, s, budget, got, want)
			}
		}
	}
}

// TestRedactCutLongSecretsShowsOnlyWhatWholeLineShows is
// TestRedactCutShowsOnlyWhatWholeLineShows with secrets of up to 40 bytes
// (the 16-byte scan) and lines of up to 120, up to 5 secrets.
func TestRedactCutLongSecretsShowsOnlyWhatWholeLineShows(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 98))
	word := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab"[r.IntN(2)]
		}
		return b
	}
	for range 30000 {
		var x secrets
		var list [][]byte
		for range 1 + r.IntN(5) {
			s := word(2 + r.IntN(39))
			x.add(s)
			list = append(list, s)
		}
		line := word(r.IntN(60))
		// Plant secrets so that whole ones and cut ones are common.
		for range r.IntN(3) {
			s := list[r.IntN(len(list))]
			at := r.IntN(len(line) + 1)
			line = append(line[:at:at], append(append([]byte(nil), s...), line[at:]...)...)
		}
		c := r.IntN(len(line) + 1)
		got := x.redactCut(line[:c])
		whole := x.redact(line)
		if !bytes.HasPrefix(whole, got) {
			t.Fatalf("secrets %q: redactCut(%q) = %q, not a prefix of %q (the line %q redacted)", list, line[:c], got, whole, line)
		}
		if want := x.redact(line[:bruteCut(line[:c], list)]); !bytes.Equal(got, want) {
			t.Fatalf("secrets %q: redactCut(%q) = %q; want %q", list, line[:c], got, want)
		}
	}
}
