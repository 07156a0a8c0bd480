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
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 COMPRESS=DEFLATE")
		if _, err := c.ReadLine(); err != nil {
			return err
		}
		c.WriteString("a1 OK DEFLATE active\r\n")
		return after(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

// compressClient dials the proxy, sends COMPRESS and reads its OK.
func compressClient(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second)) // against a hang
	br := bufio.NewReader(c)
	if l, err := br.ReadString('\n'); !strings.HasPrefix(l, "* OK") {
		t.Fatalf("greeting %q (%v)", l, err)
	}
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
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, br)
	waitFor(t, out, "[1] * connection closed")
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
