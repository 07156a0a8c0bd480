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
// literals larger than the string limit are streamed. A line of more than
// MaxLineTokens tokens takes several calls (ErrTooManyTokens between them).
func dumpLines(tk *wire.Tokenizer) ([]string, error) {
	var out []string
	var toks []wire.Token
	for {
		var err error
		toks, err = tk.AppendLine(toks[:0])
		for i, tok := range toks {
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
				if int64(len(body)) != tok.Literal().Size && i == len(toks)-1 && err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, wire.ErrTooManyTokens) {
					// The header AppendLine keeps for a retry of a
					// body it could not read (past MaxLineLength, say):
					// dump (Next and LiteralBytes) stops there too.
					return out, err
				}
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
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, wire.ErrTooManyTokens) {
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
			// maxTok 1 and 3: every line takes several calls, which must
			// give the same tokens as one.
			for _, maxTok := range []int{0, 1, 3} {
				tk := wire.NewTokenizer(mk(), &wire.TokenizerOptions{BufferSize: 32, MaxStringLiteral: max, MaxLineTokens: maxTok})
				got, err := dumpLines(tk)
				if err != nil {
					t.Fatalf("%s/%d/%d: %v", name, max, maxTok, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s/%d/%d: AppendLine differs from Next (-want +got):\n%s", name, max, maxTok, diff)
				}
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

// TestAppendLineLiteralPastLineLimit states the fuzz input
// f59a792199b5ccf5 in plain bytes: a line whose small literal's body
// would end past MaxLineLength. LiteralBytes (after Next) and AppendLine
// fail alike with ErrLineTooLong; AppendLine keeps the literal's header
// last, without its body, for a retry. FuzzTokenizer's dumpLines streamed
// that header's body and so counted one token more than dump; it now
// stops there as dump does.
func TestAppendLineLiteralPastLineLimit(t *testing.T) {
	opts := &wire.TokenizerOptions{MaxLineLength: 64, MaxStringLiteral: 1024}
	in := "* 1 FETCH (" + strings.Repeat("x", 40) + " {21}\r\nFRom: a@example.com\r\n"
	tk := wire.NewTokenizer(strings.NewReader(in), opts)
	var last wire.Token
	var err error
	for err == nil && last.Kind != wire.KindLiteral {
		last, err = tk.Next()
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.LiteralBytes(); !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("LiteralBytes: %v; want ErrLineTooLong", err)
	}
	toks, err := wire.NewTokenizer(strings.NewReader(in), opts).AppendLine(nil)
	if !errors.Is(err, wire.ErrLineTooLong) || len(toks) == 0 {
		t.Fatalf("AppendLine: %d tokens, %v; want ErrLineTooLong", len(toks), err)
	}
	if tok := toks[len(toks)-1]; tok.Kind != wire.KindLiteral || tok.Literal().Size != 21 || tok.Bytes() != nil {
		t.Fatalf("AppendLine's last token %v %q; want the literal's header, without its body", tok.Kind, tok.Bytes())
	}
	next, errNext := dump(wire.NewTokenizer(strings.NewReader(in), opts))
	lines, errLines := dumpLines(wire.NewTokenizer(strings.NewReader(in), opts))
	if len(next) != len(lines) || !errors.Is(errNext, wire.ErrLineTooLong) || !errors.Is(errLines, wire.ErrLineTooLong) {
		t.Fatalf("dump %d tokens (%v), dumpLines %d (%v)", len(next), errNext, len(lines), errLines)
	}
}
