package wire_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestReview42F1DPeekAtBoundary: PeekAt's doc bounds looking ahead as
// reading is: a line of MaxLineLength bytes reads, one byte longer fails
// with ErrLineTooLong. PeekAt let the caller see byte MaxLineLength+1 of
// the line (PeekAt(MaxLineLength) from the line's start), one byte past
// what reading the line allows, both where the byte was buffered already
// and where PeekAt had to read it; and after bytes were consumed, the
// same one byte more. Checked at the exact boundary with the library's
// default MaxLineLength and with a small one, whole reads and one byte
// at a time.
func TestReview42F1DPeekAtBoundary(t *testing.T) {
	for _, max := range []int{wire.DefaultMaxLineLength, 100} {
		var opts *wire.TokenizerOptions
		if max != wire.DefaultMaxLineLength {
			opts = &wire.TokenizerOptions{MaxLineLength: max}
		}
		long := strings.Repeat("a", max+50) + "\r\n"
		for _, oneByte := range []bool{false, true} {
			var r = strings.NewReader(long)
			tk := wire.NewTokenizer(r, opts)
			if oneByte {
				tk = wire.NewTokenizer(iotest.OneByteReader(strings.NewReader(long)), opts)
			}
			if c, err := tk.PeekAt(max - 1); err != nil || c != 'a' {
				t.Fatalf("max %d: PeekAt(%d), the line's last allowed byte: %q, %v", max, max-1, c, err)
			}
			if c, err := tk.PeekAt(max); !errors.Is(err, wire.ErrLineTooLong) {
				t.Errorf("max %d (one byte a read: %v): PeekAt(%d), the line's byte %d: %q, %v; want ErrLineTooLong", max, oneByte, max, max+1, c, err)
			}
			if _, err := tk.PeekAt(math.MaxInt); !errors.Is(err, wire.ErrLineTooLong) {
				t.Errorf("max %d: PeekAt(MaxInt): %v; want ErrLineTooLong", max, err)
			}
		}
		// After 10 bytes consumed: the line's byte max is PeekAt(max-11).
		tk := wire.NewTokenizer(strings.NewReader(long), opts)
		if _, err := tk.Atom(); err == nil {
			// The whole run of a's is one atom: past the bound, it fails.
			t.Fatalf("max %d: an atom of %d bytes read", max, max+50)
		}
		short := strings.Repeat("a", 10) + " " + strings.Repeat("b", max) + "\r\n"
		tk = wire.NewTokenizer(strings.NewReader(short), opts)
		if _, err := tk.Atom(); err != nil {
			t.Fatal(err)
		}
		if c, err := tk.PeekAt(max - 11); err != nil || c != 'b' {
			t.Fatalf("max %d: after 10 bytes, PeekAt(%d), the line's byte %d: %q, %v", max, max-11, max, c, err)
		}
		if c, err := tk.PeekAt(max - 10); !errors.Is(err, wire.ErrLineTooLong) {
			t.Errorf("max %d: after 10 bytes, PeekAt(%d), the line's byte %d: %q, %v; want ErrLineTooLong", max, max-10, max+1, c, err)
		}
	}
}
