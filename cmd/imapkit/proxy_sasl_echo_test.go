package main

import (
	"context"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/internal/hostile"
)

// saslEchoServer is a scripted server that offers AUTH=PLAIN and
// AUTH=LOGIN without SASL-IR, asks for each response of an AUTHENTICATE
// with a challenge (one for PLAIN, two for LOGIN), and echoes every
// response in every way a server might: as sent (base64), decoded (its
// NULs as spaces), decoded as Go quotes it, and the decoded password
// alone; then refuses the AUTHENTICATE, and serves.
func saslEchoServer(c *hostile.Conn) error {
	if err := c.Greet("IMAP4rev1 AUTH=PLAIN AUTH=LOGIN"); err != nil {
		return err
	}
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return nil
		}
		if cmd.Name != "AUTHENTICATE" {
			if err := c.Answer(cmd); err != nil || cmd.Name == "LOGOUT" {
				return err
			}
			continue
		}
		challenges := []string{""}
		if strings.EqualFold(cmd.Args, "LOGIN") {
			challenges = []string{"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}
		}
		var echo []string
		for _, ch := range challenges {
			if err := c.Continue(ch); err != nil {
				return err
			}
			resp, err := c.ReadLine()
			if err != nil {
				return err
			}
			dec, _ := base64.StdEncoding.DecodeString(resp)
			fields := strings.Split(string(dec), "\x00")
			echo = append(echo, "* BAD you sent "+resp,
				"* NO decoded "+strings.Join(fields, " "),
				"* NO quoted "+strconv.Quote(string(dec)),
				"* NO last "+fields[len(fields)-1])
		}
		if err := c.Lines(echo...); err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] bad credentials"); err != nil {
			return err
		}
	}
}

// TestProxySASLSecretEchoedEndToEnd: the library's own client
// authenticates through "imapkit proxy" (PLAIN, then LOGIN: each response
// sent after a challenge, not as an initial response) to a server that
// echoes every response back, as sent, decoded, quoted and the password
// alone. No copy of the password, of a response or of its decoded form
// (no 8 bytes in a row of any) is left in the proxy's trace. Defaults.
func TestProxySASLSecretEchoedEndToEnd(t *testing.T) {
	t.Parallel()
	const user, pw = "alice", "Tr0ub4dor&3-correct-horse"
	srv, err := hostile.Listen(saslEchoServer)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+srv.Addr(), "--once")
	ctx, cancel := context.WithTimeout(context.Background(), proxyHang)
	defer cancel()
	conn, err := net.Dial("tcp", paddr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []auth.Mechanism{auth.NewPlain("", user, pw), auth.NewLogin(user, pw)} {
		if err := c.Authenticate(ctx, m); err == nil {
			t.Fatalf("AUTHENTICATE: no error; the server refuses it")
		}
	}
	c.Session().Logout(ctx)
	waitFor(t, out, "connection closed")
	trace := out.String()
	if !strings.Contains(trace, "S: * NO last") || !strings.Contains(trace, "S: * BAD you sent") {
		t.Fatalf("the server's echoes are not in the trace:\n%s", trace)
	}
	plain := "\x00" + user + "\x00" + pw
	for _, secret := range []string{
		pw,
		base64.StdEncoding.EncodeToString([]byte(plain)),
		base64.StdEncoding.EncodeToString([]byte(pw)),
		strconv.Quote(plain),
	} {
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(trace, secret[i:i+8]) {
				t.Errorf("the trace shows %q of %q:\n%s", secret[i:i+8], secret, trace)
				break
			}
		}
	}
}
