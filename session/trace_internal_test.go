package session

import (
	"strings"
	"testing"
)

// TestTracerCutLines feeds the tracer server lines longer than what it
// keeps of a line, split across reads at every position, with literals
// whose headers lie past the cut: the history must still frame every line
// (a missed header would swallow the next line into a literal).
func TestTracerCutLines(t *testing.T) {
	long := strings.Repeat("x", 3*(maxTraceLine+ringSlack))
	stream := "* 1 FETCH (BODY[] {5}\r\nhello X-NAME " + long + " {3}\r\nabc)\r\n" +
		"* 2 FETCH (FLAGS () " + long + ")\r\n" +
		"* 3 FETCH (BODY[] " + long + " {0}\r\n)\r\n" +
		"A1 OK done\r\n"
	want := []string{"S: * 1 FETCH", "S: * 2 FETCH", "S: * 3 FETCH", "S: A1 OK done"}
	for _, chunk := range []int{1, 7, 31, 32, 33, 500, len(stream)} {
		tr := newTracer(nil, false, nil, 8, DefaultTraceCapture)
		tr.secrets = &secrets{}
		for b := []byte(stream); len(b) > 0; {
			n := min(chunk, len(b))
			tr.server(b[:n])
			b = b[n:]
		}
		h := tr.history()
		if len(h) != len(want) {
			t.Fatalf("chunk %d: %d lines in the history, want %d:\n%s", chunk, len(h), len(want), strings.Join(h, "\n"))
		}
		for i, w := range want {
			if !strings.HasPrefix(h[i], w) {
				t.Errorf("chunk %d: line %d is %.60q, want it to start with %q", chunk, i, h[i], w)
			}
		}
		if !strings.Contains(h[0], "<5 bytes>") {
			t.Errorf("chunk %d: first line lacks its literal summary: %.80q", chunk, h[0])
		}
		if tr.litRemain != 0 || len(tr.line_) != 0 {
			t.Errorf("chunk %d: tracer left mid-line (litRemain %d, %d bytes)", chunk, tr.litRemain, len(tr.line_))
		}
	}
}
