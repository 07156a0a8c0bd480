package transport_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
)

const injected = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"

// starttlsHandler plays a malicious-in-the-middle IMAP server: it answers
// STARTTLS with "a OK" followed by an injected plaintext response, then
// completes the TLS handshake and sends "* OK real" over TLS. If late is
// nil, the OK and the injected line go in one write. Otherwise the
// injected line is written in a separate write once late is closed, which
// the test does after its client has consumed the OK, so that the line
// reaches the client after the OK whatever the machine's load (a fixed
// pause before the write raced a slow client, which then read both at
// once).
func starttlsHandler(cfg *tls.Config, late <-chan struct{}) func(net.Conn) error {
	return func(c net.Conn) error {
		defer c.Close()
		if _, err := io.WriteString(c, "* OK IMAP4rev1 test server ready\r\n"); err != nil {
			return err
		}
		line, err := readLine(c)
		if err != nil {
			return err
		}
		if line != "a STARTTLS\r\n" {
			return fmt.Errorf("server got %q, want STARTTLS", line)
		}
		if late == nil {
			// OK and injection in ONE write: they arrive together.
			if _, err := io.WriteString(c, "a OK Begin TLS\r\n"+injected); err != nil {
				return err
			}
		} else {
			if _, err := io.WriteString(c, "a OK Begin TLS\r\n"); err != nil {
				return err
			}
			<-late // the test closes it when it returns, at the latest
			if _, err := io.WriteString(c, injected); err != nil {
				return nil // the client may already have given up
			}
		}
		tc := tls.Server(c, cfg)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			if late != nil {
				return nil // expected: the client rejected the plaintext
			}
			return fmt.Errorf("server handshake: %w", err)
		}
		if _, err := io.WriteString(tc, "* OK real\r\n"); err != nil {
			return err
		}
		io.Copy(io.Discard, tc)
		return nil
	}
}

// startSession dials srv, reads the greeting, sends STARTTLS and reads the
// tagged OK through a bufio.Reader, like a real client. It returns the raw
// connection and the reader (whose buffer the caller must discard).
func startSession(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := transport.Dial(context.Background(), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	greeting, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(greeting, "* OK ") {
		t.Fatalf("greeting %q, %v", greeting, err)
	}
	if _, err := io.WriteString(conn, "a STARTTLS\r\n"); err != nil {
		t.Fatal(err)
	}
	ok, err := br.ReadString('\n')
	if err != nil || ok != "a OK Begin TLS\r\n" {
		t.Fatalf("STARTTLS response %q, %v", ok, err)
	}
	conn.SetDeadline(time.Time{})
	return conn, br
}

// TestStartTLSInjection reproduces curl CVE-2021-22947: the plaintext
// response injected right after the OK is buffered by the client's reader.
// After the reader is discarded and StartTLS is called on the raw
// connection, only what the server sent over TLS must be seen.
func TestStartTLSInjection(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)
	srv := startServer(t, starttlsHandler(p.serverConfig(), nil))

	conn, br := startSession(t, srv.addr())
	// Normally the reader already holds the injected line, read together
	// with the OK; Peek makes sure of it even if TCP split the write.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	peek, err := br.Peek(len(injected))
	if err != nil || string(peek) != injected {
		t.Fatalf("test setup: buffered %q, %v", peek, err)
	}
	conn.SetReadDeadline(time.Time{})
	br = nil // discard everything read before the upgrade

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tc, err := transport.StartTLS(ctx, conn, "localhost", p.clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if line != "* OK real\r\n" {
		t.Fatalf("first line over TLS = %q, want %q", line, "* OK real\r\n")
	}
	tc.Close()
	srv.close()
	for _, err := range srv.errors() {
		t.Error(err)
	}
}

// TestStartTLSLateInjection sends the injected plaintext after the client
// has consumed the OK, so it is still in flight on the socket when StartTLS
// starts. StartTLS must fail instead of accepting it.
func TestStartTLSLateInjection(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)
	late := make(chan struct{})
	release := sync.OnceFunc(func() { close(late) })
	defer release() // before the server's cleanup waits for its handler
	srv := startServer(t, starttlsHandler(p.serverConfig(), late))

	conn, br := startSession(t, srv.addr())
	release() // the OK is read: now the server sends the injected line
	if br.Buffered() != 0 {
		t.Fatalf("test setup: unexpected buffered data %d bytes", br.Buffered())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tc, err := transport.StartTLS(ctx, conn, srv.addr(), p.clientConfig())
	if err == nil {
		tc.Close()
		t.Fatal("StartTLS accepted a plaintext response as the TLS handshake")
	}
	hasPrefix(t, err)
	var rerr tls.RecordHeaderError
	if !errors.As(err, &rerr) {
		t.Errorf("error %v: want a tls.RecordHeaderError", err)
	} else if !strings.HasPrefix(injected, string(rerr.RecordHeader[:])) {
		t.Errorf("record header %q is not the injected text", rerr.RecordHeader[:])
	}
	if _, err := conn.Write([]byte("a NOOP\r\n")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("conn not closed after failed StartTLS: write error %v", err)
	}
	srv.close()
	for _, err := range srv.errors() {
		t.Error(err)
	}
}

// TestStartTLSVerification checks that StartTLS verifies the certificate
// and requires a server name.
func TestStartTLSVerification(t *testing.T) {
	checkGoroutines(t)
	p := getPKI(t)
	srv := startServer(t, starttlsHandler(p.serverConfig(), nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	conn, _ := startSession(t, srv.addr())
	if _, err := transport.StartTLS(ctx, conn, "wrong.example", p.clientConfig()); err == nil {
		t.Error("StartTLS accepted a certificate for another name")
	} else {
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("error %v: want *tls.CertificateVerificationError", err)
		}
	}

	conn, _ = startSession(t, srv.addr())
	if _, err := transport.StartTLS(ctx, conn, "", nil); err == nil {
		t.Error("StartTLS without a server name succeeded")
	} else {
		hasPrefix(t, err)
	}
	if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("conn not closed after StartTLS error: %v", err)
	}

	// A ServerName in the config is enough.
	conn, _ = startSession(t, srv.addr())
	cfg := p.clientConfig()
	cfg.ServerName = "imap.test"
	tc, err := transport.StartTLS(ctx, conn, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st := tc.ConnectionState(); st.ServerName != "imap.test" || st.Version < tls.VersionTLS12 {
		t.Errorf("ServerName %q version %#x", st.ServerName, st.Version)
	}
	tc.Close()
}
