package codec_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
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
