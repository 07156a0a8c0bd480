package session

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestPartialSuffix compares partialSuffix, its automaton and its scan
// (whatever the scan's budget) with the obvious quadratic search on random
// strings over a small alphabet (many partial matches), one letter of
// which may be 15 times as frequent as the other.
func TestPartialSuffix(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 1))
	alphabet := "ab"
	word := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	for i := range 60000 {
		alphabet = "ab"
		b, s := word(r.IntN(12)), word(r.IntN(16))
		if i%3 != 0 { // past the scan's 16 bytes
			if i%3 == 2 { // its 16 bytes found at many places
				alphabet = "aaaaaaaaaaaaaaab"
			}
			b, s = word(r.IntN(60)), word(r.IntN(70))
			copy(s, b[r.IntN(len(b)+1):]) // more of s's start at b's end
		}
		want := 0
		for k := min(len(b), len(s)-1); k > 0; k-- {
			if bytes.Equal(b[len(b)-k:], s[:k]) {
				want = k
				break
			}
		}
		if got, _ := partialSuffix(b, s, nil); got != want {
			t.Fatalf("partialSuffix(%q, %q) = %d; want %d", b, s, got, want)
		}
		if len(s) < 2 || len(b) == 0 {
			continue
		}
		tail := b[max(0, len(b)-(len(s)-1)):]
		if got, _ := partialSuffixKMP(tail, s, nil); got != want {
			t.Fatalf("partialSuffixKMP(%q, %q) = %d; want %d", tail, s, got, want)
		}
		for _, budget := range []int{0, 3, 1 << 20} {
			if got, ok := partialSuffixScan(tail, s, budget); ok && got != want {
				t.Fatalf("partialSuffixScan(%q, %q, %d) = %d; want %d", tail, s, budget, got, want)
			}
		}
	}
}

// TestRedactCutSecretPastCut: a line cut in the middle of a secret shows
// none of it; a whole one is redacted.
func TestRedactCutSecretPastCut(t *testing.T) {
	var x secrets
	x.add([]byte("s3cret-password-long"))
	if got := string(x.redactCut([]byte("* OK echo s3cret-password-long and s3cret-pa"))); got != "* OK echo *** and " {
		t.Errorf("redactCut = %q", got)
	}
}

// TestRedactCutShowsOnlyWhatWholeLineShows: for random lines, cuts and
// secrets over a two-letter alphabet (secrets that start, end and overlap
// one another everywhere), redactCut of a line's start shows a prefix of
// what redact shows of the whole line (whatever comes past the cut: no
// byte of a secret that the whole line's redaction hides), and cuts no
// more than it must: at the latest cut that splits no whole secret and
// leaves out every end of the start that begins a secret (found by brute
// force).
func TestRedactCutShowsOnlyWhatWholeLineShows(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 2))
	word := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab"[r.IntN(2)]
		}
		return b
	}
	for range 50000 {
		var x secrets
		var list [][]byte
		for range 1 + r.IntN(3) {
			s := word(2 + r.IntN(6))
			x.add(s)
			list = append(list, s)
		}
		line := word(r.IntN(24))
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

// bruteCut is where redactCut should cut b: the latest n before every
// end of b that starts a secret (not all of it) and inside no whole
// secret in b.
func bruteCut(b []byte, list [][]byte) int {
	n := len(b)
	for _, s := range list {
		for k := min(len(b), len(s)-1); k > 0; k-- {
			if bytes.Equal(b[len(b)-k:], s[:k]) {
				n = min(n, len(b)-k)
				break
			}
		}
	}
	for ; n > 0; n-- {
		split := false
		for _, s := range list {
			for i := max(0, n-len(s)+1); i < n && i+len(s) <= len(b); i++ {
				split = split || bytes.Equal(b[i:i+len(s)], s)
			}
		}
		if !split {
			break
		}
	}
	return n
}
