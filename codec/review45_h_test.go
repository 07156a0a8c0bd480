package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview45HCodeErrorTextLiteralInStep (a guard; passes; the review's
// TestZZCodeErrorTextLiteralInStep): a status response whose code fails to
// decode in a way that is not taken for text (MODIFIED with a wrong set,
// keptCodeError) is skipped with SkipLine from inside the code. Its code is
// closed by ']' and the "{5}" at the line's end is in the text. SkipLine's
// out-of-step refusal (ce768cc, narrowed to codes not closed before the
// header) must not fire on the client side: the codec leaves the head state
// early (pendHead is off when it calls SkipLine), so it does not; the line
// gives a DecodeError or a Status and the stream stays in step.
func TestReview45HCodeErrorTextLiteralInStep(t *testing.T) {
	for _, in := range []string{
		"* OK [MODIFIED 0] text {5}\r\n",
		"* OK [MODIFIED x] text {5}\r\n",
		"a1 OK [MODIFIED ()] done {5}\r\n",
		"* NO [BADCHARSET (x \"y)] {3}\r\n", // a Status (text), no error
		"a1 OK [MODIFIED *] done {5}\r\n",
	} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in+"* 2 EXISTS\r\n"), nil), nil)
		_, err := d.Next()
		if errors.Is(err, wire.ErrOutOfStep) {
			t.Errorf("%q: out of step: %v", in, err)
			continue
		}
		r, err := d.Next()
		if _, ok := r.(*codec.Exists); !ok || err != nil {
			t.Errorf("%q: next: %T %v", in, r, err)
		}
	}
}
