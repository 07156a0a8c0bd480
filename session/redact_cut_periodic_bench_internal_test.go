package session

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// BenchmarkRedactCutPeriodicSecret measures redactCut of a hostile line
// cut at the default capture (64 KiB) that repeats a credential with a
// period ("123123", a common password): the loop of cutAtLocked pulls the
// cut back one occurrence at a time (3 bytes a step: ~21,800 steps), and
// each step searches every other credential over twice its length
// (straddling's bytes.Index), here one OAuth token of 1,500 bytes: the
// work grows as the line's length times the credentials' (review of
// 0f1d7b6). Tokens that open as the line does make each step search the
// whole window (bytes.Index falls back to Rabin-Karp).
func BenchmarkRedactCutPeriodicSecret(b *testing.B) {
	for _, c := range []struct {
		name     string
		tokens   int
		prefixed bool
	}{{"1token", 1, false}, {"15tokens", 15, false}, {"15tokens123", 15, true}} {
		b.Run(c.name, func(b *testing.B) {
			var x secrets
			x.addString("123123")
			for i := range c.tokens {
				raw := bytes.Repeat([]byte{byte(i + 1), 0x5a, 0x33}, 375)
				tok := base64.StdEncoding.EncodeToString(raw) // 1,500 bytes
				if c.prefixed {
					// Tokens that open as the line does (the server
					// knows every credential it was sent).
					tok = "123123123123" + tok
				}
				x.addString(tok)
			}
			line := bytes.Repeat([]byte("123"), DefaultTraceCapture/3)
			for b.Loop() {
				x.redactCut(line)
			}
		})
	}
}
