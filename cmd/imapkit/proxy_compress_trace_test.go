package main

// The proxy's trace after COMPRESS, where both directions relay the
// bytes undecoded: why a connection ended (the silence bound, the
// server's reset, a write to the server that failed) is said as before
// COMPRESS. Found by the stop 50 review of the proxy (the commit
// messages say so).

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// compressUpstream starts a hostile upstream that accepts COMPRESS
// (answering it in the clear, then reading raw bytes), and runs after(c).
func compressUpstream(t *testing.T, after func(c *hostile.Conn) error) string {
	t.Helper()
	return hostileUpstream(t, func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 COMPRESS=DEFLATE")
		if _, err := c.ReadLine(); err != nil {
			return err
		}
		c.WriteString("a1 OK DEFLATE active\r\n")
		return after(c)
	})
}

// compressClient dials the proxy, sends COMPRESS and reads its OK.
func compressClient(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, br := dialProxyGreeted(t, addr)
	io.WriteString(c, "a1 COMPRESS DEFLATE\r\n")
	if l, err := br.ReadString('\n'); l != "a1 OK DEFLATE active\r\n" {
		t.Fatalf("COMPRESS: %q (%v)", l, err)
	}
	return c, br
}

// TestProxyCompressServerSilenceTraced: after COMPRESS, the client
// half-closes and the server stays silent (keeps the connection open).
// The proxy ends the connection at --timeout (rawUpstreamReader returns
// errServerSilent), and the trace must say why, as docs/limits.md
// promises: "* server side: the client ended its side, and the server
// sent nothing for 30s (--timeout): closing". Before, serverToClient's
// io.Copy dropped the error: only "* connection closed". Default
// options, but --timeout sped up 120 times (250 ms) to keep the test
// cheap.
func TestProxyCompressServerSilenceTraced(t *testing.T) {
	t.Parallel()
	clientWriteSpeed(t, 120)
	up := compressUpstream(t, func(c *hostile.Conn) error { return c.Sleep(20 * time.Second) }) // ignores the half-close
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	c, br := compressClient(t, addr)
	waitFor(t, out, "COMPRESS=DEFLATE active")
	drainClosed(t, c, br, out)
	if tr := out.String(); !strings.Contains(tr, "[1] * server side: the client ended its side, and the server sent nothing for 30s (--timeout): closing") {
		t.Errorf("after COMPRESS, a server silent past --timeout after the client's end is closed without a word of why:\n%s", tr)
	}
}

// TestProxyCompressClientStallTracedClientSide: after COMPRESS, the server
// sends more than the buffers on the way hold, and the client reads
// nothing: the proxy's write to the client stalls at --timeout, which
// the trace must print as the client's stall only, not as the server's
// side ("* server side: write tcp ...: i/o timeout"): the relay's
// io.Copy returns the write's error and the read's alike, and the
// write's is the client's (clientErrWriter). Default options, but
// --timeout sped up 120 times (250 ms) to keep the test cheap.
func TestProxyCompressClientStallTracedClientSide(t *testing.T) {
	t.Parallel()
	clientWriteSpeed(t, 120)
	up := compressUpstream(t, func(c *hostile.Conn) error {
		chunk := []byte(strings.Repeat("z", 32<<10))
		for i := 0; i < 1024; i++ { // 32 MB at most: a bound against a hang
			if err := c.Write(chunk); err != nil {
				return err
			}
		}
		return c.Sleep(20 * time.Second)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	compressClient(t, addr) // and reads nothing more
	waitFor(t, out, "[1] * connection closed")
	tr := out.String()
	if !strings.Contains(tr, "[1] * client side: a write to the client made no progress") || strings.Contains(tr, "[1] * server side") {
		t.Errorf("after COMPRESS, a client that reads nothing is traced as:\n%s\nwant its stall, and not the server's side", tr)
	}
}

// TestProxyCompressServerResetTraced: after COMPRESS, the server resets
// the connection while the client still sends: the proxy's write to the
// server fails, which the trace must print as the server's side ("* server
// side: a write to the server failed: ..."), as before COMPRESS. Before,
// the client's direction relayed with io.Copy and dropped its error (a
// *serverWriteError): the reset was traced nowhere. So that only the
// client's direction sees the reset first, the server's direction is held
// in a write to the client: the server sends more than the buffers on
// the way hold, which the test's client does not read yet, until its
// writes no longer make progress; then it reads a little of the client's
// stream and resets. Default options.
func TestProxyCompressServerResetTraced(t *testing.T) {
	t.Parallel()
	up := compressUpstream(t, func(c *hostile.Conn) error {
		tcp, err := tcpOf(c)
		if err != nil {
			return err
		}
		tcp.SetReadBuffer(4 << 10) // the proxy's writes stop after little
		if err := fillTowardsClient(c, tcp); err != nil {
			return err
		}
		if _, err := c.ReadLiteral(16 << 10); err != nil {
			return err
		}
		return resetConn(c, tcp)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	c, br := compressClient(t, addr)
	waitFor(t, out, "COMPRESS=DEFLATE active")
	// The client sends until the proxy stops reading (and the write
	// deadline of stopSendingAndDrain ends it); it reads nothing meanwhile.
	sent := sendUntilFails(c)
	pollUntil(func() bool { return strings.Contains(out.String(), "[1] * server side") })
	// The client stops sending and reads the rest.
	stopSendingAndDrain(t, c, br, sent, out)
	tr := out.String()
	if !strings.Contains(tr, "[1] * server side: a write to the server failed: ") || strings.Contains(tr, "[1] * client side") {
		t.Errorf("after COMPRESS, the server's reset while the client sends is traced as:\n%s\nwant the failed write to the server, as the server's side", tr)
	}
}
