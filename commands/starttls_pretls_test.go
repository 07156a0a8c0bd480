package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
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
	c, ccfg, ctx := tlsPeer{
		answer: func(tag string) []string {
			return []string{"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED X-PRETLS",
				"* OK [ALERT] pre-TLS alert: log in at http://evil.example",
				tag + " OK [CAPABILITY IMAP4rev1 LOGINDISABLED X-PRETLS] begin TLS now"}
		},
		caps: "IMAP4rev1 AUTH=PLAIN X-POSTTLS",
	}.open(t)
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

// TestStartTLSForgetsPreTLSEnabled: an "* ENABLED UTF8=ACCEPT QRESYNC"
// that anyone on the path can put in the clear answer to STARTTLS
// (before its tagged OK, so not thrown away as bytes after it) turns
// UTF-8 mailbox names and QRESYNC on for the whole TLS session: nothing
// was asked for (ENABLE is not even valid before authentication), and
// Session.StartTLS forgets the capabilities but not what ENABLE turned
// on (session/starttls.go upgrade; session/read.go route, case
// *codec.Enabled). After STARTTLS, a name must go in modified UTF-7.
func TestStartTLSForgetsPreTLSEnabled(t *testing.T) {
	created := make(chan string, 1)
	c, ccfg, ctx := tlsPeer{
		answer: func(tag string) []string { return []string{"* ENABLED UTF8=ACCEPT QRESYNC", tag + " OK begin TLS now"} },
		caps:   "IMAP4rev1 AUTH=PLAIN ENABLE UTF8=ACCEPT QRESYNC",
		after: func(c *hostile.Conn) error {
			return serveWatching(c, "CREATE", func(cmd *hostile.Command) error {
				created <- cmd.Args
				return c.Answer(cmd)
			})
		},
	}.open(t)
	if err := c.StartTLS(ctx, ccfg); err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if c.Session().UTF8Enabled() || c.Session().Enabled("QRESYNC") {
		t.Errorf("after STARTTLS and LOGIN: UTF8Enabled %v, Enabled(QRESYNC) %v; want false (only a pre-TLS ENABLED said so)",
			c.Session().UTF8Enabled(), c.Session().Enabled("QRESYNC"))
	}
	if err := c.Create(ctx, "Entwürfe", nil); err != nil {
		t.Fatal(err)
	}
	if got := <-created; got != "Entw&APw-rfe" {
		t.Errorf("CREATE %s; want Entw&APw-rfe (modified UTF-7: nothing enabled UTF-8)", got)
	}
}

// TestStartTLSForgetsPreTLSLiteralPlus: the capabilities before TLS
// are discarded by STARTTLS (Session.StartTLS sets s.caps to nil), but
// not the LITERAL+ and LITERAL- the encoder took from them
// (session/session.go setCaps: s.litPlus, s.litMinus). They are set again
// only when the capabilities after TLS arrive; when the server answers
// the CAPABILITY after the handshake with NO (StartTLS returns that
// error, TLS on), a LITERAL+ that anyone on the path added to the clear
// greeting still decides how the password goes: as a non-synchronizing
// literal, which a server without LITERAL+ reads as a command line of its
// own (and logs, and echoes). It must go as a synchronizing literal.
func TestStartTLSForgetsPreTLSLiteralPlus(t *testing.T) {
	login := make(chan string, 1)
	c, ccfg, ctx := tlsPeer{
		greet: "IMAP4rev1 STARTTLS LITERAL+",
		caps:  "IMAP4rev1 AUTH=PLAIN",
		after: func(c *hostile.Conn) error {
			cmd, err := c.Expect("CAPABILITY")
			if err != nil {
				return err
			}
			c.Reply(cmd.Tag, "NO [UNAVAILABLE] try again later")
			if cmd, err = c.ReadCommand(); err != nil {
				return err
			}
			login <- cmd.Line
			if cmd.Literal >= 0 {
				if !cmd.NonSync {
					c.Continue("go ahead")
				}
				if _, err := c.ReadLiteral(cmd.Literal); err != nil {
					return err
				}
				if _, err := c.ReadLine(); err != nil {
					return err
				}
			}
			c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] wrong")
			return c.Serve()
		},
	}.open(t)
	if err := c.StartTLS(ctx, ccfg); err == nil || !c.Session().TLS() {
		t.Fatalf("StartTLS: %v, TLS %v; want the CAPABILITY's NO, TLS on", err, c.Session().TLS())
	}
	if err := c.Login(ctx, "alice", "pässwort"); err == nil {
		t.Fatal("Login: no error; the server said NO")
	}
	if got := <-login; strings.HasSuffix(got, "+}") {
		t.Errorf("LOGIN after STARTTLS: %q; want a synchronizing literal (LITERAL+ was only announced before TLS)", got)
	}
}
