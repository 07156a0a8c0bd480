package wire_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestReview42LGPeekAtLineEnd: a line of MaxLineLength bytes and its CRLF reads
// whole (Atom, then CRLF), but since 8a55057 PeekAt refuses the line's CR
// (its byte MaxLineLength+1) with ErrLineTooLong: looking ahead is now
// stricter than reading, contrary to PeekAt's doc ("a line that long fails
// when read"). Before, PeekAt(MaxLineLength) returned the CR.
func TestReview42LGPeekAtLineEnd(t *testing.T) {
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
