package codec_test

// Reproducers of the server-quirks audit (codec part).

import (
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestReview39QUTF16Charset: a text part in charset "utf-16" (RFC 2781: a byte
// order mark says the order; without one, big-endian) is decoded as
// WHATWG's label "utf-16", which is UTF-16LE with the BOM ignored (x/text's
// htmlindex): big-endian text, with its BOM FE FF or without one, comes out
// as CJK characters, silently; a little-endian BOM is left in the text.
// (Even the WHATWG decode algorithm sniffs the BOM first.) Same for an
// encoded-word =?utf-16?B?...?= in DecodeHeader.
func TestReview39QUTF16Charset(t *testing.T) {
	for _, c := range []struct{ name, data string }{
		{"big-endian with BOM", "\xfe\xff\x00h\x00i"},
		{"little-endian with BOM", "\xff\xfeh\x00i\x00"},
		{"no BOM (RFC 2781: big-endian)", "\x00h\x00i"},
	} {
		r, err := codec.DecodeCharset("utf-16", strings.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		if string(b) != "hi" {
			t.Errorf("utf-16 %s %q: decoded %q; want \"hi\"", c.name, c.data, b)
		}
	}
	// The same through a body structure, as a mail reader decodes a part.
	bs := &codec.BodyStructure{Type: codec.Bytes("text"), Subtype: codec.Bytes("plain"),
		Params: []codec.Param{{Name: codec.Bytes("charset"), Value: codec.Bytes("UTF-16")}}, Encoding: codec.Bytes("base64")}
	r, err := bs.Decode(strings.NewReader("/v8AaABp")) // FE FF 00 68 00 69
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "hi" {
		t.Errorf("text/plain; charset=UTF-16 (BE with BOM), base64: decoded %q; want \"hi\"", b)
	}
	if s, err := codec.DecodeHeader([]byte("=?utf-16?B?/v8AaABp?=")); s != "hi" {
		t.Errorf("DecodeHeader(=?utf-16?B?/v8AaABp?=) = %q, %v; want \"hi\"", s, err)
	}
}

// TestReview39QFilenameEncodedWordsInContinuations: a long file name that a
// mailer wrote as RFC 2047 encoded-words and then split into RFC 2231
// continuations without the "*" of an extended value (filename*0="=?utf-8?B?...",
// filename*1="...?=": a mailer quirk that mail readers tolerate).
// BodyStructure.Filename decodes encoded-words in a
// plain value, and joins continuations, but does not decode the joined
// value: the caller gets "=?utf-8?B?w6nDqcOpw6k=?=.pdf" as the name.
func TestReview39QFilenameEncodedWordsInContinuations(t *testing.T) {
	for _, ps := range [][]codec.Param{
		{{Name: codec.Bytes("filename*0"), Value: codec.Bytes("=?utf-8?B?w6nDqcOp")}, {Name: codec.Bytes("filename*1"), Value: codec.Bytes("w6k=?=.pdf")}},
		{{Name: codec.Bytes("filename*0"), Value: codec.Bytes("=?utf-8?B?w6nDqcOpw6k=?=")}, {Name: codec.Bytes("filename*1"), Value: codec.Bytes(".pdf")}},
	} {
		b := &codec.BodyStructure{Type: codec.Bytes("application"), Subtype: codec.Bytes("pdf"), Disposition: codec.Bytes("attachment"), DispositionParams: ps}
		if got := b.Filename(); got != "éééé.pdf" {
			t.Errorf("Filename of %q = %q; want \"éééé.pdf\"", ps, got)
		}
	}
}
