package codec_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

var fullCutSweep = flag.Bool("full-cut-sweep", false, "TestDecodeQuirkPrefixesAreCuts: cut every response at every byte, not a sample (a few seconds)")

// cutStride is the sample of TestDecodeQuirkPrefixesAreCuts: one cut in
// cutStride of each response, the first at a point that moves from one
// response to the next, so that the corpus covers every offset modulo
// cutStride. Under -race the whole sweep (37,000 cuts) took 1.3 s of CPU,
// the sample (8,200) 0.3 s.
const cutStride = 5

// TestDecodeQuirkPrefixesAreCuts: every response of the quirk captures
// (testdata/quirks), cut by the end of the stream anywhere before its end,
// fails with io.ErrUnexpectedEOF and with no syntax error (no panic
// either): a cut connection is not a malformed response, whatever server
// sent it. TestDecodeCutResponseIsNotSyntax checks hand-picked responses
// at every byte; this checks the captures' 507 responses at a
// deterministic sample of their bytes (-full-cut-sweep: at every byte),
// the cut given whole to the tokenizer or a byte at a time (the buffered
// fast paths and the reads in between). The responses marked undecodable
// are left out: their bytes seen may already be malformed.
func TestDecodeQuirkPrefixesAreCuts(t *testing.T) {
	stride := cutStride
	if *fullCutSweep {
		stride = 1
	}
	sr := strings.NewReader("")
	tk := wire.NewTokenizer(sr, nil) // reused: Reset, no 32 KiB buffer per cut
	n := 0
	for _, raw := range quirkResponses(t) {
		for _, i := range cutPoints(len(raw), n, stride) {
			n++
			sr.Reset(string(raw[:i]))
			var r io.Reader = sr
			if n%2 == 0 {
				r = iotest.OneByteReader(sr)
			}
			tk.Reset(r)
			if err := endedAsCut(codec.NewDecoder(tk, nil)); err != nil {
				// The offsets in err go on from the previous cuts (Reset).
				t.Errorf("...%q (%d bytes of %q), then the end: %v; want io.ErrUnexpectedEOF, no syntax error",
					raw[max(i-60, 0):i], i, raw[:min(len(raw), 30)], err)
			}
		}
	}
	t.Logf("%d cuts", n)
}

// quirkResponses returns the decodable responses of the quirk captures,
// each once.
func quirkResponses(t *testing.T) [][]byte {
	var out [][]byte
	seen := map[string]bool{}
	for _, c := range loadCaptures(t) {
		d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(c.data), nil), nil)
		for {
			off := d.Tokenizer().Offset()
			_, err := d.Next()
			if err == io.EOF {
				break
			}
			raw := c.data[off:d.Tokenizer().Offset()]
			if _, bad := c.bad[off]; bad {
				continue
			}
			if err != nil {
				t.Fatalf("%s at offset %d: %v", c.name, off, err) // TestQuirkCaptures says more
			}
			if !seen[string(raw)] {
				seen[string(raw)] = true
				out = append(out, raw)
			}
		}
	}
	return out
}

// cutPoints returns where to cut a response of n bytes (1 to n-1): every
// stride-th point from one that seed moves, and always the cuts before
// the CRLF and between its CR and LF.
func cutPoints(n, seed, stride int) []int {
	var cuts []int
	for i := 1 + seed%stride; i < n-2; i += stride {
		cuts = append(cuts, i)
	}
	for i := max(n-2, 1); i < n; i++ {
		cuts = append(cuts, i)
	}
	return cuts
}

// endedAsCut decodes a response the end of the stream cuts and returns
// nil when it fails as a cut should: io.ErrUnexpectedEOF, no syntax error
// (see TestDecodeCutResponseIsNotSyntax), or the error it gave otherwise.
func endedAsCut(d *codec.Decoder) error {
	_, err := d.Next()
	if err == nil {
		// A cut the decoder did not need to see (the CRLF's LF): the
		// next response meets it.
		_, err = d.Next()
	}
	var de *codec.DecodeError
	if errors.Is(err, wire.ErrSyntax) || !errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &de) && de.Err != io.ErrUnexpectedEOF {
		if err == nil {
			err = errors.New("no error")
		}
		return err
	}
	return nil
}
