package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestBareCodeTextEndingInLiteralHeader: "* [ALERT] {12}" is no status
// line, so the tokenizer, SkipLine, a relay and the tracer read "{12}" as
// a literal's header. The decoder refuses the response (a *DecodeError,
// the stream in step) and skips it with its literal, as they do: the
// literal's "A001 OK done" is no tagged completion, and the next response
// is "* 1 EXISTS". A bare code with text and no literal is decoded.
func TestBareCodeTextEndingInLiteralHeader(t *testing.T) {
	in := "* [ALERT] {12}\r\nA001 OK done\r\n* [ALERT] mind {12} it\r\n* 1 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
	r, err := d.Next()
	var de *codec.DecodeError
	if !errors.As(err, &de) || errors.Is(err, wire.ErrOutOfStep) {
		t.Fatalf("Next: %#v, %v; want a *DecodeError, the stream in step", r, err)
	}
	r, err = d.Next()
	if s, ok := r.(*codec.Status); err != nil || !ok || s.Tag != nil || string(s.Text) != "mind {12} it" {
		t.Fatalf("Next after the refused line: %#v, %v; want the bare code with text \"mind {12} it\"", r, err)
	}
	r, err = d.Next()
	if e, ok := r.(*codec.Exists); err != nil || !ok || e.Count != 1 {
		t.Fatalf("Next: %#v, %v; want * 1 EXISTS", r, err)
	}
}
