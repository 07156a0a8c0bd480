package wire_test

import (
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestHeldAfterStreamedLiteral: after a literal's body was streamed
// (LiteralReader) or skipped (the next read past it), Held returns the
// line's bytes from the body's end, at their stream offset: the bytes
// before the body, its header with them, are no longer followed by it in
// the buffer, and read from there the header's size would be taken from
// what follows the body (a caller finding the line's literals by their
// headers, as a session redacting a syntax error's excerpt does).
// Before any body left, Held begins at the line's start.
func TestHeldAfterStreamedLiteral(t *testing.T) {
	const head = "* 1 FETCH (BODY[] {5}\r\n"
	const rest = " FLAGS (x))\r\n"
	in := "* 2 EXISTS\r\n" + head + "hello" + rest + "* 3 EXISTS\r\n"
	for _, streamed := range []bool{true, false} {
		tk := wire.NewTokenizer(strings.NewReader(in), nil)
		if err := tk.SkipLine(); err != nil {
			t.Fatal(err)
		}
		for range 4 { // "*", "1", "FETCH", "("
			if _, err := tk.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if held, off := tk.Held(); !strings.HasPrefix(string(held), head) || off != 12 {
			t.Fatalf("streamed %v: before the body, Held = %q at %d; want the line from its start, at 12", streamed, held, off)
		}
		nextLiteral(t, tk)
		if streamed {
			r, err := tk.LiteralReader()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tk.Next(); err != nil { // FLAGS (the body skipped first)
			t.Fatal(err)
		}
		held, off := tk.Held()
		if want := int64(12 + len(head) + 5); !strings.HasPrefix(string(held), rest) || off != want {
			t.Errorf("streamed %v: after the body, Held = %q at %d; want %q... at %d, from the body's end", streamed, held, off, rest, want)
		}
	}
}
