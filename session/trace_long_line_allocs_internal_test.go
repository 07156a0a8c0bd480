package session

import (
	"bytes"
	"io"
	"testing"
)

// TestTraceLongLineCopiesOnce: a server line longer than the trace's
// capture (cut), traced to a writer, is copied once when a secret is in
// it (its redaction, scanned for once: the line was redacted whole, then
// again cut, the first result thrown away) and not at all when none is
// (no escaped copy of a clean line, the writer's buffer reused).
func TestTraceLongLineCopiesOnce(t *testing.T) {
	for _, c := range []struct {
		what   string
		secret string
		want   float64
	}{{"no secret in it", "not-in-the-line", 0}, {"a secret in it", "s3cret-pass", 1}} {
		tr := newTracer(io.Discard, false, nil, 0, DefaultTraceCapture) // no history: its window is redacted apart
		tr.secrets = new(secrets)
		tr.secrets.add([]byte(c.secret))
		line := append([]byte("* OK echo s3cret-pass "), bytes.Repeat([]byte("ab"), 40<<10)...)
		line = append(line, "\r\n"...)
		tr.server(line) // the buffers the trace keeps grow once
		if got := testing.AllocsPerRun(20, func() { tr.server(line) }); got > c.want {
			t.Errorf("%s: a cut line of %d bytes costs %v allocations; want at most %v", c.what, len(line), got, c.want)
		}
	}
}
