package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestAuthFlagsDovecot: --authzid (a master user acting as alice), and
// EXTERNAL with a client certificate (--cert, --key).
func TestAuthFlagsDovecot(t *testing.T) {
	// Waits on a Dovecot of its own and on the runs.
	t.Parallel()
	srv := testserver.StartT(t, &testserver.Options{Seed: 3, ClientCerts: true})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, srv.CAPEM, 0o600)
	setEnv(t, "IMAPKIT_URL", "")
	_, port, _ := strings.Cut(srv.TLSAddr, ":")
	cf := []string{"--ca-file", ca, "--timeout", "20s"}
	with := func(args ...string) []string { return append(args, cf...) }

	// The master user acts as alice: alice's INBOX, 3 messages.
	setEnv(t, "IMAPKIT_PASSWORD", testserver.MasterPassword)
	master := "imaps://" + testserver.MasterUser + "@localhost:" + port
	for _, sasl := range []string{"", "PLAIN"} {
		args := with("status", master, "INBOX", "--authzid", testserver.Alice, "--json")
		if sasl != "" {
			args = append(args, "--sasl", sasl)
		}
		out, _ := cli(t, "", 0, args...)
		checkJSON(t, "status as master for alice "+sasl, out, `{"mailbox":"INBOX","messages":3}`)
	}
	// Without --authzid the master cannot log in as itself; LOGIN cannot
	// carry an authorization identity.
	cli(t, "", 1, with("status", master, "INBOX")...)
	_, errs := cli(t, "", 2, with("status", master, "INBOX", "--authzid", "alice", "--sasl", "LOGIN")...)
	if !strings.Contains(errs, "cannot carry --authzid") {
		t.Errorf("--sasl LOGIN --authzid: %q", errs)
	}

	// EXTERNAL: the certificate says who we are; no user, no password.
	cert, err := srv.ClientCert(testserver.Alice)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "alice.crt"), filepath.Join(dir, "alice.key")
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	unsetEnv(t, "IMAPKIT_PASSWORD")
	anon := "imaps://localhost:" + port
	for _, extra := range [][]string{{"--sasl", "EXTERNAL"}, nil} {
		out, errs := cli(t, "", 0, with(append([]string{"status", anon, "INBOX", "--cert", certFile, "--key", keyFile, "--debug", "--json"}, extra...)...)...)
		checkJSON(t, "status with EXTERNAL", out, `{"messages":3}`)
		// The trace shows "AUTHENTICATE ***": the whole line is secret.
		if !strings.Contains(errs, " AUTHENTICATE ") || strings.Contains(errs, " LOGIN ") {
			t.Errorf("no AUTHENTICATE in the trace:\n%s", errs)
		}
	}
	// Without a certificate EXTERNAL is refused: exit 1.
	cli(t, "", 1, with("status", anon, "INBOX", "--sasl", "EXTERNAL")...)
	cli(t, "", 2, with("status", anon, "INBOX", "--cert", certFile)...)
	cli(t, "", 3, with("status", anon, "INBOX", "--cert", keyFile, "--key", keyFile)...)
}

// TestSASLAnonymous: --sasl ANONYMOUS sends the trace (--user) and no
// password. Dovecot here has no ANONYMOUS, so a scripted server checks the
// exchange.
func TestSASLAnonymous(t *testing.T) {
	got := make(chan string, 1)
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 SASL-IR AUTH=ANONYMOUS"); err != nil {
			return err
		}
		cmd, err := c.Expect("AUTHENTICATE")
		if err != nil {
			return err
		}
		got <- cmd.Args
		if err := c.Reply(cmd.Tag, "OK [CAPABILITY IMAP4rev1 IDLE] anonymous"); err != nil {
			return err
		}
		return c.Serve()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_URL", "")
	unsetEnv(t, "IMAPKIT_PASSWORD")
	_, port, _ := strings.Cut(srv.Addr(), ":")
	out, _ := cli(t, "", 0, "capability", "imap://127.0.0.1:"+port, "--sasl", "anonymous", "--user", "visitor@example.com", "--timeout", "10s")
	if want := "ANONYMOUS " + base64.StdEncoding.EncodeToString([]byte("visitor@example.com")); <-got != want {
		t.Errorf("AUTHENTICATE: want %s", want)
	}
	if !strings.Contains(out, "IMAP4REV1\nIDLE\n") {
		t.Errorf("capability: %q", out)
	}
	_, errs := cli(t, "", 2, "capability", "imap://127.0.0.1:"+port, "--sasl", "ANONYMOUS", "--authzid", "x")
	if !strings.Contains(errs, "cannot carry --authzid") {
		t.Errorf("ANONYMOUS with --authzid: %q", errs)
	}
}

// TestOAuthBearerAuthzid: --sasl OAUTHBEARER carries --authzid as its
// authorization identity (a=), as the flag's help says, and --user when
// there is none.
func TestOAuthBearerAuthzid(t *testing.T) {
	for _, c := range []struct{ authz, want string }{{"boss", "n,a=boss,"}, {"", "n,a=alice,"}} {
		m, err := mechanism("OAUTHBEARER", &auth.Credentials{Username: "alice", AuthorizationID: c.authz, Token: "tok"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, ir, err := m.Start()
		if err != nil || !strings.HasPrefix(string(ir), c.want) {
			t.Errorf("--authzid %q: initial response %q, %v; want it to start with %q", c.authz, ir, err, c.want)
		}
	}
}
