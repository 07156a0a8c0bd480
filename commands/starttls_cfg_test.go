package commands_test

import (
	"cmp"
	"context"
	"crypto/tls"
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
	c, ccfg, ctx := tlsPeer{caps: "IMAP4rev1 AUTH=PLAIN"}.open(t)
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

// tlsPeer is a fake remote server for the STARTTLS tests: it greets
// with the capabilities greet ("IMAP4rev1 STARTTLS" when empty), answers
// STARTTLS with the lines answer(tag) (a tagged OK when nil), runs the
// TLS handshake, announces caps and goes on with after (Serve when nil).
type tlsPeer struct {
	greet  string
	answer func(tag string) []string
	caps   string
	after  func(c *hostile.Conn) error
}

// open starts p and returns a Client opened on it as on a remote server
// (openRemote), with the TLS config that trusts p and the test's context.
func (p tlsPeer) open(t *testing.T) (*commands.Client, *tls.Config, context.Context) {
	t.Helper()
	scfg, ccfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		return p.play(c, scfg)
	})
	c, ctx := openRemote(t, conn, srv)
	return c, ccfg, ctx
}

// play is p's scenario, scfg its TLS config.
func (p tlsPeer) play(c *hostile.Conn, scfg *tls.Config) error {
	greet := cmp.Or(p.greet, "IMAP4rev1 STARTTLS")
	answer := p.answer
	if answer == nil {
		answer = func(tag string) []string { return []string{tag + " OK begin TLS now"} }
	}
	c.Greet(greet)
	cmd, err := c.Expect("STARTTLS")
	if err != nil {
		return err
	}
	c.Lines(answer(cmd.Tag)...)
	if err := c.StartTLS(scfg); err != nil {
		return err
	}
	c.Caps = p.caps
	if p.after == nil {
		return c.Serve()
	}
	return p.after(c)
}

// openRemote opens a Client with the default options on conn, the
// client end of srv, as on a remote server (remotePeer, where auth
// refuses a password in the clear), and returns it with a context of
// 10 s; the session, the context and srv end with the test.
func openRemote(t *testing.T, conn net.Conn, srv *hostile.Server) (*commands.Client, context.Context) {
	t.Helper()
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, remotePeer{conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	return c, ctx
}

// serveWatching answers every command as hostile.Conn.Serve does, but
// those named name, which watch answers.
func serveWatching(c *hostile.Conn, name string, watch func(*hostile.Command) error) error {
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		if cmd.Name == name {
			err = watch(cmd)
		} else {
			err = c.Answer(cmd)
		}
		if err != nil {
			return err
		}
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
