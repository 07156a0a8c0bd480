package session

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// TestRedactCutPeriodicSecretWorkBounded checks that redactCut of a
// line cut at the default capture (64 KiB) that repeats credentials with
// a short period (a server knows the credentials it was sent) looks at
// no more than a few bytes a byte of the line a credential, and prints
// none of it: the cut used to be pulled back one occurrence at a time,
// each step searching every credential around the cut again (seconds a
// line, under the tracer's lock). x.work counts the bytes looked at.
func TestRedactCutPeriodicSecretWorkBounded(t *testing.T) {
	for _, c := range []struct {
		name string
		x    func() *secrets
		line []byte
	}{
		{"123123", periodicTokens, bytes.Repeat([]byte("123"), DefaultTraceCapture/3)},
		{"aaRuns", periodicRuns, bytes.Repeat([]byte("a"), DefaultTraceCapture)},
	} {
		x := c.x()
		got := x.redactCut(c.line)
		if bound := 4 * len(c.line) * int(x.n.Load()); x.work > bound {
			t.Errorf("%s: redactCut looked at %d bytes of a %d-byte line, more than %d", c.name, x.work, len(c.line), bound)
		}
		if bytes.Contains(got, c.line[:3]) {
			t.Errorf("%s: redactCut shows part of a credential: %.40q", c.name, got)
		}
	}
}

// periodicTokens returns secrets "123123" and 15 tokens of 1,500 bytes
// that open as "123123123123".
func periodicTokens() *secrets {
	x := new(secrets)
	x.addString("123123")
	for i := range 15 {
		raw := bytes.Repeat([]byte{byte(i + 1), 0x5a, 0x33}, 375)
		x.addString("123123123123" + base64.StdEncoding.EncodeToString(raw))
	}
	return x
}
