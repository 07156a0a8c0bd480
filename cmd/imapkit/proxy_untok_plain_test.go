package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestProxyUntokenizedNotRelayedInPlaintext: docs/proxy.md says the proxy
// relays a line that does not tokenize only when the upstream connection
// is secure. To a plaintext upstream off loopback it refused only a line
// with no token before the error: "D1 NOOP \x01 {n+}" went upstream by
// ForwardLine, which took "{n+}" for a literal header and relayed the next
// n bytes, a LOGIN, as its body; the server reads the line to its CRLF
// and the LOGIN as a command: credentials in plaintext, and the trace
// showed no LOGIN.
func TestProxyUntokenizedNotRelayedInPlaintext(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	for name, head := range map[string]string{
		"at the start":    "D1 NOOP \x01",
		"after a literal": "D1 APPEND Trash {1+}\r\nx \x01",
	} {
		t.Run(name, func(t *testing.T) { untokenizedPlaintext(t, srv, head) })
	}
}

// untokenizedPlaintext sends head, " {n+}", a LOGIN as its body, then
// NOOP and LOGOUT: the LOGIN must not reach the upstream.
func untokenizedPlaintext(t *testing.T, srv *testserver.Server, head string) {
	ip := nonLoopbackIP(t)
	tp := newTapOn(t, net.JoinHostPort(ip, "0"), srv.PlainAddr)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String())
	lc := dialLines(t, addr)
	login := fmt.Sprintf("D2 LOGIN %s %s\r\n", testserver.Alice, testserver.Password)
	// The CRLF after the body ends D1's line as ForwardLine reads it.
	lc.send(fmt.Sprintf("%s {%d+}\r\n%s\r\n", head, len(login), login))
	// The proxy may answer D1, or close the connection.
	lc.send("D3 NOOP\r\nD4 LOGOUT\r\n")
	var answers []string
	lc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		l, err := lc.br.ReadString('\n')
		if err != nil {
			break
		}
		answers = append(answers, l)
	}
	d1, d3 := answers, ""
	waitFor(t, out, "* connection closed")
	tp.ln.Close()
	tp.wg.Wait()
	if up := tp.toServer.String(); strings.Contains(up, "LOGIN") || strings.Contains(up, testserver.Password) {
		t.Errorf("a LOGIN reached the plaintext upstream (D1: %q, D3: %q):\n%q\nthe server answered:\n%s", d1, d3, up, tp.back.String())
	}
}
