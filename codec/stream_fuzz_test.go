package codec_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// fuzzOpts are the small limits the fuzzers decode with.
var fuzzOpts = wire.TokenizerOptions{
	MaxLineLength:    64 << 10,
	MaxStringLiteral: 16 << 10,
	MaxDepth:         32,
	MaxLiteral:       1 << 20,
}

// reencodeOpts are the limits for decoding AppendResponse's output. They are
// larger than fuzzOpts: the canonical form may be longer than the input
// (atoms become quoted strings, long quoted strings literals, fields a
// server left out are written as NIL).
var reencodeOpts = wire.TokenizerOptions{
	MaxLineLength:    64 << 20,
	MaxStringLiteral: 1 << 20,
	MaxDepth:         64,
	MaxLiteral:       1 << 20,
}

// maxFuzzResponses bounds the responses decoded from one input.
const maxFuzzResponses = 64

// decodeStream decodes data with the fuzzers' limits and calls check for
// each response decoded without error. It stops at io.EOF, at an error that
// is not a *codec.DecodeError (the stream ended inside a response) and
// after maxFuzzResponses attempts. It returns the number of responses
// decoded and of DecodeErrors met.
func decodeStream(data []byte, check func(r codec.Response)) (ok, bad int) {
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(data), &fuzzOpts), nil)
	for range maxFuzzResponses {
		r, err := d.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			var de *codec.DecodeError
			if !errors.As(err, &de) {
				return
			}
			bad++
			continue
		}
		ok++
		check(r)
	}
	return
}

// roundTripSentinel follows the encoding of a response when it is decoded
// again: decoding happens in a stream, and a response whose meaning
// depends on what follows (a line that ends in a literal header inside a
// response code, say) must decode the same way there.
const roundTripSentinel = "* 0 EXISTS\r\n"

// checkRoundTrip checks the round-trip property on one decoded response r
// (still borrowing the decoder's memory): CloneResponse(r) must equal r and
// the reflection copy of r, nil and empty apart; x1 := AppendResponse(Clone(r))
// must equal AppendResponse(r); x1 followed by another response must decode
// to r2 (equal to r, less a Metadata's Skipped entries, which
// AppendResponse leaves out) after exactly len(x1) bytes, then to that response;
// and AppendResponse(r2) must give x1 again.
func checkRoundTrip(t *testing.T, r codec.Response) {
	t.Helper()
	c := codec.CloneResponse(r)
	if diff := cmp.Diff(r, c, exactOpts...); diff != "" {
		t.Fatalf("the clone differs from the decoded response (-decoded +clone):\n%s", diff)
	}
	if diff := cmp.Diff(reflectClone(r), c, exactOpts...); diff != "" {
		t.Fatalf("the clone differs from the reflection copy (-reflection +clone):\n%s", diff)
	}
	x1 := codec.AppendResponse(nil, c)
	if x0 := codec.AppendResponse(nil, r); !bytes.Equal(x0, x1) {
		t.Fatalf("the clone encodes differently:\noriginal %q\nclone    %q", x0, x1)
	}
	in := append(bytes.Clone(x1), roundTripSentinel...)
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(in), &reencodeOpts), nil)
	r2, err := d.Next()
	if err != nil {
		t.Fatalf("decoding the encoding of %#v failed: %v\nencoding: %q", c, err, x1)
	}
	if n := d.Tokenizer().Offset(); n != int64(len(x1)) {
		t.Fatalf("decoding the encoding %q read %d bytes; want %d", x1, n, len(x1))
	}
	x2 := codec.AppendResponse(nil, r2)
	if !bytes.Equal(x1, x2) {
		t.Fatalf("encoding is not stable:\nfirst  %q\nsecond %q", x1, x2)
	}
	want := c
	if m, ok := c.(*codec.Metadata); ok && m.Skipped != nil {
		// The values read past are not written (AppendResponse): the
		// rest of the response round-trips.
		mm := *m
		mm.Skipped = nil
		want = &mm
	}
	if diff := cmp.Diff(want, r2, cmpOpts...); diff != "" {
		t.Fatalf("decode(encode(r)) != r for %q (-r +decoded):\n%s", x1, diff)
	}
	if r3, err := d.Next(); err != nil || !cmp.Equal(r3, &codec.Exists{}) {
		t.Fatalf("after the encoding %q: %#v, %v; want EXISTS 0", x1, r3, err)
	}
	if r3, err := d.Next(); err != io.EOF {
		t.Fatalf("after the encoding %q: %#v, %v; want io.EOF", x1, r3, err)
	}
}

// roundTripAll checks every response decoded from data.
func roundTripAll(t *testing.T, data []byte) {
	t.Helper()
	decodeStream(data, func(r codec.Response) { checkRoundTrip(t, r) })
}

// FuzzDecodeStream feeds arbitrary bytes to a Decoder with small limits. It
// must never panic or hang, and every response it decodes must survive the
// round trip: decode(AppendResponse(r)) == r, with a stable encoding. The
// seeds are the captures of testdata/quirks (see TestFuzzSeeds).
func FuzzDecodeStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTripAll(t, data)
	})
}

// FuzzValueList fuzzes the rest of a LIST response: "* LIST " + input.
func FuzzValueList(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		roundTripAll(t, []byte("* LIST "+in+"\r\n"))
	})
}

// FuzzValueStatus fuzzes the rest of a STATUS response: "* STATUS " +
// input.
func FuzzValueStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		roundTripAll(t, []byte("* STATUS "+in+"\r\n"))
	})
}

// FuzzValueESearch fuzzes the rest of an ESEARCH response: "* ESEARCH " +
// input.
func FuzzValueESearch(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		roundTripAll(t, []byte("* ESEARCH "+in+"\r\n"))
	})
}

// FuzzValueFetch fuzzes the attribute list of a FETCH response:
// "* 1 FETCH (" + input + ")".
func FuzzValueFetch(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		roundTripAll(t, []byte("* 1 FETCH ("+in+")\r\n"))
	})
}

// TestRoundTripRegressions holds the inputs on which the fuzzers found
// round-trip failures (their corpus files are under testdata/fuzz too).
func TestRoundTripRegressions(t *testing.T) {
	tests := []struct {
		name, in string
		reject   bool // the response is invalid: a DecodeError, the stream in step
	}{
		// A BODY whose multipart carries extension data while its parts do
		// not was written as BODYSTRUCTURE, which gives every part
		// extension data. Now BODY is kept unless every part is Extended.
		{"BODY with extended multipart only", "* 7 FETCH (BODY ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 42 2)(\"image\" \"jpeg\" NIL NIL NIL \"base64\" 10112) \"mixed\" NIL NIL NIL NIL))\r\n", false},
		{"BODY with extended message part", "* 1 FETCH (BODY (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL) 3))\r\n", false},
		// THREAD members of 0 are not nz-numbers; they were decoded and
		// looked like placeholder parents. Now they are rejected.
		{"THREAD of zeros", "* THREAD((0)0)\r\n", true},
		{"THREAD of a zero", "* THREAD (0)(0 1)(1 0)\r\n", true},
		// A status text that looks like a response code holding a literal
		// header: no literal is allowed in a code, so it is text.
		{"text with a literal header in brackets", "0 OK [0 {00}\r\n* 1 EXISTS\r\n", false},
		{"text with a literal header in brackets at the end", "0 OK [0 {00}\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, bad := decodeStream([]byte(tt.in), func(r codec.Response) { checkRoundTrip(t, r) })
			if tt.reject {
				if ok != 0 || bad != 1 {
					t.Fatalf("%d responses decoded, %d errors; want 0 and 1", ok, bad)
				}
				return
			}
			if ok == 0 || bad != 0 {
				t.Fatalf("%d responses decoded, %d errors; want some and 0", ok, bad)
			}
		})
	}
}
