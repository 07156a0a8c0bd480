package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// The client's lines that carry a credential though the Dialog and the
// server read them as commands (found by review): a SASL response sent
// after the AUTHENTICATE's completion or ahead of its refusal, a LOGIN
// without its tag. The trace prints none of them, nor does the proxy's
// own answer echo them. Default options.

// TestProxySASLResponseAfterCompletionRedacted: the server sends a
// challenge and, before the client's response, completes the
// AUTHENTICATE (NO: an authentication timeout, a hostile server). The
// client, having read the "+", sends its SASL response (PLAIN: user,
// password). The Dialog called it a command (the AUTHENTICATE is over
// when it comes), and the trace printed it whole twice: the client's line
// and the proxy's BAD, whose tag echoed it.
func TestProxySASLResponseAfterCompletionRedacted(t *testing.T) {
	const response = "AHVzZXIAc2VjcmV0cHc=" // PLAIN: user, secretpw
	chunks := []string{
		"* OK ready\r\n",
		"+ \r\n%T NO [AUTHENTICATIONFAILED] too slow\r\n",
		"* BAD Invalid tag\r\n",
	}
	lines := []string{"a1 AUTHENTICATE PLAIN\r\n", response + "\r\n"}
	got, trace := proxyRunChunks(t, chunks, lines, []int{2, 1})
	if strings.Contains(trace, response) {
		t.Errorf("the trace shows the SASL response (%q):\n%s", response, trace)
	}
	if !strings.Contains(trace, "C: [SASL data redacted, 20 bytes] [not relayed: answered by the proxy]\n") ||
		!strings.Contains(trace, "P: * BAD ") {
		t.Errorf("the response is not printed redacted and answered untagged:\n%s", trace)
	}
	if g := strings.Join(got, ""); strings.Contains(g, response) {
		t.Errorf("the proxy's answer echoes the response: %q", g)
	}
}

// TestProxySASLResponseSentAheadRefusedRedacted: a client that sends its
// SASL responses without waiting for the "+" (the server reads them as the
// responses to the challenges it sends next); the server refuses the
// AUTHENTICATE instead (NO, no challenge). ClientWait then called the
// responses commands, and the trace printed them. PLAIN's one response,
// and LOGIN's two (user, then password).
func TestProxySASLResponseSentAheadRefusedRedacted(t *testing.T) {
	for _, tc := range []struct {
		mech      string
		responses []string
	}{
		{"PLAIN", []string{"AHVzZXIAc2VjcmV0cHc="}},
		{"LOGIN", []string{"dXNlcg==", "c2VjcmV0cHc="}},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			chunks := []string{
				"* OK ready\r\n",
				"%T NO [AUTHENTICATIONFAILED] no\r\n",
			}
			line := "a1 AUTHENTICATE " + tc.mech + "\r\n" + strings.Join(tc.responses, "\r\n") + "\r\n"
			// The NO, and the proxy's "* BAD" for each response (the
			// server would answer them as commands without a name).
			_, trace := proxyRunChunks(t, chunks, []string{line}, []int{1 + len(tc.responses)})
			for _, r := range append(tc.responses, "secretpw") {
				if strings.Contains(trace, r) {
					t.Errorf("the trace shows a credential (%q):\n%s", r, trace)
				}
			}
			if n := strings.Count(trace, "P: * BAD "); n != len(tc.responses) {
				t.Errorf("%d untagged answers, want %d:\n%s", n, len(tc.responses), trace)
			}
		})
	}
}

// TestProxyLoginWithoutTagRedacted: a LOGIN typed without its tag ("LOGIN
// alice secretpw", as by hand over telnet) or after a space: the Dialog
// reads the first word as the tag and "alice" as the command, as the
// server does, and the printer, which redacted by the command's name,
// printed the password (relayed, or refused by the proxy). A LOGIN or
// AUTHENTICATE as the first or second word now redacts the line's words
// from the one after its first argument.
func TestProxyLoginWithoutTagRedacted(t *testing.T) {
	for _, tc := range []struct{ line, secret, printed string }{
		{"LOGIN alice secretpw\r\n", "secretpw", "C: LOGIN alice ***\n"},
		{"login alice secretpw\r\n", "secretpw", "C: login alice ***\n"},
		{" LOGIN alice secretpw\r\n", "secretpw", "C:  LOGIN alice *** [not relayed"},
		{"AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0cHc=\r\n", "AHVzZXIAc2VjcmV0cHc=", "C: AUTHENTICATE PLAIN ***\n"},
		// A tagged LOGIN, as before.
		{"a1 LOGIN alice secretpw\r\n", "secretpw", "C: a1 LOGIN alice ***\n"},
	} {
		_, trace := proxyRunChunks(t, []string{"* OK ready\r\n", "%T BAD x\r\n"}, []string{tc.line}, []int{1})
		if strings.Contains(trace, tc.secret) || !strings.Contains(trace, tc.printed) {
			t.Errorf("%q: the trace shows the credential, or not %q:\n%s", tc.line, tc.printed, trace)
		}
	}
}

// TestProxyLoginWithoutTagPlaintextRefused: to an upstream in the clear
// (not loopback, no TLS, no --insecure-plaintext), a line whose first or
// second word is LOGIN or AUTHENTICATE is refused, whatever the Dialog
// took for its tag and name: "LOGIN alice secretpw" (the tag "LOGIN", the
// command "ALICE") was relayed, the password in the clear. (refusal is
// called directly: the relay's other tests need a non-loopback address,
// and a real server, for an upstream in the clear.)
func TestProxyLoginWithoutTagPlaintextRefused(t *testing.T) {
	ps := &proxySession{cfg: &proxyConfig{upstream: &target{host: "192.0.2.1", addr: "192.0.2.1:143"}}}
	for _, tc := range []struct {
		line    string
		refused bool
	}{
		{"LOGIN alice secretpw\r\n", true},
		{"login alice secretpw\r\n", true},
		{"AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0cHc=\r\n", true},
		{"a1 LOGIN alice secretpw\r\n", true},
		{"a[1 LOGIN alice secretpw\r\n", true},
		{"a1 SELECT LOGIN\r\n", false},
		{"a1 NOOP\r\n", false},
	} {
		var d wire.Dialog
		line, err := wire.NewTokenizer(strings.NewReader(tc.line), nil).AppendUntilLiteral(nil)
		if err != nil {
			t.Fatal(err)
		}
		why := ps.refusal(d.Client(line), line, false)
		if got := strings.Contains(why, "PRIVACYREQUIRED"); got != tc.refused {
			t.Errorf("%q: refusal %q; want refused %v", tc.line, why, tc.refused)
		}
		if why := ps.refusal(d.Client(line), line, true); strings.Contains(why, "PRIVACYREQUIRED") {
			t.Errorf("%q: refused to a secure upstream: %q", tc.line, why)
		}
	}
}
