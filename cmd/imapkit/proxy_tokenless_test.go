package main

import (
	"strings"
	"testing"
)

// TestProxyTokenlessServerLineTraced: a server's line with no token at all
// (its first byte does not tokenize: "\x01") has no Event, and the trace
// did not begin a line for it: it kept the previous line's state. After a
// SASL challenge it printed "[SASL data redacted, 0 bytes][redacted] ..."
// without the "[1] S: " prefix; after an untagged line inside the
// AUTHENTICATE exchange, it was not marked redacted. Now every line
// begins fresh, and one inside an AUTHENTICATE exchange is redacted
// whatever its shape (nothing of it is printed; a credential never is).
// Found by review. Default options.
func TestProxyTokenlessServerLineTraced(t *testing.T) {
	const response = "AHVzZXIAc2VjcmV0cHc=" // PLAIN: user, secretpw
	for _, tc := range []struct {
		name    string
		before  string // the server's lines before the tokenless one
		inSASL  bool   // the tokenless line comes inside the exchange
		printed string
	}{
		{"after a challenge", "+ \r\n", true, "[1] S: [redacted] [not tokenized: relayed unchanged]\n"},
		{"after an untagged line in the exchange", "+ \r\n* OK still authenticating\r\n", true, "[1] S: [redacted] [not tokenized: relayed unchanged]\n"},
		{"after the exchange", "", false, "[1] S:  [not tokenized: relayed unchanged]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chunks := []string{"* OK ready\r\n"}
			lines := []string{"a1 AUTHENTICATE PLAIN\r\n", response + "\r\n", "a2 NOOP\r\n"}
			// How many lines the client reads after each of its own.
			var want []int
			if tc.inSASL {
				// The challenge answers the AUTHENTICATE; the
				// tokenless line comes before its completion.
				chunks = append(chunks, tc.before, "\x01\r\n%T OK done\r\n", "%T OK done\r\n")
				want = []int{strings.Count(tc.before, "\n"), 2, 1}
			} else {
				chunks = append(chunks, "+ \r\n", "%T OK done\r\n", "* 1 EXISTS\r\n\x01\r\n%T OK done\r\n")
				want = []int{1, 1, 3}
			}
			got, trace := proxyRunChunks(t, chunks, lines, want)
			if !strings.Contains(strings.Join(got, ""), "\x01\r\n") {
				t.Fatalf("the tokenless line was not relayed: %q\n%s", got, trace)
			}
			for _, l := range strings.SplitAfter(trace, "\n") {
				if l != "" && !strings.HasPrefix(l, "[1] ") {
					t.Errorf("a trace line without its connection's prefix: %q", l)
				}
			}
			if !strings.Contains(trace, tc.printed) {
				t.Errorf("the tokenless line is not printed as %q:\n%s", tc.printed, trace)
			}
			for _, secret := range []string{response, "secretpw"} {
				if strings.Contains(trace, secret) {
					t.Errorf("the trace shows a credential (%q):\n%s", secret, trace)
				}
			}
		})
	}
}
