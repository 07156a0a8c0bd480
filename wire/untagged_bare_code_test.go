package wire_test

import (
	"bytes"
	"testing"
)

// TestUntaggedBareCodeLiteralFraming: "* [" opens an untagged bare
// response code to package codec (Exchange's "* [COPYUID ...]", read by
// bareCode: a code then text to the CRLF), while SkipLine, Next and
// AppendLine read the line as any other, and a "{12}" at its end as a
// literal's header. So the client's decoder reads "A001 OK done" as a
// tagged completion that a relay (ForwardLine, AppendLine) and the
// session's tracer (wire.LiteralSuffix) read as literal data. FuzzLineEnds
// exempts only a line that begins with '[' (bareCodeLine); this variant
// (found by FuzzLineEnds as "* [0] {0}") is not exempt, and fails it.
func TestUntaggedBareCodeLiteralFraming(t *testing.T) {
	for _, in := range []string{
		"* [0] {0}\r\n* 1 EXISTS\r\n",
		"* [ALERT] {12}\r\nA001 OK done\r\n* 1 EXISTS\r\n",
	} {
		b := []byte(in)
		compareEnds(t, b, "SkipLine", skipEnds(bytes.NewReader(b)), "codec", codecEnds(bytes.NewReader(b)))
		compareEnds(t, b, "Next", nextEnds(bytes.NewReader(b)), "codec", codecEnds(bytes.NewReader(b)))
	}
}
