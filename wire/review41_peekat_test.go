package wire_test

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestReview41QPeekAt: PeekAt looks ahead without consuming, reading more
// as needed (one byte per Read here), and is bounded by MaxLineLength as
// reading is.
func TestReview41QPeekAt(t *testing.T) {
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
