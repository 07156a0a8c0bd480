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
	"syscall"
	"testing"
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

// TestHandshakeTimeout checks that DialTLS and StartTLS give up promptly when
// the server accepts the TCP connection but never answers the ClientHello.
func TestHandshakeTimeout(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)
	srv := startServer(t, silentHandler)

	// What ended the handshake is checked, not how long it took: the
	// caller's context (its error wrapped), not the package's default
	// bound (a *TimeoutError, 30 s later). The silent server never
	// answers: a handshake that heeded neither would hang, which
	// returns's minute detects.
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("handshake with a silent server succeeded")
		}
		hasPrefix(t, err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
		}
		if te := (*transport.TimeoutError)(nil); errors.As(err, &te) {
			t.Errorf("error %v is the default bound's, not the context's", err)
		}
	}

	t.Run("DialTLS", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		var err error
		returns(t, "DialTLS to a silent server", func() {
			_, err = transport.DialTLS(ctx, srv.addr(), p.clientConfig(), nil)
		})
		check(t, err)
	})
	t.Run("StartTLS", func(t *testing.T) {
		conn, err := transport.Dial(context.Background(), srv.addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		returns(t, "StartTLS with a silent server", func() {
			_, err = transport.StartTLS(ctx, conn, "localhost", p.clientConfig())
		})
		check(t, err)
		if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("conn not closed after failed StartTLS: write error %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := transport.DialTLS(ctx, srv.addr(), p.clientConfig(), nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", err)
		}
	})
}
