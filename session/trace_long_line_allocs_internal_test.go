package session

import (
	"bytes"
	"io"
	"runtime"
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

// TestTraceHostileGapsLineReusesGaps: a server line of 64 KiB of fake
// literal headers ("{9} ", each a gap of the line's redaction, about
// 16,000 of them; and "{1} X" with literals traced, a body's end after
// each: two gaps in 5 bytes), traced with the defaults while a secret is
// known, allocates only the line redacted for the writer and its start
// redacted for the history ring (maxTraceLine+ringSlack bytes): the gaps' buffer
// is the tracer's, reused from line to line, and stays within what a
// line of the capture can need (maxGaps). It made about 1.2 MB of
// garbage in 22 allocations a line, the gaps gathered anew each time.
func TestTraceHostileGapsLineReusesGaps(t *testing.T) {
	for _, c := range []struct {
		what     string
		literals bool
		unit     string
	}{{"fake headers", false, "{9} "}, {"fake headers, literals traced", true, "{9} "},
		{"headers and 1-byte bodies, literals traced", true, "{1} X"}} {
		tr := newTracer(io.Discard, c.literals, nil, defaultHistory, DefaultTraceCapture)
		tr.secrets = new(secrets)
		tr.secrets.add([]byte("s3cret-pass"))
		line := []byte("* OK s3cret-pass ")
		for len(line) < DefaultTraceCapture-len(c.unit) {
			line = append(line, c.unit...)
		}
		line = append(line, "\r\n"...)
		tr.server(line) // the buffers the trace keeps grow once
		var before, after runtime.MemStats
		const runs = 20
		runtime.ReadMemStats(&before)
		allocs := testing.AllocsPerRun(runs, func() { tr.server(line) })
		runtime.ReadMemStats(&after)
		perLine := int(after.TotalAlloc-before.TotalAlloc) / (runs + 1)
		if allocs > 2 || perLine > 2*len(line) {
			t.Errorf("%s: a %d-byte line costs %v allocations, %d bytes; want at most 2 (the line redacted, its start for history), %d bytes",
				c.what, len(line), allocs, perLine, 2*len(line))
		}
		if got, limit := cap(tr.gaps), maxGaps(DefaultTraceCapture+1); got == 0 || got > limit {
			t.Errorf("%s: the tracer keeps room for %d gaps; want some, at most %d", c.what, got, limit)
		}
	}
}
