package main

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestProxyCommandNamedLikeStatusFramedAsServer: the client's direction
// reads a client's commands, not a server's lines. A command named OK
// ("a1 OK {n+}", "a[1 OK {n+}") or a line that begins with "+" has its
// "{n+}" read as a literal, as a server that reads arguments before the
// command's name reads it (the echo upstream here), and its body, a
// LOGIN or a STARTTLS (which the proxy refuses without a certificate),
// is that literal's data: the proxy never answers it as a command of its
// own ("a2 ..."), and whatever reaches the server reaches it as the
// literal. Read as a server's status line or continuation request, the
// "{n+}" was text, and the body a command to the proxy, with its own
// answer and policy, while the server reads it as literal data: the two
// out of step from there. Defaults.
func TestProxyCommandNamedLikeStatusFramedAsServer(t *testing.T) {
	t.Parallel()
	for _, head := range []string{"a1 OK", "a[1 OK", "a1 bye", "+"} {
		for _, body := range []string{"a2 LOGIN alice s3cret-pass", "a2 STARTTLS"} {
			// Not parallel: see TestProxyPasswordLiteralEchoedRedacted.
			t.Run(head+"/"+body, func(t *testing.T) {
				checkCommandHeadFramed(t, head, body)
			})
		}
	}
}

// checkCommandHeadFramed sends head's line with body as its
// non-synchronizing literal, then "a3 NOOP", and checks that the proxy
// framed them as the server does.
func checkCommandHeadFramed(t *testing.T, head, body string) {
	tag := strings.Fields(head)[0] // the proxy answers "+" itself: no tag
	up := startEchoUpstream(t, func(i int, line string) string {
		if strings.HasPrefix(line, "a3 ") {
			return "a3 OK done\r\n"
		}
		return tag + " BAD unknown command\r\n"
	})
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
	c, r := dialProxy(t, paddr)
	io.WriteString(c, head+" {"+strconv.Itoa(len(body))+"+}\r\n"+body+"\r\na3 NOOP\r\n")
	got := readClientTo(t, r, "a3 ", out)
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, r)
	for _, l := range strings.Split(got, "\r\n") {
		if strings.HasPrefix(l, "a2 ") {
			t.Errorf("the proxy answered the literal's body %q as a command: %q\ntrace:\n%s", body, l, shortLines(out.String()))
		}
	}
	if rcv := up.received(); strings.Contains(rcv, body+"\r\n") && !strings.Contains(rcv, "{"+strconv.Itoa(len(body))+"}\r\n"+body) {
		t.Errorf("the server got the body %q as a line of its own: %q", body, rcv)
	}
}
