package session

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/redact"
)

// TestTraceCutLinesShowOnlyWhatWholeLineShows: random lines, read in
// random pieces, by a tracer with a writer and a small capture, and by a
// history-only tracer (window 240/496), with 1 to 5 credentials over a
// two-letter alphabet: every line written and every history line is a
// prefix of the whole line redacted (with its edges: Set.Edges).
func TestTraceCutLinesShowOnlyWhatWholeLineShows(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 97))
	word := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab"[r.IntN(2)]
		}
		return b
	}
	for range 3000 {
		var x secrets
		var list [][]byte
		for range 1 + r.IntN(5) {
			s := word(2 + r.IntN(300))
			x.add(s)
			list = append(list, s)
		}
		line := word(r.IntN(200))
		for range r.IntN(4) {
			s := list[r.IntN(len(list))]
			at := r.IntN(len(line) + 1)
			line = append(line[:at:at], append(append([]byte(nil), s...), line[at:]...)...)
		}
		// What the whole line shows: redacted with its edges (a
		// credential's start of minEdge bytes or more at its end may
		// go on past the line end).
		full := append(append([]byte("* "), line...), "\r\n"...)
		var c redact.Carry
		head, tail := x.edges(&c, full[:len(full)-2], full[len(full)-2:])
		whole := strings.TrimPrefix(string(x.redactEdges(full[:len(full)-2], head, tail, false, new([]redact.Gap), 0)), "* ")
		var out bytes.Buffer
		capture := 10 + r.IntN(300)
		tw := newTracer(&out, false, nil, 4, capture)
		tw.secrets = &x
		th := newTracer(nil, false, nil, 4, DefaultTraceCapture)
		th.secrets = &x
		for rest := full; len(rest) > 0; {
			n := 1 + r.IntN(len(rest))
			tw.server(rest[:n])
			th.server(rest[:n])
			rest = rest[n:]
		}
		got := strings.TrimSuffix(strings.TrimPrefix(out.String(), "S: * "), "\n")
		if !strings.HasPrefix(whole, got) {
			t.Fatalf("secrets %q, capture %d: trace %q not a prefix of %q", list, capture, got, whole)
		}
		for _, h := range th.history() {
			h = strings.TrimSuffix(strings.TrimPrefix(h, "S: * "), "...")
			if !strings.HasPrefix(whole, h) {
				t.Fatalf("secrets %q: history %q not a prefix of %q", list, h, whole)
			}
		}
	}
}
