package wire_test

import (
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestSkipLineEndOfStream: the skips of a line (SkipLine, ForwardLine,
// ForwardLongLine, RefuseLine) meeting the end of the stream return
// io.EOF where no byte of a line came (between two lines, or on an empty
// stream), as Next does, and io.ErrUnexpectedEOF inside a line: one cut
// short, one whose only bytes a Drop gave up, one cut after a literal.
// Before, they returned io.ErrUnexpectedEOF at a clean end too.
func TestSkipLineEndOfStream(t *testing.T) {
	skips := []struct {
		name string
		call func(*wire.Tokenizer) error
	}{
		{"SkipLine", (*wire.Tokenizer).SkipLine},
		{"ForwardLine", func(tk *wire.Tokenizer) error { return tk.ForwardLine(io.Discard) }},
		{"ForwardLongLine", func(tk *wire.Tokenizer) error { return tk.ForwardLongLine(io.Discard, 1<<20) }},
		{"RefuseLine", (*wire.Tokenizer).RefuseLine},
	}
	cases := []struct {
		name, in string
		lines    int // whole lines skipped before the call
		prep     func(*wire.Tokenizer) error
		want     error
	}{
		{name: "empty stream", in: "", want: io.EOF},
		{name: "after a line", in: "a NOOP\r\n", lines: 1, want: io.EOF},
		{name: "after a literal line", in: "a X {3+}\r\nabc\r\n", lines: 1, want: io.EOF},
		{name: "line cut", in: "a NOOP", want: io.ErrUnexpectedEOF},
		{name: "line cut after a literal", in: "a X {3+}\r\nabc", want: io.ErrUnexpectedEOF},
		{name: "line cut after a line", in: "a NOOP\r\nb", lines: 1, want: io.ErrUnexpectedEOF},
		{name: "line cut, all of it dropped", in: "a NOOP", want: io.ErrUnexpectedEOF,
			prep: func(tk *wire.Tokenizer) error {
				for range 3 { // a, SP, NOOP: the end cuts NOOP, returned as it is
					if _, err := tk.Next(); err != nil {
						return err
					}
				}
				_, err := tk.Forward(io.Discard) // as a relay does before a Drop
				tk.Drop()
				return err
			}},
	}
	for _, s := range skips {
		for _, c := range cases {
			tk := wire.NewTokenizer(strings.NewReader(c.in), &wire.TokenizerOptions{Commands: true})
			for i := range c.lines {
				if err := s.call(tk); err != nil {
					t.Fatalf("%s, %s: line %d: %v", s.name, c.name, i+1, err)
				}
			}
			if c.prep != nil {
				if err := c.prep(tk); err != nil {
					t.Fatalf("%s, %s: before the call: %v", s.name, c.name, err)
				}
			}
			for i := range 2 { // and again: the end stays where it is
				if err := s.call(tk); err != c.want {
					t.Errorf("%s, %s: call %d: %v; want %v", s.name, c.name, i+1, err, c.want)
				}
			}
			if c.want == io.EOF {
				// Nothing is pending: a reader's loop ends as Next's does.
				if tok, err := tk.Next(); err != io.EOF {
					t.Errorf("%s, %s: then Next: %v, %v; want io.EOF", s.name, c.name, tok, err)
				}
			}
		}
	}
}
