package session

import (
	"bytes"
	"strings"
	"testing"
)

// traceEcho traces the server line echo with secrets sent before it, and
// returns what the trace writer got and the history.
func traceEcho(secs []string, echo string) (string, []string) {
	var out bytes.Buffer
	tr := newTracer(&out, false, nil, 8, DefaultTraceCapture)
	var x secrets
	for _, s := range secs {
		x.addString(s)
	}
	tr.secrets = &x
	tr.server([]byte(echo + "\r\n"))
	return out.String(), tr.history()
}

// TestTraceRedactsCredentialContainingAnother checks that a credential
// holding an earlier one (a password "hunter2", then "hunter2-backup", or
// an AddSecret'd token) is replaced whole when the server echoes it:
// redact replaced the secrets one after the other in the order they were
// sent, and once "hunter2" was "***" the longer one was no longer found
// ("***-backup" was printed). docs/security.md says every credential
// sent is replaced by *** in traces and History.
func TestTraceRedactsCredentialContainingAnother(t *testing.T) {
	out, hist := traceEcho([]string{"hunter2", "hunter2-backup"}, "* NO [AUTHENTICATIONFAILED] hunter2-backup rejected")
	if strings.Contains(out, "-backup") {
		t.Errorf("trace shows part of a credential: %q", out)
	}
	if h := strings.Join(hist, "\n"); strings.Contains(h, "-backup") {
		t.Errorf("history shows part of a credential: %q", h)
	}
}

// TestRedactOverlappingCredentials checks redact and redactCut (a line
// cut in the middle of a credential) over credentials that hold or
// overlap one another, whatever the order they were sent in: each run of
// bytes any of them covers becomes one "***".
func TestRedactOverlappingCredentials(t *testing.T) {
	for _, c := range []struct {
		secs       []string
		line, want string
		cut        bool
	}{
		{[]string{"hunter2", "hunter2-backup"}, "* NO hunter2-backup, hunter2.", "* NO ***, ***.", false},
		{[]string{"hunter2-backup", "hunter2"}, "* NO hunter2-backup, hunter2.", "* NO ***, ***.", false},
		{[]string{"abcdefg", "efghijk"}, "* NO abcdefghijk!", "* NO ***!", false},
		{[]string{"hunter2", "hunter2-backup"}, "* NO hunter2-backup hunter2-ba", "* NO *** ", true},
		{[]string{"abcdefg", "efghijk"}, "* NO abcdefghij", "* NO ", true},
	} {
		var x secrets
		for _, s := range c.secs {
			x.addString(s)
		}
		var got []byte
		if c.cut {
			got = x.redactCut([]byte(c.line))
		} else {
			got = x.redact([]byte(c.line))
		}
		if string(got) != c.want {
			t.Errorf("%q with %q (cut %v): got %q, want %q", c.line, c.secs, c.cut, got, c.want)
		}
	}
}

// TestTraceRedactsQuotedEcho checks that a password holding a quote or
// a backslash, which the client sends quoted ("pa\"ss\\w0rd") and a
// server echoes as it got it, is redacted from the trace and History:
// redact looked for the raw bytes only, not the quoted form add keeps
// (secrets.quoted, used only for a SyntaxError's excerpt). The proxy
// redacts that form (TestProxyServerEchoRedactedEscapedForms).
func TestTraceRedactsQuotedEcho(t *testing.T) {
	out, hist := traceEcho([]string{`pa"ss\w0rd`}, `* BAD invalid arguments: "joe" "pa\"ss\\w0rd"`)
	if strings.Contains(out, `ss\\w0rd`) {
		t.Errorf("trace shows the quoted credential: %q", out)
	}
	if h := strings.Join(hist, "\n"); strings.Contains(h, `ss\\w0rd`) {
		t.Errorf("history shows the quoted credential: %q", h)
	}
}

// TestRedactQuotedForms checks redact and redactCut over the quoted forms
// of a password: as the client quotes it (a tab left as it is) and as
// strconv.Quote does (\t), whole, cut in the middle of one, and beside
// the raw form.
func TestRedactQuotedForms(t *testing.T) {
	const sec = "pa\"ss\\w\t0rd"
	wireForm, goForm := `pa\"ss\\w`+"\t"+`0rd`, `pa\"ss\\w\t0rd`
	for _, c := range []struct {
		line, want string
		cut        bool
	}{
		{`* BAD "` + wireForm + `" rejected`, `* BAD "***" rejected`, false},
		{`* BAD "` + goForm + `" rejected`, `* BAD "***" rejected`, false},
		{`* BAD ` + sec + ` "` + wireForm + `"`, `* BAD *** "***"`, false},
		{`* BAD "` + wireForm + `" "` + wireForm[:8], `* BAD "***" "`, true},
		{`* BAD "` + goForm[:9], `* BAD "`, true},
	} {
		var x secrets
		x.addString(sec)
		var got []byte
		if c.cut {
			got = x.redactCut([]byte(c.line))
		} else {
			got = x.redact([]byte(c.line))
		}
		if string(got) != c.want {
			t.Errorf("%q (cut %v): got %q, want %q", c.line, c.cut, got, c.want)
		}
	}
}
