package session

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestPartialSuffix compares partialSuffix with the obvious quadratic
// search on random strings over a small alphabet (many partial matches).
func TestPartialSuffix(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 1))
	word := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab"[r.IntN(2)]
		}
		return b
	}
	for range 20000 {
		b, s := word(r.IntN(12)), word(r.IntN(16))
		want := 0
		for k := min(len(b), len(s)-1); k > 0; k-- {
			if bytes.Equal(b[len(b)-k:], s[:k]) {
				want = k
				break
			}
		}
		if got := partialSuffix(b, s); got != want {
			t.Fatalf("partialSuffix(%q, %q) = %d; want %d", b, s, got, want)
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
