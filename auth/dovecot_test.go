package auth_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

const seed = 3 // messages in alice's INBOX; bob's is empty

func dial(t *testing.T, srv *testserver.Server, opts *auth.Options, trace *bytes.Buffer) *auth.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, srv.PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return openOn(t, conn, opts, trace)
}

func openOn(t *testing.T, conn net.Conn, opts *auth.Options, trace *bytes.Buffer) *auth.Client {
	t.Helper()
	if opts == nil {
		opts = &auth.Options{}
	}
	so := &session.Options{ServerName: testserver.ServerName}
	if trace != nil {
		so.Trace = trace
	}
	opts.Session = so
	c, err := auth.Open(ctx10(t), conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	return c
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// inboxCount selects INBOX and returns EXISTS: it tells whose mailbox the
// session sees.
func inboxCount(t *testing.T, c *auth.Client) uint32 {
	t.Helper()
	r, err := c.Session().Run(ctx10(t), &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Data {
		if e, ok := d.(*codec.Exists); ok {
			return e.Count
		}
	}
	t.Fatal("SELECT: no EXISTS")
	return 0
}

// assertNoSecret fails when the trace shows a secret in any form.
func assertNoSecret(t *testing.T, trace string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, f := range []string{s, b64(s)} {
			if strings.Contains(trace, f) {
				t.Errorf("the trace shows %q:\n%s", f, trace)
			}
		}
	}
}

func TestDovecot(t *testing.T) {
	srv := testserver.StartT(t, &testserver.Options{Seed: seed, ClientCerts: true})
	user, pass := testserver.Alice, testserver.Password

	mechs := []struct {
		name string
		m    func(pass string) sasl.Client
	}{
		{"PLAIN", func(p string) sasl.Client { return auth.NewPlain("", user, p) }},
		{"LOGIN", func(p string) sasl.Client { return auth.NewLogin(user, p) }},
		{"CRAM-MD5", func(p string) sasl.Client { return auth.NewCRAMMD5(user, p) }},
		{"SCRAM-SHA-1", func(p string) sasl.Client { return auth.NewSCRAMSHA1("", user, p) }},
		{"SCRAM-SHA-256", func(p string) sasl.Client { return auth.NewSCRAMSHA256("", user, p) }},
	}
	for _, mt := range mechs {
		t.Run(mt.name, func(t *testing.T) {
			var trace bytes.Buffer
			c := dial(t, srv, nil, &trace)
			if !c.Session().HasCap("AUTH=" + mt.name) {
				t.Fatalf("Dovecot does not offer %s: %v", mt.name, c.Session().Caps())
			}
			// A wrong password first: a typed error, the connection
			// still usable, the password in neither error nor trace.
			err := c.Authenticate(ctx10(t), mt.m("wrong-secret"))
			var ae *auth.Error
			if !errors.As(err, &ae) || !errors.Is(err, session.ErrNo) || ae.Mechanism != mt.name {
				t.Fatalf("wrong password: err = %v; want an *auth.Error with NO", err)
			}
			if strings.Contains(err.Error(), "wrong-secret") {
				t.Fatalf("the error shows the password: %v", err)
			}
			if err := c.Authenticate(ctx10(t), mt.m(pass)); err != nil {
				t.Fatal(err)
			}
			if c.Session().State() != session.StateAuth || c.Session().HasCap("AUTH="+mt.name) {
				t.Fatalf("state %v, caps %v; want AUTH and fresh capabilities", c.Session().State(), c.Session().Caps())
			}
			if n := inboxCount(t, c); n != seed {
				t.Fatalf("INBOX has %d messages; want alice's %d", n, seed)
			}
			assertNoSecret(t, trace.String(), "wrong-secret", "\x00"+user+"\x00"+pass)
			if strings.Contains(trace.String(), " "+pass) || strings.Contains(trace.String(), `"`+pass) {
				t.Errorf("the trace shows the password:\n%s", trace.String())
			}
		})
	}

	t.Run("LOGIN command", func(t *testing.T) {
		var trace bytes.Buffer
		c := dial(t, srv, nil, &trace)
		if err := c.Login(ctx10(t), user, pass); err != nil {
			t.Fatal(err)
		}
		if c.Session().State() != session.StateAuth {
			t.Fatal(c.Session().State())
		}
		if strings.Contains(trace.String(), `"`+pass+`"`) || !strings.Contains(trace.String(), "LOGIN ***") {
			t.Fatalf("trace:\n%s", trace.String())
		}
	})

	t.Run("PLAIN with authzid through a master user", func(t *testing.T) {
		var trace bytes.Buffer
		c := dial(t, srv, nil, &trace)
		if err := c.Authenticate(ctx10(t), auth.NewPlain(user, testserver.MasterUser, testserver.MasterPassword)); err != nil {
			t.Fatal(err)
		}
		if n := inboxCount(t, c); n != seed {
			t.Fatalf("INBOX has %d messages; want alice's %d", n, seed)
		}
		assertNoSecret(t, trace.String(), testserver.MasterPassword)
	})

	t.Run("AuthenticateBest with an authorization identity", func(t *testing.T) {
		c := dial(t, srv, nil, nil)
		name, err := c.AuthenticateBest(ctx10(t), &auth.Credentials{Username: testserver.MasterUser, Password: testserver.MasterPassword, AuthorizationID: user})
		if err != nil || name != "PLAIN" {
			t.Fatalf("AuthenticateBest = %q, %v; want PLAIN (Dovecot 2.3 refuses SCRAM with an authzid)", name, err)
		}
		if n := inboxCount(t, c); n != seed {
			t.Fatalf("INBOX has %d messages; want alice's %d", n, seed)
		}
	})

	t.Run("AuthenticateBest", func(t *testing.T) {
		c := dial(t, srv, nil, nil)
		name, err := c.AuthenticateBest(ctx10(t), &auth.Credentials{Username: testserver.Bob, Password: pass})
		if err != nil || name != "SCRAM-SHA-256" {
			t.Fatalf("AuthenticateBest = %q, %v; want SCRAM-SHA-256", name, err)
		}
		if n := inboxCount(t, c); n != 0 {
			t.Fatalf("bob's INBOX has %d messages", n)
		}
	})

	t.Run("RequireTLS upgrades with STARTTLS", func(t *testing.T) {
		var trace bytes.Buffer
		c := dial(t, srv, &auth.Options{RequireTLS: true, TLSConfig: srv.TLSConfig()}, &trace)
		if !c.TLS() {
			t.Fatal("not TLS")
		}
		if !regexp.MustCompile(`(?m)^C: \w+ STARTTLS$`).MatchString(trace.String()) {
			t.Fatalf("no STARTTLS in the trace:\n%s", trace.String())
		}
		if err := c.Authenticate(ctx10(t), auth.NewPlain("", user, pass)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("EXTERNAL with a client certificate", func(t *testing.T) {
		cert, err := srv.ClientCert(testserver.Alice)
		if err != nil {
			t.Fatal(err)
		}
		cfg := srv.TLSConfig()
		cfg.Certificates = append(cfg.Certificates, cert)
		conn, err := transport.DialTLS(ctx10(t), srv.TLSAddr, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := openOn(t, conn, nil, nil)
		if !c.TLS() {
			t.Fatal("implicit TLS not seen")
		}
		name, err := c.AuthenticateBest(ctx10(t), &auth.Credentials{External: true})
		if err != nil || name != "EXTERNAL" {
			t.Fatalf("AuthenticateBest = %q, %v; want EXTERNAL", name, err)
		}
		if n := inboxCount(t, c); n != seed {
			t.Fatalf("INBOX has %d messages; want alice's %d", n, seed)
		}
	})

	t.Run("EXTERNAL without a certificate fails", func(t *testing.T) {
		conn, err := transport.DialTLS(ctx10(t), srv.TLSAddr, srv.TLSConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := openOn(t, conn, nil, nil)
		if err := c.Authenticate(ctx10(t), auth.NewExternal("")); !errors.Is(err, session.ErrNo) {
			t.Fatalf("err = %v; want NO", err)
		}
		if err := c.Authenticate(ctx10(t), auth.NewPlain("", user, pass)); err != nil {
			t.Fatalf("after a failed EXTERNAL: %v", err)
		}
	})

	t.Run("cancel then authenticate", func(t *testing.T) {
		c := dial(t, srv, nil, nil)
		err := c.AuthenticateFunc(ctx10(t), "PLAIN", func([]byte) ([]byte, error) { return nil, auth.ErrCancel })
		var ce *auth.CanceledError
		if !errors.As(err, &ce) || ce.Status == nil {
			t.Fatalf("err = %v; want a *CanceledError with the server's answer", err)
		}
		if err := c.Authenticate(ctx10(t), auth.NewSCRAMSHA256("", user, pass)); err != nil {
			t.Fatal(err)
		}
	})
}
