package session

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// BenchmarkRedactCutPeriodicSecret measures redactCut of a hostile line
// cut at the default capture (64 KiB) that repeats a credential with a
// period ("123123", a common password) beside other credentials (OAuth
// tokens of 1,500 bytes, some opening as the line does; or runs of "a").
// cutAtLocked used to pull the cut back one occurrence at a time (3 bytes
// a step: ~21,800 steps), each step searching every other credential over
// twice its length: 15tokens123 took about 2.2 s a line. Each
// credential's occurrences are now found once and the cut walks back over
// what they cover (about 2 ms).
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
	// "aa" and 15 runs of "a" of about 2 KiB, in a line of "a".
	b.Run("aaRuns", func(b *testing.B) {
		x := periodicRuns()
		line := bytes.Repeat([]byte("a"), DefaultTraceCapture)
		for b.Loop() {
			x.redactCut(line)
		}
	})
}

// periodicRuns returns secrets "aa" and 15 runs of "a" of 2,048 bytes
// and more.
func periodicRuns() *secrets {
	x := new(secrets)
	x.addString("aa")
	for i := range 15 {
		x.add(bytes.Repeat([]byte("a"), 2048+i))
	}
	return x
}
