package main

// The proxy's trace of a write to the server that fails other than by
// the stall bound: whose side it names. Found by the stop 49 review of
// the proxy (the commit message says so).

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestProxyServerResetDuringLiteralTracedServerSide: a server that lets
// the client send an APPEND's literal ("+"), reads a little of it, and
// then resets the connection (SO_LINGER 0 and close) while the client
// still sends the body. The proxy's write to the server fails with the
// reset; the trace must name the server's side. Before, that error came
// out of the client's direction (which reads the client and writes the
// server) and was printed as "* client side: write tcp ...: connection
// reset by peer". So that only the client's direction sees the reset
// first, the server's direction is held in a write to the client: the
// server sends a big literal of a FETCH after the "+", which the test's
// client does not read, until the server's writes no longer make progress
// (all the buffers full); only then does it reset. Default options.
func TestProxyServerResetDuringLiteralTracedServerSide(t *testing.T) {
	t.Parallel()
	up := hostileUpstream(t, func(c *hostile.Conn) error {
		tcp, err := tcpOf(c)
		if err != nil {
			return err
		}
		// A small receive buffer: the proxy's writes stop after little.
		tcp.SetReadBuffer(4 << 10)
		c.Greet("IMAP4rev1")
		if _, err := c.ReadLine(); err != nil {
			return err
		}
		c.Continue("go ahead")
		if _, err := c.ReadLiteral(16 << 10); err != nil {
			return err
		}
		// The proxy's server direction is held writing to the client.
		// (A bound against a hang as well: the body is announced at 1 GB.)
		if err := c.WriteString("* 1 FETCH (BODY[] {1000000000}\r\n"); err != nil {
			return err
		}
		if err := fillTowardsClient(c, tcp); err != nil {
			return err
		}
		return resetConn(c, tcp)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	c, br := dialProxyGreeted(t, addr)
	io.WriteString(c, "a1 APPEND INBOX {67108864}\r\n")
	if l, err := br.ReadString('\n'); l != "+ go ahead\r\n" {
		t.Fatalf("read %q (%v); want the server's \"+\"", l, err)
	}
	// The body, until the proxy stops reading (and the write deadline of
	// stopSendingAndDrain ends it); the client reads nothing meanwhile.
	sent := sendUntilFails(c)
	pollUntil(func() bool {
		s := out.String()
		return strings.Contains(s, "[1] * server side") || strings.Contains(s, "[1] * client side")
	})
	// The client stops sending and reads the rest.
	stopSendingAndDrain(t, c, br, sent, out)
	trace := out.String()
	if strings.Contains(trace, "[1] * client side") || !strings.Contains(trace, "[1] * server side") {
		t.Errorf("the server's reset during the client's literal is traced as:\n%s\nwant the server's side named, not the client's", trace)
	}
}

// TestProxyServerResetBeforeFlushTraced: the server resets the connection,
// and then the client sends a command: the proxy's flush of it to the
// server fails with the reset, which the trace must print as the server's
// side ("* server side: a write to the server failed: ..."). Before,
// clientToServer's flushes returned silently: only "* connection closed"
// (the reset's read in the server's direction then returns EOF). So that
// only the client's direction sees the reset, the server's direction is
// held in a write to the client first: the server sends a big literal of
// a FETCH, which the test's client does not read, until the server's
// writes no longer make progress; only then does it reset. (Found by the
// stop 50 review.) Default options.
func TestProxyServerResetBeforeFlushTraced(t *testing.T) {
	t.Parallel()
	reset := make(chan struct{})
	up := hostileUpstream(t, func(c *hostile.Conn) error {
		tcp, err := tcpOf(c)
		if err != nil {
			return err
		}
		c.Greet("IMAP4rev1")
		// The body is announced at 1 GB: a bound against a hang.
		if err := c.WriteString("* 1 FETCH (BODY[] {1000000000}\r\n"); err != nil {
			return err
		}
		if err := fillTowardsClient(c, tcp); err != nil {
			return err
		}
		defer close(reset)
		return resetConn(c, tcp)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	c, br := dialProxyGreeted(t, addr)
	select {
	case <-reset:
	case <-time.After(10 * time.Second): // against a hang
		t.Fatal("the server did not reset")
	}
	io.WriteString(c, "a1 NOOP\r\n")
	waitFor(t, out, "[1] C: a1 NOOP")
	// The client reads the rest and ends: the server's direction goes
	// on, and the connection ends.
	drainClosed(t, c, br, out)
	tr := out.String()
	if !strings.Contains(tr, "[1] * server side: a write to the server failed: ") || strings.Contains(tr, "[1] * client side") {
		t.Errorf("a server's reset found by the flush of a command is traced as:\n%s\nwant the failed write to the server, as the server's side", tr)
	}
}
