package wire_test

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestReview45LAngleAtom: '<' and '>' are ATOM-CHARs, so "<0", "<0>",
// "<1.2>" and "<x" are atoms (a keyword in a SEARCH or a flag list, an
// unknown response code's argument). The tokenizer read "<digit" as a
// partial wherever it came: "KEYWORD <0" failed with a syntax error (the
// proxy refused the command, the codec an unknown FETCH item's value) and
// "<00>" came back from AppendToken as "<0>". A partial is now read only
// right after a section's ']' ("BODY[]<0>"), everywhere else "<..." is an
// atom and round-trips byte for byte.
func TestReview45LAngleAtom(t *testing.T) {
	for _, c := range []struct {
		line    string
		partial int // index of the token that is a partial; -1: none
	}{
		{"a SEARCH KEYWORD <0\r\n", -1},
		{"a SEARCH KEYWORD <0>\r\n", -1},
		{"a SEARCH KEYWORD <00>\r\n", -1},
		{"a SEARCH KEYWORD <1.2>\r\n", -1},
		{"a STORE 1 +FLAGS (<x <0 <0.5x)\r\n", -1},
		{"a FETCH 1 <0>\r\n", -1},
		{"a FETCH 1 BODY[]<0.10>\r\n", 9},
		{"a FETCH 1 BODY.PEEK[1.MIME]<5>\r\n", 10},
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.line)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			tk := wire.NewTokenizer(r, nil)
			line, err := tk.AppendLine(nil)
			if err != nil {
				t.Errorf("%q (one byte %v): %v", c.line, oneByte, err)
				continue
			}
			var out []byte
			for i, tok := range line {
				out = wire.AppendToken(out, tok)
				if (tok.Kind == wire.KindPartial) != (i == c.partial) {
					t.Errorf("%q (one byte %v): token %d is %v", c.line, oneByte, i, tok.Kind)
				}
			}
			if string(out) != c.line {
				t.Errorf("%q (one byte %v): relayed as %q", c.line, oneByte, out)
			}
			// Next, token by token, reads the same.
			tk = wire.NewTokenizer(strings.NewReader(c.line), nil)
			for i := 0; ; i++ {
				tok, err := tk.Next()
				if err != nil {
					t.Errorf("%q: Next: %v", c.line, err)
					break
				}
				if (tok.Kind == wire.KindPartial) != (i == c.partial) {
					t.Errorf("%q: Next: token %d is %v", c.line, i, tok.Kind)
				}
				if tok.Kind == wire.KindCRLF {
					break
				}
			}
		}
	}
}
