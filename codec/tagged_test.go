package codec_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestDecodeTaggedByeUnknown: a tagged response is OK, NO or BAD (RFC 3501
// and RFC 9051, response-tagged); a tagged BYE decoded as a tagged
// *codec.Status of kind BYE, which a reader of tagged statuses (the
// session) took for a completion of a kind it has no error for. It is an
// *codec.Unknown now, as a tagged PREAUTH or XFOO is, kept raw and
// encoded back as sent; an untagged BYE is still a Status. Found by
// review.
func TestDecodeTaggedByeUnknown(t *testing.T) {
	for _, tt := range []struct {
		line string
		want codec.Response
	}{
		{"A2 BYE going\r\n", &codec.Unknown{Tag: b("A2"), Name: b("BYE"), Rest: b("going")}},
		{"A2 bye [ALERT] going\r\n", &codec.Unknown{Tag: b("A2"), Name: b("bye"), Rest: b("[ALERT] going")}},
		{"A2 PREAUTH odd\r\n", &codec.Unknown{Tag: b("A2"), Name: b("PREAUTH"), Rest: b("odd")}},
		{"A2 AU Begin TLS now\r\n", &codec.Unknown{Tag: b("A2"), Name: b("AU"), Rest: b("Begin TLS now")}},
		{"A2 BAD no\r\n", &codec.Status{Tag: b("A2"), Kind: codec.StatusBAD, Text: b("no")}},
		{"* BYE going\r\n", &codec.Status{Kind: codec.StatusBYE, Text: b("going")}},
	} {
		r := decodeOne(t, tt.line)
		if d := cmp.Diff(tt.want, r, cmpOpts...); d != "" {
			t.Errorf("decode(%q) (-want +got):\n%s", tt.line, d)
		}
		if got := string(codec.AppendResponse(nil, r)); got != tt.line {
			t.Errorf("AppendResponse(decode(%q)) = %q", tt.line, got)
		}
	}
}

// TestDecodeTagASTRINGChars: a tag is 1*<any ASTRING-CHAR except "+">
// (RFC 3501, RFC 9051), and ASTRING-CHAR includes ']' (resp-specials) and
// '[' (an ATOM-CHAR): a server or a proxy echoing a client's tag "a]1"
// answers "a]1 OK done". The decoder read the tag as an atom, which stops
// at ']' and '[': such a line was a *codec.DecodeError with Tag "a",
// TagComplete false, where it is a tagged status. A '+' inside a tag is
// still read (a tolerance, as before); an 8-bit byte ends it.
func TestDecodeTagASTRINGChars(t *testing.T) {
	for _, tt := range []struct {
		line string
		want codec.Response
	}{
		{"a]1 OK done\r\n", &codec.Status{Tag: b("a]1"), Kind: codec.StatusOK, Text: b("done")}},
		{"]] NO [ALERT] full\r\n", &codec.Status{Tag: b("]]"), Kind: codec.StatusNO,
			Code: &codec.Code{Kind: codec.CodeAlert, Name: b("ALERT")}, Text: b("full")}},
		{"a[1] BAD x\r\n", &codec.Status{Tag: b("a[1]"), Kind: codec.StatusBAD, Text: b("x")}},
		{"a+1 OK y\r\n", &codec.Status{Tag: b("a+1"), Kind: codec.StatusOK, Text: b("y")}},
		{"x]y XFOO rest\r\n", &codec.Unknown{Tag: b("x]y"), Name: b("XFOO"), Rest: b("rest")}},
	} {
		r := decodeOne(t, tt.line)
		if d := cmp.Diff(tt.want, r, cmpOpts...); d != "" {
			t.Errorf("decode(%q) (-want +got):\n%s", tt.line, d)
		}
		if got := string(codec.AppendResponse(nil, r)); got != tt.line {
			t.Errorf("AppendResponse(decode(%q)) = %q", tt.line, got)
		}
	}
}

// TestDecodeTagASTRINGCharsAllocs: a tag with ']' is read on the
// decoder's zero-allocation path, as any tag is.
func TestDecodeTagASTRINGCharsAllocs(t *testing.T) {
	s := newStreamDecoder([]byte(strings.Repeat("a]1 OK done\r\nb[2] NO [ALERT] x\r\n", 100)))
	if got := s.decodeAll(t); got != 200 {
		t.Fatalf("decoded %d responses; want 200", got)
	}
	if a := testing.AllocsPerRun(5, func() { s.decodeAll(t) }); a != 0 {
		t.Errorf("decoding 200 tagged statuses allocates %v times; want 0", a)
	}
}

// TestDecodeFirstWordFramesAsWire: the codec frames a line whose first
// word holds ']' or '[' as package wire's readers do (Next, AppendLine,
// SkipLine): a status line's "{5}" is text whether the decoder reads the
// line ("a]<0>", "a]+", tags Tag reads whole) or fails on it and skips it
// ("a]*", "*]1": Tag stops at the '*', and "*" wants a space), so the
// next response is the next line, not a literal's body. A relay that
// tokenizes these lines reads them the same way (wire's
// TestStatusLineTagTokensAfterBracket).
func TestDecodeFirstWordFramesAsWire(t *testing.T) {
	for _, first := range []string{"a]1", "a]<0>", "a]<1.2>x", "a]+", "a[1]", "a]*", "a[*]", "*]1", "*[x"} {
		in := first + " OK done {5}\r\n* 7 EXISTS\r\n"
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
		r, err := d.Next()
		if s, ok := r.(*codec.Status); err == nil && (!ok || string(s.Tag) != first || string(s.Text) != "done {5}") {
			t.Errorf("decode(%q) = %#v; want a status tagged %q with the text \"done {5}\"", in, r, first)
		}
		r, err = d.Next()
		if _, ok := r.(*codec.Exists); err != nil || !ok {
			t.Errorf("after %q: %#v, %v; want * 7 EXISTS", first+" OK done {5}", r, err)
		}
	}
}
