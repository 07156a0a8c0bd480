package session_test

// The tests of this file come from a security audit (2026-12-04): a server
// (or a man in the middle) getting a credential the session sent, or
// terminal escapes, into an error, a trace or a log. Each failed before its
// fix; its comment says what the bug was.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestRedactEchoedPasswordAsResponseName: a server answers a command with
// a tagged response whose name (the word after the tag) is the password
// LOGIN sent. The session's error prints r.Name without redaction
// (session/read.go:315-316).
func TestRedactEchoedPasswordAsResponseName(t *testing.T) {
	hsRun(t, echoAtNoop("TAG "+hsPassword+" echoed"), 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, hsOpts())
		if s == nil {
			return
		}
		if _, err := c.run(loginCommand("alice", hsPassword)); err != nil {
			c.t.Fatalf("LOGIN: %v", err)
		}
		_, err := c.run(hsNoop())
		if err == nil {
			c.t.Fatalf("NOOP: no error")
		}
		if strings.Contains(err.Error(), hsPassword) {
			c.t.Errorf("the error holds the password: %q", err.Error())
		}
		c.s.Close()
	})
}

// TestRedactEchoedPasswordAsUnknownTag: a server sends a tagged response
// whose tag is the password LOGIN sent. The abort's ProtocolError quotes the
// tag without redaction (session/read.go:310), and so do the error of the
// next command, the slog record and AbortError.Error.
func TestRedactEchoedPasswordAsUnknownTag(t *testing.T) {
	var logbuf bytes.Buffer
	var mu sync.Mutex
	hsRun(t, echoAtNoop(hsPassword+" OK echoed"), 0, 0, func(c *hsCase, conn net.Conn) {
		opts := hsOpts()
		opts.Logger = slog.New(slog.NewTextHandler(&hsSyncWriter{w: &logbuf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s := c.open(conn, opts)
		if s == nil {
			return
		}
		if _, err := c.run(loginCommand("alice", hsPassword)); err != nil {
			c.t.Fatalf("LOGIN: %v", err)
		}
		_, err := c.run(hsNoop())
		if err == nil {
			c.t.Fatalf("NOOP: no error")
		}
		if strings.Contains(err.Error(), hsPassword) {
			c.t.Errorf("the error holds the password: %q", err.Error())
		}
		var ae *session.AbortError
		if errors.As(err, &ae) {
			hsClean(c.t, "AbortError.History", strings.Join(ae.History, "\n"))
		}
		c.s.Close()
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(logbuf.String(), hsPassword) {
			c.t.Errorf("the slog output holds the password:\n%s", logbuf.String())
		}
	})
}

// TestRedactEchoedPasswordInDecodeError: a server echoes the password where
// the decoder expects a flag list; the *wire.SyntaxError's excerpt of the
// server's bytes (wire/errors.go:106) reaches the command's error without
// redaction.
func TestRedactEchoedPasswordInDecodeError(t *testing.T) {
	hsRun(t, echoAtNoop("* FLAGS "+hsPassword, "TAG OK done"), 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, hsOpts())
		if s == nil {
			return
		}
		if _, err := c.run(loginCommand("alice", hsPassword)); err != nil {
			c.t.Fatalf("LOGIN: %v", err)
		}
		_, err := c.run(hsNoop())
		if err != nil && strings.Contains(err.Error(), hsPassword) {
			c.t.Errorf("the error holds the password: %q", err.Error())
		}
		c.s.Close()
	})
}

// TestRedactTraceClientLineEscapes: a mailbox name the server listed, with
// terminal escapes in it, goes out as a quoted string when the caller
// selects it; the trace writes the client's line raw (session/trace.go:
// emitOut for 'C' lines, and history() for client lines), so the server's
// escape bytes reach the trace (the CLI's --debug goes to the terminal).
func TestRedactTraceClientLineEscapes(t *testing.T) {
	var trace bytes.Buffer
	var mu sync.Mutex
	const evil = "Box\x1b[2J\x1b[31mred"
	hsRun(t, listsThenSelect(evil, "TAG NO no such mailbox"), 0, 0, func(c *hsCase, conn net.Conn) {
		opts := hsOpts()
		opts.Trace = &hsSyncWriter{w: &trace, mu: &mu}
		s := c.open(conn, opts)
		if s == nil {
			return
		}
		r, err := c.run(&session.Command{Name: "LIST", Args: func(e *wire.Encoder) { e.SP().String("").SP().String("*") }})
		if err != nil {
			c.t.Fatalf("LIST: %v", err)
		}
		var name string
		for _, d := range r.Data {
			if l, ok := d.(*codec.List); ok {
				name = string(l.Mailbox)
			}
		}
		if name != evil {
			c.t.Fatalf("LIST gave %q", name)
		}
		c.run(sel(name))
		c.s.Close()
		mu.Lock()
		defer mu.Unlock()
		hsClean(c.t, "the trace", trace.String())
	})
}

// TestRedactReadOnlyErrorEscapes: a mailbox name the server listed, with
// terminal escapes, selected read-write and answered OK [READ-ONLY]: the
// *ReadOnlyError's text holds the name raw (session/errors.go:302), while
// every other error escapes server text.
func TestRedactReadOnlyErrorEscapes(t *testing.T) {
	const evil = "Box\x1b[2J\x1b[31mred"
	hsRun(t, listsThenSelect(evil, "* 0 EXISTS", "TAG OK [READ-ONLY] done"), 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, hsOpts())
		if s == nil {
			return
		}
		r, err := c.run(&session.Command{Name: "LIST", Args: func(e *wire.Encoder) { e.SP().String("").SP().String("*") }})
		if err != nil {
			c.t.Fatalf("LIST: %v", err)
		}
		var name string
		for _, d := range r.Data {
			if l, ok := d.(*codec.List); ok {
				name = string(l.Mailbox)
			}
		}
		_, err = c.run(sel(name))
		if !errors.Is(err, session.ErrReadOnly) {
			c.t.Fatalf("SELECT: %v; want a ReadOnlyError", err)
		}
		hsClean(c.t, "the ReadOnlyError", err.Error())
		c.s.Close()
	})
}

// TestRedactEchoedPasswordAsCode: a NO whose response code is the password
// LOGIN sent. statusString (session/errors.go:211) prints the code's name
// escaped but not redacted; cloneStatus redacts the text alone.
func TestRedactEchoedPasswordAsCode(t *testing.T) {
	var trace bytes.Buffer
	var mu sync.Mutex
	hsRun(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("LOGIN")
		if err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "NO ["+hsPassword+"] wrong password"); err != nil {
			return err
		}
		return c.Serve()
	}, 0, 0, func(c *hsCase, conn net.Conn) {
		opts := hsOpts()
		opts.Trace = &hsSyncWriter{w: &trace, mu: &mu}
		s := c.open(conn, opts)
		if s == nil {
			return
		}
		_, err := c.run(loginCommand("alice", hsPassword))
		if !errors.Is(err, session.ErrNo) {
			c.t.Fatalf("LOGIN: %v; want a NO", err)
		}
		hsClean(c.t, "the LOGIN error", err.Error())
		c.s.Close()
		mu.Lock()
		defer mu.Unlock()
		hsClean(c.t, "the trace", trace.String())
	})
}

// TestRedactStartTLSCertNameEscapes: a man in the middle answers the
// STARTTLS handshake with a certificate whose DNS name holds terminal
// escapes; crypto/x509's HostnameError lists the names raw (the host name
// is checked before the chain) and Session.StartTLS returns it unescaped
// (session/read.go:627 wraps transport's error as it is), against
// docs/security.md's "no ... terminal escape leaked into errors".
func TestRedactStartTLSCertNameEscapes(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"x\x1b[2J\x1b]0;owned\x07y.example"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	scfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	hsRun(t, func(c *hostile.Conn) error {
		if err := c.Greet(hsPreTLSCaps); err != nil {
			return err
		}
		cmd, err := c.Expect("STARTTLS")
		if err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "OK begin TLS now"); err != nil {
			return err
		}
		c.StartTLS(scfg)
		return nil
	}, 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, &session.Options{ServerName: "mail.example.com"})
		if s == nil {
			return
		}
		err := s.StartTLS(context.Background(), nil)
		if err == nil {
			c.t.Fatal("StartTLS succeeded")
		}
		hsClean(c.t, "the StartTLS error", err.Error())
		c.s.Close()
	})
}

// TestRedactRawLogin: LOGIN through the escape hatch (a Command whose
// Args write the password raw, as commands.Client.Xatom and Do do, in any
// of its forms: atom, quoted string, literal) is traced with its arguments
// redacted, and a server echoing the password in a NO does not put it in
// the error or the trace: the session counts every argument of a LOGIN or
// AUTHENTICATE written without Encoder.Password or Secret as a credential.
// It was traced in the clear. Found by the security audit of this stop.
func TestRedactRawLogin(t *testing.T) {
	for _, form := range []string{"atom", "quoted", "literal"} {
		var trace bytes.Buffer
		var mu sync.Mutex
		hsRun(t, func(c *hostile.Conn) error {
			if err := c.Greet("IMAP4rev1 LITERAL+"); err != nil {
				return err
			}
			cmd, err := c.Expect("LOGIN")
			if err != nil {
				return err
			}
			if err := c.Reply(cmd.Tag, "NO login failed for "+hsPassword); err != nil {
				return err
			}
			return c.Serve()
		}, 0, 0, func(c *hsCase, conn net.Conn) {
			opts := hsOpts()
			opts.Trace = &hsSyncWriter{w: &trace, mu: &mu}
			s := c.open(conn, opts)
			if s == nil {
				return
			}
			_, err := c.run(&session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) {
				e.SP().Atom("alice").SP()
				switch form {
				case "atom":
					e.Raw(hsPassword)
				case "quoted":
					e.Raw(`"` + hsPassword + `"`)
				default:
					e.Literal([]byte(hsPassword))
				}
			}})
			if !errors.Is(err, session.ErrNo) {
				c.t.Fatalf("LOGIN: %v; want a NO", err)
			}
			hsClean(c.t, "the LOGIN error", err.Error())
			c.s.Close()
			mu.Lock()
			defer mu.Unlock()
			hsClean(c.t, "the trace", trace.String())
			if !strings.Contains(trace.String(), "LOGIN ***") {
				c.t.Errorf("the trace does not show the LOGIN:\n%s", trace.String())
			}
		})
	}
}

// TestHostileStartTLSInjectionTrace: plaintext injected after STARTTLS's
// OK, ending in a literal's header, is thrown away unparsed; the trace
// forgets it too. The tracer kept the announced literal, and took the
// first 100,000 bytes read over TLS for its body: the server's lines
// after the handshake were missing from the trace and the history.
func TestHostileStartTLSInjectionTrace(t *testing.T) {
	scfg, ccfg := hsTLS(t)
	var trace bytes.Buffer
	var mu sync.Mutex
	hsRun(t, func(c *hostile.Conn) error {
		if err := c.Greet(hsPreTLSCaps); err != nil {
			return err
		}
		cmd, err := c.Expect("STARTTLS")
		if err != nil {
			return err
		}
		if err := c.WriteString(cmd.Tag + " OK begin TLS now\r\n* OK {100000}\r\n"); err != nil {
			return err
		}
		if err := c.StartTLS(scfg); err != nil {
			return err
		}
		c.Caps = "IMAP4rev1 AUTH=PLAIN X-POST-TLS"
		return c.Serve()
	}, 0, 0, func(c *hsCase, conn net.Conn) {
		opts := hsOpts()
		opts.Trace = &hsSyncWriter{w: &trace, mu: &mu}
		s := c.open(conn, opts)
		if s == nil {
			return
		}
		if err := s.StartTLS(context.Background(), ccfg); err != nil {
			c.t.Fatalf("StartTLS: %v", err)
		}
		if !s.HasCap("X-POST-TLS") {
			c.t.Fatalf("capabilities after STARTTLS: %v", s.Caps())
		}
		c.s.Close()
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(trace.String(), "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN X-POST-TLS") {
			c.t.Errorf("the server's CAPABILITY over TLS is missing from the trace:\n%s", trace.String())
		}
	})
}

// TestRedactRawAuthMechanismNotSecret: a raw AUTHENTICATE (the escape
// hatch) counts its arguments after the mechanism as credentials, not the
// mechanism's name, and the typed fields of known codes are never
// redacted: a first version of TestRedactRawLogin's fix made "PLAIN" a
// secret, and the answer's CAPABILITY code read AUTH=***. Found by the
// review of 2026-12-04.
func TestRedactRawAuthMechanismNotSecret(t *testing.T) {
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00s3cret-pass"))
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n")
		l := readLine(r)
		tag, _, _ := strings.Cut(l, " ")
		io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE] PLAIN login ok\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE] done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	r, err := s.Run(hangCtx(t), &session.Command{Name: "AUTHENTICATE", Args: func(e *wire.Encoder) {
		e.SP().Atom("PLAIN").SP().Atom(ir)
	}})
	if err != nil {
		t.Fatal(err)
	}
	var caps []string
	for _, c := range r.Status.Code.Caps {
		caps = append(caps, string(c))
	}
	if !strings.Contains(strings.Join(caps, " "), "AUTH=PLAIN") || !strings.Contains(string(r.Status.Text), "PLAIN") {
		t.Errorf("AUTHENTICATE's Result.Status: caps %q, text %q; the mechanism name is no credential", caps, r.Status.Text)
	}
	r, err = s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	caps = caps[:0]
	for _, c := range r.Status.Code.Caps {
		caps = append(caps, string(c))
	}
	if !strings.Contains(strings.Join(caps, " "), "AUTH=PLAIN") {
		t.Errorf("a later NOOP's Result.Status.Code.Caps = %q", caps)
	}
}

// TestRedactRawLoginShortArgs: a raw LOGIN's user name is no secret, and
// an argument under 4 bytes is not redacted (as auth's answers): a first
// version made the user "a" a secret and rewrote the typed PERMANENTFLAGS
// of a later SELECT (\Flagged -> \Fl***gged). Found by the review of
// 2026-12-04.
func TestRedactRawLoginShortArgs(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* OK [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, rest, _ := strings.Cut(l, " ")
			if strings.HasPrefix(rest, "SELECT") {
				io.WriteString(w, tag+" OK [PERMANENTFLAGS (\\Seen \\Flagged \\Draft)] [READ-WRITE] selected\r\n")
				continue
			}
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) {
		e.SP().AString("a").SP().AString("long-password")
	}}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(hangCtx(t), &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }})
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, f := range r.Status.Code.Flags {
		flags = append(flags, string(f))
	}
	if strings.Join(flags, " ") != `\Seen \Flagged \Draft` {
		t.Errorf("SELECT's PERMANENTFLAGS = %q", flags)
	}
}

// echoAtNoop is a server that takes LOGIN, then answers the NOOP after it
// with lines ("TAG" standing for the NOOP's tag), then serves.
func echoAtNoop(lines ...string) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("LOGIN")
		if err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "OK [CAPABILITY IMAP4rev1] done"); err != nil {
			return err
		}
		if cmd, err = c.Expect("NOOP"); err != nil {
			return err
		}
		return tagged(c, cmd.Tag, lines)
	}
}

// listsThenSelect is a server that lists one mailbox, name, and answers
// the SELECT after with lines ("TAG" standing for its tag), then serves.
func listsThenSelect(name string, lines ...string) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.PreAuth("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("LIST")
		if err != nil {
			return err
		}
		if err := c.Lines("* LIST () \"/\" \""+name+"\"", cmd.Tag+" OK done"); err != nil {
			return err
		}
		if cmd, err = c.Expect("SELECT"); err != nil {
			return err
		}
		return tagged(c, cmd.Tag, lines)
	}
}

// tagged writes lines with their "TAG " prefix made tag, then serves.
func tagged(c *hostile.Conn, tag string, lines []string) error {
	out := make([]string, len(lines))
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "TAG "); ok {
			l = tag + " " + rest
		}
		out[i] = l
	}
	if err := c.Lines(out...); err != nil {
		return err
	}
	return c.Serve()
}

// TestTaggedCodeSecretRedacted: the tagged answer to LOGIN is now kept for
// Responses (keepCode), but keepAs redacts only the Text: a server that
// echoes the password in the code's arguments (or as the code's name) has it
// kept raw, while Result.Status (cloneStatus) redacts Code.Name and Code.Raw.
func TestTaggedCodeSecretRedacted(t *testing.T) {
	hsRun(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("LOGIN")
		if err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "NO [X-ECHO "+hsPassword+"] wrong password"); err != nil {
			return err
		}
		return c.Serve()
	}, 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, hsOpts())
		if s == nil {
			return
		}
		res, err := c.run(loginCommand("alice", hsPassword))
		if !errors.Is(err, session.ErrNo) {
			c.t.Fatalf("LOGIN: %v; want a NO", err)
		}
		if res != nil && res.Status != nil && res.Status.Code != nil && strings.Contains(string(res.Status.Code.Raw), hsPassword) {
			c.t.Errorf("Result.Status holds the password (control)")
		}
		for _, r := range s.Responses("X-ECHO") {
			st, _ := r.(*codec.Status)
			if st != nil && st.Code != nil && strings.Contains(string(st.Code.Raw), hsPassword) {
				c.t.Errorf("Responses(\"X-ECHO\") holds the tagged LOGIN answer with the password unredacted in Code.Raw: %q", st.Code.Raw)
			}
		}
		c.s.Close()
	})
}

// TestRedactEchoedPasswordInUnknownResponse: a server that echoes the
// password in a response the codec does not know ("* XECHO pw") has it
// hidden in what the session keeps (Responses) and in Redacted, which
// hands on a response as it came (commands.Client.Idle's events):
// cloneRedacted hid it only in status responses, and idle printed it.
func TestRedactEchoedPasswordInUnknownResponse(t *testing.T) {
	hsRun(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("LOGIN")
		if err != nil {
			return err
		}
		if err := c.Lines("* XECHO you sent "+hsPassword, cmd.Tag+" OK in"); err != nil {
			return err
		}
		return c.Serve()
	}, 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, hsOpts())
		if s == nil {
			return
		}
		if _, err := c.run(loginCommand("alice", hsPassword)); err != nil {
			c.t.Fatalf("LOGIN: %v", err)
		}
		kept := s.Responses("XECHO")
		if len(kept) == 0 {
			c.t.Fatalf("Responses(\"XECHO\") is empty")
		}
		for _, r := range kept {
			if u, _ := r.(*codec.Unknown); u == nil || strings.Contains(string(u.Rest), hsPassword) {
				c.t.Errorf("Responses(\"XECHO\") holds %#v: the password unredacted", r)
			}
		}
		u := &codec.Unknown{Tag: codec.Bytes("*"), Name: codec.Bytes("X" + hsPassword), Rest: codec.Bytes("again " + hsPassword)}
		r, _ := s.Redacted(u).(*codec.Unknown)
		if r == nil || strings.Contains(string(r.Name)+string(r.Rest), hsPassword) || string(u.Rest) != "again "+hsPassword {
			c.t.Errorf("Redacted(%q %q) = %#v; want the password hidden in a copy", u.Name, u.Rest, r)
		}
		c.s.Close()
	})
}
