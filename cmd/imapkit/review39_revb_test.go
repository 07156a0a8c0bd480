package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestReview39WProxyLoginLiteralDuringIdlePrinted: the fix of 5773a93 redacts a
// LOGIN line the client sends while IDLE runs by the command name read
// from the raw line, but when that LOGIN sends its password as a
// non-synchronizing literal (LITERAL+, as the upstream's greeting
// advertises), the IDLE's-answer path forwards the line up to "{n+}",
// ends the literal (RefuseLiteral) and reads the password's bytes as the
// next line, a new "command" that is printed in the clear.
func TestReview39WProxyLoginLiteralDuringIdlePrinted(t *testing.T) {
	up := p39StartUpstream(t, "127.0.0.1:0", func(c net.Conn, br *bufio.Reader) {
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(l, " IDLE") {
				io.WriteString(c, "+ idling\r\n")
				continue
			}
			io.WriteString(c, "a BAD expected DONE\r\n")
		}
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up.ln.Addr().String())
	lc := dialLines(t, addr)
	lc.send("a IDLE\r\n")
	if l := lc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("IDLE: %q", l)
	}
	const secret = "Hunter2pass"
	lc.send("b LOGIN alice {11+}\r\n" + secret + "\r\n")
	time.Sleep(500 * time.Millisecond)
	if tr := out.String(); strings.Contains(tr, secret) {
		t.Errorf("the password is in the proxy's trace:\n%s", tr)
	}
}
