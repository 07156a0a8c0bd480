//go:build unix

package transport_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/transport"
)

// imapClient speaks just enough IMAP over a transport connection for these
// tests, with plain textproto (transport must not depend on package wire).
type imapClient struct {
	t    *testing.T
	conn net.Conn
	r    *textproto.Reader
}

func newIMAPClient(t *testing.T, conn net.Conn) *imapClient {
	return &imapClient{t: t, conn: conn, r: textproto.NewReader(bufio.NewReader(conn))}
}

// line reads one response line.
func (c *imapClient) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadLine()
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	return l
}

// cmd sends "tag command" and returns the untagged responses and the tagged
// status line. It fails the test unless the status is OK.
func (c *imapClient) cmd(tag, command string) (untagged []string, status string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, command); err != nil {
		c.t.Fatalf("sending %s: %v", command, err)
	}
	for {
		l := c.line()
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				c.t.Fatalf("%s: %q (untagged %q)", command, l, untagged)
			}
			return untagged, l
		}
		untagged = append(untagged, l)
	}
}

// logout sends LOGOUT, checks for BYE and the tagged OK, then EOF.
func (c *imapClient) logout(tag string) {
	c.t.Helper()
	untagged, _ := c.cmd(tag, "LOGOUT")
	if len(untagged) == 0 || !strings.HasPrefix(untagged[0], "* BYE") {
		c.t.Errorf("LOGOUT: untagged %q, want * BYE", untagged)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if l, err := c.r.ReadLine(); err != io.EOF {
		c.t.Errorf("after LOGOUT: %q, %v; want EOF", l, err)
	}
}

// TestDovecot runs the transports against a real Dovecot.
func TestDovecot(t *testing.T) {
	checkGoroutines(t)
	s := testserver.StartT(t, nil)
	ctx := context.Background()

	t.Run("plain login", func(t *testing.T) {
		conn, err := transport.Dial(ctx, s.PlainAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := newIMAPClient(t, conn)
		if g := c.line(); !strings.HasPrefix(g, "* OK") {
			t.Fatalf("greeting %q", g)
		}
		c.cmd("a", "LOGIN "+testserver.Alice+" "+testserver.Password)
		c.logout("b")
	})

	t.Run("starttls", func(t *testing.T) {
		conn, err := transport.Dial(ctx, s.PlainAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := newIMAPClient(t, conn)
		if g := c.line(); !strings.HasPrefix(g, "* OK") || !strings.Contains(g, "STARTTLS") {
			t.Fatalf("greeting %q does not offer STARTTLS", g)
		}
		c.cmd("a", "STARTTLS")
		// Discard the plaintext reader and everything it buffered.
		c = nil

		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		tc, err := transport.StartTLS(hctx, conn, s.PlainAddr, s.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if st := tc.ConnectionState(); st.Version < tls.VersionTLS12 || st.ServerName != s.ServerName {
			t.Errorf("TLS state: version %#x, ServerName %q", st.Version, st.ServerName)
		}
		c = newIMAPClient(t, tc)
		untagged, _ := c.cmd("b", "CAPABILITY")
		if len(untagged) != 1 || !strings.HasPrefix(untagged[0], "* CAPABILITY ") {
			t.Fatalf("CAPABILITY: %q", untagged)
		}
		if caps := untagged[0]; strings.Contains(caps, "STARTTLS") || !strings.Contains(caps, "IMAP4rev1") {
			t.Errorf("capabilities over TLS: %q", caps)
		}
		c.cmd("c", "LOGIN "+testserver.Alice+" "+testserver.Password)
		c.logout("d")
	})

	t.Run("implicit tls", func(t *testing.T) {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		tc, err := transport.DialTLS(hctx, s.TLSAddr, s.TLSConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		c := newIMAPClient(t, tc)
		if g := c.line(); !strings.HasPrefix(g, "* OK") {
			t.Fatalf("greeting %q", g)
		}
		c.cmd("a", "LOGIN "+testserver.Alice+" "+testserver.Password)
		c.logout("b")

		// The server's certificate is signed by a private CA: without
		// the test configuration verification must fail.
		tc2, err := transport.DialTLS(hctx, s.TLSAddr, nil, nil)
		if err == nil {
			tc2.Close()
			t.Fatal("DialTLS with a nil config trusted the test CA")
		}
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("error %v: want *tls.CertificateVerificationError", err)
		}
	})

	t.Run("command", func(t *testing.T) {
		argv := s.StreamCommand(testserver.Alice)
		conn, err := transport.Exec(ctx, argv[0], argv[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		pid := conn.Pid()
		c := newIMAPClient(t, conn)
		if g := c.line(); !strings.HasPrefix(g, "* PREAUTH") {
			t.Fatalf("greeting %q, stderr %q", g, conn.Stderr())
		}
		untagged, status := c.cmd("a", "SELECT INBOX")
		if !strings.Contains(status, "[READ-WRITE]") || !containsPrefix(untagged, "* FLAGS ") {
			t.Errorf("SELECT INBOX: %q %q", untagged, status)
		}
		c.logout("b")
		// An hour's grace period (the default is 2 s): a Close that
		// waited for it rather than for the process's exit after
		// LOGOUT would not return within returns's minute; ExitErr
		// nil below says it was not killed.
		conn.SetGracePeriod(time.Hour)
		var cerr error
		returns(t, "Close of a finished imap process", func() { cerr = conn.Close() })
		if cerr != nil {
			t.Errorf("Close: %v", cerr)
		}
		if err := conn.ExitErr(); err != nil {
			t.Errorf("imap process: %v (stderr %q)", err, conn.Stderr())
		}
		assertReaped(t, pid)
		t.Logf("imap stderr: %q", conn.Stderr())
	})
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
