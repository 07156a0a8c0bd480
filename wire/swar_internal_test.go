package wire

import (
	"encoding/binary"
	"math/bits"
	"math/rand"
	"testing"
)

// swarCase is one SWAR scan: its mask, its scan and the plain test of a
// byte that ends it.
type swarCase struct {
	name string
	mask func(uint64) uint64
	stop func([]byte, int) int
	ends func(byte) bool
}

var swarCases = []swarCase{
	{"quoted", quotedMask, quotedStop, func(c byte) bool { return c == '"' || c == '\\' || c < 0x0e }},
	{"atom", atomMask, atomStop, func(c byte) bool {
		switch c {
		case '"', '(', ')', '[', ']', '{', 0x7f:
			return true
		}
		return c < 0x21
	}},
	{"digit", digitMask, digitStop, func(c byte) bool { return c < '0' || c > '9' }},
}

// naiveStop is the plain loop a SWAR scan must agree with.
func naiveStop(b []byte, i int, ends func(byte) bool) int {
	for i < len(b) && !ends(b[i]) {
		i++
	}
	return i
}

// maskStop is the index of the first byte a mask flags, 8 for none.
func maskStop(mask func(uint64) uint64, w []byte) int {
	m := mask(binary.LittleEndian.Uint64(w))
	if m == 0 {
		return 8
	}
	return bits.TrailingZeros64(m) / 8
}

// TestSWAR checks the eight-bytes-at-a-time scans against plain loops:
// every byte value at every position of a word, after and before every
// other byte value (a borrow or carry crosses into the next byte), at
// every alignment of a longer buffer, and on random bytes dense in the
// values each scan looks for.
func TestSWAR(t *testing.T) {
	for _, sc := range swarCases {
		t.Run(sc.name, func(t *testing.T) {
			// The atom bytes of Next are exactly the bytes that do not end
			// the atom scan.
			if sc.name == "atom" {
				for c := 0; c < 256; c++ {
					if nextSet[c] == sc.ends(byte(c)) || (charClass[c]&clsNext != 0) != nextSet[c] {
						t.Fatalf("byte %#x: nextSet %v, charClass %#x, ends %v", c, nextSet[c], charClass[c], sc.ends(byte(c)))
					}
				}
			}
			// A filler that never ends the scan.
			fill := byte('7')
			var w [8]byte
			// Every pair of byte values at every pair of adjacent positions.
			for p := 0; p < 7; p++ {
				for a := 0; a < 256; a++ {
					for b := 0; b < 256; b++ {
						for i := range w {
							w[i] = fill
						}
						w[p], w[p+1] = byte(a), byte(b)
						if got, want := maskStop(sc.mask, w[:]), naiveStop(w[:], 0, sc.ends); got != want {
							t.Fatalf("mask(% x): first stop at %d; want %d", w, got, want)
						}
					}
				}
			}
			// Every byte value at every position of a buffer, scanned from
			// every start (every alignment, both ends of the word loop and
			// the byte loop after it).
			buf := make([]byte, 40)
			for c := 0; c < 256; c++ {
				for pos := 0; pos < len(buf); pos++ {
					for i := range buf {
						buf[i] = fill
					}
					buf[pos] = byte(c)
					for n := pos; n <= len(buf); n += 1 + n%3 {
						for start := 0; start <= n; start++ {
							if got, want := sc.stop(buf[:n], start), naiveStop(buf[:n], start, sc.ends); got != want {
								t.Fatalf("stop(% x, %d) = %d; want %d", buf[:n], start, got, want)
							}
						}
					}
				}
			}
			// Random bytes, dense in the values that end the scan and their
			// neighbours.
			rng := rand.New(rand.NewSource(1))
			alphabet := []byte{0, 1, 0x0d, 0x0e, '\r', '\n', '\t', ' ', '!', '"', '\\', '(', ')', '[', ']', '{', '}', 0x7f, 0x80,
				'/', '0', '9', ':', 0xb9, 0xba, 0xff, 0x22 ^ 0x80, 0x5c ^ 0x80, 0x28 ^ 0x80, 'a', 'N'}
			rb := make([]byte, 48)
			for n := 0; n < 100000; n++ {
				b := rb[:rng.Intn(len(rb)+1)]
				for i := range b {
					if rng.Intn(3) == 0 {
						b[i] = byte(rng.Intn(256))
					} else {
						b[i] = alphabet[rng.Intn(len(alphabet))]
					}
				}
				start := rng.Intn(len(b) + 1)
				if got, want := sc.stop(b, start), naiveStop(b, start, sc.ends); got != want {
					t.Fatalf("stop(% x, %d) = %d; want %d", b, start, got, want)
				}
				if len(b) >= 8 {
					if got, want := maskStop(sc.mask, b[:8]), naiveStop(b[:8], 0, sc.ends); got != want {
						t.Fatalf("mask(% x): first stop at %d; want %d", b[:8], got, want)
					}
				}
			}
		})
	}
}
