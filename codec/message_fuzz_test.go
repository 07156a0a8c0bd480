package codec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/wire"
)

// The seed corpora in testdata/fuzz/FuzzEnvelope and
// testdata/fuzz/FuzzBodyStructure cover the quirks of real servers; the
// table tests of message_test.go are added as seeds too.

// FuzzEnvelope checks that decoding never panics and that a decoded
// envelope survives appendEnvelope and a second decode unchanged.
func FuzzEnvelope(f *testing.F) {
	for _, tt := range msgEnvelopeTests {
		f.Add([]byte(tt.line + "\r\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(wire.NewTokenizer(bytes.NewReader(data), nil), nil)
		d.msg.reset()
		e, err := d.readEnvelope()
		if err != nil {
			return
		}
		enc := appendEnvelope(nil, e)
		d2 := NewDecoder(wire.NewTokenizer(bytes.NewReader(append(enc, "\r\n"...)), nil), nil)
		d2.msg.reset()
		e2, err := d2.readEnvelope()
		if err != nil {
			t.Fatalf("decoding the canonical form %q: %v", enc, err)
		}
		if err := d2.t.CRLF(); err != nil {
			t.Fatalf("canonical form %q: bytes left: %v", enc, err)
		}
		if diff := cmp.Diff(e, e2); diff != "" {
			t.Fatalf("round trip through %q (-first +second):\n%s", enc, diff)
		}
		if enc2 := appendEnvelope(nil, e2); !bytes.Equal(enc, enc2) {
			t.Fatalf("canonical form not stable:\n%q\n%q", enc, enc2)
		}
		if diff := cmp.Diff(e, e.Clone()); diff != "" {
			t.Fatalf("Clone (-orig +clone):\n%s", diff)
		}
		if e != nil {
			e.Time()
			e.DecodedSubject()
			for _, l := range [][]Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
				for i := range l {
					_ = l[i].String()
				}
			}
		}
	})
}

// FuzzBodyStructure checks that decoding never panics and that a decoded
// body structure survives appendBodyStructure and a second decode
// unchanged.
func FuzzBodyStructure(f *testing.F) {
	for _, tt := range msgBodyTests {
		f.Add([]byte(tt.line+"\r\n"), tt.extended)
	}
	f.Fuzz(func(t *testing.T, data []byte, extended bool) {
		d := NewDecoder(wire.NewTokenizer(bytes.NewReader(data), nil), nil)
		d.msg.reset()
		b, err := d.readBodyStructure(extended)
		if err != nil {
			return
		}
		enc := appendBodyStructure(nil, b)
		d2 := NewDecoder(wire.NewTokenizer(bytes.NewReader(append(enc, "\r\n"...)), nil), nil)
		d2.msg.reset()
		b2, err := d2.readBodyStructure(extended)
		if errors.Is(err, wire.ErrTooDeep) {
			// The canonical form may nest one level deeper than the
			// input: a bare disposition string becomes ("x" NIL).
			return
		}
		if err != nil {
			t.Fatalf("decoding the canonical form %q: %v", enc, err)
		}
		if err := d2.t.CRLF(); err != nil {
			t.Fatalf("canonical form %q: bytes left: %v", enc, err)
		}
		if diff := cmp.Diff(b, b2); diff != "" {
			t.Fatalf("round trip through %q (-first +second):\n%s", enc, diff)
		}
		if enc2 := appendBodyStructure(nil, b2); !bytes.Equal(enc, enc2) {
			t.Fatalf("canonical form not stable:\n%q\n%q", enc, enc2)
		}
		if diff := cmp.Diff(b, b.Clone()); diff != "" {
			t.Fatalf("Clone (-orig +clone):\n%s", diff)
		}
		b.Walk(func(path []int, p *BodyStructure) bool {
			if b.Part(path...) == nil {
				t.Fatalf("Part(%v) is nil but Walk visited it", path)
			}
			_ = p.Filename()
			return true
		})
	})
}
