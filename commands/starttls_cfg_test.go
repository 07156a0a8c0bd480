package commands_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// remotePeer labels a pipe with a documentation address (RFC 5737): a
// server that is neither TLS nor loopback, where auth refuses a password
// in the clear.
type remotePeer struct{ net.Conn }

func (remotePeer) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 143}
}

// TestStartTLSOwnConfigCountsAsTLS: Client.StartTLS with a tls.Config of
// the caller's own, on a Client made by Open, ran the session's STARTTLS
// behind auth's back: auth still took the connection for plaintext, and
// Login over the TLS connection was refused with ErrInsecure ("use TLS or
// set Options.AllowInsecurePassword", pushing a user towards the insecure
// option). Auth now asks the session (Session.TLS). Found by the newcomer
// API audit of 2026-12-04.
func TestStartTLSOwnConfigCountsAsTLS(t *testing.T) {
	scfg, ccfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 STARTTLS")
		cmd, err := c.Expect("STARTTLS")
		if err != nil {
			return err
		}
		c.Reply(cmd.Tag, "OK begin TLS now")
		if err := c.StartTLS(scfg); err != nil {
			return err
		}
		c.Caps = "IMAP4rev1 AUTH=PLAIN"
		return c.Serve()
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := commands.Open(ctx, remotePeer{conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	if err := c.Login(ctx, "alice", "pw"); !errors.Is(err, auth.ErrInsecure) {
		t.Fatalf("Login in the clear to a remote server: %v; want ErrInsecure", err)
	}
	if err := c.StartTLS(ctx, ccfg); err != nil {
		t.Fatal(err)
	}
	if !c.Auth().TLS() {
		t.Errorf("auth.Client.TLS() false after StartTLS with the caller's config")
	}
	if err := c.Login(ctx, "alice", "pw"); err != nil {
		t.Fatalf("Login over TLS: %v", err)
	}
}
