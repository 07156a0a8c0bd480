package session

import (
	"bytes"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestTracerCutLineLongLiteralHeader: a server line longer than what the
// tracer keeps of a line (its capture) that ends in a literal header
// longer than the tracer's tailLen ("{" and 40 digits, leading zeros: a
// size of 5) is framed by the tokenizer as a literal (SkipLine follows a
// long header: headScan), so "hello" is that literal's body and
// "* 2 EXISTS" the next response. The tracer keeps only the last tailLen
// bytes of a cut line and misses the '{': it should frame the stream as
// the tokenizer does, but it traces the body as a server line of its own
// (a body holding "{N}" then hides the next N bytes of real responses
// from the history). Checked for the history-only tracer (a session with
// no options) and one with a trace writer (capture DefaultTraceCapture),
// fed whole and a byte at a time.
func TestTracerCutLineLongLiteralHeader(t *testing.T) {
	header := "{" + strings.Repeat("0", 40) + "5}"
	for _, w := range []*bytes.Buffer{nil, new(bytes.Buffer)} {
		pad := strings.Repeat("x", 2*(maxTraceLine+ringSlack))
		if w != nil {
			pad = strings.Repeat("x", DefaultTraceCapture+100)
		}
		stream := "* 1 XFOO " + pad + " " + header + "\r\nhello\r\n* 2 EXISTS\r\n"
		// The tokenizer's framing: the line ends after "hello" and its CRLF.
		tk := wire.NewTokenizer(strings.NewReader(stream), nil)
		if err := tk.SkipLine(); err != nil {
			t.Fatalf("SkipLine: %v", err)
		}
		if off, want := tk.Offset(), int64(strings.Index(stream, "* 2")); off != want {
			t.Fatalf("the tokenizer ends the line at offset %d; want %d, after the literal", off, want)
		}
		for _, step := range []int{len(stream), 1} {
			var tr *tracer
			if w == nil {
				tr = newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
			} else {
				w.Reset()
				tr = newTracer(w, false, nil, defaultHistory, DefaultTraceCapture)
			}
			tr.secrets = &secrets{}
			for b := []byte(stream); len(b) > 0; {
				n := min(step, len(b))
				tr.server(append([]byte(nil), b[:n]...))
				b = b[n:]
			}
			h := tr.history()
			if len(h) != 2 || h[1] != "S: * 2 EXISTS" {
				last := h
				if len(last) > 2 {
					last = last[len(last)-2:]
				}
				t.Errorf("trace writer %v, reads of %d: history has %d lines, the last %.60q; want 2, the literal's body in the first, the second \"S: * 2 EXISTS\"", w != nil, step, len(h), last)
			}
		}
	}
}
