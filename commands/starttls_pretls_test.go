package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestStartTLSForgetsPreTLSResponses: RFC 9051 section 6.2.1: after
// STARTTLS the client MUST discard what it learnt before TLS; anyone on
// the path wrote it. The capabilities are discarded (Session.StartTLS
// sets them stale), but the responses the session keeps for
// Session.Responses (imaplib's response(code)) are not: an untagged
// CAPABILITY with LOGINDISABLED, an ALERT and the STARTTLS OK's own
// [CAPABILITY ...] code, all sent in the clear before the handshake,
// are still handed out after it as if the server had said them over
// TLS. Defaults.
func TestStartTLSForgetsPreTLSResponses(t *testing.T) {
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
		c.Lines("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED X-PRETLS",
			"* OK [ALERT] pre-TLS alert: log in at http://evil.example",
			cmd.Tag+" OK [CAPABILITY IMAP4rev1 LOGINDISABLED X-PRETLS] begin TLS now")
		if err := c.StartTLS(scfg); err != nil {
			return err
		}
		c.Caps = "IMAP4rev1 AUTH=PLAIN X-POSTTLS"
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
	if err := c.StartTLS(ctx, ccfg); err != nil {
		t.Fatal(err)
	}
	if c.Session().HasCap("X-PRETLS") || !c.Session().HasCap("X-POSTTLS") {
		t.Fatalf("capabilities after STARTTLS: %v", c.Session().Caps())
	}
	for _, name := range []string{"CAPABILITY", "ALERT", "OK"} {
		for _, r := range c.Session().Responses(name) {
			s := codec.ResponseName(r)
			if st, ok := r.(*codec.Status); ok {
				s += " " + string(st.Text)
				if st.Code != nil {
					s += " [" + string(st.Code.Name) + "]"
				}
			}
			if cp, ok := r.(*codec.Capability); ok {
				for _, x := range cp.Caps {
					s += " " + string(x)
				}
			}
			if strings.Contains(s, "PRETLS") || strings.Contains(s, "pre-TLS") || strings.Contains(s, "begin TLS") {
				t.Errorf("Responses(%q) after STARTTLS hands out what came before TLS: %s", name, s)
			}
		}
	}
}
