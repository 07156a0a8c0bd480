package session

import (
	"strings"
	"testing"
)

// TestTracerHistorySecretSentAfterLineBrute: a server line read before a
// secret was sent, holding that secret whole or across the cut, at every
// offset, with captures around it and with another secret sent before the
// line or not: history (asked after the secret was sent) shows none of
// the secret's bytes past its first 3.
func TestTracerHistorySecretSentAfterLineBrute(t *testing.T) {
	const secret = "later-secret-0123456789-abcdef"
	for _, earlier := range []string{"", "earlier-password-xyz"} {
		for _, capture := range []int{8, 12, 20, 33, 40, 100, maxTraceLine, maxTraceLine + 10, DefaultTraceCapture} {
			cutAt := min(maxTraceLine, capture)
			for at := 5; at <= cutAt+2; at++ {
				for _, tail := range []int{0, 3, 300} {
					tr := newTracer(nil, false, nil, defaultHistory, capture)
					tr.secrets = &secrets{}
					if earlier != "" {
						tr.secrets.add([]byte(earlier))
					}
					pre := "* OK " + strings.Repeat("d", at-len("* OK "))
					tr.server([]byte(pre + secret + strings.Repeat("e", tail) + "\r\n"))
					tr.secrets.add([]byte(secret))
					for _, h := range tr.history() {
						for i := 0; i+4 <= len(secret); i++ {
							if strings.Contains(h, secret[i:i+4]) {
								t.Fatalf("earlier %q, capture %d, secret at byte %d, tail %d: history shows %q of the secret: %q", earlier, capture, at, tail, secret[i:i+4], h)
							}
						}
					}
				}
			}
		}
	}
}
