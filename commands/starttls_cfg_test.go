package commands_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
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

// TestStartTLSDeadlineReported: the context of StartTLS ends during
// the TLS handshake (the server, or the network, froze after STARTTLS's
// OK). StartTLS returns the bare context error, which the docs
// (docs/errors.md "In code", docs/session.md "Cancellation") say means
// that the command is still in flight and the session goes on; but the
// handshake, run on the reader goroutine with that same ended context,
// fails and the session is aborted: the next command fails with an
// *AbortError. Either the session goes on, or the error says it is over.
// Fixed: the handshake is not tied to the caller's context (transport's
// own bound, or the caller's deadline when later), and the session goes
// on once the network does.
func TestStartTLSDeadlineReported(t *testing.T) {
	// Parallel: it waits out a 2 s context; it has its own mailboxes,
	// server or relay, and looks at nothing process-wide.
	t.Parallel()
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	conn, err := transport.Dial(context.Background(), r.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(context.Background(), conn, &auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	r.Update(func(h *faultrelay.Hooks) {
		h.OnC2S = faultrelay.After("STARTTLS\r\n", 1, "freeze") // the ClientHello is held
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = c.StartTLS(ctx, dvServer(t).TLSConfig())
	if err == nil {
		t.Fatal("StartTLS through a frozen network succeeded")
	}
	if errors.Is(err, session.ErrAborted) {
		return // says the session is over: fine
	}
	r.Thaw()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if nerr := c.Noop(ctx2); nerr != nil {
		t.Fatalf("StartTLS returned %v (not session.ErrAborted: the session goes on, by the docs), yet the next command fails: %v", err, nerr)
	}
}

// TestConcurrentStartTLSLogin: commands.Client's doc says "Its methods
// are safe for concurrent use", but StartTLS and Login go through the
// auth.Client, whose doc says "Its methods may be called from one
// goroutine at a time": StartTLS writes auth.Client.tls
// (auth/client.go:100) while Login reads it (cleartextOK, auth/client.go:92)
// with no lock. Run with -race: the race detector reports the data race.
// (Against Dovecot on loopback; the session itself orders the two
// commands.)
func TestConcurrentStartTLSLogin(t *testing.T) {
	// Parallel: it waits on Dovecot's STARTTLS and LOGIN; its own sessions;
	// it looks at nothing process-wide.
	t.Parallel()
	for i := 0; i < 5; i++ {
		c := dvPlain(t)
		ctx := dvCtx(t)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); c.StartTLS(ctx, nil) }()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 100 * time.Millisecond) // not a synchronisation: the race detector sees none
			c.Login(ctx, testserver.Alice, testserver.Password)
		}()
		wg.Wait()
		c.Session().Close()
	}
}
