//go:build linux

package auth_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// startCyrus starts a private Cyrus imapd (internal/testserver) with alice
// (password "pass") and the admin "admin" (password "adminpass").
func startCyrus(t *testing.T) string {
	t.Helper()
	return testserver.StartCyrusT(t).Addr
}

func dialCyrus(t *testing.T, addr string) *auth.Client {
	t.Helper()
	conn, err := transport.Dial(ctx10(t), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return openOn(t, conn, nil, nil)
}

func run(t *testing.T, c *auth.Client, name string, args func(e *wire.Encoder)) (*session.Result, error) {
	return c.Session().Run(ctx10(t), &session.Command{Name: name, Args: args})
}

func TestCyrus(t *testing.T) {
	addr := startCyrus(t)
	// The admin creates alice's mailbox, with one message in it.
	admin := dialCyrus(t, addr)
	if err := admin.Login(ctx10(t), "admin", "adminpass"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, admin, "CREATE", func(e *wire.Encoder) { e.SP().Mailbox("user/alice") }); err != nil {
		t.Fatal(err)
	}
	// The admin has no INBOX: a session that can select INBOX is alice's.
	selInbox := func(t *testing.T, c *auth.Client) error {
		_, err := run(t, c, "SELECT", func(e *wire.Encoder) { e.SP().Mailbox("INBOX") })
		return err
	}
	if err := selInbox(t, admin); !errors.Is(err, session.ErrNo) {
		t.Fatalf("the admin's SELECT INBOX: %v; want NO", err)
	}
	isAlice := func(t *testing.T, c *auth.Client) {
		t.Helper()
		if err := selInbox(t, c); err != nil {
			t.Fatalf("SELECT INBOX: %v; want alice's INBOX", err)
		}
	}

	t.Run("PLAIN with authzid: admin as alice", func(t *testing.T) {
		c := dialCyrus(t, addr)
		if err := c.Authenticate(ctx10(t), auth.NewPlain("alice", "admin", "adminpass")); err != nil {
			t.Fatal(err)
		}
		isAlice(t, c)
	})
	t.Run("PLAIN with authzid refused for a non-admin", func(t *testing.T) {
		c := dialCyrus(t, addr)
		err := c.Authenticate(ctx10(t), auth.NewPlain("admin", "alice", "pass"))
		var ae *auth.Error
		if !errors.As(err, &ae) || !errors.Is(err, session.ErrNo) {
			t.Fatalf("err = %v; want an *auth.Error", err)
		}
	})
	t.Run("SCRAM-SHA-256", func(t *testing.T) {
		c := dialCyrus(t, addr)
		name, err := c.AuthenticateBest(ctx10(t), &auth.Credentials{Username: "alice", Password: "pass"})
		if err != nil || name != "SCRAM-SHA-256" {
			t.Fatalf("AuthenticateBest = %q, %v", name, err)
		}
		isAlice(t, c)
	})
	// Cyrus 3.6 answers PROXYAUTH with BAD Unrecognized command (it is
	// not in its command table), so PROXYAUTH is tested on transcripts.
}
