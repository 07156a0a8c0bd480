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

// dump tokenizes everything with Next and renders the tokens, one per
// element. Literal bodies are read with LiteralBytes when small and streamed
// otherwise. Errors that are timeouts are retried: that is how the resumable
// property is tested.
func dump(tk *wire.Tokenizer) ([]string, error) {
	var out []string
	retry := func(f func() error) error {
		for i := 0; ; i++ {
			err := f()
			if errors.Is(err, os.ErrDeadlineExceeded) && i < 1e6 {
				continue
			}
			return err
		}
	}
	for {
		var tok wire.Token
		err := retry(func() (err error) { tok, err = tk.Next(); return })
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		s := tok.Kind.String()
		switch tok.Kind {
		case wire.KindAtom, wire.KindQuoted, wire.KindText:
			s += ":" + tok.String()
		case wire.KindNumber:
			s += fmt.Sprintf(":%d", tok.Num)
		case wire.KindPartial:
			s += fmt.Sprintf(":%d.%d.%v", tok.Num, tok.Length, tok.HasLength())
		case wire.KindLiteral:
			var body []byte
			if tok.Literal().Size <= 64 {
				err = retry(func() (err error) { body, err = tk.LiteralBytes(); return })
				body = bytes.Clone(body)
			} else {
				var r io.Reader
				r, err = tk.LiteralReader()
				if err == nil {
					var buf bytes.Buffer
					err = retry(func() error { _, err := io.Copy(&buf, r); return err })
					body = buf.Bytes()
				}
			}
			if err != nil {
				return out, err
			}
			s += fmt.Sprintf(":%d:%v:%v:%q", tok.Literal().Size, tok.Literal().NonSync, tok.Literal().Binary, body)
		}
		out = append(out, s)
	}
}

// timeoutReader returns a timeout error before every n-th read, then
// resumes, like a connection with a read deadline that is extended.
type timeoutReader struct {
	r     io.Reader
	n, i  int
	chunk int
}

func (t *timeoutReader) Read(p []byte) (int, error) {
	t.i++
	if t.i%t.n == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	if t.chunk > 0 && len(p) > t.chunk {
		p = p[:t.chunk]
	}
	return t.r.Read(p)
}

const sampleStream = "* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] Dovecot ready.\r\n" +
	"* 12 FETCH (UID 4827 FLAGS (\\Seen $Label[test] \\*) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" " +
	"RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 \\\"WG\\\" mtg\" " +
	"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) NIL NIL NIL NIL NIL) " +
	"BODY[HEADER.FIELDS (FROM)]<0> {21}\r\nFrom: a@example.com\r\n BINARY[1] ~{3}\r\na\x00b)\r\n" +
	"* SEARCH 2 84 18446744073709551615\r\n" +
	"+ go ahead\r\n" +
	"A1 UID FETCH 1:*,7 BODY.PEEK[]<0.1024> nil NIL {5+}\r\nhello\r\n" +
	"* LIST (\\HasNoChildren) \"/\" \"INBOX/a b\"\r\n"

func TestNextSample(t *testing.T) {
	want := []string{
		"'*'", "SP", "atom:OK", "SP", "'['", "atom:CAPABILITY", "SP", "atom:IMAP4rev1", "SP", "atom:LITERAL+", "SP", "atom:IDLE", "']'", "SP", "text:Dovecot ready.", "CRLF",
		"'*'", "SP", "number:12", "SP", "atom:FETCH", "SP", "'('", "atom:UID", "SP", "number:4827", "SP", "atom:FLAGS", "SP", "'('", "atom:\\Seen", "SP", "atom:$Label", "'['", "atom:test", "']'", "SP", "atom:\\*", "')'", "SP",
		"atom:INTERNALDATE", "SP", "quoted:17-Jul-1996 02:44:25 -0700", "SP", "atom:RFC822.SIZE", "SP", "number:4286", "SP",
		"atom:ENVELOPE", "SP", "'('", "quoted:Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", "SP", "quoted:IMAP4rev1 \"WG\" mtg", "SP",
		"'('", "'('", "quoted:Terry Gray", "SP", "NIL", "SP", "quoted:gray", "SP", "quoted:cac.washington.edu", "')'", "')'", "SP", "NIL", "SP", "NIL", "SP", "NIL", "SP", "NIL", "SP", "NIL", "')'", "SP",
		"atom:BODY", "'['", "atom:HEADER.FIELDS", "SP", "'('", "atom:FROM", "')'", "']'", "partial:0.0.false", "SP", "literal:21:false:false:\"From: a@example.com\\r\\n\"", "SP",
		"atom:BINARY", "'['", "number:1", "']'", "SP", "literal:3:false:true:\"a\\x00b\"", "')'", "CRLF",
		"'*'", "SP", "atom:SEARCH", "SP", "number:2", "SP", "number:84", "SP", "number:18446744073709551615", "CRLF",
		"'+'", "SP", "text:go ahead", "CRLF",
		"atom:A1", "SP", "atom:UID", "SP", "atom:FETCH", "SP", "atom:1:*,7", "SP", "atom:BODY.PEEK", "'['", "']'", "partial:0.1024.true", "SP", "NIL", "SP", "NIL", "SP", "literal:5:true:false:\"hello\"", "CRLF",
		"'*'", "SP", "atom:LIST", "SP", "'('", "atom:\\HasNoChildren", "')'", "SP", "quoted:/", "SP", "quoted:INBOX/a b", "CRLF",
	}
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return strings.NewReader(sampleStream) },
		"onebyte":  func() io.Reader { return iotest.OneByteReader(strings.NewReader(sampleStream)) },
		"halfread": func() io.Reader { return iotest.HalfReader(strings.NewReader(sampleStream)) },
		"timeout1": func() io.Reader { return &timeoutReader{r: strings.NewReader(sampleStream), n: 2, chunk: 1} },
		"timeout7": func() io.Reader { return &timeoutReader{r: strings.NewReader(sampleStream), n: 3, chunk: 7} },
		"dataerr":  func() io.Reader { return iotest.DataErrReader(strings.NewReader(sampleStream)) },
	}
	for name, mk := range readers {
		for _, size := range []int{0, 16, 64} {
			t.Run(fmt.Sprintf("%s/buf%d", name, size), func(t *testing.T) {
				tk := wire.NewTokenizer(mk(), &wire.TokenizerOptions{BufferSize: size})
				got, err := dump(tk)
				if err != nil {
					t.Fatalf("dump: %v (after %d tokens)", err, len(got))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("tokens differ (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestTypedMethods(t *testing.T) {
	in := "* 3 FETCH (FLAGS (\\Seen \\Answered $Label[x]) UID 77 BODY[1.MIME] \"a\\\\b\" {3}\r\nxyz nil \"q\" abc] [ok])\r\n* OK  text to end \r\n"
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustB := func(b []byte, err error) string {
		t.Helper()
		must(err)
		return string(b)
	}
	must(tk.Expect('*'))
	must(tk.SP())
	n, err := tk.Number()
	must(err)
	if n != 3 {
		t.Fatalf("Number() = %d; want 3", n)
	}
	must(tk.SP())
	if got := mustB(tk.Atom()); got != "FETCH" {
		t.Fatalf("Atom() = %q; want FETCH", got)
	}
	must(tk.SP())
	must(tk.Expect('('))
	mustB(tk.Atom())
	must(tk.SP())
	must(tk.Expect('('))
	var flags []string
	for {
		flags = append(flags, mustB(tk.Flag()))
		if ok, err := tk.Accept(')'); err != nil || ok {
			must(err)
			break
		}
		must(tk.SP())
	}
	if diff := cmp.Diff([]string{`\Seen`, `\Answered`, `$Label[x]`}, flags); diff != "" {
		t.Fatalf("flags (-want +got):\n%s", diff)
	}
	must(tk.SP())
	mustB(tk.Atom())
	must(tk.SP())
	if _, err := tk.Number(); err != nil {
		t.Fatal(err)
	}
	must(tk.SP())
	if got := mustB(tk.Atom()); got != "BODY" {
		t.Fatalf("Atom() = %q; want BODY", got)
	}
	must(tk.Expect('['))
	if got := mustB(tk.Atom()); got != "1.MIME" {
		t.Fatalf("section = %q", got)
	}
	must(tk.Expect(']'))
	must(tk.SP())
	if got := mustB(tk.String()); got != `a\b` {
		t.Fatalf("String() = %q; want a\\b", got)
	}
	must(tk.SP())
	if got := mustB(tk.String()); got != "xyz" {
		t.Fatalf("String() literal = %q", got)
	}
	must(tk.SP())
	if _, isNil, err := tk.NString(); err != nil || !isNil {
		t.Fatalf("NString() isNil=%v err=%v; want NIL", isNil, err)
	}
	must(tk.SP())
	if b, isNil, err := tk.NString(); err != nil || isNil || string(b) != "q" {
		t.Fatalf("NString() = %q, %v, %v", b, isNil, err)
	}
	must(tk.SP())
	if got := mustB(tk.AString()); got != "abc]" {
		t.Fatalf("AString() = %q; want abc]", got)
	}
	must(tk.SP())
	if got := mustB(tk.AString()); got != "[ok]" {
		t.Fatalf("AString() = %q; want [ok]", got)
	}
	must(tk.Expect(')'))
	must(tk.CRLF())
	must(tk.Expect('*'))
	must(tk.SP()) // a run of two spaces is one SP
	mustB(tk.Atom())
	must(tk.SP())
	if got := mustB(tk.Text()); got != "text to end " {
		t.Fatalf("Text() = %q", got)
	}
	must(tk.CRLF())
	if _, err := tk.Peek(); err != io.EOF {
		t.Fatalf("Peek() at end = %v; want io.EOF", err)
	}
}

func TestBorrowedBytesAreCapped(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("abc def\r\n"), nil)
	a, err := tk.Atom()
	if err != nil {
		t.Fatal(err)
	}
	if cap(a) != len(a) {
		t.Fatalf("cap(Atom()) = %d; want %d", cap(a), len(a))
	}
	_ = append(a, 'X', 'X', 'X', 'X')
	tk.SP()
	d, _ := tk.Atom()
	if string(d) != "def" {
		t.Fatalf("after append to a borrowed slice, Atom() = %q; want def", d)
	}
}

// TestBorrowedBytesSurviveGrowth checks that bytes handed out earlier in a
// line stay intact when the line outgrows the buffer.
func TestBorrowedBytesSurviveGrowth(t *testing.T) {
	long := strings.Repeat("x", 5000)
	in := "first \"" + long + "\" {10}\r\n0123456789 last\r\nnext\r\n"
	tk := wire.NewTokenizer(iotest.OneByteReader(strings.NewReader(in)), &wire.TokenizerOptions{BufferSize: 16})
	first, _ := tk.Atom()
	tk.SP()
	q, err := tk.String()
	if err != nil {
		t.Fatal(err)
	}
	tk.SP()
	lit, err := tk.String()
	if err != nil {
		t.Fatal(err)
	}
	tk.SP()
	last, _ := tk.Atom()
	if err := tk.CRLF(); err != nil {
		t.Fatal(err)
	}
	if string(first) != "first" || string(q) != long || string(lit) != "0123456789" || string(last) != "last" {
		t.Fatalf("borrowed bytes changed: %q %d %q %q", first, len(q), lit, last)
	}
	next, err := tk.Atom()
	if err != nil || string(next) != "next" {
		t.Fatalf("Atom() = %q, %v", next, err)
	}
}

// TestScannedTokenSurvivesMoves checks that the token Scan read last
// (which the fast paths record as a place in the buffer, see setLazy)
// keeps its bytes when typed methods read on and the buffer is replaced:
// the line outgrows it (makeRoom), Unshare, Release.
func TestScannedTokenSurvivesMoves(t *testing.T) {
	// scanTo scans until the atom, number or string want.
	scanTo := func(t *testing.T, tk *wire.Tokenizer, want string) {
		t.Helper()
		for {
			kind, err := tk.Scan()
			if err != nil {
				t.Fatal(err)
			}
			if kind != wire.KindSP && string(tk.TokenBytes()) == want {
				return
			}
		}
	}
	check := func(t *testing.T, tk *wire.Tokenizer, want string, num uint64) {
		t.Helper()
		tok := tk.Token()
		if string(tok.Bytes()) != want || string(tk.TokenBytes()) != want || tok.Num != num || tk.TokenNum() != num {
			t.Fatalf("token %q (%d) became %q (%d), TokenBytes %q", want, num, tok.Bytes(), tok.Num, tk.TokenBytes())
		}
	}
	t.Run("grow", func(t *testing.T) {
		// The second line begins at offset 3 and outgrows the 16-byte
		// buffer in its last atom: the new buffer holds it from offset 0.
		for _, w := range []struct {
			s   string
			num uint64
		}{{"bb", 0}, {"1234", 1234}, {"quo", 0}} {
			in := "a\r\n* " + w.s + " " + strings.Repeat("c", 40) + "\r\n"
			if w.s == "quo" {
				in = "a\r\n* \"quo\" " + strings.Repeat("c", 40) + "\r\n"
			}
			tk := wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{BufferSize: 16})
			scanTo(t, tk, w.s)
			if err := tk.SP(); err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Atom(); err != nil {
				t.Fatal(err)
			}
			check(t, tk, w.s, w.num)
		}
	})
	t.Run("unshare", func(t *testing.T) {
		tk := wire.NewTokenizer(strings.NewReader("* 1 FETCH (FLAGS (\\Seen) X \"quoted\" 77)\r\n"), nil)
		for _, w := range []struct {
			s   string
			num uint64
		}{{"\\Seen", 0}, {"quoted", 0}, {"77", 77}} {
			scanTo(t, tk, w.s)
			if err := tk.Unshare(); err != nil {
				t.Fatal(err)
			}
			check(t, tk, w.s, w.num)
		}
	})
	t.Run("release", func(t *testing.T) {
		tk := wire.NewTokenizer(strings.NewReader("* 1 EXISTS\r\n"), nil)
		scanTo(t, tk, "EXISTS")
		if err := tk.CRLF(); err != nil {
			t.Fatal(err)
		}
		if !tk.Release() {
			t.Fatal("Release did not release the buffer")
		}
		check(t, tk, "EXISTS", 0)
	})
}

// TestLiteralHeaderFast checks the literal header's fast path (a header
// whole in the buffer) against the general path (the same bytes read one
// at a time): the same info, error and position, on headers near every
// edge: sizes of 17 to 20 digits, past int64 and past MaxLiteral, '+',
// '~', bare LF, junk in every place.
func TestLiteralHeaderFast(t *testing.T) {
	heads := []string{"{0}", "{5}", "{5+}", "~{5}", "~{5+}", "{}", "{+}", "{5", "{5+", "{5}}", "{ 5}", "{5 }", "{-5}",
		"{123456789012345678}", "{1234567890123456789}", "{9223372036854775807}", "{9223372036854775808}",
		"{99999999999999999999}", "{1000000}", "{1000001}", "~{", "~5}", "~~{5}", "{5}x", "{05}", "{5+ }"}
	tails := []string{"\r\nabcde", "\nabcde", "\r", "\rx", "", " \r\n", "x\r\n"}
	opts := []*wire.TokenizerOptions{{MaxLiteral: 1000000}, {MaxLiteral: 1000000, LenientLineEnds: true}}
	for _, h := range heads {
		for _, tail := range tails {
			for _, o := range opts {
				in := h + tail
				fast := wire.NewTokenizer(strings.NewReader(in), o)
				slow := wire.NewTokenizer(iotest.OneByteReader(strings.NewReader(in)), o)
				fast.Peek() // the whole input in the buffer
				fi, ferr := fast.Literal()
				si, serr := slow.Literal()
				if fi != si || errSummary(ferr) != errSummary(serr) || fast.Offset() != slow.Offset() {
					t.Fatalf("%q (lenient %v): buffered %+v, %v at %d; byte by byte %+v, %v at %d",
						in, o.LenientLineEnds, fi, ferr, fast.Offset(), si, serr, slow.Offset())
				}
			}
		}
	}
}

// errSummary describes an error without the excerpt of the bytes found,
// which depends on how many were buffered.
func errSummary(err error) string {
	var se *wire.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax at %d: %s (%v)", se.Offset, se.Expected, se.Err)
	}
	return fmt.Sprint(err)
}

func TestLiteralStreamingAndDrain(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 8192) // 128 KiB
	in := fmt.Sprintf("* 1 FETCH (BODY[] {%d}\r\n%s UID 5)\r\n* 2 FETCH (BODY[] {%d}\r\n%s UID 6)\r\n* 3 EXISTS\r\n", len(body), body, len(body), body)
	for _, name := range []string{"whole", "onebyte", "timeout"} {
		t.Run(name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(in)
			switch name {
			case "onebyte":
				r = iotest.OneByteReader(r)
			case "timeout":
				r = &timeoutReader{r: r, n: 4, chunk: 1000}
			}
			tk := wire.NewTokenizer(r, &wire.TokenizerOptions{BufferSize: 1024})
			skipTo := func(kind wire.Kind) wire.Token {
				t.Helper()
				for {
					tok, err := tk.Next()
					if errors.Is(err, os.ErrDeadlineExceeded) {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if tok.Kind == kind {
						return tok
					}
				}
			}
			tok := skipTo(wire.KindLiteral)
			if tok.Literal().Size != int64(len(body)) {
				t.Fatalf("literal size %d", tok.Literal().Size)
			}
			lr, err := tk.LiteralReader()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			buf := make([]byte, 3000)
			for {
				n, err := lr.Read(buf)
				got.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got.Bytes(), body) {
				t.Fatalf("streamed body differs: got %d bytes", got.Len())
			}
			if tok := skipTo(wire.KindNumber); tok.Num != 5 {
				t.Fatalf("after literal: number %d; want 5", tok.Num)
			}
			// The second literal is not read at all: the next call skips it.
			skipTo(wire.KindLiteral)
			if tok := skipTo(wire.KindNumber); tok.Num != 6 {
				t.Fatalf("after skipped literal: number %d; want 6", tok.Num)
			}
			if tok := skipTo(wire.KindNumber); tok.Num != 3 {
				t.Fatalf("after skipped literal: number %d; want 3", tok.Num)
			}
		})
	}
}

// TestHugeAnnouncedLiteral: a peer that announces a huge literal and sends a
// few bytes costs a few bytes.
func TestHugeAnnouncedLiteral(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("* 1 FETCH (BODY[] {999999999}\r\n0123456789"), &wire.TokenizerOptions{MaxLiteral: 1 << 40})
	for {
		tok, err := tk.Next()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == wire.KindLiteral {
			break
		}
	}
	if _, err := tk.LiteralBytes(); !errors.Is(err, wire.ErrStringTooLarge) {
		t.Fatalf("LiteralBytes() err = %v; want ErrStringTooLarge", err)
	}
	r, _ := tk.LiteralReader()
	var m1, m2 runtimeMem
	m1.read()
	n, err := io.Copy(io.Discard, r)
	m2.read()
	if n != 10 || err != io.ErrUnexpectedEOF {
		t.Fatalf("io.Copy = %d, %v; want 10, io.ErrUnexpectedEOF", n, err)
	}
	if grew := m2.total - m1.total; grew > 1<<20 {
		t.Fatalf("reading a short huge literal allocated %d bytes", grew)
	}

	tk = wire.NewTokenizer(strings.NewReader("{9999999999}\r\nabc"), nil)
	_, err = tk.Literal()
	var le *wire.LimitError
	if !errors.As(err, &le) || !errors.Is(err, wire.ErrLiteralTooLarge) || le.Got != 9999999999 {
		t.Fatalf("Literal() err = %v; want LimitError ErrLiteralTooLarge", err)
	}
	tk = wire.NewTokenizer(strings.NewReader("{99999999999999999999}\r\nabc"), nil)
	if _, err = tk.Literal(); !errors.Is(err, wire.ErrNumberOverflow) {
		t.Fatalf("Literal() err = %v; want ErrNumberOverflow", err)
	}
}

func TestLimits(t *testing.T) {
	t.Run("line", func(t *testing.T) {
		in := "* OK " + strings.Repeat("x", 5000) + "\r\n* 1 EXISTS\r\n"
		tk := wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{MaxLineLength: 1000, BufferSize: 256})
		tk.Expect('*')
		tk.SP()
		tk.Atom()
		tk.SP()
		_, err := tk.Text()
		var le *wire.LimitError
		if !errors.As(err, &le) || !errors.Is(err, wire.ErrLineTooLong) {
			t.Fatalf("Text() err = %v; want ErrLineTooLong", err)
		}
		if !strings.HasPrefix(err.Error(), "wire: ") {
			t.Fatalf("error %q lacks the package prefix", err)
		}
		// Skipping a line over the limit would mean draining it without
		// bound: SkipLine gives up, and the stream is out of step.
		if err := tk.SkipLine(); !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrLineTooLong) {
			t.Fatalf("SkipLine() = %v; want ErrOutOfStep and ErrLineTooLong", err)
		}
		if _, err := dump(tk); !errors.Is(err, wire.ErrOutOfStep) {
			t.Fatalf("after SkipLine: %v; want ErrOutOfStep", err)
		}
	})
	t.Run("skipunder", func(t *testing.T) {
		// A line under the limit is skipped whole, and the stream stays
		// in step.
		in := "* OK " + strings.Repeat("x", 900) + "\r\n* 1 EXISTS\r\n"
		tk := wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{MaxLineLength: 1000, BufferSize: 256})
		tk.Expect('*')
		if err := tk.SkipLine(); err != nil {
			t.Fatalf("SkipLine() = %v", err)
		}
		if got, _ := dump(tk); !cmp.Equal(got, []string{"'*'", "SP", "number:1", "SP", "atom:EXISTS", "CRLF"}) {
			t.Fatalf("after SkipLine: %v", got)
		}
	})
	t.Run("atomline", func(t *testing.T) {
		tk := wire.NewTokenizer(strings.NewReader(strings.Repeat("x", 10000)), &wire.TokenizerOptions{MaxLineLength: 1000})
		if _, err := tk.Atom(); !errors.Is(err, wire.ErrLineTooLong) {
			t.Fatalf("Atom() err = %v; want ErrLineTooLong", err)
		}
	})
	t.Run("depth", func(t *testing.T) {
		tk := wire.NewTokenizer(strings.NewReader(strings.Repeat("(", 200)+"\r\n"), &wire.TokenizerOptions{MaxDepth: 10})
		var err error
		for i := 0; i < 20 && err == nil; i++ {
			err = tk.Expect('(')
		}
		if !errors.Is(err, wire.ErrTooDeep) {
			t.Fatalf("err = %v; want ErrTooDeep", err)
		}
		tk = wire.NewTokenizer(strings.NewReader(strings.Repeat("[", 200)+"\r\n"), nil)
		_, err = dump(tk)
		if !errors.Is(err, wire.ErrTooDeep) {
			t.Fatalf("Next err = %v; want ErrTooDeep", err)
		}
	})
	t.Run("string", func(t *testing.T) {
		in := "{100}\r\n" + strings.Repeat("y", 100) + " z\r\n"
		tk := wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{MaxStringLiteral: 50})
		if _, err := tk.String(); !errors.Is(err, wire.ErrStringTooLarge) {
			t.Fatalf("String() err = %v; want ErrStringTooLarge", err)
		}
		// Nothing was consumed: the literal can still be streamed.
		info, err := tk.Literal()
		if err != nil || info.Size != 100 {
			t.Fatalf("Literal() = %+v, %v", info, err)
		}
		r, _ := tk.LiteralReader()
		b, _ := io.ReadAll(r)
		if len(b) != 100 {
			t.Fatalf("streamed %d bytes; want 100", len(b))
		}
	})
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		in   string
		call func(*wire.Tokenizer) error
		off  int64
		want string
	}{
		{"abc", func(tk *wire.Tokenizer) error { _, err := tk.Number(); return err }, 0, `expected number, got "abc"`},
		{"(x", func(tk *wire.Tokenizer) error { tk.Expect('('); return tk.Expect(')') }, 1, `expected ')', got "x"`},
		{"\"abc\r\n\"", func(tk *wire.Tokenizer) error { _, err := tk.Quoted(); return err }, 0, `expected closing '"'`},
		{"\"a\\xb\"", func(tk *wire.Tokenizer) error { _, err := tk.Quoted(); return err }, 3, `after '\'`},
		{"{12x}\r\n", func(tk *wire.Tokenizer) error { _, err := tk.Literal(); return err }, 3, `expected '}'`},
		{"{1}x", func(tk *wire.Tokenizer) error { _, err := tk.Literal(); return err }, 3, `expected CRLF after literal header`},
		{"x\n", func(tk *wire.Tokenizer) error { tk.Atom(); return tk.CRLF() }, 1, `expected CRLF, got "\n"`},
		{"99999999999999999999999", func(tk *wire.Tokenizer) error { _, err := tk.Number(); return err }, 0, "overflows"},
		{"<12.x>", func(tk *wire.Tokenizer) error { _, _, _, err := tk.Partial(); return err }, 4, "expected number"},
	}
	for _, tt := range tests {
		err := tt.call(wire.NewTokenizer(strings.NewReader(tt.in), nil))
		var se *wire.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err = %v; want *SyntaxError", tt.in, err)
			continue
		}
		if se.Offset != tt.off || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "wire: ") {
			t.Errorf("%q: err = %v (offset %d); want offset %d and %q", tt.in, err, se.Offset, tt.off, tt.want)
		}
	}
}

func TestUnexpectedEOF(t *testing.T) {
	for _, in := range []string{"* 1 FET", "\"abc", "{5}\r\nab", "* OK text"} {
		_, err := dump(wire.NewTokenizer(strings.NewReader(in), nil))
		if in == "* 1 FET" && err == nil {
			continue // an atom may end at EOF; the line then lacks its CRLF
		}
		if err != io.ErrUnexpectedEOF && in != "* OK text" {
			t.Errorf("%q: err = %v; want io.ErrUnexpectedEOF", in, err)
		}
	}
	tk := wire.NewTokenizer(strings.NewReader("* OK text"), nil)
	tk.Expect('*')
	tk.SP()
	tk.Atom()
	tk.SP()
	if _, err := tk.Text(); err != io.ErrUnexpectedEOF {
		t.Errorf("Text() at EOF = %v; want io.ErrUnexpectedEOF", err)
	}
}

func TestLenientLineEnds(t *testing.T) {
	in := "* 1 EXISTS\n* OK hi\n{2}\nab\r\n"
	if _, err := dump(wire.NewTokenizer(strings.NewReader(in), nil)); err == nil {
		t.Fatal("bare LF accepted without LenientLineEnds")
	}
	got, err := dump(wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{LenientLineEnds: true}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'*'", "SP", "number:1", "SP", "atom:EXISTS", "CRLF", "'*'", "SP", "atom:OK", "SP", "text:hi", "CRLF", `literal:2:false:false:"ab"`, "CRLF"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
}

func TestSkipLineWithLiterals(t *testing.T) {
	in := "* 1 FETCH (BODY[] {5}\r\nab\r\nc X {3+}\r\n)\r\n ~{2}\r\n\r\n)\r\n* 2 EXISTS\r\n"
	tk := wire.NewTokenizer(iotest.OneByteReader(strings.NewReader(in)), &wire.TokenizerOptions{BufferSize: 8})
	tk.Expect('*')
	if err := tk.SkipLine(); err != nil {
		t.Fatal(err)
	}
	got, err := dump(tk)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"'*'", "SP", "number:2", "SP", "atom:EXISTS", "CRLF"}; !cmp.Equal(want, got) {
		t.Fatalf("after SkipLine got %v; want %v", got, want)
	}
}

func TestMarkRewind(t *testing.T) {
	tr := &timeoutReader{r: strings.NewReader("* 5 FETCH (UID 9 FLAGS (\\Seen))\r\n* 6 EXISTS\r\n"), n: 1000, chunk: 12}
	tk := wire.NewTokenizer(tr, nil)
	m := tk.Mark()
	tk.Expect('*')
	tk.SP()
	n1, _ := tk.Number()
	tk.SP()
	tk.Atom()
	if err := tk.Rewind(m); err != nil {
		t.Fatal(err)
	}
	tk.Expect('*')
	tk.SP()
	if n2, _ := tk.Number(); n1 != 5 || n2 != 5 {
		t.Fatalf("numbers %d %d; want 5 5", n1, n2)
	}
	tk.SkipLine()
	if err := tk.Rewind(m); err != wire.ErrCannotRewind {
		t.Fatalf("Rewind to a mark of an earlier line = %v; want ErrCannotRewind", err)
	}
}

func TestReset(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("a OK Begin TLS\r\n* OK [CAPABILITY X] injected\r\n"), nil)
	tk.Atom()
	tk.SP()
	tk.Atom()
	tk.SP()
	tk.Text()
	tk.CRLF()
	if tk.Buffered() == 0 {
		t.Fatal("the injected line should be buffered in this test")
	}
	tk.Reset(strings.NewReader("* OK real\r\n"))
	got, _ := dump(tk)
	if want := []string{"'*'", "SP", "atom:OK", "SP", "text:real", "CRLF"}; !cmp.Equal(want, got) {
		t.Fatalf("after Reset got %v; want %v", got, want)
	}
}

// TestZeroAllocs proves the steady state allocates nothing per token for
// atoms, numbers, quoted strings and lists.
func TestZeroAllocs(t *testing.T) {
	line := "* 12345 FETCH (UID 4827 FLAGS (\\Seen \\Answered) X-ATOM \"quoted string\" \"esc\\\"aped\" NIL (1 2 (3)) BODY[1.2]<0> {5}\r\nhello)\r\n"
	src := &repeatReader{line: []byte(line)}
	tk := wire.NewTokenizer(src, nil)
	readLine := func() {
		for {
			tok, err := tk.Next()
			if err != nil {
				t.Fatal(err)
			}
			if tok.Kind == wire.KindLiteral {
				if _, err := tk.LiteralBytes(); err != nil {
					t.Fatal(err)
				}
			}
			if tok.Kind == wire.KindCRLF {
				return
			}
		}
	}
	for i := 0; i < 100; i++ {
		readLine()
	}
	if a := testing.AllocsPerRun(1000, readLine); a != 0 {
		t.Fatalf("Next: %v allocations per line; want 0", a)
	}
	typed := func() {
		if err := tk.Expect('*'); err != nil {
			t.Fatal(err)
		}
		tk.SP()
		tk.Number()
		tk.SP()
		tk.Atom()
		tk.SP()
		tk.Expect('(')
		tk.Atom()
		tk.SP()
		tk.Number()
		tk.SP()
		tk.Atom()
		tk.SP()
		tk.Expect('(')
		tk.Flag()
		tk.SP()
		tk.Flag()
		tk.Expect(')')
		tk.SP()
		tk.Atom()
		tk.SP()
		tk.String()
		tk.SP()
		tk.AString()
		tk.SP()
		tk.NString()
		if err := tk.SkipLine(); err != nil {
			t.Fatal(err)
		}
	}
	if a := testing.AllocsPerRun(1000, typed); a != 0 {
		t.Fatalf("typed methods: %v allocations per line; want 0", a)
	}
	b := make([]byte, 8)
	lr := func() {
		for {
			tok, _ := tk.Next()
			if tok.Kind == wire.KindLiteral {
				r, _ := tk.LiteralReader()
				io.ReadFull(r, b[:5])
			}
			if tok.Kind == wire.KindCRLF {
				return
			}
		}
	}
	if a := testing.AllocsPerRun(1000, lr); a != 0 {
		t.Fatalf("LiteralReader: %v allocations per line; want 0", a)
	}
}

// repeatReader returns line forever, in chunks of any size.
type repeatReader struct {
	line []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.line[r.off:])
		n += c
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

func TestDetach(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("A1 OK go\r\nCOMPRESSED-BYTES"), nil)
	tk.Atom()
	tk.SP()
	tk.Atom()
	tk.SP()
	tk.Text()
	if err := tk.CRLF(); err != nil {
		t.Fatal(err)
	}
	if got := string(tk.Detach()); got != "COMPRESSED-BYTES" {
		t.Fatalf("Detach() = %q; want the read-ahead bytes", got)
	}
	if tk.Buffered() != 0 {
		t.Fatalf("Buffered() = %d after Detach; want 0", tk.Buffered())
	}
	tk.Reset(strings.NewReader("* 1 EXISTS\r\n"))
	if got, _ := dump(tk); len(got) != 6 {
		t.Fatalf("after Reset: %v", got)
	}
}

// TestLineBuffered: LineBuffered says true, with the largest literal, only
// for a line wholly in the buffer, and only between two lines.
func TestLineBuffered(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
		maxLit   int64
	}{
		{"whole", "* 1 EXISTS\r\n", true, 0},
		{"cut", "* 1 FETCH (UID 5", false, 0},
		{"literals", "* 1 FETCH (BODY[] {3}\r\na\nb BODY[1] {12}\r\nline\r\nline\r\n)\r\n", true, 12},
		{"literal cut", "* 1 FETCH (BODY[] {30}\r\nabc\r\n)\r\n", false, 0},
		{"after the literal cut", "* 1 FETCH (BODY[] {3}\r\nabc", false, 0},
		{"binary", "* 1 FETCH (BINARY[] ~{2}\r\n\x00\n)\r\n", true, 2},
		{"bare LF", "* 1 EXISTS\n", true, 0},
		{"empty", "", false, 0},
	} {
		// A buffer larger than the input, and a reader that gives it all
		// at once: after the first Peek everything is buffered.
		tk := wire.NewTokenizer(strings.NewReader(tc.in), nil)
		tk.Peek()
		ok, maxLit := tk.LineBuffered()
		if ok != tc.ok || maxLit != tc.maxLit {
			t.Errorf("%s: LineBuffered() = %v, %d; want %v, %d", tc.name, ok, maxLit, tc.ok, tc.maxLit)
		}
	}
	// Only between two lines: not after the first token, again after the
	// CRLF (for the next line, here cut).
	tk := wire.NewTokenizer(strings.NewReader("* 1 EXISTS\r\n* 2 EXI"), nil)
	tk.Expect('*')
	if ok, _ := tk.LineBuffered(); ok {
		t.Error("LineBuffered in the middle of a line said true")
	}
	tk.SkipLine()
	if ok, _ := tk.LineBuffered(); ok {
		t.Error("LineBuffered for a cut second line said true")
	}
	tk = wire.NewTokenizer(strings.NewReader("* 1 EXISTS\r\n* 2 EXISTS\r\n"), nil)
	tk.SkipLine()
	if ok, _ := tk.LineBuffered(); !ok {
		t.Error("LineBuffered for a whole second line said false")
	}
}

// TestSkipLineResumedKeepsLine: SkipLine "keeps nothing in memory": past the
// line's head it drops what it skipped but a 32-byte tail. A skip resumed
// after a read deadline (the session resumes one so) starts with lineCut set
// and lineText unset, so skipLine's known is false and whole is false:
// decide never decides, and the tail drop (gated on known since 0b60ec4)
// never happens. The rest of the line piles up in the buffer (growing it)
// up to its LF or MaxLineLength.
func TestSkipLineResumedKeepsLine(t *testing.T) {
	r := &stepReader{steps: []*string{
		strStep("* 1 FETCH (X " + strings.Repeat("a", 200)), nil,
		strStep(strings.Repeat("b", 300_000)), nil,
		strStep("\r\n* 2 EXISTS\r\n"),
	}}
	tk := wire.NewTokenizer(r, nil)
	if err := tk.SkipLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first SkipLine: %v; want the deadline", err)
	}
	first := tk.Buffered()
	if err := tk.SkipLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("resumed SkipLine: %v; want the deadline", err)
	}
	if n := tk.Buffered(); n > 64 {
		t.Errorf("after the resumed skip met the deadline, %d bytes of the skipped line are still buffered (after the first skip: %d); want at most the 32-byte tail", n, first)
	}
	if err := tk.SkipLine(); err != nil {
		t.Fatalf("last SkipLine: %v", err)
	}
	if b, err := tk.Rest(); err != nil || string(b) != "* 2 EXISTS" {
		t.Fatalf("next line: %q %v", b, err)
	}
}

// TestLineAtBound: MaxLineLength counts a line's bytes without its
// CRLF (docs/limits.md, PeekAt's doc, TestPeekAtLineEnd): a line
// of exactly MaxLineLength bytes and its CRLF reads, one byte longer fails
// with ErrLineTooLong. With the default options the buffer grows from
// DefaultBufferSize by doubling to exactly DefaultMaxLineLength: a line
// that filled it to the bound could not have its CRLF read (makeRoom
// refused to grow a buffer holding MaxLineLength bytes of the line), so
// the line of MaxLineLength bytes failed with ErrLineTooLong whichever
// method read it. Checked with the defaults (and a bound the buffer
// reaches exactly by doubling), at both edges, by several readers, whole
// reads and one byte a read.
func TestLineAtBound(t *testing.T) {
	starSP := func(tk *wire.Tokenizer) error {
		if err := tk.Expect('*'); err != nil {
			return err
		}
		return tk.SP()
	}
	nextToCRLF := func(tk *wire.Tokenizer) error {
		for {
			tok, err := tk.Next()
			if err != nil || tok.Kind == wire.KindCRLF {
				return err
			}
		}
	}
	appendLine := func(tk *wire.Tokenizer) error {
		_, err := tk.AppendLine(nil)
		return err
	}
	type reader struct {
		name string
		line func(n int) string // a line of n bytes, CRLF not counted
		read func(tk *wire.Tokenizer) error
	}
	pad := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	readers := []reader{
		{"Atom", func(n int) string { return pad("* ", n) }, func(tk *wire.Tokenizer) error {
			if err := starSP(tk); err != nil {
				return err
			}
			if _, err := tk.Atom(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"Text", func(n int) string { return pad("* OK ", n) }, func(tk *wire.Tokenizer) error {
			for range 2 {
				if _, err := tk.Atom(); err != nil {
					if err2 := tk.Expect('*'); err2 != nil {
						return err
					}
				}
				if err := tk.SP(); err != nil {
					return err
				}
			}
			if _, err := tk.Text(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"Quoted", func(n int) string { return pad("* \"", n-1) + "\"" }, func(tk *wire.Tokenizer) error {
			if err := starSP(tk); err != nil {
				return err
			}
			if _, err := tk.Quoted(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"Next", func(n int) string { return pad("* ", n) }, nextToCRLF},
		{"AppendLine", func(n int) string { return pad("* ", n) }, appendLine},
		{"Rest", func(n int) string { return pad("* OK ", n) }, func(tk *wire.Tokenizer) error {
			if err := starSP(tk); err != nil {
				return err
			}
			if _, err := tk.Rest(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"ForwardLine", func(n int) string { return pad("* ", n) }, func(tk *wire.Tokenizer) error {
			return tk.ForwardLine(io.Discard)
		}},
		// Lines that end with a special or spaces: consumed from the
		// buffer without a check of their own, they are checked where
		// the line ends.
		{"ExpectParen", func(n int) string { return pad("* (", n-1) + ")" }, func(tk *wire.Tokenizer) error {
			for _, c := range []byte("* (") {
				if c == ' ' {
					if err := tk.SP(); err != nil {
						return err
					}
				} else if err := tk.Expect(c); err != nil {
					return err
				}
			}
			if _, err := tk.Atom(); err != nil {
				return err
			}
			if err := tk.Expect(')'); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"NextParen", func(n int) string { return pad("* (", n-2) + "))" }, nextToCRLF},
		{"AppendLineParen", func(n int) string { return pad("* (", n-2) + "))" }, appendLine},
		{"TrailingSP", func(n int) string { return pad("* ", n-2) + "  " }, appendLine},
		{"SkipLine", func(n int) string { return pad("* ", n) }, func(tk *wire.Tokenizer) error {
			if _, err := tk.Atom(); err != nil && tk.Expect('*') != nil {
				return err
			}
			return tk.SkipLine()
		}},
	}
	for _, max := range []int{wire.DefaultMaxLineLength, 4 * wire.DefaultBufferSize} {
		var opts *wire.TokenizerOptions // the defaults
		if max != wire.DefaultMaxLineLength {
			opts = &wire.TokenizerOptions{MaxLineLength: max}
		}
		for _, rd := range readers {
			for _, oneByte := range []bool{false, true} {
				if oneByte && max == wire.DefaultMaxLineLength && rd.name != "Atom" && rd.name != "Text" {
					continue // one byte a read of 1 MiB: two readers are enough
				}
				open := func(n int) *wire.Tokenizer {
					var r io.Reader = strings.NewReader(rd.line(n) + "\r\n* 3 EXISTS\r\n")
					if oneByte {
						r = iotest.OneByteReader(r)
					}
					return wire.NewTokenizer(r, opts)
				}
				// Within the bound: read, and the next line follows.
				tk := open(max)
				if err := rd.read(tk); err != nil {
					t.Errorf("max %d, %s (one byte a read: %v): a line of %d bytes: %v; want it read", max, rd.name, oneByte, max, err)
				} else if err := tk.Expect('*'); err != nil {
					t.Errorf("max %d, %s: the next line: %v", max, rd.name, err)
				}
				// One byte past it: the typed error.
				tk = open(max + 1)
				if err := rd.read(tk); !errors.Is(err, wire.ErrLineTooLong) {
					t.Errorf("max %d, %s (one byte a read: %v): a line of %d bytes: %v; want ErrLineTooLong", max, rd.name, oneByte, max+1, err)
				} else if _, ok := errors.AsType[*wire.LimitError](err); !ok {
					t.Errorf("max %d, %s: %T; want a *wire.LimitError", max, rd.name, err)
				}
			}
		}
	}
}

// TestAngleAtom: '<' and '>' are ATOM-CHARs, so "<0", "<0>",
// "<1.2>" and "<x" are atoms (a keyword in a SEARCH or a flag list, an
// unknown response code's argument). The tokenizer read "<digit" as a
// partial wherever it came: "KEYWORD <0" failed with a syntax error (the
// proxy refused the command, the codec an unknown FETCH item's value) and
// "<00>" came back from AppendToken as "<0>". A partial is now read only
// right after a section's ']' ("BODY[]<0>"), everywhere else "<..." is an
// atom and round-trips byte for byte.
func TestAngleAtom(t *testing.T) {
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
