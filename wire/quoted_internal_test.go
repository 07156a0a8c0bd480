package wire

import (
	"math/rand"
	"testing"
)

// TestQuotedStop checks the eight-bytes-at-a-time scan against a plain
// loop on random data dense in the bytes it looks for.
func TestQuotedStop(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte{'"', '\\', '\r', '\n', 'a', 0, 0x80, 0xff, 0x22 ^ 0x80, '!', '#', 0x0c, 0x5b}
	for n := 0; n < 20000; n++ {
		b := make([]byte, rng.Intn(40))
		for i := range b {
			if rng.Intn(4) == 0 {
				b[i] = alphabet[rng.Intn(len(alphabet))]
			} else {
				b[i] = byte(rng.Intn(256))
			}
		}
		start := 0
		if len(b) > 0 {
			start = rng.Intn(len(b) + 1)
		}
		want := start
		for want < len(b) && b[want] != '"' && b[want] != '\\' && b[want] != '\r' && b[want] != '\n' {
			want++
		}
		if got := quotedStop(b, start); got != want {
			t.Fatalf("quotedStop(%q, %d) = %d; want %d", b, start, got, want)
		}
	}
}
