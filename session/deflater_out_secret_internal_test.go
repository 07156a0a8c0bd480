package session

import (
	"bytes"
	"compress/flate"
	"strconv"
	"strings"
	"testing"
)

// TestDeflaterOutputZeroedAfterSecret: under COMPRESS each Write's
// compressed bytes collect in flushWriter.out, an array kept from Write to
// Write and dropped unzeroed. At level 0 (stored blocks) a password's
// bytes are in it as they are, at HuffmanOnly nearly so. Once a secret
// went through (secretWrite), out is zeroed as each Write empties it, and
// an array it outgrows is zeroed as it is let go: here the array left by
// a first, plain write (which the secret outgrows), and the one the
// secret's Write leaves, must hold no byte but 0, at every level.
func TestDeflaterOutputZeroedAfterSecret(t *testing.T) {
	pw := strings.Repeat("corrëct-horse-battery-staple-A3", 1400) // 44 KB: outgrows out
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		fw := &flushWriter{w: &sliceWriter{}, level: level}
		s := &Session{}
		s.cw = &countWriter{w: fw}
		s.bw = &lazyWriter{w: s.cw}
		s.bw.WriteString("a0 NOOP\r\n")
		if err := s.bw.Flush(); err != nil {
			t.Fatal(err)
		}
		first := fw.out.b[:cap(fw.out.b)]
		s.secretWrite()
		s.bw.WriteString("a1 LOGIN user {" + strconv.Itoa(len(pw)) + "}\r\n")
		s.bw.WriteString(pw + "\r\n")
		if err := s.bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if cap(fw.out.b) == cap(first) {
			t.Fatalf("level %d: out did not grow (cap %d): the test needs a larger secret", level, cap(first))
		}
		for name, b := range map[string][]byte{"outgrown array": first, "out": fw.out.b[:cap(fw.out.b)]} {
			if i := firstNonZero(b); i >= 0 {
				t.Errorf("level %d: the deflater's %s is not zeroed after a secret (byte %d of %d non-zero; holds the password: %v)",
					level, name, i, len(b), bytes.Contains(b, []byte("corrëct-horse")))
			}
		}
		fw.release()
	}
}

// firstNonZero returns the index of the first byte of b that is not 0, or
// -1.
func firstNonZero(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return i
		}
	}
	return -1
}
