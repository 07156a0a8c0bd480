package codec

import (
	"io"
	"strings"
	"testing"
)

// TestDecodeHeaderUnlabelledWindows1252 checks that unlabelled 8-bit text
// that is not valid UTF-8 (a raw Subject, display name or MIME parameter)
// is read as windows-1252, not ISO-8859-1: its 0x80-0x9F bytes are curly
// quotes, dashes and the euro sign, not invisible C1 controls. Valid UTF-8
// is still read as UTF-8, and a body part labelled with any of IANA's
// us-ascii names reads as one labelled us-ascii does (windows-1252).
func TestDecodeHeaderUnlabelledWindows1252(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"\x93Caf\xe9\x94 \x96 10\x80", "“Café” – 10€"},
		{"It\x92s =?utf-8?q?d=C3=A9j=C3=A0?= vu", "It’s déjà vu"},
		{"Gr\xfc\xdfe\r\n \x85", "Grüße …"},
		{"\x81", "\ufffd"},               // undefined in windows-1252
		{"“Café” – 10€", "“Café” – 10€"}, // valid UTF-8 stays UTF-8
	} {
		got, err := DecodeHeader([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("DecodeHeader(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	e := msgDecodeEnvelope(t, "(NIL \"\x93Hi\x94\" ((\"Ren\xe9 \x96 Sales\" NIL \"r\" \"example.com\")) NIL NIL NIL NIL NIL NIL NIL)")
	if s, err := e.DecodedSubject(); err != nil || s != "“Hi”" {
		t.Errorf("DecodedSubject = %q, %v", s, err)
	}
	if s, err := e.From[0].DecodedName(); err != nil || s != "René – Sales" {
		t.Errorf("DecodedName = %q, %v", s, err)
	}
	for name, b := range map[string]*BodyStructure{
		"raw":      {Params: msgPs("name", "\x93q\x94.txt")},
		"us-ascii": {DispositionParams: msgPs("filename*", "us-ascii''%93q%94.txt")},
	} {
		if s := b.Filename(); s != "“q”.txt" {
			t.Errorf("%s Filename = %q", name, s)
		}
	}
	for _, cs := range []string{"", "us-ascii", "csASCII", "iso-8859-1", "latin1", "ISO_8859-1:1987"} {
		r, err := DecodeCharset(cs, strings.NewReader("\x93q\x94 \x80"))
		if err != nil {
			t.Fatalf("DecodeCharset(%q): %v", cs, err)
		}
		if b, _ := io.ReadAll(r); string(b) != "“q” €" {
			t.Errorf("DecodeCharset(%q) = %q", cs, b)
		}
	}
}

// TestDecodeHeaderSameCharsetOtherLabel checks that adjacent encoded-words
// whose labels name the same charset in different spellings are decoded
// together, as words with identical labels are: a multi-byte character
// split across them survives instead of becoming two U+FFFD.
func TestDecodeHeaderSameCharsetOtherLabel(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"=?UTF-8?B?ww==?= =?utf8?B?nGJlcnNpY2h0?=", "Übersicht"},
		{"=?utf-8?Q?Caf=C3?= =?UTF-8?Q?=A9?=", "Café"},
		{"=?utf8?Q?=E2=82?=\r\n =?UTF-8*en?Q?=AC?=", "€"},
		{"=?cp932?B?k/o=?= =?shift_jis?B?lns=?=", "日本"},
		{"=?Shift_JIS?B?k/qW?= =?SJIS?B?ew==?=", "日本"}, // a character split
		// Different charsets are still decoded apart.
		{"=?utf-8?Q?=C3?= =?iso-8859-1?Q?=A9?=", "\ufffd©"},
	} {
		got, err := DecodeHeader([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("DecodeHeader(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestDecodeHeaderUTF16WordBOM checks that adjacent UTF-16 encoded-words
// that each start with a byte order mark (as mailers write them) decode
// without a stray U+FEFF, each word in the byte order its mark gives, and
// that a word without a mark still continues the run before it (a
// surrogate pair split across words survives).
func TestDecodeHeaderUTF16WordBOM(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"=?UTF-16?B?/v8AQwBhAGY=?= =?UTF-16?B?/v8A6Q==?=", "Café"},
		{"=?utf-16?B?//5IAGUAbABsAG8ALAAgAA==?=\r\n =?UTF-16?B?//53APYAcgBsAGQA?=", "Hello, wörld"},
		{"=?UTF-16?B?/v8AYQ==?= =?utf-16?B?//5iAA==?=", "ab"},
		{"=?UTF-16LE?B?//54AA==?= =?unicode?B?//55AA==?=", "xy"},
		{"=?UTF-16?B?/v/YPQ==?= =?UTF-16?B?3gAAIQ==?=", "😀!"},
		{"=?UTF-16?B?//5wAA==?= =?UTF-16?B?cQA=?=", "pq"},
	} {
		got, err := DecodeHeader([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("DecodeHeader(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
