package codec_test

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/wire"
)

// keepShapes are FETCH responses whose values come from every part of the
// decoder's arena: escaped strings, extension data, languages, nested
// messages, many addresses.
const keepShapes = "* 1 FETCH (UID 5 ENVELOPE (\"d\" \"a \\\"quoted\\\" subject\" ((\"A\" NIL \"a\" \"x.org\")(\"B\" NIL \"b\" \"x.org\")(\"C\" NIL \"c\" \"x.org\")) NIL NIL NIL NIL NIL NIL \"<m@x>\") " +
	"BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"7bit\" 5 1 \"md5\" (\"inline\" (\"a\" \"b\")) (\"en\" \"de\") \"loc\" (1 (2 \"x\") NIL))" +
	"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 100 (\"d2\" \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" NIL NIL NIL \"7bit\" 5 1) 4) \"mixed\" (\"boundary\" \"b\") NIL NIL))\r\n"

// TestDecoderKeep: under SetKeep the envelopes, body structures and bytes
// of every FETCH stay as they were decoded while the decoder reads on
// through the whole stream (in small reads, through many buffers), and
// after SetKeep(false) too; the responses decoded after it reuse memory as
// usual.
func TestDecoderKeep(t *testing.T) {
	var stream []byte
	for range 20 {
		stream = append(stream, keepShapes...)
	}
	stream = append(stream, corpus.FetchMetadata(400)...)
	stream = append(stream, corpus.FetchMetadata(200)...)
	tok := wire.NewTokenizer(iotest.HalfReader(bytes.NewReader(stream)), &wire.TokenizerOptions{BufferSize: 4096})
	d := codec.NewDecoder(tok, nil)
	d.SetKeep(true)
	type held struct {
		env  *codec.Envelope
		body *codec.BodyStructure
		want *codec.Fetch
	}
	var kept []held
	for i := 0; ; i++ {
		if i == 420 {
			d.SetKeep(false)
		}
		r, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f, ok := r.(*codec.Fetch)
		if !ok {
			t.Fatalf("response %d: %T", i, r)
		}
		if i < 420 {
			kept = append(kept, held{f.Envelope, f.BodyStructure, codec.CloneResponse(f).(*codec.Fetch)})
		}
	}
	if len(kept) != 420 {
		t.Fatalf("%d responses kept", len(kept))
	}
	for i, h := range kept {
		if diff := cmp.Diff(h.want.Envelope, h.env); diff != "" {
			t.Fatalf("response %d: the envelope changed (-was +now):\n%s", i, diff)
		}
		if diff := cmp.Diff(h.want.BodyStructure, h.body); diff != "" {
			t.Fatalf("response %d: the body structure changed (-was +now):\n%s", i, diff)
		}
	}
}
