package main

// The bound on the proxy's writes to the server after STARTTLS: the
// wrapper (upstreamConn) sits below the TLS layer, so a TLS record's
// write is bounded too. Found by the stop 49 review of the proxy (the
// commit message says so).

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestProxyServerNotReadingAfterStartTLSEnds: an upstream that takes
// STARTTLS (a test certificate, the proxy trusting its CA with
// --ca-file), lets the client send an APPEND's literal ("+"), then
// neither reads nor writes, keeping the connection open, while the client
// sends the body over TLS (64 MiB announced, sent until the buffers are
// full). The proxy's TLS writes to the server stall: the connection ends,
// the client reads its end, and the trace says why. Before, only the
// relay in the clear and after COMPRESS were tested
// (TestProxyServerNotReadingEnds); a bound set above the TLS layer, or on
// the connection before STARTTLS only, would leave this write unbounded.
// Default options but for --timeout's speed, 120 times faster
// (clientWriteSpeed: 250 ms; 30 s otherwise), as in the other tests of
// the bound.
func TestProxyServerNotReadingAfterStartTLSEnds(t *testing.T) {
	t.Parallel()
	clientWriteSpeed(t, 120)
	dir := t.TempDir()
	srvCfg, _, err := testserver.TLSConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	up := hostileUpstream(t, func(c *hostile.Conn) error {
		// A small receive buffer: the proxy's writes stall after little.
		if tcp, ok := c.Net().(*net.TCPConn); ok {
			tcp.SetReadBuffer(4 << 10)
		}
		c.Greet("IMAP4rev1 STARTTLS")
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		c.Reply(cmd.Tag, "OK begin TLS")
		if err := c.StartTLS(srvCfg); err != nil {
			return err
		}
		if _, err := c.ReadLine(); err != nil {
			return err
		}
		c.Continue("go ahead")
		return c.Sleep(20 * time.Second) // reads nothing, writes nothing
	})
	certOut := filepath.Join(t.TempDir(), "proxy.pem")
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up, "--ca-file", filepath.Join(dir, "tls", "ca.pem"), "--self-signed", "--cert-out", certOut)
	// dialProxyGreeted's deadline is a bound against a hang, not a timed
	// assertion: the proxy's bound is 250 ms here.
	raw, br := dialProxyGreeted(t, addr)
	io.WriteString(raw, "a0 STARTTLS\r\n")
	if l, err := br.ReadString('\n'); !strings.HasPrefix(l, "a0 OK") {
		t.Fatalf("STARTTLS: %q (%v)", l, err)
	}
	c := proxyTLSClient(t, raw, certOut, out)
	tr := bufio.NewReader(c)
	io.WriteString(c, "a1 APPEND INBOX {67108864}\r\n")
	if l, err := tr.ReadString('\n'); l != "+ go ahead\r\n" {
		t.Fatalf("read %q (%v); want the server's \"+\"\ntrace:\n%s", l, err, out.String())
	}
	// The body, until the proxy stops reading and the buffers are full;
	// the proxy's end (or the test's) ends it.
	sent := sendUntilFails(c)
	rest, err := io.ReadAll(tr)
	if len(rest) > 0 || err != nil && !strings.Contains(err.Error(), "reset") {
		t.Errorf("after the server stopped reading the client read %q (%v); want the connection's end\ntrace:\n%s", rest, err, out.String())
	}
	raw.Close()
	<-sent
	waitFor(t, out, "[1] * connection closed")
	if !strings.Contains(out.String(), "[1] * server side: a write to the server made no progress for 30s (it reads nothing): closing") {
		t.Errorf("the trace does not say why the connection closed:\n%s", out.String())
	}
}
