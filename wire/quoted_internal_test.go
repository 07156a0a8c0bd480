package wire

import (
	"encoding/binary"
	"math/bits"
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

// TestQuotedMask checks AppendLine's inline first step of the quoted scan
// against a plain loop: the lowest flagged byte of a word is the first
// '"', '\\' or control byte below 0x0e, and the mask is zero without one.
func TestQuotedMask(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alphabet := []byte{'"', '\\', '\r', '\n', '\t', 0, 0x0d, 0x0e, 0x0f, 0x21, 0x22 ^ 0x80, 0x5c ^ 0x80, 0x8d, 0xff, 'a'}
	var b [8]byte
	for n := 0; n < 200000; n++ {
		for i := range b {
			if rng.Intn(3) == 0 {
				b[i] = alphabet[rng.Intn(len(alphabet))]
			} else {
				b[i] = byte(rng.Intn(256))
			}
		}
		want := 8
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x0e {
				want = i
				break
			}
		}
		m := quotedMask(binary.LittleEndian.Uint64(b[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) / 8
		}
		if got != want {
			t.Fatalf("quotedMask(% x): first stop at %d; want %d", b, got, want)
		}
	}
}
