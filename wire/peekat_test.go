package wire_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestPeekAt: PeekAt looks ahead without consuming, reading more
// as needed (one byte per Read here), and is bounded by MaxLineLength as
// reading is.
func TestPeekAt(t *testing.T) {
	line := "* 1 FETCH (X \"a\"b\")\r\n"
	tk := wire.NewTokenizer(iotest.OneByteReader(strings.NewReader(line)), nil)
	for i := 0; i < len(line); i++ {
		c, err := tk.PeekAt(i)
		if err != nil || c != line[i] {
			t.Fatalf("PeekAt(%d) = %q, %v; want %q", i, c, err, line[i])
		}
	}
	if c, err := tk.Peek(); err != nil || c != '*' {
		t.Fatalf("PeekAt consumed: Peek = %q, %v", c, err)
	}
	if _, err := tk.PeekAt(-1); err == nil {
		t.Error("PeekAt(-1) did not fail")
	}

	long := strings.Repeat("a", 200) + "\r\n"
	tk = wire.NewTokenizer(strings.NewReader(long), &wire.TokenizerOptions{MaxLineLength: 100})
	if c, err := tk.PeekAt(99); err != nil || c != 'a' {
		t.Fatalf("PeekAt(99) = %q, %v; want 'a' (the line's 100th byte)", c, err)
	}
	_, err := tk.PeekAt(100) // its 101st (review42: PeekAt(100) was let through)
	if !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("PeekAt past MaxLineLength: %v; want ErrLineTooLong", err)
	}
}

// TestPeekAtBoundary: PeekAt's doc bounds looking ahead as
// reading is: a line of MaxLineLength bytes reads, one byte longer fails
// with ErrLineTooLong. PeekAt let the caller see byte MaxLineLength+1 of
// the line (PeekAt(MaxLineLength) from the line's start), one byte past
// what reading the line allows, both where the byte was buffered already
// and where PeekAt had to read it; and after bytes were consumed, the
// same one byte more. Checked at the exact boundary with the library's
// default MaxLineLength and with a small one, whole reads and one byte
// at a time.
func TestPeekAtBoundary(t *testing.T) {
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

// TestPeekAtLineEnd: a line of MaxLineLength bytes and its CRLF reads
// whole (Atom, then CRLF), but since 8a55057 PeekAt refuses the line's CR
// (its byte MaxLineLength+1) with ErrLineTooLong: looking ahead is now
// stricter than reading, contrary to PeekAt's doc ("a line that long fails
// when read"). Before, PeekAt(MaxLineLength) returned the CR.
func TestPeekAtLineEnd(t *testing.T) {
	const max = 100
	opts := &wire.TokenizerOptions{MaxLineLength: max}
	line := strings.Repeat("a", max) + "\r\n"
	tk := wire.NewTokenizer(strings.NewReader(line), opts)
	if _, err := tk.Atom(); err != nil {
		t.Fatalf("reading the line's %d bytes: %v", max, err)
	}
	if err := tk.CRLF(); err != nil {
		t.Fatalf("reading the line's CRLF: %v", err)
	}
	tk = wire.NewTokenizer(strings.NewReader(line), opts)
	if c, err := tk.PeekAt(max); err != nil || c != '\r' {
		t.Fatalf("PeekAt(%d) on a line that reads whole: %q, %v; want the CR", max, c, err)
	}
	if c, err := tk.PeekAt(max + 1); err != nil || c != '\n' {
		t.Fatalf("PeekAt(%d) on a line that reads whole: %q, %v; want the LF", max+1, c, err)
	}
	if _, err := tk.PeekAt(max + 2); err == nil {
		t.Fatalf("PeekAt(%d), past the line's LF and the bound: no error", max+2)
	}
}

// TestPeekAtLFOfLineBelowBound (review of the round): PeekAt lets
// a line of MaxLineLength bytes end with its CRLF; with the default
// options, a line of MaxLineLength-1 bytes could not be looked at up to its
// LF: that LF is the one byte past the bound, and only a CR (or a lenient
// bare LF) was let through there, so PeekAt failed with ErrLineTooLong on
// a line every reader accepts.
func TestPeekAtLFOfLineBelowBound(t *testing.T) {
	max := wire.DefaultMaxLineLength
	for _, n := range []int{max - 2, max - 1, max} {
		line := "* OK " + strings.Repeat("a", n-5) + "\r\n* 3 EXISTS\r\n"
		tk := wire.NewTokenizer(strings.NewReader(line), nil)
		var err error
		i := 0
		for ; ; i++ {
			var c byte
			if c, err = tk.PeekAt(i); err != nil || c == '\n' {
				break
			}
		}
		if err != nil {
			t.Errorf("a line of %d bytes (bound %d): PeekAt(%d), its LF: %v; want '\\n' (the line is within the bound)", n, max, i, err)
		}
	}
	// One byte more is still too long, at its CR at the latest.
	line := "* OK " + strings.Repeat("a", max-4) + "\r\n"
	tk := wire.NewTokenizer(strings.NewReader(line), nil)
	for i := 0; ; i++ {
		c, err := tk.PeekAt(i)
		if err != nil {
			break
		}
		if c == '\n' {
			t.Fatalf("a line of %d bytes (bound %d): PeekAt reached its LF; want ErrLineTooLong", max+1, max)
		}
	}
}
