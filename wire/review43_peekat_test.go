package wire_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestReview43QPeekAtLFOfLineBelowBound (review of the round): PeekAt lets
// a line of MaxLineLength bytes end with its CRLF; with the default
// options, a line of MaxLineLength-1 bytes could not be looked at up to its
// LF: that LF is the one byte past the bound, and only a CR (or a lenient
// bare LF) was let through there, so PeekAt failed with ErrLineTooLong on
// a line every reader accepts.
func TestReview43QPeekAtLFOfLineBelowBound(t *testing.T) {
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
