package main

import (
	"strings"
	"testing"
)

// TestProxyOwnLineLeavesServerCarry: a line of the proxy's own (traceOwn,
// an answer to a refused command, printed from the client's direction)
// between two server lines that each hold a part of an echoed
// credential. The own line went through the server lines' carry
// (secretSet.edges): it replaced the first line's end, so the second
// line's part of the credential showed, and the two directions' goroutines
// wrote the carry at once (a data race under -race, seen in
// TestProxyRefusalLeavesPipelinedUnflushed).
func TestProxyOwnLineLeavesServerCarry(t *testing.T) {
	var ss secretSet
	defer ss.forget()
	ss.add([]byte("hunter2-correct-horse"))
	server := printer{prefix: "[1] S: ", redact: &ss}
	print := func(p *printer, s string, ended bool) string {
		p.begin(false, "")
		p.add([]byte(s))
		p.ended = ended
		return string(p.end())
	}
	out := print(&server, "* OK you sent hunter2-corr", true)
	own := printer{prefix: "[1] P: ", redact: &ss, own: true}
	out += print(&own, "* BAD imapkit proxy: refused", false)
	out += print(&server, "ect-horse as your password", true)
	for _, part := range []string{"hunter2", "corr", "ect-horse"} {
		if strings.Contains(out, part) {
			t.Errorf("the trace shows %q of the credential:\n%s", part, out)
		}
	}
}
