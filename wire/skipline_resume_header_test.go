package wire_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestSkipLineResumedLongLiteralHeader: a read deadline that interrupts
// SkipLine after it dropped the '{' of a literal header longer than its
// kept tail (leading zeros: a non-synchronizing literal of 5) is resumed
// by calling SkipLine again (docs/wire.md, "Interrupted reads"), and the
// resumed call should frame the line as an uninterrupted one does: "hello"
// is the literal's body, "z NOOP" the next line; in both modes, and for
// ForwardLine and RefuseLine (which drops a non-synchronizing body). It
// fails: headScan is a local of skipLine, lost when the deadline returns,
// so the resumed call sees only the kept tail of zeros, no '{', ends the
// line at its LF and takes "hello" for the next line (a proxy relays or
// refuses the body as a command).
func TestSkipLineResumedLongLiteralHeader(t *testing.T) {
	head := "a NOOP {" + strings.Repeat("0", 60)
	rest := "5+}\r\nhello\r\nz NOOP\r\n"
	for _, opts := range []*wire.TokenizerOptions{nil, commandsOpts} {
		for _, m := range []struct {
			name string
			call func(*wire.Tokenizer) error
			next string // the next line's tag
		}{
			{"SkipLine", (*wire.Tokenizer).SkipLine, "z"},
			{"ForwardLine", func(tk *wire.Tokenizer) error { return tk.ForwardLine(new(strings.Builder)) }, "z"},
			{"RefuseLine", (*wire.Tokenizer).RefuseLine, "z"},
		} {
			if m.name == "RefuseLine" && opts == nil {
				continue // a client's command only
			}
			tk := wire.NewTokenizer(&stepReader{steps: []*string{strStep(head), nil, strStep(rest)}}, opts)
			err := m.call(tk)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("commands %v: first %s: %v; want the deadline", opts != nil, m.name, err)
			}
			if err := m.call(tk); err != nil {
				t.Fatalf("commands %v: resumed %s: %v", opts != nil, m.name, err)
			}
			if tag, err := tk.Tag(); err != nil || string(tag) != m.next {
				t.Fatalf("commands %v: after a resumed %s the next line's tag is %q (%v); want %q (as without the deadline)", opts != nil, m.name, tag, err, m.next)
			}
		}
	}
}
