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

// TestTracerHistoryBounded: the history ring keeps at most maxTraceLine
// bytes of a server line, so that a session that has read long lines
// (FETCH responses) holds about History × maxTraceLine bytes of history,
// not History × (maxTraceLine+ringSlack); what history shows is the same:
// the line cut to maxTraceLine with "...", a secret sent before it
// redacted even where the cut runs through it, and a line that fits whole.
func TestTracerHistoryBounded(t *testing.T) {
	const history = defaultHistory // the tracer a session makes with no options
	tr := newTracer(nil, false, nil, history, DefaultTraceCapture)
	tr.secrets = &secrets{}
	long := "* 1 FETCH (X " + strings.Repeat("y", 2*(maxTraceLine+ringSlack)) + ")\r\n"
	for range 2 * history {
		tr.server([]byte(long))
	}
	for i, slot := range tr.ring {
		if len(slot) != maxTraceLine || cap(slot) > maxTraceLine+16 {
			t.Errorf("slot %d holds %d bytes in %d; want %d in at most %d", i, len(slot), cap(slot), maxTraceLine, maxTraceLine+16)
		}
	}
	for _, l := range tr.history() {
		if want := "S: " + long[:maxTraceLine] + "..."; l != want {
			t.Fatalf("history line %.60q...; want the line cut to %d bytes and \"...\"", l, maxTraceLine)
		}
	}

	// A secret the session sent, echoed across the cut (it starts 5 bytes
	// before it), and before the cut; then a short line that holds it.
	secret := "s3cr3t-passw0rd"
	tr.secrets.add([]byte(secret))
	across := "* OK " + strings.Repeat("a", maxTraceLine-5-5) + secret + strings.Repeat("b", 400) + "\r\n"
	before := "* OK " + secret + strings.Repeat("c", 400) + "\r\n"
	short := "* OK [ALERT] " + secret + "\r\n"
	for _, l := range []string{across, before, short} {
		tr.server([]byte(l))
	}
	h := tr.history()
	got := h[len(h)-3:]
	want := []string{
		"S: " + ("* OK " + strings.Repeat("a", maxTraceLine-5-5) + "***" + strings.Repeat("b", 400))[:maxTraceLine] + "...",
		"S: " + ("* OK ***" + strings.Repeat("c", 400))[:maxTraceLine] + "...",
		"S: * OK [ALERT] ***",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("history line %d:\n got %.80q...\nwant %.80q...", i, got[i], want[i])
		}
		if strings.Contains(got[i], secret[:5]) {
			t.Errorf("history line %d holds a part of the secret: %q", i, got[i])
		}
	}
}

// TestTracerHistoryLaterSecret: a long line kept cut and raw (no secret
// sent yet) that holds a secret sent later is redacted when history shows
// it, and is shown shorter than the cut with "..." (not a panic).
func TestTracerHistoryLaterSecret(t *testing.T) {
	tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
	tr.secrets = &secrets{}
	secret := "later-secret-0123456789"
	tr.server([]byte("* OK " + secret + strings.Repeat("d", 500) + "\r\n"))
	tr.secrets.add([]byte(secret))
	h := tr.history()
	want := "S: * OK ***" + strings.Repeat("d", maxTraceLine-len("* OK ")-len(secret)) + "..."
	if len(h) != 1 || h[0] != want {
		t.Fatalf("history %.80q; want %.80q", h, want)
	}
}
