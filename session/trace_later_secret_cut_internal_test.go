package session

import (
	"strings"
	"testing"
)

// TestTracerHistoryLaterSecretAcrossCut: a line longer than maxTraceLine
// read before any secret was sent is kept cut and raw; a secret sent later
// that the line held across the cut must not show its start when history
// redacts the kept part (it was redacted as a whole line: the cut start
// of a secret is no whole form, and showed). At every place across the cut,
// also at a capture shorter than maxTraceLine (such a cut line was not
// marked cut). Defaults otherwise.
func TestTracerHistoryLaterSecretAcrossCut(t *testing.T) {
	const secret = "later-secret-0123456789-abcdef"
	for _, capture := range []int{DefaultTraceCapture, 100} {
		cutAt := min(maxTraceLine, capture)
		for at := cutAt - len(secret) + 1; at < cutAt; at++ {
			tr := newTracer(nil, false, nil, defaultHistory, capture)
			tr.secrets = &secrets{}
			pre := "* OK " + strings.Repeat("d", at-len("* OK "))
			tr.server([]byte(pre + secret + strings.Repeat("e", 300) + "\r\n"))
			tr.secrets.add([]byte(secret))
			h := tr.history()
			if len(h) != 1 {
				t.Fatalf("history %q; want one line", h)
			}
			if shown := strings.TrimSuffix(strings.TrimPrefix(h[0], "S: "+pre), "..."); shown != "" && !strings.HasPrefix(shown, "***") {
				t.Fatalf("capture %d: secret at byte %d of a %d-byte line kept before it was sent: history shows %q of it", capture, at, len(pre)+len(secret)+300, shown)
			}
		}
	}
}
