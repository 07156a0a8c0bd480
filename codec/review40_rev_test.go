package codec_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview40RAddressStringC1Controls: Address.String's doc says control
// characters come out as spaces, but noCTL (codec/message_methods.go)
// replaces ASCII controls and DEL only: a decoded display name keeps the C1
// controls (U+0085 NEL, U+009B CSI) and U+2028/U+2029, which
// str.splitlines-based consumers take for line breaks and terminals for
// escapes.
func TestReview40RAddressStringC1Controls(t *testing.T) {
	for _, name := range []string{
		"=?utf-8?q?Eve=C2=85Bcc:_victim@example.org?=",
		"=?utf-8?q?Eve=E2=80=A8Bcc:_victim@example.org?=",
		"=?utf-8?q?Eve=C2=9B31m?=",
	} {
		a := codec.Address{Name: codec.Bytes(name), Mailbox: codec.Bytes("eve"), Host: codec.Bytes("example.com")}
		s := a.String()
		if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }); i >= 0 {
			t.Errorf("%s: String() = %q keeps a control or line-separator character at %d", name, s, i)
		}
	}
}

// r40SplitReader gives its bytes in two reads: the first cut bytes, then the
// rest.
type r40SplitReader struct {
	b   []byte
	cut int
}

func (r *r40SplitReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := len(r.b)
	if r.cut > 0 {
		n, r.cut = r.cut, 0
	}
	n = copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

func r40DecodeAll(r io.Reader) []string {
	d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
	var out []string
	for range 10 {
		resp, err := d.Next()
		var de *codec.DecodeError
		switch {
		case errors.As(err, &de):
			out = append(out, "decode error")
		case err != nil:
			return out
		default:
			out = append(out, string(codec.AppendResponse(nil, resp)))
		}
	}
	return out
}

// TestReview40RSkipLongHeadChunked: skipLine decides whether a line is a status
// line from its head, "whatever the reads' sizes" (0b60ec4), but gives up
// deciding once more than maxStatusHead (1 KiB) of the line is buffered
// without a decision, taking the line for one that is not text. A status
// line with a tag over 1 KiB that does not decode is then skipped as text
// when read whole ("{5}" at its end is text) and as a line with a literal
// when its first read ends inside the tag: the literal swallows the next
// line (here the completion of a command). The same bytes decode
// differently depending on the reads' sizes.
func TestReview40RSkipLongHeadChunked(t *testing.T) {
	in := []byte("A%" + strings.Repeat("x", 1100) + " OK over quota {5}\r\nA2 OK done\r\n* 1 EXISTS\r\n")
	whole := r40DecodeAll(bytes.NewReader(in))
	split := r40DecodeAll(&r40SplitReader{b: in, cut: 1030})
	if !slices.Equal(whole, split) {
		t.Fatalf("read whole: %q\nfirst read of 1030 bytes: %q", whole, split)
	}
}
