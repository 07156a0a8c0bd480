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
var fuzzOpts = wire.Options{
	MaxLineLength:    64 << 10,
	MaxStringLiteral: 16 << 10,
	MaxDepth:         32,
	MaxLiteral:       1 << 20,
}

// reencodeOpts are the limits for decoding AppendResponse's output. They are
// larger than fuzzOpts: the canonical form may be longer than the input
// (atoms become quoted strings, long quoted strings literals, fields a
// server left out are written as NIL).
var reencodeOpts = wire.Options{
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

// checkRoundTrip checks the round-trip property on one decoded response r
// (still borrowing the decoder's memory): x1 := AppendResponse(Clone(r))
// must equal AppendResponse(r), decode to exactly one response r2 equal to
// r, and AppendResponse(r2) must give x1 again.
func checkRoundTrip(t *testing.T, r codec.Response) {
	t.Helper()
	c := codec.CloneResponse(r)
	x1 := codec.AppendResponse(nil, c)
	if x0 := codec.AppendResponse(nil, r); !bytes.Equal(x0, x1) {
		t.Fatalf("the clone encodes differently:\noriginal %q\nclone    %q", x0, x1)
	}
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(x1), &reencodeOpts), nil)
	r2, err := d.Next()
	if err != nil {
		t.Fatalf("decoding the encoding of %#v failed: %v\nencoding: %q", c, err, x1)
	}
	x2 := codec.AppendResponse(nil, r2)
	if !bytes.Equal(x1, x2) {
		t.Fatalf("encoding is not stable:\nfirst  %q\nsecond %q", x1, x2)
	}
	if diff := cmp.Diff(c, r2, cmpOpts...); diff != "" {
		t.Fatalf("decode(encode(r)) != r for %q (-r +decoded):\n%s", x1, diff)
	}
	if r3, err := d.Next(); err != io.EOF {
		t.Fatalf("the encoding %q holds more than one response: %#v, %v", x1, r3, err)
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
