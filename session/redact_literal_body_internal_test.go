package session

import (
	"fmt"
	"testing"

	"github.com/imapkit/imapkit/internal/redact"
)

// TestLiteralGapsFound: literalGaps finds each "<N bytes>" the trace
// writes for a literal's body, with its header and the space before it
// ("{N}", "{N+}", "~{N}"), each header and its space alone (a body
// traced after it), and nothing that is not one.
func TestLiteralGapsFound(t *testing.T) {
	for _, c := range []struct {
		line string
		want []redact.Gap
	}{
		{"* 1 FETCH (X {11} <11 bytes> UID 7)", []redact.Gap{{From: 13, To: 28}}},
		{"* 1 FETCH (BODY[] {10} <10 bytes>rest)", []redact.Gap{{From: 18, To: 33}}},
		{"a {5+} <5 bytes> b ~{0} <0 bytes>", []redact.Gap{{From: 2, To: 16}, {From: 19, To: 33}}},
		{"<7 bytes>x", []redact.Gap{{From: 0, To: 9}}},
		{"x} <7 bytes>", []redact.Gap{{From: 3, To: 12}}}, // no '{': the body alone
		{"no gap: 7 bytes> < bytes> <7 bytes", nil},
		{"", nil},
		// Literals traced: the header and its space, the body after.
		{"* 1 FETCH (X hunter {11} rrect-horse)", []redact.Gap{{From: 20, To: 25}}},
		{"a ~{2+} xy {3} <3 b", []redact.Gap{{From: 2, To: 8}, {From: 11, To: 15}}},
		{"no gap: {} {+} {1 {1}x ~ {1+2} 1} ", nil},
	} {
		got := literalGaps([]byte(c.line), nil)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("literalGaps(%q) = %v; want %v", c.line, got, c.want)
		}
	}
}
