package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/japanese"
)

// readers wraps a source of data in the ways a body can arrive: whole, a
// byte at a time, in halves, with its EOF on the last data.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"bytes", iotest.OneByteReader},
	{"halves", iotest.HalfReader},
	{"dataerr", iotest.DataErrReader},
}

// decodeAll decodes in with DecodeTransfer, read every way of readers,
// and fails unless each gives want; it also runs iotest.TestReader.
func decodeAll(t *testing.T, enc, in, want string) {
	t.Helper()
	for _, rd := range readers {
		r, err := DecodeTransfer(enc, rd.wrap(strings.NewReader(in)))
		if err != nil {
			t.Fatalf("DecodeTransfer(%q): %v", enc, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != want {
			t.Errorf("%s %s %q = %q, %v; want %q", enc, rd.name, in, got, err, want)
		}
	}
	r, _ := DecodeTransfer(enc, strings.NewReader(in))
	if err := iotest.TestReader(r, []byte(want)); err != nil {
		t.Errorf("%s %q: iotest.TestReader: %v", enc, in, err)
	}
}

// base64Lines encodes data in base64 lines of 76 characters and CRLF, as
// mailers write it.
func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

func TestDecodeBase64(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"QUJD", "ABC"},
		{"QUJD\r\nREVG\r\n", "ABCDEF"},
		{"QUJDRA==", "ABCD"},
		{"QUJDREU=", "ABCDE"},
		{"QUJDREU", "ABCDE"},      // padding missing
		{"QUJDRA", "ABCD"},        // padding missing
		{"QUJDR", "ABC"},          // one character left: nothing
		{"Q", ""},                 // the same
		{"QU JD!!\t", "ABC"},      // outside the alphabet: skipped
		{"QQ==QQ==", "A"},         // padding ends the data
		{"QUJD=REVG", "ABC"},      // so does a stray "="
		{"\xffQ\x00UJD\n", "ABC"}, // stray bytes
		{"+/+/", "\xfb\xff\xbf"},
	} {
		decodeAll(t, "BASE64", tt.in, tt.want)
	}
	// Random data, as mailers write it.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 57, 1000, 5000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		decodeAll(t, "base64", base64Lines(data), string(data))
	}
}

func TestDecodeQuotedPrintable(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"plain text\r\n", "plain text\r\n"},
		{"caf=E9 caf=e9\r\n", "caf\xe9 caf\xe9\r\n"},
		{"x=3d=3D", "x=="},
		{"soft=\r\nbreak", "softbreak"},
		{"soft=\nbreak", "softbreak"},
		{"soft= \t\r\nbreak", "softbreak"}, // white space after the "=": added in transit
		{"soft=\rbreak", "softbreak"},
		{"trailing  \r\nspace\t\n", "trailing\r\nspace\n"},
		{"inner  space", "inner  space"},
		{"end  ", "end"},
		{"spaces  =\r\nkept", "spaces  kept"},
		{"a=4x=41=4", "a=4xA=4"}, // "=" without two hex digits: kept
		{"a=", "a"},
		{"= x", "= x"},
		{"=G1", "=G1"},
		{"==41", "=A"},
		{"\xe9t\xe9", "\xe9t\xe9"}, // 8-bit bytes: kept
		{strings.Repeat(" ", 300) + "x", strings.Repeat(" ", 300) + "x"},
		{strings.Repeat(" ", 300) + "\r\n", "\r\n"[0:0] + strings.Repeat(" ", 256) + "\r\n"},
		{"=" + strings.Repeat(" ", 300) + "x", "=" + strings.Repeat(" ", 300) + "x"},
		{"=" + strings.Repeat(" ", 300) + "\r\n", "=" + strings.Repeat(" ", 256) + "\r\n"},
	} {
		decodeAll(t, "Quoted-Printable", tt.in, tt.want)
	}
	// Random data written by mime/quotedprintable.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 100, 5000} {
		data := make([]byte, n)
		for i := range data {
			switch rng.IntN(4) {
			case 0:
				data[i] = byte(rng.Uint32())
			case 1:
				data[i] = " \t=\r\n"[rng.IntN(5)]
			default:
				data[i] = byte('a' + rng.IntN(26))
			}
		}
		// mime/quotedprintable keeps CRLF and LF as line breaks (text
		// mode): give it text whose line ends are CRLF, with no white
		// space before them.
		text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r", ""), "\n", "\r\n")
		for strings.Contains(text, " \r\n") || strings.Contains(text, "\t\r\n") {
			text = strings.ReplaceAll(strings.ReplaceAll(text, " \r\n", "\r\n"), "\t\r\n", "\r\n")
		}
		text = strings.TrimRight(text, " \t")
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(text))
		w.Close()
		decodeAll(t, "quoted-printable", b.String(), text)
	}
}

func TestDecodeTransferOther(t *testing.T) {
	for _, enc := range []string{"", "7bit", "8BIT", "Binary"} {
		decodeAll(t, enc, "as =41 is\r\n", "as =41 is\r\n")
	}
	r, err := DecodeTransfer("x-uuencode", strings.NewReader("begin 644 x"))
	var ue *UnknownEncodingError
	if !errors.As(err, &ue) || ue.Encoding != "x-uuencode" {
		t.Fatalf("x-uuencode: %v", err)
	}
	if b, _ := io.ReadAll(r); string(b) != "begin 644 x" {
		t.Fatalf("x-uuencode: the reader gave %q, not the raw bytes", b)
	}
	// A read error of the source comes through, after what was decoded.
	r, _ = DecodeTransfer("base64", iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader("QUJD"))))
	b, err := io.ReadAll(r)
	if !errors.Is(err, iotest.ErrTimeout) || len(b) != 0 {
		t.Fatalf("base64 over a failing reader: %q, %v", b, err)
	}
}

func TestDecodeCharset(t *testing.T) {
	sjis, _ := japanese.ShiftJIS.NewEncoder().String("日本語のテキスト")
	for _, tt := range []struct{ charset, in, want string }{
		{"iso-8859-1", "caf\xe9", "café"},
		{"ISO-8859-1", "\x80", "€"}, // read as windows-1252, as WHATWG says
		{"windows-1252", "\x93q\x94", "“q”"},
		{"us-ascii", "plain", "plain"},
		{"", "plain", "plain"},
		{"koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"},
		{"shift_jis", sjis, "日本語のテキスト"},
		{"utf-8", "d\xc3\xa9j\xc3\xa0", "déjà"},
		{"UTF-8", "a\xffb", "a\ufffdb"},
		{"iso-8859-15", "\xa4", "€"},
	} {
		for _, rd := range readers {
			r, err := DecodeCharset(tt.charset, rd.wrap(strings.NewReader(tt.in)))
			if err != nil {
				t.Fatalf("DecodeCharset(%q): %v", tt.charset, err)
			}
			got, err := io.ReadAll(r)
			if err != nil || string(got) != tt.want {
				t.Errorf("%s %s %q = %q, %v; want %q", tt.charset, rd.name, tt.in, got, err, tt.want)
			}
		}
	}
	r, err := DecodeCharset("x-unknown-8", strings.NewReader("\xe9"))
	var ce *UnknownCharsetError
	if !errors.As(err, &ce) || ce.Charset != "x-unknown-8" {
		t.Fatalf("unknown charset: %v", err)
	}
	if b, _ := io.ReadAll(r); string(b) != "\xe9" {
		t.Fatalf("unknown charset: the reader gave %q, not the raw bytes", b)
	}
}

func TestBodyStructureDecodePart(t *testing.T) {
	// A multipart/alternative in a multipart/mixed, with an attachment
	// and an attached message.
	b := msgDecodeBody(t, `((("TEXT" "PLAIN" ("CHARSET" "ISO-8859-1") NIL NIL "QUOTED-PRINTABLE" 10 1 NIL NIL NIL NIL)`+
		`("TEXT" "HTML" ("charset*" "us-ascii''utf-8") NIL NIL "BASE64" 20 1 NIL NIL NIL NIL) "ALTERNATIVE" NIL NIL NIL NIL)`+
		`("TEXT" "PLAIN" ("NAME" "notes.txt") NIL NIL "7BIT" 5 1 NIL ("ATTACHMENT" ("FILENAME" "notes.txt")) NIL NIL)`+
		`("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 30 ("d" "s" NIL NIL NIL NIL NIL NIL NIL NIL) `+
		`("TEXT" "HTML" NIL NIL NIL "7BIT" 2 1 NIL NIL NIL NIL) 2 NIL NIL NIL NIL)`+
		`("IMAGE" "PNG" NIL NIL NIL "BASE64" 8 NIL NIL NIL NIL) "MIXED" NIL NIL NIL NIL)`, true)
	for _, tt := range []struct {
		sub  string
		path string
	}{{"plain", "1.1"}, {"HTML", "1.2"}, {"enriched", ""}} {
		path, part := b.TextPart(tt.sub)
		if msgPathString(path) != tt.path || (part == nil) != (tt.path == "") || part != nil && part != b.Part(path...) {
			t.Errorf("TextPart(%q) = %v %p; want %s", tt.sub, path, part, tt.path)
		}
	}
	plain, html, png := b.Part(1, 1), b.Part(1, 2), b.Part(4)
	if plain.Charset() != "ISO-8859-1" || html.Charset() != "utf-8" || png.Charset() != "" {
		t.Fatalf("Charset: %q %q %q", plain.Charset(), html.Charset(), png.Charset())
	}
	for _, tt := range []struct {
		part     *BodyStructure
		in, want string
	}{
		{plain, "caf=E9=\r\n!", "café!"},
		{html, "PHA+ZMOpasOgPC9wPg==", "<p>déjà</p>"},
		{png, "iVBORw0KGgo=", "\x89PNG\r\n\x1a\n"}, // bytes: no charset
		{nil, "raw", "raw"},
	} {
		r, err := tt.part.Decode(strings.NewReader(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(r); string(got) != tt.want {
			t.Errorf("Decode %q = %q; want %q", tt.in, got, tt.want)
		}
	}
	// A single-part message has its text at part 1.
	single := msgDecodeBody(t, `("TEXT" "PLAIN" NIL NIL NIL "8BIT" 3 1 NIL NIL NIL NIL)`, true)
	if path, part := single.TextPart("plain"); msgPathString(path) != "1" || part != single {
		t.Errorf("single part: TextPart = %v", path)
	}
	// Errors come with a usable reader.
	odd := msgDecodeBody(t, `("TEXT" "PLAIN" ("CHARSET" "x-mac-klingon") NIL NIL "X-UUENCODE" 3 1 NIL NIL NIL NIL)`, true)
	r, err := odd.Decode(strings.NewReader("abc"))
	var ue *UnknownEncodingError
	if !errors.As(err, &ue) {
		t.Fatalf("unknown encoding: %v", err)
	}
	if got, _ := io.ReadAll(r); string(got) != "abc" {
		t.Fatalf("unknown encoding: %q", got)
	}
	odd.Encoding = Bytes("base64")
	r, err = odd.Decode(strings.NewReader("YWJj"))
	var ce *UnknownCharsetError
	if !errors.As(err, &ce) || ce.Charset != "x-mac-klingon" {
		t.Fatalf("unknown charset: %v", err)
	}
	if got, _ := io.ReadAll(r); string(got) != "abc" {
		t.Fatalf("unknown charset: %q", got)
	}
}

// BenchmarkDecodeTransfer decodes 1 MiB of random bytes written in lines
// of 76 (base64) or by mime/quotedprintable (mostly text, some 8-bit),
// against the standard library's decoders of the same input (which are
// strict: Std fails on what ours skips); MB/s of the encoded input.
func BenchmarkDecodeTransfer(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	b64 := base64Lines(data)
	for i := range data {
		if rng.IntN(10) > 0 {
			data[i] = "abcdefghijklmnopqrstuvwxyz   \r\n"[rng.IntN(31)]
		}
	}
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write(data)
	w.Close()
	run := func(b *testing.B, in string, dec func(io.Reader) io.Reader) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.Copy(io.Discard, dec(strings.NewReader(in))); err != nil {
				b.Fatal(err)
			}
		}
	}
	ours := func(enc string) func(io.Reader) io.Reader {
		return func(r io.Reader) io.Reader { d, _ := DecodeTransfer(enc, r); return d }
	}
	b.Run("base64", func(b *testing.B) { run(b, b64, ours("base64")) })
	b.Run("base64/Std", func(b *testing.B) {
		run(b, b64, func(r io.Reader) io.Reader { return base64.NewDecoder(base64.StdEncoding, r) })
	})
	b.Run("qp", func(b *testing.B) { run(b, qp.String(), ours("quoted-printable")) })
	b.Run("qp/Std", func(b *testing.B) {
		run(b, qp.String(), func(r io.Reader) io.Reader { return quotedprintable.NewReader(r) })
	})
}
