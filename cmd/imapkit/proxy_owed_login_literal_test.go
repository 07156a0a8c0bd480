package main

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestProxyOwedLoginPasswordLiteralOverBoundNotInTrace: a LOGIN whose
// password literal is over maxSecretLiteral, sent as the response owed to
// an unanswered challenge (LikelySASL: printed as SASL data, read by the
// server as a command). docs/cli.md says a password literal of more than
// 16 KiB is not relayed; this one is (secretLiteralRefused looks only at
// printer.secretLit, which a line printed as SASL data never sets), and
// only its first maxRawLine bytes are kept as a credential
// (forwardBody's captureWriter), so a server's echo of the password shows
// its bytes past 16 KiB in the trace. Defaults.
func TestProxyOwedLoginPasswordLiteralOverBoundNotInTrace(t *testing.T) {
	t.Parallel()
	n := maxSecretLiteral + 2000
	pass := saslSecret(n + 8)[:n]
	up := startEchoUpstream(t, func(i int, _ string) string {
		return []string{"+ \r\na1 NO too slow\r\n", "a2 OK done\r\n", "a3 OK done\r\n"}[min(i, 2)]
	})
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
	c, r := dialProxy(t, paddr)
	io.WriteString(c, "a1 AUTHENTICATE GSSAPI\r\n")
	readClientTo(t, r, "a1 NO", out)
	io.WriteString(c, "a2 LOGIN alice {"+strconv.Itoa(n)+"}\r\n")
	var answer string
	for {
		// The server's word on the literal: "+" (the body goes), or a
		// completion (the proxy's refusal: none goes).
		l, err := r.ReadString('\n')
		if err != nil || strings.HasPrefix(l, "a2 ") || strings.HasPrefix(l, "* BAD") {
			answer = l
			break
		}
		if strings.HasPrefix(l, "+") {
			io.WriteString(c, pass+"\r\n")
			break
		}
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, r)
	trace := out.String()
	if p := leakedPiece(trace, pass); p != "" {
		i := strings.Index(trace, p)
		t.Errorf("the trace shows %q (at %d of the %d-byte password): ...%.200s...", p, strings.Index(pass, p), n, trace[max(i-100, 0):])
	}
	// The line is printed as SASL data: its answer echoes no tag.
	if want := "* BAD imapkit proxy: a password literal of more than"; !strings.HasPrefix(answer, want) {
		t.Errorf("the client got %q for the literal, not %q...", answer, want)
	}
	if strings.Contains(up.received(), pass) {
		t.Errorf("a password literal of %d bytes reached the server (docs/cli.md: one over 16 KiB is not relayed)", n)
	}
}
