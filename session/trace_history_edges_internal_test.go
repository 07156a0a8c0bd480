package session

import (
	"strings"
	"testing"
)

// TestTracerHistoryEdgesOfSecretSentAfterLines: server lines read before a
// secret was sent, holding it across their line ends (a password with a
// line break in it, echoed as sent, and one a server broke in three):
// history, asked after the secret was sent, redacts the parts at the
// lines' edges too, not only whole forms. The edges were worked out as
// each line was read, when the secret was not known, and history showed
// both parts. CR LF and bare LF line ends.
func TestTracerHistoryEdgesOfSecretSentAfterLines(t *testing.T) {
	for _, c := range []struct {
		secret, stream string
		parts          []string // what must not show
	}{
		{"hunter2-correct\r\nhorse-battery-staple",
			"* OK you sent hunter2-correct\r\nhorse-battery-staple is it\r\n",
			[]string{"hunter2", "correct", "horse", "battery", "staple"}},
		{"hunter2-correct\nhorse-battery-staple",
			"* OK you sent hunter2-correct\nhorse-battery-staple is it\n",
			[]string{"hunter2", "correct", "horse", "battery", "staple"}},
		{"hunter2-correct-horse-battery-staple",
			"* OK you sent hunter2-cor\r\nrect-horse-bat\r\ntery-staple is it\r\n",
			[]string{"hunter2", "-cor", "rect-horse", "bat", "tery-staple"}},
	} {
		tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
		tr.secrets = &secrets{}
		tr.secrets.add([]byte("earlier-password-xyz"))
		tr.server([]byte(c.stream))
		tr.secrets.add([]byte(c.secret))
		h := strings.Join(tr.history(), "\n")
		for _, p := range c.parts {
			if strings.Contains(h, p) {
				t.Errorf("secret %q sent after its echo was read: history shows %q: %q", c.secret, p, h)
			}
		}
	}
}
