package transport_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// echoHandler copies everything back to the client.
func echoHandler(c net.Conn) error {
	_, err := io.Copy(c, c)
	c.Close()
	return err
}

// silentHandler accepts and never writes, until the peer or the test
// closes the connection.
func silentHandler(c net.Conn) error {
	io.Copy(io.Discard, c)
	c.Close()
	return nil
}

// tlsGreetHandler completes a TLS handshake with cfg, sends an untagged OK
// and drains input until EOF. Handshake failures are expected in some tests
// and not reported.
func tlsGreetHandler(cfg *tls.Config) func(net.Conn) error {
	return func(c net.Conn) error {
		defer c.Close()
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			return nil
		}
		if _, err := io.WriteString(tc, "* OK tls ready\r\n"); err != nil {
			return err
		}
		io.Copy(io.Discard, tc)
		return nil
	}
}

func hasPrefix(t *testing.T, err error) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), "transport: ") {
		t.Errorf("error %v: want prefix %q", err, "transport: ")
	}
}

func TestDialEcho(t *testing.T) {
	checkGoroutines(t)
	srv := startServer(t, echoHandler)

	conn, err := transport.Dial(context.Background(), srv.addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "a NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "a NOOP\r\n" {
		t.Fatalf("echo = %q, %v", line, err)
	}
}

func TestDialCustomDialer(t *testing.T) {
	checkGoroutines(t)
	srv := startServer(t, echoHandler)
	called := false
	d := &net.Dialer{Timeout: 5 * time.Second}
	d.ControlContext = func(context.Context, string, string, syscall.RawConn) error {
		called = true
		return nil
	}
	conn, err := transport.Dial(context.Background(), srv.addr(), &transport.Options{Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if !called {
		t.Error("Options.Dialer was not used")
	}
}

func TestDialErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := transport.Dial(ctx, "127.0.0.1:1", nil)
	hasPrefix(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v does not wrap context.Canceled", err)
	}

	_, err = transport.Dial(context.Background(), "[::1", nil)
	hasPrefix(t, err)

	// Nothing listens on a port we just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = transport.Dial(context.Background(), addr, nil)
	hasPrefix(t, err)
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("refused: %v does not wrap *net.OpError", err)
	}
}

func TestDialTLS(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)
	srv := startServer(t, tlsGreetHandler(p.serverConfig()))
	_, port, _ := net.SplitHostPort(srv.addr())

	for _, addr := range []string{srv.addr(), "localhost:" + port} {
		cfg := p.clientConfig()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := transport.DialTLS(ctx, addr, cfg, nil)
		cancel()
		if err != nil {
			t.Fatalf("DialTLS(%s): %v", addr, err)
		}
		st := conn.ConnectionState()
		// SNI (and so ConnectionState.ServerName) is not used for IP
		// addresses; the certificate is still checked against the IP.
		host, _, _ := net.SplitHostPort(addr)
		if net.ParseIP(host) != nil {
			host = ""
		}
		if st.ServerName != host || st.Version < tls.VersionTLS12 || !st.HandshakeComplete {
			t.Errorf("DialTLS(%s): ServerName %q, version %#x", addr, st.ServerName, st.Version)
		}
		if cfg.ServerName != "" || cfg.MinVersion != 0 {
			t.Errorf("DialTLS modified the caller's config: ServerName %q MinVersion %#x", cfg.ServerName, cfg.MinVersion)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || line != "* OK tls ready\r\n" {
			t.Errorf("greeting = %q, %v", line, err)
		}
		conn.Close()
	}
}

func TestDialTLSVerification(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)
	srv := startServer(t, tlsGreetHandler(p.serverConfig()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("untrusted", func(t *testing.T) {
		// nil config: system roots, which do not include the test CA.
		conn, err := transport.DialTLS(ctx, srv.addr(), nil, nil)
		if err == nil {
			conn.Close()
			t.Fatal("untrusted certificate accepted")
		}
		hasPrefix(t, err)
		var verr *tls.CertificateVerificationError
		var uerr x509.UnknownAuthorityError
		if !errors.As(err, &verr) || !errors.As(err, &uerr) {
			t.Errorf("error %v (%T) does not wrap a certificate verification error", err, err)
		}
	})
	t.Run("wrong server name", func(t *testing.T) {
		cfg := p.clientConfig()
		cfg.ServerName = "wrong.example"
		conn, err := transport.DialTLS(ctx, srv.addr(), cfg, nil)
		if err == nil {
			conn.Close()
			t.Fatal("certificate for the wrong name accepted")
		}
		hasPrefix(t, err)
		var verr *tls.CertificateVerificationError
		var herr x509.HostnameError
		if !errors.As(err, &verr) || !errors.As(err, &herr) {
			t.Errorf("error %v does not wrap a host name error", err)
		}
	})
}

func TestDialTLSMinVersion(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)
	old := p.serverConfig()
	old.MinVersion = tls.VersionTLS10
	old.MaxVersion = tls.VersionTLS11
	srv := startServer(t, tlsGreetHandler(old))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	conn, err := transport.DialTLS(ctx, srv.addr(), p.clientConfig(), nil)
	if err == nil {
		v := conn.ConnectionState().Version
		conn.Close()
		t.Fatalf("handshake with a TLS 1.1 server succeeded (version %#x)", v)
	}
	hasPrefix(t, err)
	t.Logf("TLS 1.1 server rejected as expected: %v", err)

	// The floor is a default only: a caller may lower it explicitly.
	cfg := p.clientConfig()
	cfg.MinVersion = tls.VersionTLS10
	conn, err = transport.DialTLS(ctx, srv.addr(), cfg, nil)
	if err != nil {
		t.Fatalf("an explicit MinVersion TLS 1.0 must reach the TLS 1.1 server: %v", err)
	}
	if v := conn.ConnectionState().Version; v != tls.VersionTLS11 {
		t.Errorf("negotiated %#x, want TLS 1.1", v)
	}
	conn.Close()
}

// TestHandshakeTimeout: DialTLS and StartTLS give up when the caller's
// context ends while the server, which accepted the TCP connection, never
// answers the ClientHello: its deadline (the error wraps
// context.DeadlineExceeded, not the package's default bound's
// *TimeoutError, 30 s later) or its cancellation.
//
// StartTLS runs on a synctest bubble's clock over a Pipe whose other end
// is silent: a handshake that heeded no context would block the bubble
// for good, which synctest reports as a deadlock. DialTLS's handshake
// reads a real TCP socket, which no bubble's clock can wait on: its
// context ends, by no clock, once the silent server has read the start of
// the ClientHello (expiringContext; cancel for cancellation), so the
// handshake is known to be waiting then; one that heeded no context would
// hang, which returns's minute detects.
func TestHandshakeTimeout(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)

	t.Run("DialTLS", func(t *testing.T) {
		ctx := newExpiringContext()
		srv := startServer(t, helloThen(ctx.expire))
		var err error
		returns(t, "DialTLS to a silent server", func() {
			_, err = transport.DialTLS(ctx, srv.addr(), p.clientConfig(), nil)
		})
		checkContextEnded(t, err, context.DeadlineExceeded)
	})
	t.Run("StartTLS", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			conn, server := transport.Pipe()
			defer server.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_, err := transport.StartTLS(ctx, conn, "localhost", p.clientConfig())
			checkContextEnded(t, err, context.DeadlineExceeded)
			if d := time.Since(start); d != time.Second {
				t.Errorf("StartTLS ended after %v on the bubble's clock; want its context's %v", d, time.Second)
			}
			if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("conn not closed after failed StartTLS: write error %v", err)
			}
		})
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv := startServer(t, helloThen(cancel))
		var err error
		returns(t, "DialTLS to a silent server, canceled", func() {
			_, err = transport.DialTLS(ctx, srv.addr(), p.clientConfig(), nil)
		})
		checkContextEnded(t, err, context.Canceled)
	})
}

// checkContextEnded checks that err, an operation's, says the caller's
// context ended it with want (context.DeadlineExceeded or
// context.Canceled), not the package's default bound.
func checkContextEnded(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatal("succeeded against a server that never answers")
	}
	hasPrefix(t, err)
	if !errors.Is(err, want) {
		t.Errorf("error %v does not wrap %v", err, want)
	}
	if te := (*transport.TimeoutError)(nil); errors.As(err, &te) {
		t.Errorf("error %v is the default bound's, not the context's", err)
	}
}

// helloThen returns a server handler that reads the first bytes the
// client sends (the start of its ClientHello), calls end, and then reads
// until the connection closes, never writing.
func helloThen(end func()) func(net.Conn) error {
	return func(c net.Conn) error {
		defer c.Close()
		if _, err := c.Read(make([]byte, 1)); err != nil {
			return nil
		}
		end()
		io.Copy(io.Discard, c)
		return nil
	}
}

// expiringContext is a context with a deadline (an hour ahead, so that
// the package's default bound does not apply) that passes when expire is
// called rather than by the clock: a real socket's operation can be made
// to see its deadline pass at a known point, with no wall-clock wait.
type expiringContext struct {
	context.Context
	deadline time.Time
	done     chan struct{}
	once     sync.Once
}

func newExpiringContext() *expiringContext {
	return &expiringContext{Context: context.Background(), deadline: time.Now().Add(time.Hour), done: make(chan struct{})}
}

func (c *expiringContext) expire()                     { c.once.Do(func() { close(c.done) }) }
func (c *expiringContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *expiringContext) Done() <-chan struct{}       { return c.done }

func (c *expiringContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// hangingConnect returns Options whose Dialer's connect hangs until its
// context ends: the Control hook, called before connect(2), waits on
// channels only, so that a synctest bubble's clock can run past it.
func hangingConnect() *transport.Options {
	return &transport.Options{Dialer: &net.Dialer{ControlContext: func(ctx context.Context, _, _ string, _ syscall.RawConn) error {
		<-ctx.Done()
		return ctx.Err()
	}}}
}

// TestDialTimeout: a TCP connect that hangs ends when the caller's
// context does: its deadline (the error wraps context.DeadlineExceeded,
// not the package's default bound's *TimeoutError, 30 s later), exactly
// at it on a synctest bubble's clock, or its cancellation. The connect
// hangs in the Dialer's Control hook (hangingConnect); a Dial that heeded
// no context would block the bubble for good, which synctest reports as
// a deadlock. (It was a real connect to a full accept queue, Linux only,
// on the wall clock.)
func TestDialTimeout(t *testing.T) {
	checkGoroutines(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		conn, err := transport.Dial(ctx, "127.0.0.1:143", hangingConnect())
		if err == nil {
			conn.Close()
		}
		checkContextEnded(t, err, context.DeadlineExceeded)
		if d := time.Since(start); d != time.Second {
			t.Errorf("Dial ended after %v on the bubble's clock; want its context's %v", d, time.Second)
		}

		// Cancellation works the same way.
		ctx2, cancel2 := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel2)
		_, err = transport.Dial(ctx2, "127.0.0.1:143", hangingConnect())
		checkContextEnded(t, err, context.Canceled)
	})
}
