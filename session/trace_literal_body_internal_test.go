package session

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestTracerTracedLiteralBodyIsNoHeader: with literals traced
// (TraceLiterals), the tracer appends a literal's body to the line before
// it looks for a literal's header at the end of the line's next part, so
// a body ending in "{5" (or "{" and 40 zeros, followed through
// wire.HeaderScan once the line is cut) and a part "5}" or "}" after it
// look like "{5}": the tracer takes the next 5 bytes of the stream for a
// literal and traces "* 2 EXISTS" inside the FETCH line, while the
// tokenizer (SkipLine) ends the line after "}" and reads "* 2 EXISTS" as
// the next response. A hostile server hides responses from the trace. The
// '>' of "<N bytes>" ends the check when literals are not traced; here the
// body's bytes should end it too (wire.HeaderScan and the tail reset
// after the body). The cut cases come with b78bc7a (HeaderScan).
func TestTracerTracedLiteralBodyIsNoHeader(t *testing.T) {
	long := strings.Repeat("x", DefaultTraceCapture+100)
	zeros := "{" + strings.Repeat("0", 40)
	for _, c := range []struct{ body, rest string }{
		{"ab{5", "}\r\n"},
		{zeros, "5}\r\n"},
		{long + "{5", "}\r\n"},
		{long + zeros, "5}\r\n"},
	} {
		stream := "* 1 FETCH (BODY[] {" + strconv.Itoa(len(c.body)) + "}\r\n" + c.body + c.rest + "* 2 EXISTS\r\n"
		tk := wire.NewTokenizer(strings.NewReader(stream), nil)
		if err := tk.SkipLine(); err != nil {
			t.Fatalf("SkipLine: %v", err)
		}
		if off, want := tk.Offset(), int64(strings.Index(stream, "* 2")); off != want {
			t.Fatalf("the tokenizer ends the line at %d; want %d", off, want)
		}
		for _, literals := range []bool{false, true} {
			tr := newTracer(new(bytes.Buffer), literals, nil, defaultHistory, DefaultTraceCapture)
			tr.secrets = &secrets{}
			tr.server([]byte(stream))
			if h := tr.history(); len(h) != 2 || h[1] != "S: * 2 EXISTS" {
				t.Errorf("body %d bytes ending %q, literals traced %v: history has %d lines %.80q; want the second \"S: * 2 EXISTS\"", len(c.body), c.body[max(0, len(c.body)-6):], literals, len(h), h)
			}
		}
	}
}
