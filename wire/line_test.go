package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/wire"
)

// dumpLines renders the tokens that AppendLine returns, in dump's format;
// literals larger than the string limit are streamed.
func dumpLines(tk *wire.Tokenizer) ([]string, error) {
	var out []string
	var toks []wire.Token
	for {
		var err error
		toks, err = tk.AppendLine(toks[:0])
		for _, tok := range toks {
			s := tok.Kind.String()
			switch tok.Kind {
			case wire.KindAtom, wire.KindQuoted, wire.KindText:
				s += ":" + tok.String()
			case wire.KindNumber:
				s += fmt.Sprintf(":%d", tok.Num)
			case wire.KindPartial:
				s += fmt.Sprintf(":%d.%d.%v", tok.Num, tok.Length, tok.HasLength())
			case wire.KindLiteral:
				body := tok.Bytes()
				if int64(len(body)) != tok.Literal().Size {
					r, lerr := tk.LiteralReader()
					if lerr != nil {
						return out, lerr
					}
					var buf bytes.Buffer
					for {
						_, cerr := io.Copy(&buf, r)
						if errors.Is(cerr, os.ErrDeadlineExceeded) {
							continue
						}
						if cerr != nil {
							return out, cerr
						}
						break
					}
					body = buf.Bytes()
				}
				s += fmt.Sprintf(":%d:%v:%v:%q", tok.Literal().Size, tok.Literal().NonSync, tok.Literal().Binary, body)
			}
			out = append(out, s)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestAppendLineMatchesNext(t *testing.T) {
	want, err := dump(wire.NewTokenizer(strings.NewReader(sampleStream), nil))
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string]func() io.Reader{
		"whole":   func() io.Reader { return strings.NewReader(sampleStream) },
		"onebyte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(sampleStream)) },
		"timeout": func() io.Reader { return &timeoutReader{r: strings.NewReader(sampleStream), n: 3, chunk: 5} },
	}
	for name, mk := range readers {
		for _, max := range []int{0, 4} { // 4: the literals are streamed
			tk := wire.NewTokenizer(mk(), &wire.TokenizerOptions{BufferSize: 32, MaxStringLiteral: max})
			got, err := dumpLines(tk)
			if err != nil {
				t.Fatalf("%s/%d: %v", name, max, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s/%d: AppendLine differs from Next (-want +got):\n%s", name, max, diff)
			}
		}
	}
}

func TestAppendLineZeroAllocs(t *testing.T) {
	line := "* 12345 FETCH (UID 4827 FLAGS (\\Seen \\Answered) X-ATOM \"quoted string\" NIL (1 2 (3)) BODY[1.2]<0> {5}\r\nhello)\r\n"
	tk := wire.NewTokenizer(&repeatReader{line: []byte(line)}, nil)
	toks := make([]wire.Token, 0, 64)
	for i := 0; i < 100; i++ {
		toks, _ = tk.AppendLine(toks[:0])
	}
	if a := testing.AllocsPerRun(1000, func() {
		var err error
		if toks, err = tk.AppendLine(toks[:0]); err != nil || toks[len(toks)-1].Kind != wire.KindCRLF {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("AppendLine: %v allocations per line; want 0", a)
	}
}

// TestAppendLineControlBytesInQuoted: a TAB or another control byte in a
// quoted string stops AppendLine's fast scan (quotedMask), and the general
// path reads the string whole; the tokens are Next's.
func TestAppendLineControlBytesInQuoted(t *testing.T) {
	in := "* 1 FETCH (ENVELOPE (\"a\tb\" \"0123456789\tabcdef\" \"x\x01y\" \"\x0c\" \"tab at end of a long string\t\" NIL))\r\n"
	next, errNext := dump(wire.NewTokenizer(strings.NewReader(in), nil))
	lines, errLines := dumpLines(wire.NewTokenizer(strings.NewReader(in), nil))
	if errNext != nil || errLines != nil {
		t.Fatalf("errors: Next %v, AppendLine %v", errNext, errLines)
	}
	if d := cmp.Diff(next, lines); d != "" {
		t.Fatalf("Next and AppendLine differ (-next +lines):\n%s", d)
	}
	want := []string{"quoted:a\tb", "quoted:0123456789\tabcdef", "quoted:x\x01y", "quoted:\x0c", "quoted:tab at end of a long string\t"}
	var got []string
	for _, s := range lines {
		if strings.HasPrefix(s, "quoted:") {
			got = append(got, s)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("quoted strings (-want +got):\n%s", d)
	}
}

// TestQuotedControlBytes: Quoted tests the first eight bytes inline too
// (quotedMask); a control byte there stops the fast scan, and the string
// still comes back whole.
func TestQuotedControlBytes(t *testing.T) {
	for _, s := range []string{"a\tb", "0123456789\tabcdef", "x\x01y", "\x0c", "tab at end of a long string\t", "short", "a string longer than eight bytes"} {
		tk := wire.NewTokenizer(strings.NewReader("\""+s+"\" NIL\r\n"), nil)
		got, err := tk.Quoted()
		if err != nil || string(got) != s {
			t.Fatalf("Quoted of %q: %q, %v", s, got, err)
		}
		if err := tk.SP(); err != nil {
			t.Fatalf("after %q: %v", s, err)
		}
	}
}
