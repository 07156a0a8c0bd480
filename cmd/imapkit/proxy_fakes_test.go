package main

// Shared set-ups of the proxy's tests against a hostile upstream: the
// fake servers (hostile's, and the scripted recorder), a client of the
// proxy (in the clear, and over TLS after STARTTLS), and the floods that
// fill the buffers on the way so that one direction of the relay is held.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
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

// recordingUpstream is a scripted upstream of one connection on loopback
// TCP that records every byte it reads (received): startLiteralRefuser's,
// startEchoUpstream's, owedLiteral's and the tests' own scripts.
type recordingUpstream struct {
	addr   string
	served chan struct{} // closed once serve has returned (or no connection came)
	mu     sync.Mutex
	got    strings.Builder
}

// wait waits until serve has returned: all the upstream read is recorded.
func (u *recordingUpstream) wait() { <-u.served }

// received is what the upstream has read so far.
func (u *recordingUpstream) received() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.got.String()
}

// Write records p (the upstream's reads go through it).
func (u *recordingUpstream) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.got.Write(p)
}

// startRecordingUpstream starts a recordingUpstream: it accepts one
// connection, sends "* OK ready", and runs serve with the connection and
// a reader of it that records what it reads (bytes read ahead into its
// buffer too); the connection closes when serve returns. A deadline of
// 30 s on the connection is a bound against a hang only. The upstream
// ends with the test, which waits for serve.
func startRecordingUpstream(t *testing.T, serve func(c net.Conn, r *bufio.Reader)) *recordingUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &recordingUpstream{addr: ln.Addr().String(), served: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); u.wait() })
	go func() {
		defer close(u.served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()                                 // before served is closed
		c.SetDeadline(time.Now().Add(30 * time.Second)) // against a hang only
		if _, err := io.WriteString(c, "* OK ready\r\n"); err != nil {
			return
		}
		serve(c, bufio.NewReader(io.TeeReader(c, u)))
	}()
	return u
}

// proxyTLSClient does the client's TLS handshake over raw, after the
// proxy accepted its STARTTLS, trusting the proxy's certificate written
// to certOut (--self-signed --cert-out). out is the trace, shown when the
// handshake fails.
func proxyTLSClient(t *testing.T, raw net.Conn, certOut string, out *syncBuffer) *tls.Conn {
	t.Helper()
	pool := x509.NewCertPool()
	pemBytes, err := os.ReadFile(certOut)
	if err != nil || !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("the proxy's certificate: %v", err)
	}
	c := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	if err := c.Handshake(); err != nil {
		t.Fatalf("the client's handshake: %v\ntrace:\n%s", err, out.String())
	}
	return c
}

// halfConn is one end of halfPipe's in-memory connection: it reads r and
// writes w, two net.Pipe ends, so that unlike net.Pipe's it half-closes
// (CloseWrite: the other end reads its end and may still write). Its
// deadlines are net.Pipe's: in a synctest bubble they run on the
// bubble's clock.
type halfConn struct{ r, w net.Conn }

// halfPipe returns the two ends of an in-memory connection that
// half-closes (halfConn).
func halfPipe() (a, b *halfConn) {
	aw, br := net.Pipe() // a to b
	bw, ar := net.Pipe() // b to a
	return &halfConn{r: ar, w: aw}, &halfConn{r: br, w: bw}
}

func (c *halfConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *halfConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *halfConn) CloseWrite() error           { return c.w.Close() }
func (c *halfConn) Close() error {
	c.w.Close()
	return c.r.Close()
}
func (c *halfConn) LocalAddr() net.Addr                { return c.r.LocalAddr() }
func (c *halfConn) RemoteAddr() net.Addr               { return c.r.RemoteAddr() }
func (c *halfConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *halfConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }
func (c *halfConn) SetDeadline(t time.Time) error {
	c.r.SetReadDeadline(t)
	return c.w.SetWriteDeadline(t)
}

// pipeProxySession relays one client's connection, in memory (halfPipe),
// to an upstream that runs serve on its end of another (closed when serve
// returns), with the proxy's defaults (--timeout as newProxyFlags sets
// it) and no certificate, unless opts change the configuration; for a test in a synctest bubble, in which it
// must be called. It returns the client's end (closed at the test's
// end), the trace, and a channel closed once the session has ended. At
// the test's end the proxy's shutdown ends the session, if it has not
// ended, and it is waited for.
func pipeProxySession(t *testing.T, serve func(c net.Conn), opts ...func(*proxyConfig)) (client net.Conn, trace *syncBuffer, done <-chan struct{}) {
	t.Helper()
	_, f := newProxyFlags(io.Discard)
	up, err := parseURL("imap://upstream.test:143")
	if err != nil {
		t.Fatal(err)
	}
	trace = &syncBuffer{}
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		proxyEnd, serverEnd := halfPipe()
		go func() {
			defer serverEnd.Close()
			serve(serverEnd)
		}()
		return proxyEnd, nil
	}
	cfg := &proxyConfig{upstream: up, out: trace, dialTimeout: f.timeout, maxConns: f.maxConns, hooks: &proxyHooks{dial: dial}}
	for _, o := range opts {
		o(cfg)
	}
	clientEnd, proxyEnd := halfPipe()
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	t.Cleanup(func() {
		clientEnd.Close()
		cancel()
		<-ended
	})
	go func() {
		defer close(ended)
		ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: trace}}
		ps.serve(ctx, proxyEnd)
	}()
	return clientEnd, trace, ended
}
