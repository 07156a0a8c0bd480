package session

import (
	"bytes"
	"strings"
	"testing"
)

// TestTracerEchoBeforeCutLiteralHeader: a server echoes the password's
// first part just before a literal's header ("X-ECHO hunter2-co {11}"
// CR LF, the rest in the body), and the line as the trace or the
// history ring shows it is cut inside that header or just before it:
// the "<N bytes>" that literalGaps looks for is past the cut, and the
// first part, no whole form and not at the cut line's end, showed. The
// ring's window of a line over maxTraceLine (maxTraceLine+ringSlack
// bytes) is cut inside a header with leading zeros (the tokenizer
// reads them as one header); the trace's line, at the default capture,
// inside a header or after the space before it. Secrets sent before the
// line was read, and (history) after it. Defaults otherwise.
func TestTracerEchoBeforeCutLiteralHeader(t *testing.T) {
	const pw = "hunter2-correct-horse"
	echo := func(pad int, header string) string {
		return "* 1 FETCH (X-ECHO " + strings.Repeat("y", pad) + " hunter2-co " + header + "\r\nrrect-horse UID 7)\r\n"
	}
	zeros := "{" + strings.Repeat("0", 2*(maxTraceLine+ringSlack)) + "11}"
	// Where the default capture cuts the line.
	before := len("* 1 FETCH (X-ECHO ") + len(" hunter2-co ")
	for _, c := range []struct {
		name   string
		stream string
		writer bool // a trace writer (the ring's window then cut apart from the line)
		later  bool // the secret sent after the line was read
	}{
		{"history, ring window in the header's zeros", echo(0, zeros), false, false},
		{"history and trace, ring window in the header's zeros", echo(0, zeros), true, false},
		{"history, secret sent after the line", echo(0, zeros), false, true},
		{"trace, capture cut inside the header", echo(DefaultTraceCapture-before-2, "{11}"), true, false},
		{"trace, capture cut after the space before the header", echo(DefaultTraceCapture-before, "{11}"), true, false},
	} {
		var out bytes.Buffer
		tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
		if c.writer {
			tr = newTracer(&out, false, nil, defaultHistory, DefaultTraceCapture)
		}
		tr.secrets = &secrets{}
		if !c.later {
			tr.secrets.addString(pw)
		}
		tr.server([]byte(c.stream))
		if c.later {
			tr.secrets.addString(pw)
		}
		for what, s := range map[string]string{"history": strings.Join(tr.history(), "\n"), "the trace": out.String()} {
			for _, p := range []string{"hunter2-co", "rrect-horse"} {
				if strings.Contains(s, p) {
					i := strings.Index(s, p)
					t.Errorf("%s: %s shows %q of the password: ...%q...", c.name, what, p, s[max(0, i-20):min(len(s), i+40)])
				}
			}
		}
	}
}
