package main

import (
	"fmt"
	"strconv"
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

// TestProxyLoginAfterOddFirstWordRedacted: a LOGIN or AUTHENTICATE as the
// second word of a line whose first word is made of several tokens ("(a",
// "a)", "a(b"), or a "(" before the password: credentialCommand (and the
// refusal to an upstream in the clear) counted words by spaces, the
// printer by tokens (a "(" counted for none, a ")" for one), so the LOGIN
// was its third word or the password its third, and the password was
// printed, in a line the proxy refused or relayed. The printer now
// redacts by both counts, whichever comes first (found by review).
func TestProxyLoginAfterOddFirstWordRedacted(t *testing.T) {
	for _, tc := range []struct{ line, secret, printed string }{
		{"(a LOGIN alice secretpw\r\n", "secretpw", "C: (a LOGIN alice *** [not relayed"},
		{"a) LOGIN alice secretpw\r\n", "secretpw", "C: a) LOGIN alice *** [not relayed"},
		{"a(b LOGIN alice secretpw\r\n", "secretpw", "C: a(b LOGIN alice *** [not relayed"},
		// Relayed (the server answers BAD): the "(" is the first
		// argument, the password the word after it.
		{"a1 LOGIN ( secretpw\r\n", "secretpw", "C: a1 LOGIN ( ***\n"},
		{"a1 AUTHENTICATE ( AHVzZXIAc2VjcmV0cHc=\r\n", "AHVzZXIAc2VjcmV0cHc=", "C: a1 AUTHENTICATE ( ***\n"},
		// Several tokens in the LOGIN's own word: the token count
		// still redacts.
		{"a1 LOGIN(alice secretpw\r\n", "secretpw", "C: a1 LOGIN(alice ***"},
	} {
		_, trace := proxyRunChunks(t, []string{"* OK ready\r\n", "%T BAD x\r\n"}, []string{tc.line}, []int{1})
		if strings.Contains(trace, tc.secret) || strings.Contains(trace, "secretpw") || !strings.Contains(trace, tc.printed) {
			t.Errorf("%q: the trace shows the credential, or not %q:\n%s", tc.line, tc.printed, trace)
		}
	}
}

// TestProxyOneWordAfterAuthenticateNotRecorded: after an AUTHENTICATE,
// a line of one word is MaybeSASL (a response sent ahead of the
// completion, or a command typed without its tag) and printed redacted;
// every one of its words was also kept as a credential, so that a
// "CAPABILITY" typed so blotted the word out of every later server line
// ("* *** IMAP4rev1 IDLE"). Now only the words of such a line that look
// like a SASL response (base64 of 4 bytes or more) are kept; the response
// owed to an unanswered challenge (LikelySASL) is kept whatever its shape
// (found by review).
func TestProxyOneWordAfterAuthenticateNotRecorded(t *testing.T) {
	t.Run("after a completed exchange", func(t *testing.T) {
		chunks := []string{
			"* OK ready\r\n",
			"+ \r\n",
			"a1 OK done\r\n",
			"* CAPABILITY IMAP4rev1 IDLE\r\na2 OK CAPABILITY done\r\n",
		}
		lines := []string{"a1 AUTHENTICATE PLAIN\r\n", "AHVzZXIAc2VjcmV0cHc=\r\n", "CAPABILITY\r\n", "a2 CAPABILITY\r\n"}
		_, trace := proxyRunChunks(t, chunks, lines, []int{1, 1, 1, 2})
		if strings.Contains(trace, "AHVzZXIAc2VjcmV0cHc=") || strings.Contains(trace, "secretpw") {
			t.Fatalf("the trace shows the credential:\n%s", trace)
		}
		if !strings.Contains(trace, "C: [SASL data redacted, 10 bytes] [not relayed") ||
			!strings.Contains(trace, "S: * CAPABILITY IMAP4rev1 IDLE\n") {
			t.Errorf("the one-word line is not printed redacted, or the server's CAPABILITY is (it was kept as a credential):\n%s", trace)
		}
	})
	t.Run("a response sent ahead of a refusal is kept", func(t *testing.T) {
		// The server echoes the password and its base64 (a hostile
		// server); the command name typed alone is not redacted.
		chunks := []string{
			"* OK ready\r\n",
			"%T NO [AUTHENTICATIONFAILED] no\r\n",
			"* OK secretpw c2VjcmV0cHc= CAPABILITY\r\n%T OK done\r\n",
		}
		lines := []string{"a1 AUTHENTICATE LOGIN\r\n", "c2VjcmV0cHc=\r\n", "CAPABILITY\r\n", "a2 NOOP\r\n"}
		_, trace := proxyRunChunks(t, chunks, lines, []int{1, 1, 1, 2})
		if strings.Contains(trace, "secretpw") || strings.Contains(trace, "c2VjcmV0cHc=") {
			t.Fatalf("the trace shows the credential:\n%s", trace)
		}
		if !strings.Contains(trace, "S: * OK *** *** CAPABILITY\n") {
			t.Errorf("the server's echo is not redacted as expected:\n%s", trace)
		}
	})
	t.Run("the owed response is kept whatever its shape", func(t *testing.T) {
		// The client read the "+" and answers it after the server's
		// NO: its line, not base64 ('_'), is kept all the same.
		chunks := []string{
			"* OK ready\r\n",
			"+ \r\n%T NO too slow\r\n",
			"* OK my_secret\r\n%T OK done\r\n",
		}
		lines := []string{"a1 AUTHENTICATE PLAIN\r\n", "my_secret\r\n", "a2 NOOP\r\n"}
		_, trace := proxyRunChunks(t, chunks, lines, []int{2, 1, 2})
		if strings.Contains(trace, "my_secret") || !strings.Contains(trace, "S: * OK ***\n") {
			t.Fatalf("the trace shows the owed response, or not redacted as expected:\n%s", trace)
		}
	})
}

// TestProxySASLResponseAfterUntrackedAuthenticateRedacted: an
// AUTHENTICATE that begins no exchange (the line has no tag, and the
// proxy answers it; or it was typed without its tag, and the server reads
// the tag "AUTHENTICATE" and answers BAD), then the SASL response its
// client sends ahead all the same (PLAIN: user, password). The Dialog
// took the response for a command of one word, and the trace printed it
// whole twice, the client's line and the tag of the proxy's BAD, which
// also echoed it to the client. Now it is a line that may be a response
// (wire's Event.MaybeSASL): printed redacted and answered "* BAD".
func TestProxySASLResponseAfterUntrackedAuthenticateRedacted(t *testing.T) {
	const response = "AHVzZXIAc2VjcmV0cHc=" // PLAIN: user, secretpw
	for _, tc := range []struct {
		name   string
		chunks []string
		first  string
	}{
		{"no tag, refused by the proxy", []string{"* OK ready\r\n"}, "a%1 AUTHENTICATE PLAIN\r\n"},
		{"no tag after a space", []string{"* OK ready\r\n"}, " a1 AUTHENTICATE PLAIN\r\n"},
		{"typed without its tag, answered by the server", []string{"* OK ready\r\n", "AUTHENTICATE BAD Unknown command\r\n"}, "AUTHENTICATE PLAIN\r\n"},
	} {
		got, trace := proxyRunChunks(t, tc.chunks, []string{tc.first, response + "\r\n"}, []int{1, 1})
		for _, s := range []string{response, "secretpw"} {
			if strings.Contains(trace, s) {
				t.Errorf("%s: the trace shows the SASL response (%q):\n%s", tc.name, s, trace)
			}
		}
		if !strings.Contains(trace, "C: [SASL data redacted, 20 bytes] [not relayed: answered by the proxy]\n") {
			t.Errorf("%s: the response is not printed redacted:\n%s", tc.name, trace)
		}
		if g := strings.Join(got, ""); strings.Contains(g, response) || len(got) < 3 || !strings.HasPrefix(got[2], "* BAD ") {
			t.Errorf("%s: the client read %q; want the response answered \"* BAD\", not echoed", tc.name, got)
		}
	}
}

// TestProxyRefusedAnswerTagHiddenAsLine: the proxy's answer to a line it
// refuses shows its tag in the trace only where the trace showed the
// line. A line that does not tokenize is printed "[redacted]" (it may be a
// LOGIN's password quoted amiss), but its answer printed the tag, the
// line's first word as far as the tokenizer read it: all of a one-word
// line ("secretpw" of `secretpw"x`). A command sent as the response owed
// to a challenge is printed as SASL data and answered with its tag (two
// words, read whole), which the trace redacted only while it was among
// the 16 newest words kept: one of 20 words showed it. Both print "***"
// for the tag now; the client still gets its tag. Defaults.
func TestProxyRefusedAnswerTagHiddenAsLine(t *testing.T) {
	const secret = "c2VjcmV0cHdzZWNyZXQ="
	var words strings.Builder
	for i := range 20 {
		fmt.Fprintf(&words, " w%03d", i)
	}
	for _, tc := range []struct {
		name   string
		chunks []string
		lines  []string
		want   []int
		answer string // what the client reads for the refused line
		traced string // the answer in the trace
	}{
		{"a line that does not tokenize", []string{"* OK ready\r\n"},
			[]string{secret + "\"x\x01\r\n"}, []int{1},
			secret + " BAD imapkit proxy: no command name", "P: *** BAD imapkit proxy: no command name"},
		{"the owed line, a command of 21 words", []string{"* OK ready\r\n", "+ \r\n%T NO too slow\r\n"},
			[]string{"a1 AUTHENTICATE PLAIN\r\n", secret + " STARTTLS" + words.String() + "\r\n"}, []int{2, 1},
			secret + " NO imapkit proxy: no certificate", "P: *** NO imapkit proxy: no certificate"},
	} {
		got, trace := proxyRunChunks(t, tc.chunks, tc.lines, tc.want)
		if strings.Contains(trace, secret) || strings.Contains(trace, "secretpw") {
			t.Errorf("%s: the trace shows the refused line's first word:\n%s", tc.name, trace)
		}
		if !strings.Contains(trace, tc.traced) {
			t.Errorf("%s: the trace lacks %q:\n%s", tc.name, tc.traced, trace)
		}
		if last := got[len(got)-1]; !strings.HasPrefix(last, tc.answer) {
			t.Errorf("%s: the client read %q; want %q...", tc.name, last, tc.answer)
		}
	}
}

// TestProxyRefusedPasswordLiteralBodyRedacted: a LOGIN whose password
// literal is refused at its synchronizing header (the server's
// completion instead of "+", or the proxy's BAD to one over 16 KiB),
// then its body sent all the same, as a client that did not wait for
// the "+" sends it. The proxy and the server read the body as a
// command; the trace printed it whole ("C: secretpw") and the proxy's
// BAD echoed it as its tag ("secretpw BAD imapkit proxy: no command
// name"), to the trace and the client. It is now printed redacted and
// kept as a credential (the server's echo of it redacted), as the
// response owed to a challenge is; refused, its answer is untagged.
// The line after a literal refused and not sent is a command as before
// (relayed and answered).
func TestProxyRefusedPasswordLiteralBodyRedacted(t *testing.T) {
	long := strings.Repeat("s3cr3t", maxSecretLiteral/6+1)
	for _, tc := range []struct {
		name, secret string
		chunks       []string
		lines        []string
		want         []int
		answer       string // the client's last line read
	}{
		{"refused by the server, one word", "secretpw",
			[]string{"* OK ready\r\n", "%T NO [PRIVACYREQUIRED] no\r\n"},
			[]string{"a1 LOGIN alice {8}\r\n", "secretpw\r\n"}, []int{1, 1}, "* BAD imapkit proxy: no command name"},
		// Not relayed since stop 60 (the server got it as a command
		// line, and answered "* BAD secretpw x", "secretpw BAD Unknown
		// command"): TestProxyRefusedPasswordLiteralBodyNotRelayed.
		{"refused by the server, two words", "secretpw",
			[]string{"* OK ready\r\n", "%T NO [PRIVACYREQUIRED] no\r\n"},
			[]string{"a1 LOGIN alice {10}\r\n", "secretpw x\r\n"}, []int{1, 1}, "*** BAD imapkit proxy: a line that may be a refused password literal's body"},
		{"refused by the proxy, over 16 KiB", long,
			[]string{"* OK ready\r\n"},
			[]string{"a1 LOGIN alice {" + strconv.Itoa(len(long)) + "}\r\n", long + "\r\n"}, []int{1, 1}, "* BAD imapkit proxy: a tag over 256 bytes"},
	} {
		got, trace := proxyRunChunks(t, tc.chunks, tc.lines, tc.want)
		if p := leakedPiece(trace, tc.secret); p != "" || strings.Contains(trace, tc.secret) {
			t.Errorf("%s: the trace shows the password (%q):\n%s", tc.name, p, shortLines(trace))
		}
		if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], tc.answer) && !strings.HasPrefix(got[len(got)-1], strings.Replace(tc.answer, "***", tc.secret, 1)) {
			t.Errorf("%s: the client read %q; want %q... last", tc.name, got, tc.answer)
		}
		if tc.answer[0] == '*' && tc.answer[1] == ' ' && strings.Contains(strings.Join(got, ""), tc.secret[:8]) {
			t.Errorf("%s: the proxy's answer echoes the password: %q", tc.name, got)
		}
	}
	// A client that waited: its next command is relayed as before.
	got, trace := proxyRunChunks(t,
		[]string{"* OK ready\r\n", "%T NO [PRIVACYREQUIRED] no\r\n", "%T OK done\r\n"},
		[]string{"a1 LOGIN alice {8}\r\n", "a2 NOOP\r\n"}, []int{1, 1})
	if len(got) < 3 || got[2] != "a2 OK done\r\n" {
		t.Errorf("the command after the refused literal: the client read %q; want it relayed and answered; trace:\n%s", got, trace)
	}
}
