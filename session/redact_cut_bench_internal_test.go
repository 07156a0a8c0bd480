package session

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// BenchmarkTraceLongLineSixteenSecrets: what the trace costs per server
// line of 64 KiB and more (cut at the default capture) once 16 secrets
// are remembered, the writer on: the hostile server's stream of long lines.
func BenchmarkTraceLongLineSixteenSecrets(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 16, 1 << 10, 100 << 10} {
		b.Run(map[int]string{0: "none", 16: "secret16B", 1 << 10: "secret1KiB", 100 << 10: "secret100KiB"}[n], func(b *testing.B) {
			tr := newTracer(io.Discard, false, nil, 16, DefaultTraceCapture)
			tr.secrets = new(secrets)
			for range min(n, maxSecrets) {
				s := make([]byte, n)
				for i := range s {
					s[i] = 'a' + byte(r.IntN(26))
				}
				tr.secrets.add(s)
			}
			line := append([]byte("* OK "), bytes.Repeat([]byte("ab"), 40<<10)...)
			line = append(line, "\r\n"...)
			b.SetBytes(int64(len(line)))
			b.ResetTimer()
			for range b.N {
				tr.server(line)
			}
		})
	}
}
