package main

// Shared set-ups of the proxy's tests against a hostile upstream: the
// fake server, a client of the proxy, and the floods that fill the
// buffers on the way so that one direction of the relay is held.

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// hostileUpstream starts a hostile server that runs serve for each
// connection; the server ends with the test. It returns its address.
func hostileUpstream(t *testing.T, serve func(c *hostile.Conn) error) string {
	t.Helper()
	srv, err := hostile.Listen(serve)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

// dialProxyRaw connects to the proxy at addr, closed at the test's end,
// with a deadline of 10 s on the connection (a bound against a hang, not
// a timed assertion); it reads nothing.
func dialProxyRaw(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// dialProxyGreeted is dialProxyRaw, then reads the greeting ("* OK").
func dialProxyGreeted(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, br := dialProxyRaw(t, addr)
	if l, err := br.ReadString('\n'); !strings.HasPrefix(l, "* OK") {
		t.Fatalf("greeting %q (%v)", l, err)
	}
	return c, br
}

// tcpOf is the fake server's connection as TCP (to set its buffers,
// deadlines and linger).
func tcpOf(c *hostile.Conn) (*net.TCPConn, error) {
	tcp, _ := c.Net().(*net.TCPConn)
	if tcp == nil {
		return nil, errors.New("not TCP")
	}
	return tcp, nil
}

// fillTowardsClient has the fake server write chunks until a write makes
// no progress for 300 ms: every buffer on the way to the client (which
// reads nothing) is full, and the proxy's server direction is held in a
// write to the client. 128 MB at most: a bound against a hang.
func fillTowardsClient(c *hostile.Conn, tcp *net.TCPConn) error {
	chunk := []byte(strings.Repeat("z", 32<<10))
	for i := 0; i < 4096; i++ {
		tcp.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		if err := c.Write(chunk); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			return err
		}
	}
	return nil
}

// resetConn closes the fake server's connection with a reset (SO_LINGER 0).
func resetConn(c *hostile.Conn, tcp *net.TCPConn) error {
	tcp.SetLinger(0)
	return c.Close()
}

// sendUntilFails writes chunks to c in a goroutine until a write fails
// (the proxy's end, the test's close or a write deadline ends it); the
// channel closes when it has returned.
func sendUntilFails(c net.Conn) <-chan struct{} {
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		chunk := []byte(strings.Repeat("x", 64<<10))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	return sent
}

// pollUntil checks cond every 10 ms, for proxyHang at most: a bound
// against a hang, not a timed assertion (the caller asserts afterwards).
func pollUntil(cond func() bool) {
	for end := time.Now().Add(proxyHang); !cond() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
}

// stopSendingAndDrain ends the client's flood (sent, from sendUntilFails),
// half-closes, reads the rest and waits for the proxy's trace of the
// connection's end: the server's direction goes on, and the connection
// ends.
func stopSendingAndDrain(t *testing.T, c net.Conn, br *bufio.Reader, sent <-chan struct{}, out *syncBuffer) {
	t.Helper()
	c.SetWriteDeadline(time.Now())
	<-sent
	drainClosed(t, c, br, out)
}

// drainClosed half-closes the client's side, reads the rest and waits for
// the proxy's "[1] * connection closed".
func drainClosed(t *testing.T, c net.Conn, br *bufio.Reader, out *syncBuffer) {
	t.Helper()
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, br)
	waitFor(t, out, "[1] * connection closed")
}
