package codec_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestReview42DBDecodeErrorNamesChar: the decoders' messages about a bad
// byte of a server's answer name the character, or the byte in hex, not
// the Latin-1 character of the byte's value ('Ã' for the first byte of é).
func TestReview42DBDecodeErrorNamesChar(t *testing.T) {
	for in, want := range map[string]string{"1,2é": "'é'", "1,2\xe9": "0xe9", "é": "'é'", "1:\xc3": "0xc3"} {
		_, err := codec.ParseSeqSet([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "Ã") {
			t.Errorf("ParseSeqSet(%q): %v, want it to name %s", in, err, want)
		}
	}
	for in, want := range map[string]string{"Büro": "'ü'", "B\xfcro": "0xfc", "&AOk\xe9-": "0xe9"} {
		_, err := codec.DecodeMailbox([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeMailbox(%q): %v, want it to name %s", in, err, want)
		}
	}
}
