package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestDecodeErrorTagComplete: a *DecodeError says whether its Tag is the
// whole tag the server sent (the tag was followed by its space) or may be
// only the start of one the decoder could not read, so that a session can
// tell a line for a tag no command has (the server out of step) from a
// misread one. The lines are read in one stream: the flag of one response
// is not left for the next.
func TestDecodeErrorTagComplete(t *testing.T) {
	cases := []struct {
		line, tag string
		complete  bool
	}{
		{"Z9 ", "Z9", true},               // a tag, then nothing
		{"A%1 OK over quota", "A", false}, // the tag stops at "%"
		{"A1", "A1", false},               // no space after it
		{"A2 (OK) x", "A2", true},         // no name after the tag
		{"* 1 FETCH (UID x)", "", false},  // untagged
		{"B]1 (OK) x", "B]1", true},       // ']' is part of a tag
		{"C\x801 OK", "C", false},         // an 8-bit byte is not
		{"(x", "", false},                 // no tag at all
	}
	var in strings.Builder
	for _, c := range cases {
		in.WriteString(c.line + "\r\n")
	}
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in.String()), nil), nil)
	for _, c := range cases {
		r, err := d.Next()
		var de *codec.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%q: %#v, %v; want a *codec.DecodeError", c.line, r, err)
			continue
		}
		if de.Tag != c.tag || de.TagComplete != c.complete {
			t.Errorf("%q: Tag %q, TagComplete %v; want %q, %v", c.line, de.Tag, de.TagComplete, c.tag, c.complete)
		}
	}
}
