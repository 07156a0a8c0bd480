package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestDecodeErrorNamesMessage: a FETCH that cannot be decoded says which
// message it was: its number, and its UID when the response gave it before
// the failure. A user of codec alone could tell only the stream offset (an
// audit of the layers used alone, 2026-12-04).
func TestDecodeErrorNamesMessage(t *testing.T) {
	for _, c := range []struct {
		in       string
		seq, uid uint32
		text     string
	}{
		{"* 12 FETCH (UID 345 FLAGS x)\r\n", 12, 345, "FETCH of message 12 (UID 345) at offset 0"},
		{"* 12 FETCH (FLAGS x UID 345)\r\n", 12, 0, "FETCH of message 12 at offset 0"},
		{"* 3 EXISTS x\r\n", 0, 0, "EXISTS at offset 0"},
	} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(c.in), nil), nil)
		_, err := d.Next()
		var de *codec.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("%q: %v; want a *DecodeError", c.in, err)
		}
		if de.Seq != c.seq || de.UID != c.uid || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%q: Seq %d UID %d %q; want %d, %d and %q", c.in, de.Seq, de.UID, err, c.seq, c.uid, c.text)
		}
	}
}
