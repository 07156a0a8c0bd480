package printable_test

import (
	"testing"

	"github.com/imapkit/imapkit/internal/printable"
)

// TestReview42DBQuoteChar: QuoteChar names a character as the text holds
// it, and a byte that is no character by itself in hex, never as the
// Latin-1 character of its value.
func TestReview42DBQuoteChar(t *testing.T) {
	for s, want := range map[string]string{
		"é-x":     "'é'",
		"日本":      "'日'",
		"\xc3":    "0xc3",
		"\xe9abc": "0xe9",
		"a":       "'a'",
		"\x00":    `'\x00'`,
		"":        "end of input",
	} {
		if got := printable.QuoteChar(s); got != want {
			t.Errorf("QuoteChar(%q) = %s, want %s", s, got, want)
		}
	}
}
