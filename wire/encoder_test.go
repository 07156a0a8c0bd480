package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// encRender shows a command the way tests compare it: each part's data, with
// "<+>" where WriteTo waits for a continuation, and streamed bodies read
// into place.
func encRender(t testing.TB, cmd *Encoded) string {
	t.Helper()
	var b bytes.Buffer
	for _, p := range cmd.Parts {
		if p.WaitContinuation {
			b.WriteString("<+>")
		}
		b.Write(p.Data)
		if p.BodySize > 0 {
			if _, err := io.CopyN(&b, p.Body, p.BodySize); err != nil {
				t.Fatalf("reading body: %v", err)
			}
		}
	}
	return b.String()
}

func encPtr(s string) *string { return &s }

type encCase struct {
	call  string // how the test is shown, e.g. `String("a b")`
	opts  *EncoderOptions
	build func(e *Encoder)
	want  string // rendered output between "A1 " and the final CRLF
}

func TestEncodeArguments(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	plus := &EncoderOptions{LiteralPlus: true}
	minus := &EncoderOptions{LiteralMinus: true}
	utf := &EncoderOptions{UTF8: true}
	tests := []encCase{
		// String: quoted or literal, never an atom.
		{`String("")`, nil, func(e *Encoder) { e.String("") }, `""`},
		{`String("hello")`, nil, func(e *Encoder) { e.String("hello") }, `"hello"`},
		{`String("a b")`, nil, func(e *Encoder) { e.String("a b") }, `"a b"`},
		{`String("a\"b\\c")`, nil, func(e *Encoder) { e.String(`a"b\c`) }, `"a\"b\\c"`},
		{`String("a\tb\x7f")`, nil, func(e *Encoder) { e.String("a\tb\x7f") }, "\"a\tb\x7f\""},
		{`String("a\r\nb")`, nil, func(e *Encoder) { e.String("a\r\nb") }, "{4}\r\n<+>a\r\nb"},
		{`String("a\rb")`, nil, func(e *Encoder) { e.String("a\rb") }, "{3}\r\n<+>a\rb"},
		{`String("a\nb")`, nil, func(e *Encoder) { e.String("a\nb") }, "{3}\r\n<+>a\nb"},
		{`String("a\r\nb") LITERAL+`, plus, func(e *Encoder) { e.String("a\r\nb") }, "{4+}\r\na\r\nb"},
		{`String("a\r\nb") LITERAL-`, minus, func(e *Encoder) { e.String("a\r\nb") }, "{4+}\r\na\r\nb"},
		{`String("héllo")`, nil, func(e *Encoder) { e.String("héllo") }, "{6}\r\n<+>héllo"},
		{`String("héllo") UTF8`, utf, func(e *Encoder) { e.String("héllo") }, `"héllo"`},
		{`String("\xff") UTF8`, utf, func(e *Encoder) { e.String("\xff") }, "{1}\r\n<+>\xff"},
		{`String("\xed\xa0\x80") UTF8`, utf, func(e *Encoder) { e.String("\xed\xa0\x80") }, "{3}\r\n<+>\xed\xa0\x80"},
		{`String("\xc3") UTF8`, utf, func(e *Encoder) { e.String("a\xc3") }, "{2}\r\n<+>a\xc3"},
		{`String(1024 bytes)`, nil, func(e *Encoder) { e.String(long(1024)) }, `"` + long(1024) + `"`},
		{`String(1025 bytes)`, nil, func(e *Encoder) { e.String(long(1025)) }, "{1025}\r\n<+>" + long(1025)},
		{`String("abc") MaxQuoted=3`, &EncoderOptions{MaxQuoted: 3}, func(e *Encoder) { e.String("abc") }, `"abc"`},
		{`String("abcd") MaxQuoted=3`, &EncoderOptions{MaxQuoted: 3}, func(e *Encoder) { e.String("abcd") }, "{4}\r\n<+>abcd"},
		{`String("") MaxQuoted=-1`, &EncoderOptions{MaxQuoted: -1}, func(e *Encoder) { e.String("") }, "{0}\r\n<+>"},
		{`String(4096 bytes with LF) LITERAL-`, minus, func(e *Encoder) { e.String("\n" + long(4095)) }, "{4096+}\r\n\n" + long(4095)},
		{`String(4097 bytes with LF) LITERAL-`, minus, func(e *Encoder) { e.String("\n" + long(4096)) }, "{4097}\r\n<+>\n" + long(4096)},
		{`String(5000 bytes) LITERAL+ LITERAL-`, &EncoderOptions{LiteralPlus: true, LiteralMinus: true}, func(e *Encoder) { e.String(long(5000)) }, "{5000+}\r\n" + long(5000)},
		{`StringBytes("a b")`, nil, func(e *Encoder) { e.StringBytes([]byte("a b")) }, `"a b"`},
		{`StringBytes("x\r\n")`, nil, func(e *Encoder) { e.StringBytes([]byte("x\r\n")) }, "{3}\r\n<+>x\r\n"},

		// AString: atom when possible.
		{`AString("alice")`, nil, func(e *Encoder) { e.AString("alice") }, `alice`},
		{`AString("")`, nil, func(e *Encoder) { e.AString("") }, `""`},
		{`AString("NIL")`, nil, func(e *Encoder) { e.AString("NIL") }, `"NIL"`},
		{`AString("nIl")`, nil, func(e *Encoder) { e.AString("nIl") }, `"nIl"`},
		{`AString("NILS")`, nil, func(e *Encoder) { e.AString("NILS") }, `NILS`},
		{`AString("a b")`, nil, func(e *Encoder) { e.AString("a b") }, `"a b"`},
		{`AString("a]b")`, nil, func(e *Encoder) { e.AString("a]b") }, `"a]b"`},
		{`AString("50%")`, nil, func(e *Encoder) { e.AString("50%") }, `"50%"`},
		{`AString("a*")`, nil, func(e *Encoder) { e.AString("a*") }, `"a*"`},
		{`AString("{5}")`, nil, func(e *Encoder) { e.AString("{5}") }, `"{5}"`},
		{`AString("(x)")`, nil, func(e *Encoder) { e.AString("(x)") }, `"(x)"`},
		{`AString("\\Seen")`, nil, func(e *Encoder) { e.AString(`\Seen`) }, `"\\Seen"`},
		{`AString("user@example.com")`, nil, func(e *Encoder) { e.AString("user@example.com") }, `user@example.com`},
		{`AString("a+b")`, nil, func(e *Encoder) { e.AString("a+b") }, `a+b`},
		{`AString("x\r\n")`, nil, func(e *Encoder) { e.AString("x\r\n") }, "{3}\r\n<+>x\r\n"},
		{`AString("é")`, nil, func(e *Encoder) { e.AString("é") }, "{2}\r\n<+>é"},
		{`AString("é") UTF8`, utf, func(e *Encoder) { e.AString("é") }, `"é"`},
		{`AString(1025-byte atom)`, nil, func(e *Encoder) { e.AString(long(1025)) }, "{1025}\r\n<+>" + long(1025)},
		{`AStringBytes("bob")`, nil, func(e *Encoder) { e.AStringBytes([]byte("bob")) }, `bob`},
		{`AStringBytes("nil")`, nil, func(e *Encoder) { e.AStringBytes([]byte("nil")) }, `"nil"`},

		// NString.
		{`NString(nil)`, nil, func(e *Encoder) { e.NString(nil) }, `NIL`},
		{`NString("x")`, nil, func(e *Encoder) { e.NString(encPtr("x")) }, `"x"`},
		{`NString("NIL")`, nil, func(e *Encoder) { e.NString(encPtr("NIL")) }, `"NIL"`},
		{`NString("")`, nil, func(e *Encoder) { e.NString(encPtr("")) }, `""`},

		// Mailbox.
		{`Mailbox("inbox")`, nil, func(e *Encoder) { e.Mailbox("inbox") }, `INBOX`},
		{`Mailbox("InBoX")`, nil, func(e *Encoder) { e.Mailbox("InBoX") }, `INBOX`},
		{`Mailbox("INBOX.Sent")`, nil, func(e *Encoder) { e.Mailbox("INBOX.Sent") }, `INBOX.Sent`},
		{`Mailbox("inbox/x")`, nil, func(e *Encoder) { e.Mailbox("inbox/x") }, `inbox/x`},
		{`Mailbox("Sent Items")`, nil, func(e *Encoder) { e.Mailbox("Sent Items") }, `"Sent Items"`},
		{`Mailbox("&AOk-t&AOk-")`, nil, func(e *Encoder) { e.Mailbox("&AOk-t&AOk-") }, `&AOk-t&AOk-`},
		{`Mailbox("Nil")`, nil, func(e *Encoder) { e.Mailbox("Nil") }, `"Nil"`},
		{`Mailbox("")`, nil, func(e *Encoder) { e.Mailbox("") }, `""`},
		{`Mailbox("Été") UTF8`, utf, func(e *Encoder) { e.Mailbox("Été") }, `"Été"`},

		// Password: never an atom.
		{`Password("abc")`, nil, func(e *Encoder) { e.Password("abc") }, `"abc"`},
		{`Password("")`, nil, func(e *Encoder) { e.Password("") }, `""`},
		{`Password("NIL")`, nil, func(e *Encoder) { e.Password("NIL") }, `"NIL"`},
		{`Password("p\"w\\")`, nil, func(e *Encoder) { e.Password(`p"w\`) }, `"p\"w\\"`},
		{`Password("a\rb")`, nil, func(e *Encoder) { e.Password("a\rb") }, "{3}\r\n<+>a\rb"},
		{`Password("pässword")`, nil, func(e *Encoder) { e.Password("pässword") }, "{9}\r\n<+>pässword"},
		{`PasswordBytes("abc")`, nil, func(e *Encoder) { e.PasswordBytes([]byte("abc")) }, `"abc"`},

		// Atom, Number, SP.
		{`Atom("NOOP")`, nil, func(e *Encoder) { e.Atom("NOOP") }, `NOOP`},
		{`Atom("\\Seen")`, nil, func(e *Encoder) { e.Atom(`\Seen`) }, `\Seen`},
		{`Atom("$Forwarded")`, nil, func(e *Encoder) { e.Atom("$Forwarded") }, `$Forwarded`},
		{`Atom("BODY.PEEK")`, nil, func(e *Encoder) { e.Atom("BODY.PEEK") }, `BODY.PEEK`},
		{`Atom("UTF8=ACCEPT")`, nil, func(e *Encoder) { e.Atom("UTF8=ACCEPT") }, `UTF8=ACCEPT`},
		{`Atom("NIL")`, nil, func(e *Encoder) { e.Atom("NIL") }, `NIL`},
		{`Number(0)`, nil, func(e *Encoder) { e.Number(0) }, `0`},
		{`Number(max)`, nil, func(e *Encoder) { e.Number(1<<64 - 1) }, `18446744073709551615`},
		{`Atom("A").SP().SP().Atom("B")`, nil, func(e *Encoder) { e.Atom("A").SP().SP().Atom("B") }, `A  B`},

		// Literals.
		{`Literal("ab")`, nil, func(e *Encoder) { e.Literal([]byte("ab")) }, "{2}\r\n<+>ab"},
		{`Literal("a\x00b")`, nil, func(e *Encoder) { e.Literal([]byte("a\x00b")) }, "{3}\r\n<+>a\x00b"},
		{`Literal("ab") LITERAL+`, plus, func(e *Encoder) { e.Literal([]byte("ab")) }, "{2+}\r\nab"},
		{`Literal(nil)`, nil, func(e *Encoder) { e.Literal(nil) }, "{0}\r\n<+>"},
		{`Literal8("a\x00b")`, nil, func(e *Encoder) { e.Literal8([]byte("a\x00b")) }, "~{3}\r\n<+>a\x00b"},
		{`Literal8("a") LITERAL-`, minus, func(e *Encoder) { e.Literal8([]byte("a")) }, "~{1+}\r\na"},
		{`LiteralReader(5, "hello", false)`, nil, func(e *Encoder) { e.LiteralReader(5, strings.NewReader("hello"), false) }, "{5}\r\n<+>hello"},
		{`LiteralReader(5, "hello", true)`, nil, func(e *Encoder) { e.LiteralReader(5, strings.NewReader("hello"), true) }, "~{5}\r\n<+>hello"},
		{`LiteralReader(5, "hello", false) LITERAL+`, plus, func(e *Encoder) { e.LiteralReader(5, strings.NewReader("hello"), false) }, "{5+}\r\nhello"},
		{`LiteralReader(3, "abcdef", false)`, nil, func(e *Encoder) { e.LiteralReader(3, strings.NewReader("abcdef"), false) }, "{3}\r\n<+>abc"},
		{`LiteralReader(0, nil, false)`, nil, func(e *Encoder) { e.LiteralReader(0, nil, false) }, "{0}\r\n<+>"},
		{`LiteralReader(4097, ..., false) LITERAL-`, minus, func(e *Encoder) { e.LiteralReader(4097, strings.NewReader(long(4097)), false) }, "{4097}\r\n<+>" + long(4097)},
		{`String("a\n").SP().String("b\n")`, nil, func(e *Encoder) { e.String("a\n").SP().String("b\n") }, "{2}\r\n<+>a\n {2}\r\n<+>b\n"},

		// Lists, specials, raw, sequence sets.
		{`List(FLAGS UID)`, nil, func(e *Encoder) { e.List(func(e *Encoder) { e.Atom("FLAGS").SP().Atom("UID") }) }, `(FLAGS UID)`},
		{`List()`, nil, func(e *Encoder) { e.List(func(*Encoder) {}) }, `()`},
		{`BeginList().BeginList().EndList().EndList()`, nil, func(e *Encoder) { e.BeginList().BeginList().EndList().EndList() }, `(())`},
		{`Special('(')...Special(')')`, nil, func(e *Encoder) { e.Special('(').Atom("X").Special(')') }, `(X)`},
		{`Special all`, nil, func(e *Encoder) {
			for _, c := range []byte(`[]<>.*+%\`) {
				e.Special(c)
			}
		}, `[]<>.*+%\`},
		{`Atom("BODY").Special('[').Special(']')`, nil, func(e *Encoder) { e.Atom("BODY").Special('[').Special(']') }, `BODY[]`},
		{`Raw("BODY.PEEK[HEADER.FIELDS (FROM)]<0.100>")`, nil, func(e *Encoder) { e.Raw("BODY.PEEK[HEADER.FIELDS (FROM)]<0.100>") }, `BODY.PEEK[HEADER.FIELDS (FROM)]<0.100>`},
		{`Raw("SUBJECT \"a \\\" ) b\"")`, nil, func(e *Encoder) { e.Raw(`SUBJECT "a \" ) b"`) }, `SUBJECT "a \" ) b"`},
		{`Raw("(").Raw(")")`, nil, func(e *Encoder) { e.Raw("(").Raw(")") }, `()`},
		{`BeginList().Raw(")")`, nil, func(e *Encoder) { e.BeginList().Raw(")") }, `()`},
		{`Raw("")`, nil, func(e *Encoder) { e.Raw("") }, ``},
		{`SeqSet(1:5,7,9:*)`, nil, func(e *Encoder) { e.SeqSet([]SeqRange{{1, 5}, {7, 7}, {9, 0}}) }, `1:5,7,9:*`},
		{`SeqSet(9:5)`, nil, func(e *Encoder) { e.SeqSet([]SeqRange{{9, 5}}) }, `9:5`},
		{`SeqSet(*)`, nil, func(e *Encoder) { e.SeqSet([]SeqRange{{0, 0}}) }, `*`},

		// Secret does not change what is sent.
		{`Secret(Atom("dG9rZW4="))`, nil, func(e *Encoder) { e.Secret(func(e *Encoder) { e.Atom("dG9rZW4=") }) }, `dG9rZW4=`},
	}
	for _, tc := range tests {
		e := NewEncoder(tc.opts)
		e.Begin("A1").SP()
		tc.build(e)
		cmd, err := e.End()
		if err != nil {
			t.Errorf("%s: End() error %v", tc.call, err)
			continue
		}
		want := "A1 " + tc.want + "\r\n"
		if got := encRender(t, cmd); got != want {
			t.Errorf("%s = %q; want %q", tc.call, got, want)
		}
		if cmd.Tag != "A1" {
			t.Errorf("%s: Tag = %q; want %q", tc.call, cmd.Tag, "A1")
		}
	}
}

func TestEncodeCommands(t *testing.T) {
	e := NewEncoder(nil)
	tests := []struct {
		call  string
		build func() *Encoder
		want  string
	}{
		{"LOGIN", func() *Encoder {
			return e.Begin("A1").SP().Atom("LOGIN").SP().AString("alice").SP().Password("s3cr3t")
		}, "A1 LOGIN alice \"s3cr3t\"\r\n"},
		{"UID FETCH", func() *Encoder {
			return e.Begin("A2").SP().Atom("UID").SP().Atom("FETCH").SP().
				SeqSet([]SeqRange{{1, 100}, {200, 200}}).SP().List(func(e *Encoder) {
				e.Atom("FLAGS").SP().Atom("BODY.PEEK").Special('[').Atom("HEADER.FIELDS").SP().
					List(func(e *Encoder) { e.Atom("FROM").SP().Atom("SUBJECT") }).Special(']')
			})
		}, "A2 UID FETCH 1:100,200 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])\r\n"},
		{"STORE", func() *Encoder {
			return e.Begin("A3").SP().Atom("STORE").SP().SeqSet([]SeqRange{{1, 0}}).SP().Atom("+FLAGS.SILENT").SP().
				List(func(e *Encoder) { e.Atom(`\Seen`).SP().Atom(`\Deleted`) })
		}, "A3 STORE 1:* +FLAGS.SILENT (\\Seen \\Deleted)\r\n"},
		{"SELECT", func() *Encoder { return e.Begin("A4").SP().Atom("SELECT").SP().Mailbox("inbox") }, "A4 SELECT INBOX\r\n"},
		{"APPEND", func() *Encoder {
			return e.Begin("A5").SP().Atom("APPEND").SP().Mailbox("Sent Items").SP().
				List(func(e *Encoder) { e.Atom(`\Seen`) }).SP().String("01-Jan-2024 10:00:00 +0000").SP().
				LiteralReader(7, strings.NewReader("Hi\r\n\r\nX"), false)
		}, "A5 APPEND \"Sent Items\" (\\Seen) \"01-Jan-2024 10:00:00 +0000\" {7}\r\n<+>Hi\r\n\r\nX\r\n"},
		{"SEARCH", func() *Encoder {
			return e.Begin("A6").SP().Atom("SEARCH").SP().Atom("CHARSET").SP().Atom("UTF-8").SP().
				Atom("SUBJECT").SP().String("a\r\nb").SP().Atom("UNSEEN")
		}, "A6 SEARCH CHARSET UTF-8 SUBJECT {4}\r\n<+>a\r\nb UNSEEN\r\n"},
	}
	for _, tc := range tests {
		cmd, err := tc.build().End()
		if err != nil {
			t.Errorf("%s: End() error %v", tc.call, err)
			continue
		}
		if got := encRender(t, cmd); got != tc.want {
			t.Errorf("%s = %q; want %q", tc.call, got, tc.want)
		}
	}
}

func TestEncodeParts(t *testing.T) {
	e := NewEncoder(nil)
	body := strings.NewReader("BODY")
	cmd, err := e.Begin("A1").SP().Atom("X").SP().String("a\nb").SP().
		LiteralReader(4, body, false).SP().Atom("Y").End()
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{
		{Data: []byte("A1 X {3}\r\n")},
		{WaitContinuation: true, Data: []byte("a\nb {4}\r\n")},
		{WaitContinuation: true, Data: []byte{}, Body: body, BodySize: 4},
		{Data: []byte(" Y\r\n")},
	}
	if len(cmd.Parts) != len(want) {
		t.Fatalf("got %d parts; want %d: %+v", len(cmd.Parts), len(want), cmd.Parts)
	}
	for i, p := range cmd.Parts {
		w := want[i]
		if p.WaitContinuation != w.WaitContinuation || string(p.Data) != string(w.Data) || p.Body != w.Body || p.BodySize != w.BodySize {
			t.Errorf("Parts[%d] = {%v %q %v %d}; want {%v %q %v %d}", i,
				p.WaitContinuation, p.Data, p.Body != nil, p.BodySize,
				w.WaitContinuation, w.Data, w.Body != nil, w.BodySize)
		}
		if cap(p.Data) != len(p.Data) {
			t.Errorf("Parts[%d].Data has spare capacity %d; want capped", i, cap(p.Data)-len(p.Data))
		}
	}

	// With LITERAL+ there is one part per streamed body and no wait.
	e.SetOptions(&EncoderOptions{LiteralPlus: true})
	cmd, err = e.Begin("A2").SP().String("a\nb").SP().LiteralReader(4, body, true).End()
	if err != nil {
		t.Fatal(err)
	}
	if len(cmd.Parts) != 2 || cmd.Parts[0].WaitContinuation || cmd.Parts[1].WaitContinuation ||
		string(cmd.Parts[0].Data) != "A2 {3+}\r\na\nb ~{4+}\r\n" || cmd.Parts[0].Body != body ||
		string(cmd.Parts[1].Data) != "\r\n" {
		t.Errorf("LITERAL+ parts = %+v", cmd.Parts)
	}
	if got := e.Options(); !got.LiteralPlus {
		t.Errorf("Options() = %+v; want LiteralPlus", got)
	}
	e.SetOptions(nil)
	if got := e.Options(); got != (EncoderOptions{}) {
		t.Errorf("Options() after SetOptions(nil) = %+v; want zero", got)
	}
}

func TestEncodeZeroEncoder(t *testing.T) {
	var e Encoder
	cmd, err := e.Begin("T").SP().String(strings.Repeat("x", DefaultMaxQuoted)).End()
	if err != nil {
		t.Fatal(err)
	}
	if got := encRender(t, cmd); !strings.HasPrefix(got, `T "x`) {
		t.Errorf("zero Encoder: %q...; want a quoted string", got[:10])
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		call   string
		build  func(e *Encoder) *Encoder
		err    error
		op     string
		arg    int
		offset int
	}{
		{`Begin("")`, func(e *Encoder) *Encoder { return e.Begin("") }, ErrInvalidTag, "Begin", 0, -1},
		{`Begin("A+1")`, func(e *Encoder) *Encoder { return e.Begin("A+1") }, ErrInvalidTag, "Begin", 0, 1},
		{`Begin("A 1")`, func(e *Encoder) *Encoder { return e.Begin("A 1") }, ErrInvalidTag, "Begin", 0, 1},
		{`Begin("A*")`, func(e *Encoder) *Encoder { return e.Begin("A*") }, ErrInvalidTag, "Begin", 0, 1},
		{`Begin("A\r\n")`, func(e *Encoder) *Encoder { return e.Begin("A\r\n") }, ErrInvalidTag, "Begin", 0, 1},
		{`Begin("+")`, func(e *Encoder) *Encoder { return e.Begin("+") }, ErrInvalidTag, "Begin", 0, 0},
		{`Atom("")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("") }, ErrInvalidAtom, "Atom", 1, 0},
		{`Atom("a b")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("a b") }, ErrInvalidAtom, "Atom", 1, 1},
		{`Atom("\\")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom(`\`) }, ErrInvalidAtom, "Atom", 1, 1},
		{`Atom("\\\\Seen")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom(`\\Seen`) }, ErrInvalidAtom, "Atom", 1, 1},
		{`Atom("Se\\en")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom(`Se\en`) }, ErrInvalidAtom, "Atom", 1, 2},
		{`Atom("X\r\nA2 LOGOUT")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("X\r\nA2 LOGOUT") }, ErrInvalidAtom, "Atom", 1, 1},
		{`Atom("BODY[TEXT]")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("BODY[TEXT]") }, ErrInvalidAtom, "Atom", 1, 9},
		{`Atom("{5}")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("{5}") }, ErrInvalidAtom, "Atom", 1, 0},
		{`Atom("é")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("é") }, ErrInvalidAtom, "Atom", 1, 0},
		{`Atom("1:*")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("1:*") }, ErrInvalidAtom, "Atom", 1, 2},
		{`String("a\x00b")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("X").SP().String("a\x00b") }, ErrNUL, "String", 2, 1},
		{`StringBytes("\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().StringBytes([]byte("\x00")) }, ErrNUL, "StringBytes", 1, 0},
		{`AString("a\r\n\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().AString("a\r\n\x00") }, ErrNUL, "AString", 1, 3},
		{`AStringBytes("\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().AStringBytes([]byte("\x00")) }, ErrNUL, "AStringBytes", 1, 0},
		{`NString("\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().NString(encPtr("\x00")) }, ErrNUL, "NString", 1, 0},
		{`Mailbox("a\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Mailbox("a\x00") }, ErrNUL, "Mailbox", 1, 1},
		{`Password("p\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Password("p\x00") }, ErrNUL, "Password", 1, 1},
		{`PasswordBytes("p\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().PasswordBytes([]byte("p\x00")) }, ErrNUL, "PasswordBytes", 1, 1},
		{`String(long "\x00") MaxQuoted`, func(e *Encoder) *Encoder {
			return e.Begin("A").SP().String(strings.Repeat("a", 2000) + "\x00")
		}, ErrNUL, "String", 1, 2000},
		{`Raw("a\r\nb")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw("a\r\nb") }, ErrInvalidRaw, "Raw", 1, 1},
		{`Raw("a\nb")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw("a\nb") }, ErrInvalidRaw, "Raw", 1, 1},
		{`Raw("\x00")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw("\x00") }, ErrInvalidRaw, "Raw", 1, 0},
		{`Raw("é")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw("é") }, ErrInvalidRaw, "Raw", 1, 0},
		{`Raw("X {5}")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw("X {5}") }, ErrInvalidRaw, "Raw", 1, 2},
		{`Raw("\"abc")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw(`"abc`) }, ErrInvalidRaw, "Raw", 1, 3},
		{`Raw("\"a\\b\"")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw(`"a\b"`) }, ErrInvalidRaw, "Raw", 1, 2},
		{`Raw("\"a\\")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw(`"a\`) }, ErrInvalidRaw, "Raw", 1, 2},
		{`Raw(")")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw(")") }, ErrInvalidRaw, "Raw", 1, 0},
		{`Raw("(")`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Raw("(") }, ErrUnbalancedList, "End", 1, -1},
		{`Special('{')`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Atom("X").Special('{') }, ErrInvalidSpecial, "Special", 1, 0},
		{`Special(' ')`, func(e *Encoder) *Encoder { return e.Begin("A").Special(' ') }, ErrInvalidSpecial, "Special", 0, 0},
		{`Special('\r')`, func(e *Encoder) *Encoder { return e.Begin("A").Special('\r') }, ErrInvalidSpecial, "Special", 0, 0},
		{`Special('"')`, func(e *Encoder) *Encoder { return e.Begin("A").Special('"') }, ErrInvalidSpecial, "Special", 0, 0},
		{`EndList()`, func(e *Encoder) *Encoder { return e.Begin("A").SP().EndList() }, ErrUnbalancedList, "EndList", 0, -1},
		{`Special(')')`, func(e *Encoder) *Encoder { return e.Begin("A").SP().Special(')') }, ErrUnbalancedList, "EndList", 0, -1},
		{`BeginList()`, func(e *Encoder) *Encoder { return e.Begin("A").SP().BeginList().Atom("X") }, ErrUnbalancedList, "End", 1, -1},
		{`SeqSet(nil)`, func(e *Encoder) *Encoder { return e.Begin("A").SP().SeqSet(nil) }, ErrEmptySeqSet, "SeqSet", 1, -1},
		{`LiteralReader(-1)`, func(e *Encoder) *Encoder { return e.Begin("A").SP().LiteralReader(-1, strings.NewReader(""), false) }, ErrInvalidLiteral, "LiteralReader", 1, -1},
		{`LiteralReader(5, nil)`, func(e *Encoder) *Encoder { return e.Begin("A").SP().LiteralReader(5, nil, true) }, ErrInvalidLiteral, "LiteralReader", 1, -1},
		{`Atom before Begin`, func(e *Encoder) *Encoder { return e.Atom("X") }, ErrNotBegun, "Atom", 0, -1},
		{`End without Begin`, func(e *Encoder) *Encoder { return e }, ErrNotBegun, "End", 0, -1},
		{`sticky: first error wins`, func(e *Encoder) *Encoder {
			return e.Begin("A").SP().Atom("a b").SP().String("\x00").EndList().SeqSet(nil)
		}, ErrInvalidAtom, "Atom", 1, 1},
		{`sticky across lists`, func(e *Encoder) *Encoder {
			return e.Begin("A").SP().List(func(e *Encoder) { e.Atom("OK").SP().Raw("\n") }).SP().Atom("Y")
		}, ErrInvalidRaw, "Raw", 2, 0},
	}
	for _, tc := range tests {
		e := NewEncoder(nil)
		cmd, err := tc.build(e).End()
		if cmd != nil {
			t.Errorf("%s: End() returned a command %q with error %v", tc.call, encRender(t, cmd), err)
		}
		var ee *EncodeError
		if !errors.As(err, &ee) {
			t.Errorf("%s: End() error = %v (%T); want *EncodeError", tc.call, err, err)
			continue
		}
		if !errors.Is(err, tc.err) || ee.Op != tc.op || ee.Arg != tc.arg || ee.Offset != tc.offset {
			t.Errorf("%s: End() error = {Op:%q Arg:%d Offset:%d Err:%v}; want {Op:%q Arg:%d Offset:%d Err:%v}",
				tc.call, ee.Op, ee.Arg, ee.Offset, ee.Err, tc.op, tc.arg, tc.offset, tc.err)
		}
		if !strings.HasPrefix(err.Error(), "wire: encode "+tc.op) {
			t.Errorf("%s: Error() = %q; want prefix %q", tc.call, err.Error(), "wire: encode "+tc.op)
		}
		if e.Err() != err {
			t.Errorf("%s: Err() = %v; want %v", tc.call, e.Err(), err)
		}
		// The encoder is usable again after Begin.
		if cmd, err := e.Begin("B").SP().Atom("NOOP").End(); err != nil || encRender(t, cmd) != "B NOOP\r\n" {
			t.Errorf("%s: reuse after error: %v", tc.call, err)
		}
	}
}

func TestEncodeErrorMessage(t *testing.T) {
	tests := []struct {
		err  *EncodeError
		want string
	}{
		{&EncodeError{Op: "String", Arg: 2, Offset: 1, Err: ErrNUL}, "wire: encode String, argument 2: NUL byte in string argument at byte 1"},
		{&EncodeError{Op: "End", Arg: 3, Offset: -1, Err: ErrUnbalancedList}, "wire: encode End, argument 3: unbalanced parenthesized list"},
		{&EncodeError{Op: "X", Offset: -1}, "wire: encode X, argument 0"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q; want %q", tc.err, got, tc.want)
		}
	}
	// The message never contains the value.
	_, err := NewEncoder(nil).Begin("A").SP().Password("hunter2\x00").End()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Password error = %v; want an error without the password", err)
	}
	for _, s := range []error{ErrNotBegun, ErrInvalidTag, ErrInvalidAtom, ErrNUL, ErrInvalidRaw, ErrInvalidSpecial,
		ErrUnbalancedList, ErrEmptySeqSet, ErrInvalidLiteral, ErrNoWait} {
		if !strings.HasPrefix(s.Error(), "wire: ") {
			t.Errorf("sentinel %q lacks the \"wire: \" prefix", s)
		}
	}
}

func TestEncodeAfterEnd(t *testing.T) {
	e := NewEncoder(nil)
	if _, err := e.Begin("A").SP().Atom("NOOP").End(); err != nil {
		t.Fatal(err)
	}
	_, err := e.Atom("X").End()
	if !errors.Is(err, ErrNotBegun) {
		t.Errorf("Atom after End: End() error = %v; want ErrNotBegun", err)
	}
	if _, err := e.End(); !errors.Is(err, ErrNotBegun) {
		t.Errorf("End twice: error = %v; want ErrNotBegun", err)
	}
}

// encLog records writes and waits in order.
type encLog struct {
	bytes.Buffer
	events []string
}

func (l *encLog) Write(p []byte) (int, error) {
	l.events = append(l.events, "write "+strconv.Quote(string(p)))
	return l.Buffer.Write(p)
}

func TestEncodeWriteTo(t *testing.T) {
	e := NewEncoder(nil)
	cmd, err := e.Begin("A1").SP().Atom("LOGIN").SP().String("a\nb").SP().Password("p\r").End()
	if err != nil {
		t.Fatal(err)
	}
	var l encLog
	waits := 0
	n, err := cmd.WriteTo(&l, func() error {
		waits++
		l.events = append(l.events, "wait")
		return nil
	})
	want := "A1 LOGIN {3}\r\na\nb {2}\r\np\r\r\n"
	if err != nil || n != int64(len(want)) || l.String() != want || waits != 2 {
		t.Errorf("WriteTo = %d, %v, %q, %d waits; want %d, nil, %q, 2 waits", n, err, l.String(), waits, len(want), want)
	}
	wantEvents := []string{`write "A1 LOGIN {3}\r\n"`, "wait", `write "a\nb {2}\r\n"`, "wait", `write "p\r\r\n"`}
	if fmt.Sprint(l.events) != fmt.Sprint(wantEvents) {
		t.Errorf("WriteTo events = %q; want %q", l.events, wantEvents)
	}

	// The server refuses the literal: WriteTo stops after the first part
	// and returns the wait error as is.
	errNo := errors.New("server said NO")
	var out bytes.Buffer
	n, err = cmd.WriteTo(&out, func() error { return errNo })
	if err != errNo || out.String() != "A1 LOGIN {3}\r\n" || n != int64(out.Len()) {
		t.Errorf("WriteTo with refusing wait = %d, %v, %q; want %d, %v, %q", n, err, out.String(), len("A1 LOGIN {3}\r\n"), errNo, "A1 LOGIN {3}\r\n")
	}

	// No wait function.
	out.Reset()
	if _, err = cmd.WriteTo(&out, nil); !errors.Is(err, ErrNoWait) || out.String() != "A1 LOGIN {3}\r\n" {
		t.Errorf("WriteTo(nil wait) = %v, %q; want ErrNoWait after the first part", err, out.String())
	}

	// A command without synchronizing literals needs no wait.
	cmd, _ = e.Begin("A2").SP().Atom("NOOP").End()
	out.Reset()
	if n, err := cmd.WriteTo(&out, nil); err != nil || out.String() != "A2 NOOP\r\n" || n != 9 {
		t.Errorf("WriteTo(NOOP) = %d, %v, %q", n, err, out.String())
	}
}

func TestEncodeWriteToFlushesBeforeWait(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	cmd, err := NewEncoder(nil).Begin("A1").SP().Atom("X").SP().String("\n").End()
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	if _, err := cmd.WriteTo(bw, func() error { seen = out.String(); return nil }); err != nil {
		t.Fatal(err)
	}
	if seen != "A1 X {1}\r\n" {
		t.Errorf("at wait the peer had %q; want %q (WriteTo must flush before waiting)", seen, "A1 X {1}\r\n")
	}
	if bw.Buffered() == 0 {
		t.Errorf("WriteTo flushed the last part; want it left to the caller")
	}
}

type encErrWriter struct{ n int }

func (w *encErrWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, io.ErrClosedPipe
	}
	w.n--
	return len(p), nil
}

func TestEncodeWriteToErrors(t *testing.T) {
	e := NewEncoder(&EncoderOptions{LiteralPlus: true})

	// Short body.
	cmd, err := e.Begin("A1").SP().Atom("APPEND").SP().Mailbox("INBOX").SP().
		LiteralReader(10, strings.NewReader("short"), false).End()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := cmd.WriteTo(&out, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.HasPrefix(err.Error(), "wire: ") || n != int64(out.Len()) {
		t.Errorf("WriteTo(short body) = %d, %v; want io.ErrUnexpectedEOF", n, err)
	}
	if out.String() != "A1 APPEND INBOX {10+}\r\nshort" {
		t.Errorf("WriteTo(short body) wrote %q", out.String())
	}

	// A longer body: exactly BodySize bytes are copied.
	long := strings.NewReader("abcdef")
	cmd, _ = e.Begin("A1").SP().LiteralReader(3, long, false).SP().Atom("X").End()
	out.Reset()
	if n, err := cmd.WriteTo(&out, nil); err != nil || out.String() != "A1 {3+}\r\nabc X\r\n" || n != int64(out.Len()) || long.Len() != 3 {
		t.Errorf("WriteTo(long body) = %d, %v, %q, %d left; want %q, 3 left", n, err, out.String(), long.Len(), "A1 {3+}\r\nabc X\r\n")
	}

	// A failing body.
	errRead := errors.New("disk on fire")
	cmd, _ = e.Begin("A1").SP().LiteralReader(3, iotest.ErrReader(errRead), false).End()
	if _, err := cmd.WriteTo(io.Discard, nil); !errors.Is(err, errRead) || !strings.HasPrefix(err.Error(), "wire: literal body") {
		t.Errorf("WriteTo(failing body) = %v; want a wire: error wrapping %v", err, errRead)
	}

	// Writer failure.
	cmd, _ = e.Begin("A2").SP().String("a\n").End()
	if _, err := cmd.WriteTo(&encErrWriter{}, nil); err != io.ErrClosedPipe {
		t.Errorf("WriteTo(failing writer) = %v; want io.ErrClosedPipe", err)
	}

	// Flush failure before a wait.
	e.SetOptions(nil)
	cmd, _ = e.Begin("A3").SP().String("a\n").End()
	bw := bufio.NewWriter(&encErrWriter{})
	if _, err := cmd.WriteTo(bw, func() error { t.Error("wait called after failed flush"); return nil }); err != io.ErrClosedPipe {
		t.Errorf("WriteTo(failing flush) = %v; want io.ErrClosedPipe", err)
	}

	// A hand-built command with a body size but no body.
	c := &Encoded{Tag: "X", Parts: []Part{{Data: []byte("X {1+}\r\n"), BodySize: 1}}}
	if _, err := c.WriteTo(io.Discard, nil); !errors.Is(err, ErrInvalidLiteral) {
		t.Errorf("WriteTo(nil Body) = %v; want ErrInvalidLiteral", err)
	}
}

func TestEncodeRedacted(t *testing.T) {
	tests := []struct {
		call  string
		opts  *EncoderOptions
		build func(e *Encoder) *Encoder
		want  string
	}{
		{"LOGIN quoted", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().Atom("LOGIN").SP().AString("alice").SP().Password("hunter2")
		}, "A1 LOGIN alice ***\r\n"},
		{"LOGIN literal", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().Atom("LOGIN").SP().String("al\nice").SP().Password("hun\rter2")
		}, "A1 LOGIN {6}\r\nal\nice ***\r\n"},
		{"LOGIN literal+", &EncoderOptions{LiteralPlus: true}, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().Atom("LOGIN").SP().Password("hun\rter2").SP().Atom("X")
		}, "A1 LOGIN *** X\r\n"},
		{"empty literal password", &EncoderOptions{MaxQuoted: -1}, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().Atom("LOGIN").SP().Password("").SP().Password("b")
		}, "A1 LOGIN *** ***\r\n"},
		{"PasswordBytes", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().PasswordBytes([]byte("x"))
		}, "A1 ***\r\n"},
		{"Secret", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().Atom("AUTHENTICATE").SP().Atom("PLAIN").SP().
				Secret(func(e *Encoder) { e.Atom("AGFsaWNlAGh1bnRlcjI=").SP().Password("nested") }).SP().Atom("END")
		}, "A1 AUTHENTICATE PLAIN *** END\r\n"},
		{"Secret writes nothing", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").Secret(func(*Encoder) {}).SP().Atom("X")
		}, "A1 X\r\n"},
		{"APPEND body", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().Atom("APPEND").SP().Mailbox("inbox").SP().
				LiteralReader(12345, strings.NewReader(""), false)
		}, "A1 APPEND INBOX {12345}\r\n<12345 bytes>\r\n"},
		{"APPEND binary body literal+", &EncoderOptions{LiteralPlus: true}, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().Atom("APPEND").SP().Mailbox("inbox").SP().
				LiteralReader(3, strings.NewReader("abc"), true).SP().Password("x")
		}, "A1 APPEND INBOX ~{3+}\r\n<3 bytes> ***\r\n"},
		{"secret at the start of a part", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().LiteralReader(3, strings.NewReader("abc"), false).Password("x").SP().String("a\nb").Password("y")
		}, "A1 {3}\r\n<3 bytes>*** {3}\r\na\nb***\r\n"},
		{"no secrets", nil, func(e *Encoder) *Encoder {
			return e.Begin("A1").SP().String("a\nb")
		}, "A1 {3}\r\na\nb\r\n"},
	}
	for _, tc := range tests {
		cmd, err := tc.build(NewEncoder(tc.opts)).End()
		if err != nil {
			t.Errorf("%s: %v", tc.call, err)
			continue
		}
		if got := string(cmd.AppendRedacted([]byte(">"))); got != ">"+tc.want {
			t.Errorf("%s: AppendRedacted = %q; want %q", tc.call, got, ">"+tc.want)
		}
		if got := fmt.Sprint(cmd); got != tc.want {
			t.Errorf("%s: fmt.Sprint(cmd) = %q; want %q", tc.call, got, tc.want)
		}
	}
}

func TestEncodeAllocs(t *testing.T) {
	e := NewEncoder(nil)
	set := []SeqRange{{1, 100}, {200, 200}}
	fetch := func() {
		_, err := e.Begin("A1").SP().Atom("UID").SP().Atom("FETCH").SP().SeqSet(set).SP().List(func(e *Encoder) {
			e.Atom("FLAGS").SP().Atom("BODY.PEEK").Special('[').Atom("HEADER.FIELDS").SP().
				List(func(e *Encoder) { e.Atom("FROM").SP().Atom("SUBJECT") }).Special(']')
		}).End()
		if err != nil {
			t.Fatal(err)
		}
	}
	user, pass := "alice@example.com", "correct horse\r\nbattery"
	login := func() {
		_, err := e.Begin("A2").SP().Atom("LOGIN").SP().AString(user).SP().Password(pass).End()
		if err != nil {
			t.Fatal(err)
		}
	}
	body := strings.NewReader("x")
	appendCmd := func() {
		_, err := e.Begin("A3").SP().Atom("APPEND").SP().Mailbox("Sent").SP().
			List(func(e *Encoder) { e.Atom(`\Seen`) }).SP().LiteralReader(1, body, false).End()
		if err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	out.Grow(1024)
	redacted := make([]byte, 0, 256)
	redact := func() {
		cmd, _ := e.Begin("A4").SP().Atom("LOGIN").SP().AString(user).SP().Password(pass).End()
		redacted = cmd.AppendRedacted(redacted[:0])
		out.Reset()
		_, _ = cmd.WriteTo(&out, func() error { return nil })
	}
	msg := strings.Repeat("Subject: x\r\n", 50)
	appendWrite := func() {
		body.Reset(msg)
		cmd, err := e.Begin("A5").SP().Atom("APPEND").SP().Mailbox("Sent").SP().LiteralReader(int64(len(msg)), body, false).End()
		if err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if _, err := cmd.WriteTo(&out, func() error { return nil }); err != nil || out.Len() != len("A5 APPEND Sent {600}\r\n\r\n")+len(msg) {
			t.Fatalf("WriteTo = %v, %d bytes", err, out.Len())
		}
	}
	for _, tc := range []struct {
		name string
		f    func()
	}{{"UID FETCH", fetch}, {"LOGIN", login}, {"APPEND", appendCmd}, {"LOGIN+AppendRedacted+WriteTo", redact}, {"APPEND+WriteTo", appendWrite}} {
		if n := testing.AllocsPerRun(200, tc.f); n != 0 {
			t.Errorf("%s: allocs per command = %v; want 0", tc.name, n)
		}
	}
}

// encFraming checks the CR/LF rule on the bytes a command sends: a CR or LF
// may appear only in the final CRLF, in the CRLF that ends a literal header,
// and inside literal data. It also checks that every synchronizing header
// ends a part and that the next part waits, and that nothing else waits.
func encFraming(t testing.TB, cmd *Encoded) {
	t.Helper()
	var s []byte
	waitAt := map[int]bool{}
	for _, p := range cmd.Parts {
		if p.WaitContinuation {
			waitAt[len(s)] = true
		}
		s = append(s, p.Data...)
		if p.BodySize > 0 {
			b := make([]byte, p.BodySize)
			if _, err := io.ReadFull(p.Body, b); err != nil {
				t.Fatalf("body: %v", err)
			}
			s = append(s, b...)
		}
	}
	syncs := 0
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				switch s[j] {
				case '\\':
					if j+1 >= len(s) || (s[j+1] != '"' && s[j+1] != '\\') {
						t.Fatalf("bad escape at %d in %q", j, s)
					}
					j++
				case '\r', '\n', 0:
					t.Fatalf("CR, LF or NUL inside a quoted string at %d in %q", j, s)
				}
			}
			if j >= len(s) {
				t.Fatalf("unterminated quoted string at %d in %q", i, s)
			}
			i = j + 1
		case c == '{':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(string(s[i+1 : j]))
			if err != nil {
				t.Fatalf("bad literal header at %d in %q", i, s)
			}
			sync := true
			if j < len(s) && s[j] == '+' {
				sync = false
				j++
			}
			if !bytes.HasPrefix(s[j:], []byte("}\r\n")) {
				t.Fatalf("literal header at %d not followed by }CRLF in %q", i, s)
			}
			j += 3
			if sync {
				syncs++
				if !waitAt[j] {
					t.Fatalf("synchronizing literal header ending at %d does not end a part in %q", j, s)
				}
			} else if waitAt[j] {
				t.Fatalf("non-synchronizing literal header ending at %d is followed by a wait in %q", j, s)
			}
			if j+n > len(s) {
				t.Fatalf("literal at %d overruns the command in %q", i, s)
			}
			i = j + n
		case c == '\r' || c == '\n' || c == 0:
			if i != len(s)-2 || c != '\r' || s[i+1] != '\n' {
				t.Fatalf("stray %q at %d in %q", c, i, s)
			}
			i = len(s)
		default:
			i++
		}
	}
	if !bytes.HasSuffix(s, []byte("\r\n")) {
		t.Fatalf("command does not end with CRLF: %q", s)
	}
	if len(waitAt) != syncs {
		t.Fatalf("%d waits for %d synchronizing literals in %q", len(waitAt), syncs, s)
	}
}

// TestEncodeNoCRLFInjection feeds every method random strings full of CR,
// LF and other troublesome bytes (imaplib's CVE-2025-15366) and checks that a
// command either fails or keeps every CR and LF inside literal framing.
func TestEncodeNoCRLFInjection(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"\r", "\n", "\r\n", "\x00", "a", "Z", " ", "\"", "\\", "{", "}", "{3}", "{3+}", "~", "(", ")",
		"[", "]", "*", "%", "+", "é", "\xff", "\xc3", "NIL", "INBOX", "A2 LOGOUT", "\t", "\x7f", "<", ">", "."}
	rs := func() string {
		var b strings.Builder
		for n := rng.IntN(8); n > 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		if rng.IntN(20) == 0 {
			b.WriteString(strings.Repeat("x", 1000+rng.IntN(100)))
		}
		return b.String()
	}
	ops := []func(e *Encoder, s string){
		func(e *Encoder, s string) { e.Atom(s) },
		func(e *Encoder, s string) { e.String(s) },
		func(e *Encoder, s string) { e.StringBytes([]byte(s)) },
		func(e *Encoder, s string) { e.AString(s) },
		func(e *Encoder, s string) { e.AStringBytes([]byte(s)) },
		func(e *Encoder, s string) { e.NString(&s) },
		func(e *Encoder, s string) { e.NString(nil) },
		func(e *Encoder, s string) { e.Mailbox(s) },
		func(e *Encoder, s string) { e.Password(s) },
		func(e *Encoder, s string) { e.PasswordBytes([]byte(s)) },
		func(e *Encoder, s string) { e.Literal([]byte(strings.ReplaceAll(s, "\x00", ""))) },
		func(e *Encoder, s string) { e.Literal8([]byte(s)) },
		func(e *Encoder, s string) { e.LiteralReader(int64(len(s)), strings.NewReader(s), rng.IntN(2) == 0) },
		func(e *Encoder, s string) { e.Raw(s) },
		func(e *Encoder, s string) {
			if len(s) > 0 {
				e.Special(s[0])
			}
		},
		func(e *Encoder, s string) { e.Secret(func(e *Encoder) { e.AString(s) }) },
		func(e *Encoder, s string) { e.List(func(e *Encoder) { e.String(s).SP().Atom(s) }) },
		func(e *Encoder, s string) { e.BeginList() },
		func(e *Encoder, s string) { e.EndList() },
		func(e *Encoder, s string) { e.Number(uint64(len(s))) },
		func(e *Encoder, s string) { e.SeqSet([]SeqRange{{uint32(len(s)), 0}}) },
	}
	e := NewEncoder(nil)
	okCount := 0
	for iter := 0; iter < 20000; iter++ {
		e.SetOptions(&EncoderOptions{
			LiteralPlus: rng.IntN(3) == 0, LiteralMinus: rng.IntN(3) == 0, UTF8: rng.IntN(2) == 0,
			MaxQuoted: []int{0, 0, 5, -1, 1}[rng.IntN(5)],
		})
		tag := "A" + strconv.Itoa(iter)
		if rng.IntN(50) == 0 {
			tag = rs()
		}
		e.Begin(tag)
		for n := rng.IntN(6); n >= 0; n-- {
			e.SP()
			ops[rng.IntN(len(ops))](e, rs())
		}
		cmd, err := e.End()
		if err != nil {
			var ee *EncodeError
			if !errors.As(err, &ee) || cmd != nil {
				t.Fatalf("End() = %v, %v; want nil, *EncodeError", cmd, err)
			}
			continue
		}
		okCount++
		encFraming(t, cmd)
	}
	if okCount < 2000 {
		t.Errorf("only %d of 20000 random commands encoded; the test is not exercising much", okCount)
	}
}

// encParseArg is a tiny independent parser for one encoded argument: an atom,
// a quoted string, NIL or a literal. It returns the value and the rest.
func encParseArg(t testing.TB, s []byte) (val []byte, form string, rest []byte) {
	t.Helper()
	switch {
	case len(s) == 0:
		t.Fatalf("no argument")
	case s[0] == '"':
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i++; i == len(s) {
					t.Fatalf("bad escape in %q", s)
				}
				val = append(val, s[i])
			case '"':
				return val, "quoted", s[i+1:]
			default:
				val = append(val, s[i])
			}
		}
		t.Fatalf("unterminated quoted string %q", s)
	case s[0] == '{' || bytes.HasPrefix(s, []byte("~{")):
		i := bytes.IndexByte(s, '}')
		if i < 0 {
			t.Fatalf("bad literal %q", s)
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimLeft(string(s[:i]), "~{"), "+"))
		if err != nil || !bytes.HasPrefix(s[i+1:], []byte("\r\n")) {
			t.Fatalf("bad literal header %q", s)
		}
		data := s[i+3:]
		return data[:n], "literal", data[n:]
	default:
		i := 0
		for i < len(s) && s[i] != ' ' && s[i] != '\r' {
			i++
		}
		return s[:i], "atom", s[i:]
	}
	return nil, "", nil
}

// encCheckString encodes s with one string method and checks framing,
// round trip and the choice of form.
func encCheckString(t *testing.T, s string, opts *EncoderOptions) {
	t.Helper()
	e := NewEncoder(opts)
	maxQ := e.maxQuoted()
	hasNUL := strings.IndexByte(s, 0) >= 0
	mustLiteral := strings.ContainsAny(s, "\r\n") || len(s) > maxQ ||
		(!opts.UTF8 && strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 })) ||
		!utf8.ValidString(s)
	isAtom := s != "" && !strings.EqualFold(s, "NIL") && strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"\]`, r)
	}) < 0
	methods := []struct {
		name   string
		call   func(e *Encoder)
		atomOK bool
	}{
		{"String", func(e *Encoder) { e.String(s) }, false},
		{"StringBytes", func(e *Encoder) { e.StringBytes([]byte(s)) }, false},
		{"AString", func(e *Encoder) { e.AString(s) }, true},
		{"AStringBytes", func(e *Encoder) { e.AStringBytes([]byte(s)) }, true},
		{"NString", func(e *Encoder) { e.NString(&s) }, false},
		{"Mailbox", func(e *Encoder) { e.Mailbox(s) }, true},
		{"Password", func(e *Encoder) { e.Password(s) }, false},
		{"PasswordBytes", func(e *Encoder) { e.PasswordBytes([]byte(s)) }, false},
	}
	for _, m := range methods {
		e.Begin("A1").SP().Atom("X").SP()
		m.call(e)
		cmd, err := e.SP().Atom("Y").End()
		if hasNUL {
			if !errors.Is(err, ErrNUL) || cmd != nil {
				t.Fatalf("%s(%q) = %v, %v; want ErrNUL", m.name, s, cmd, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s(%q): %v", m.name, s, err)
		}
		encFraming(t, cmd)
		var out bytes.Buffer
		if _, err := cmd.WriteTo(&out, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		line := out.Bytes()
		if !bytes.HasPrefix(line, []byte("A1 X ")) {
			t.Fatalf("%s(%q) = %q", m.name, s, line)
		}
		val, form, rest := encParseArg(t, line[len("A1 X "):])
		if string(rest) != " Y\r\n" {
			t.Fatalf("%s(%q) = %q; trailing %q", m.name, s, line, rest)
		}
		want := s
		// The exported policy gives the same form and the same bytes.
		if !(m.name == "Mailbox" && strings.EqualFold(s, "INBOX")) {
			if f := StringForm(s, m.atomOK, opts); f.String() != form {
				t.Fatalf("StringForm(%q, %v) = %v; %s wrote %q", s, m.atomOK, f, m.name, line)
			}
			if arg, want := line[len("A1 X "):len(line)-len(" Y\r\n")], AppendString(nil, []byte(s), m.atomOK, opts); !bytes.Equal(arg, want) {
				t.Fatalf("%s(%q) wrote %q; AppendString gives %q", m.name, s, arg, want)
			}
		}
		if m.name == "Mailbox" && strings.EqualFold(s, "INBOX") {
			want = "INBOX"
			if form != "atom" {
				t.Fatalf("%s(%q) = %q; want atom INBOX", m.name, s, line)
			}
		} else {
			switch {
			case mustLiteral && form != "literal":
				t.Fatalf("%s(%q) = %q; want a literal", m.name, s, line)
			case !mustLiteral && form == "literal":
				t.Fatalf("%s(%q) = %q; want no literal", m.name, s, line)
			case !mustLiteral && m.atomOK && isAtom && form != "atom":
				t.Fatalf("%s(%q) = %q; want an atom", m.name, s, line)
			case form == "atom" && (!m.atomOK || !isAtom):
				t.Fatalf("%s(%q) = %q; want no atom", m.name, s, line)
			}
		}
		if string(val) != want {
			t.Fatalf("%s(%q) = %q; decodes to %q", m.name, s, line, val)
		}
	}
}

func TestEncodeStringRoundTrip(t *testing.T) {
	for _, s := range []string{"", "a", "NIL", "nil", "INBOX", "inbox", "a b", `"`, `\`, `a\"b`, "\r\n", "x\ry", "é", "\xff",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80", "🙂", "a]", "{1}", "\t", "\x7f", "\x00", strings.Repeat("q", 1025)} {
		for _, o := range []EncoderOptions{{}, {UTF8: true}, {LiteralPlus: true}, {LiteralMinus: true, MaxQuoted: 2}, {MaxQuoted: -1}} {
			encCheckString(t, s, &o)
		}
	}
}

// TestStringFormCases pins the exported policy on the cases package codec
// relies on; TestEncodeStringRoundTrip and FuzzEncodeString check that the
// Encoder follows it.
func TestStringFormCases(t *testing.T) {
	utf8Opts := &EncoderOptions{UTF8: true}
	for _, tt := range []struct {
		s       string
		astring bool
		opts    *EncoderOptions
		want    Form
		out     string
	}{
		{"INBOX", true, nil, FormAtom, "INBOX"},
		{"INBOX", false, nil, FormQuoted, `"INBOX"`},
		{"nil", true, nil, FormQuoted, `"nil"`},
		{"", true, nil, FormQuoted, `""`},
		{"a]b", true, nil, FormQuoted, `"a]b"`},
		{`a"b\c`, false, nil, FormQuoted, `"a\"b\\c"`},
		{"B\u00fcro", true, nil, FormLiteral, "{5}\r\nB\u00fcro"},
		{"B\u00fcro", true, utf8Opts, FormQuoted, "\"B\u00fcro\""},
		{"\xff", false, utf8Opts, FormLiteral, "{1}\r\n\xff"},
		{"a\r\nb", false, nil, FormLiteral, "{4}\r\na\r\nb"},
		{"a\x00b", false, nil, FormLiteral, "{3}\r\na\x00b"},
		{"abc", false, &EncoderOptions{MaxQuoted: -1, LiteralPlus: true}, FormLiteral, "{3+}\r\nabc"},
		{strings.Repeat("x", DefaultMaxQuoted), true, nil, FormAtom, strings.Repeat("x", DefaultMaxQuoted)},
		{strings.Repeat("x", DefaultMaxQuoted+1), true, nil, FormLiteral, "{1025}\r\n" + strings.Repeat("x", DefaultMaxQuoted+1)},
	} {
		if got := StringForm(tt.s, tt.astring, tt.opts); got != tt.want {
			t.Errorf("StringForm(%q, %v, %+v) = %v; want %v", tt.s, tt.astring, tt.opts, got, tt.want)
		}
		if got := string(AppendString([]byte("x "), tt.s, tt.astring, tt.opts)); got != "x "+tt.out {
			t.Errorf("AppendString(%q, %v, %+v) = %q; want %q", tt.s, tt.astring, tt.opts, got, "x "+tt.out)
		}
	}
	if s := Form(0).String() + FormAtom.String() + FormQuoted.String() + FormLiteral.String(); s != "?atomquotedliteral" {
		t.Errorf("Form names: %q", s)
	}
}

func TestEncodeValidUTF8(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 6)
	for i := 0; i < 200000; i++ {
		for j := range b {
			b[j] = byte(rng.Uint32())
			if rng.IntN(3) == 0 {
				b[j] = 0x80 | b[j]&0x3f
			}
		}
		n := rng.IntN(len(b) + 1)
		if got, want := encValidUTF8(b[:n]), utf8.Valid(b[:n]); got != want {
			t.Fatalf("encValidUTF8(%q) = %v; want %v", b[:n], got, want)
		}
		if got, want := encValidUTF8(string(b[:n])), utf8.ValidString(string(b[:n])); got != want {
			t.Fatalf("encValidUTF8(string %q) = %v; want %v", b[:n], got, want)
		}
	}
}

func BenchmarkEncodeFetch(b *testing.B) {
	e := NewEncoder(nil)
	set := []SeqRange{{1, 100}, {200, 200}}
	b.ReportAllocs()
	for b.Loop() {
		cmd, err := e.Begin("A1").SP().Atom("UID").SP().Atom("FETCH").SP().SeqSet(set).SP().List(func(e *Encoder) {
			e.Atom("FLAGS").SP().Atom("BODY.PEEK").Special('[').Atom("HEADER.FIELDS").SP().
				List(func(e *Encoder) { e.Atom("FROM").SP().Atom("SUBJECT") }).Special(']')
		}).End()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cmd.WriteTo(io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeAppend(b *testing.B) {
	e := NewEncoder(&EncoderOptions{LiteralPlus: true})
	msg := bytes.Repeat([]byte("Subject: hello\r\n\r\nbody line\r\n"), 100)
	r := bytes.NewReader(msg)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		r.Reset(msg)
		cmd, err := e.Begin("A1").SP().Atom("APPEND").SP().Mailbox("Sent Items").SP().
			List(func(e *Encoder) { e.Atom(`\Seen`) }).SP().String("01-Jan-2024 10:00:00 +0000").SP().
			LiteralReader(int64(len(msg)), r, false).End()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cmd.WriteTo(io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEncoderReset: Reset zeroes the last command's bytes (the password
// too), forgets its bodies and secret values, keeps the options and a
// small buffer, lets go of one grown past resetKeep, and leaves an Encoder
// that encodes the next command as a new one would.
func TestEncoderReset(t *testing.T) {
	e := NewEncoder(&EncoderOptions{LiteralPlus: true})
	body := strings.NewReader("hello")
	cmd, err := e.Begin("A1").SP().Atom("LOGIN").SP().AString("joe").SP().Password("hunter2").
		SP().LiteralReader(5, body, false).End()
	if err != nil {
		t.Fatal(err)
	}
	data := cmd.Parts[0].Data
	if !bytes.Contains(data, []byte("hunter2")) || len(e.rawSecrets) != 1 || len(e.parts) != 2 {
		t.Fatalf("before Reset: %q, %d secrets, %d parts", data, len(e.rawSecrets), len(e.parts))
	}
	parts, secrets := e.parts[:2], e.rawSecrets[:1]
	e.Reset()
	if !bytes.Equal(data, make([]byte, len(data))) {
		t.Errorf("the command's bytes after Reset: %q; want zeroes", data)
	}
	if secrets[0] != "" {
		t.Errorf("the secret value after Reset: %q", secrets[0])
	}
	for i, p := range parts {
		if p.Body != nil || p.Data != nil {
			t.Errorf("part %d after Reset: %+v", i, p)
		}
	}
	if e.Options() != (EncoderOptions{LiteralPlus: true}) {
		t.Errorf("options after Reset: %+v", e.Options())
	}
	if cap(e.buf) == 0 {
		t.Error("a small buffer was let go")
	}
	if _, err := e.SP().End(); !errors.Is(err, ErrNotBegun) {
		t.Errorf("End after Reset without Begin: %v; want ErrNotBegun", err)
	}
	e.Reset() // after an error too
	cmd, err = e.Begin("A2").SP().Atom("NOOP").End()
	if err != nil || encRender(t, cmd) != "A2 NOOP\r\n" || len(cmd.Secrets()) != 0 {
		t.Fatalf("after Reset: %q, %v, secrets %q", encRender(t, cmd), err, cmd.Secrets())
	}

	// A large command's buffer is let go.
	big := strings.Repeat("x", resetKeep)
	if _, err := e.Begin("A3").SP().Atom("X").SP().Raw(big).End(); err != nil {
		t.Fatal(err)
	}
	if cap(e.buf) <= resetKeep {
		t.Fatalf("buffer cap %d after a %d-byte argument", cap(e.buf), len(big))
	}
	e.Reset()
	if cap(e.buf) != 0 {
		t.Errorf("buffer cap %d after Reset of a large command; want it let go", cap(e.buf))
	}
}

// TestBadAtom: BadAtom says what Atom would refuse, with the offset.
func TestBadAtom(t *testing.T) {
	for s, want := range map[string]int{`\Seen`: -1, "$Label1": -1, "": 0, `\`: 1, "my flag": 2, "(x": 0, "Grüße": 2, `a\b`: 1} {
		if got := BadAtom(s); got != want {
			t.Errorf("BadAtom(%q) = %d; want %d", s, got, want)
		}
	}
}

// summaryLines is how the session traced a command before AppendSummary: the
// whole of AppendRedacted, split into lines, each literal's body replaced
// on the line of its header by " <N bytes>".
func summaryLines(c *Encoded) []string {
	red := bytes.TrimRight(c.AppendRedacted(nil), "\r\n")
	var out []string
	var line []byte
	for {
		i := bytes.Index(red, []byte("\r\n"))
		if i < 0 {
			if line != nil {
				red = append(line, red...)
			}
			return append(out, string(red))
		}
		line = append(line, red[:i]...)
		red = red[i+2:]
		info, ok := LiteralSuffix(line)
		if !ok {
			out = append(out, string(line))
			line = line[:0]
			continue
		}
		summary := []byte("<" + strconv.FormatInt(info.Size, 10) + " bytes>")
		line = append(append(line, ' '), summary...)
		if bytes.HasPrefix(red, summary) {
			red = red[len(summary):]
		} else {
			red = red[min(info.Size, int64(len(red))):]
		}
	}
}

// TestAppendSummary: AppendSummary shows a command as the
// session's trace did from AppendRedacted's whole text (literal bodies in
// memory or streamed, synchronizing or not, secrets, LiteralFunc), and
// with a limit appends no more than it and says so.
func TestAppendSummary(t *testing.T) {
	body := strings.Repeat("b", 300)
	for _, o := range []*EncoderOptions{nil, {LiteralPlus: true}} {
		for i, f := range []func(e *Encoder){
			func(e *Encoder) { e.SP().Atom("NOOP") },
			func(e *Encoder) { e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte(body)) },
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte("x")).SP().Literal8([]byte("y\r\nz")).SP().Literal(nil)
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralReader(5, strings.NewReader("hello"), false).SP().Atom("X")
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("a\r\nb").SP().LiteralReader(3, strings.NewReader("abc"), true).SP().Literal([]byte("q"))
			},
			func(e *Encoder) { e.SP().Atom("LOGIN").SP().AString("u\r\n").SP().Password("p\r\nw") },
			func(e *Encoder) {
				e.SP().Atom("AUTHENTICATE").SP().Atom("PLAIN").SP().Secret(func(e *Encoder) { e.Literal([]byte("secret")) }).SP().Atom("Y")
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) { return nil, 0, nil }, false).SP().Atom("Z")
			},
		} {
			e := NewEncoder(o)
			e.Begin("A1")
			f(e)
			c, err := e.End()
			if err != nil {
				t.Fatalf("%d: %v", i, err)
			}
			want := strings.Join(summaryLines(c), "\r\n")
			if strings.HasSuffix(want, "{0}") || strings.HasSuffix(want, "{0+}") {
				// The old way trimmed an empty last literal's CRLF
				// with the command's, and lost its summary.
				want += " <0 bytes>"
			}
			got, cut := c.AppendSummary([]byte("pre"), -1)
			if string(got) != "pre"+want || cut {
				t.Errorf("%d %+v: AppendSummary = %q, %v; want %q", i, o, got, cut, want)
			}
			for _, n := range []int{0, 1, 5, 20, 40} {
				got, cut := c.AppendSummary(nil, n)
				w := want[:min(n, len(want))]
				if string(got) != w || cut != (len(want) > n) {
					t.Errorf("%d %+v: AppendSummary(%d) = %q, %v; want %q, %v", i, o, n, got, cut, w, len(want) > n)
				}
			}
		}
	}
}

// TestEncodeTextFakeLiteral: a command whose line ends in text that
// reads as a literal header ("A1 X {5}") is refused (ErrFakeLiteral):
// the server would wait for five bytes and take the next command for
// them. FuzzEncodeProgram found it at once: Text ("a {5}"), and
// pieces that make one (Text "x {", Number 5, Raw "}"), went out as
// they were, with no wait for a continuation. A real literal at the end,
// or a body that looks like a header, or a response's text, is fine.
func TestEncodeTextFakeLiteral(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(e *Encoder)
		bad  bool
	}{
		{"text", func(e *Encoder) { e.SP().Text("a {5}") }, true},
		{"text non-sync", func(e *Encoder) { e.SP().Text("{5+}") }, true},
		{"pieces", func(e *Encoder) { e.SP().Text("x {").Number(5).Raw("}") }, true},
		{"after a literal", func(e *Encoder) { e.SP().Literal([]byte("a\r\n")).SP().Text("{3}") }, true},
		{"text then an argument", func(e *Encoder) { e.SP().Text("{5}").SP().Atom("x") }, false},
		{"body like a header", func(e *Encoder) { e.SP().Literal([]byte("{5}")) }, false},
		{"empty literal", func(e *Encoder) { e.SP().Literal(nil) }, false},
		{"streamed", func(e *Encoder) { e.SP().Text("{").LiteralReader(3, strings.NewReader("5}x"), false) }, false},
		{"braces", func(e *Encoder) { e.SP().Text("{} {x} {+}") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEncoder(nil)
			e.Begin("A1").SP().Atom("X")
			tc.f(e)
			cmd, err := e.End()
			if tc.bad {
				if !errors.Is(err, ErrFakeLiteral) || cmd != nil {
					t.Fatalf("End() = %v, %v; want ErrFakeLiteral", cmd, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("End(): %v", err)
			}
			encFramingText(t, cmd)
		})
	}
	// A response's text is the server's: not a command's line.
	e := NewEncoder(nil)
	if _, err := e.BeginResponse("*").SP().Atom("OK").SP().Text("{5}").End(); err != nil {
		t.Fatalf("response: %v", err)
	}
}
