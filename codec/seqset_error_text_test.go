package codec_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestDecodeSeqSetErrorSaysCodecOnce: a malformed sequence set in a
// response is reported with the package's prefix once ("codec: invalid
// sequence set ..."), not twice ("codec: codec: ...", as it was: the
// SeqSetError's text and the decoder's syntax error each added it).
func TestDecodeSeqSetErrorSaysCodecOnce(t *testing.T) {
	for _, line := range []string{
		"* VANISHED (EARLIER) 1:x\r\n",
		"* OK [MODIFIED 3:,] done\r\n",
	} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(line), nil), nil)
		_, err := d.Next()
		if err == nil {
			t.Fatalf("%q: decoded; want a syntax error", line)
		}
		if msg := err.Error(); !strings.Contains(msg, "codec: invalid sequence set") || strings.Contains(msg, "codec: codec:") {
			t.Errorf("%q: %v; want one \"codec: invalid sequence set\"", line, err)
		}
	}
}
