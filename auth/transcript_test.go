package auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/internal/transcript"
	"github.com/imapkit/imapkit/session"
)

// script plays the server from a transcript over an in-memory pipe with
// internal/transcript (as session's transcript tests do). After the last
// line, anything more from the client is an error: that is how the tests
// check that nothing was sent. The client end reports remote as its peer
// address.
func script(t *testing.T, remote net.Addr, text string) (net.Conn, func() error) {
	t.Helper()
	client, wait := transcript.Start(t, text)
	if remote != nil {
		client = &addrConn{Conn: client, remote: remote}
	}
	return client, wait
}

// addrConn reports another peer address, to stand for a remote server.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr { return c.remote }

// remoteServer is a documentation address (RFC 5737): neither TLS nor
// loopback. Nothing is ever sent to it; it only labels a pipe.
var remoteServer = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 143}

func open(t *testing.T, conn net.Conn, opts *auth.Options, trace io.Writer) (*auth.Client, error) {
	t.Helper()
	if opts == nil {
		opts = &auth.Options{}
	}
	opts.Session = &session.Options{TagPrefix: "A", Trace: trace}
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	c, err := auth.Open(ctx, conn, opts)
	if err == nil {
		t.Cleanup(func() { c.Session().Close() })
	}
	return c, err
}

func mustOpen(t *testing.T, conn net.Conn, opts *auth.Options, trace io.Writer) *auth.Client {
	t.Helper()
	c, err := open(t, conn, opts, trace)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hangBound bounds a test's context only to stop a real hang, never the
// test's work: a loaded 2-core CI under -race may be 20 times slower than
// usual (it was 5 s, ctx5).
const hangBound = time.Minute

// hangCtx returns a context ended hangBound after the call: a hang
// detector for what the test waits for and does come.
func hangCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	t.Cleanup(cancel)
	return ctx
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func noop(t *testing.T, c *auth.Client) {
	t.Helper()
	if _, err := c.Session().Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after the exchange: %v", err)
	}
}

func TestTranscriptXOAuth2Error(t *testing.T) {
	const token = "ya29.secret-token"
	errJSON := `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi
		C: A1 AUTHENTICATE XOAUTH2 `+b64("user=alice@example.com\x01auth=Bearer "+token+"\x01\x01")+`
		S: + `+b64(errJSON)+`
		C:
		S: A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)
		C: A2 NOOP
		S: A2 OK done
	`)
	var trace bytes.Buffer
	c := mustOpen(t, conn, nil, &trace)
	err := c.Authenticate(hangCtx(t), auth.NewXOAuth2("alice@example.com", token))
	var oe *auth.OAuthError
	var ae *auth.Error
	if !errors.As(err, &oe) || oe.Status != "401" || oe.Scope != "https://mail.google.com/" || oe.Mechanism != "XOAUTH2" {
		t.Fatalf("err = %v; want an *OAuthError with status 401", err)
	}
	if !errors.As(err, &ae) || ae.Mechanism != "XOAUTH2" || !errors.Is(err, session.ErrNo) {
		t.Fatalf("err = %v; want an *auth.Error matching session.ErrNo", err)
	}
	noop(t, c)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(trace.String(), b64("user=alice@example.com\x01auth=Bearer "+token+"\x01\x01")) || strings.Contains(err.Error(), token) {
		t.Fatalf("token in the trace or error:\n%s\n%v", trace.String(), err)
	}
}

func TestTranscriptOAuthBearerError(t *testing.T) {
	errJSON := `{"status":"invalid_token","scope":"mail","openid-configuration":"https://example.com/.well-known/openid-configuration"}`
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] hi
		C: A1 AUTHENTICATE OAUTHBEARER
		S: +
		C: `+b64("n,a=alice,\x01auth=Bearer tok\x01\x01")+`
		S: + `+b64(errJSON)+`
		C: AQ==
		S: A1 NO [AUTHENTICATIONFAILED] Authentication failed
		C: A2 NOOP
		S: A2 OK done
	`)
	c := mustOpen(t, conn, nil, nil)
	err := c.Authenticate(hangCtx(t), auth.NewOAuthBearer("alice", "tok", "", 0))
	var oe *auth.OAuthError
	if !errors.As(err, &oe) || oe.Status != "invalid_token" || oe.OpenIDConfiguration != "https://example.com/.well-known/openid-configuration" {
		t.Fatalf("err = %v; want an *OAuthError", err)
	}
	if !errors.Is(err, session.ErrNo) {
		t.Fatalf("err = %v; want session.ErrNo", err)
	}
	noop(t, c)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptLoginUsernameChallenge(t *testing.T) {
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=LOGIN] hi
		C: A1 AUTHENTICATE LOGIN
		S: + VXNlcm5hbWU6
		C: YWxpY2U=
		S: + UGFzc3dvcmQ6
		C: `+b64("s3cret")+`
		S: A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in
	`)
	c := mustOpen(t, conn, nil, nil)
	if err := c.Authenticate(hangCtx(t), auth.NewLogin("alice", "s3cret")); err != nil {
		t.Fatal(err)
	}
	if s := c.Session(); s.State() != session.StateAuth || !s.HasCap("IDLE") || s.HasCap("AUTH=LOGIN") {
		t.Fatalf("after AUTHENTICATE: state %v, caps %v; want AUTH and the OK's capabilities", s.State(), s.Caps())
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// The capabilities are asked for after authentication when the OK does
// not carry them.
func TestTranscriptCapabilitiesRefreshed(t *testing.T) {
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi
		C: A1 AUTHENTICATE PLAIN `+b64("\x00alice\x00pw")+`
		S: A1 OK Logged in
		C: A2 CAPABILITY
		S: * CAPABILITY IMAP4rev1 MOVE
		S: A2 OK done
	`)
	c := mustOpen(t, conn, nil, nil)
	if err := c.Authenticate(hangCtx(t), auth.NewPlain("", "alice", "pw")); err != nil {
		t.Fatal(err)
	}
	if !c.Session().HasCap("MOVE") {
		t.Fatalf("caps %v", c.Session().Caps())
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptCancel(t *testing.T) {
	for _, answer := range []string{"BAD", "NO"} {
		t.Run(answer, func(t *testing.T) {
			conn, wait := script(t, nil, `
				S: * OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi
				C: A1 AUTHENTICATE X-TEST
				S: + `+b64("first")+`
				C: `+b64("one")+`
				S: + `+b64("second")+`
				C: *
				S: A1 `+answer+` AUTHENTICATE cancelled
				C: A2 NOOP
				S: A2 OK done
			`)
			c := mustOpen(t, conn, nil, nil)
			var got []string
			err := c.AuthenticateFunc(hangCtx(t), "X-TEST", func(ch []byte) ([]byte, error) {
				got = append(got, string(ch))
				if len(got) == 2 {
					return nil, auth.ErrCancel
				}
				return []byte("one"), nil
			})
			var ce *auth.CanceledError
			if !errors.As(err, &ce) || !errors.Is(err, auth.ErrCancel) || ce.Status == nil || ce.Status.Kind.String() != answer {
				t.Fatalf("err = %v; want a *CanceledError with the server's %s", err, answer)
			}
			if fmt.Sprint(got) != "[first second]" {
				t.Fatalf("challenges %q", got)
			}
			if c.Session().State() != session.StateNonAuth {
				t.Fatalf("state %v", c.Session().State())
			}
			noop(t, c)
			if err := wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A challenge that is not base64, or a mechanism that fails, cancels too,
// and the connection can be used for another attempt.
func TestTranscriptCancelOnClientError(t *testing.T) {
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 AUTH=CRAM-MD5 AUTH=X-TEST] hi
		C: A1 AUTHENTICATE CRAM-MD5
		S: + not*base64
		C: *
		S: A1 BAD cancelled
		C: A2 AUTHENTICATE X-TEST
		S: + `+b64("hi")+`
		C: *
		S: A2 BAD cancelled
		C: A3 AUTHENTICATE CRAM-MD5
		S: + `+b64("<1896.697170952@postoffice.reston.mci.net>")+`
		C: `+b64("tim b913a602c7eda7a495b4e6e7334d3890")+`
		S: A3 OK [CAPABILITY IMAP4rev1] done
	`)
	c := mustOpen(t, conn, nil, nil)
	err := c.Authenticate(hangCtx(t), auth.NewCRAMMD5("tim", "tanstaaftanstaaf"))
	if !errors.Is(err, auth.ErrCancel) {
		t.Fatalf("undecodable challenge: err = %v; want a cancellation", err)
	}
	boom := errors.New("boom")
	err = c.AuthenticateFunc(hangCtx(t), "X-TEST", func([]byte) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) || !errors.Is(err, auth.ErrCancel) {
		t.Fatalf("callback error: err = %v; want it wrapped in a cancellation", err)
	}
	if err := c.Authenticate(hangCtx(t), auth.NewCRAMMD5("tim", "tanstaaftanstaaf")); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// When the caller's context ends in the middle of an exchange, the next
// challenge is answered with "*" in the background: the connection stays
// in step and the next command works. It runs in a testing/synctest
// bubble, where the context's 100 ms and the script's QUIET of 300 ms pass
// on the bubble's clock: on the wall clock a loaded machine could keep the
// client off the CPU past both, and the second challenge come first.
func TestTranscriptContextEndsMidExchange(t *testing.T) {
	synctest.Test(t, testTranscriptContextEndsMidExchange)
}

func testTranscriptContextEndsMidExchange(t *testing.T) {
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi
		C: A1 AUTHENTICATE X-TEST
		S: + `+b64("one")+`
		C: `+b64("r1")+`
		QUIET 300ms
		S: + `+b64("two")+`
		C: *
		S: A1 BAD cancelled
		C: A2 NOOP
		S: A2 OK done
	`)
	c := mustOpen(t, conn, nil, nil)
	// The context ends while the client waits for the second challenge.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	calls := 0
	err := c.AuthenticateFunc(ctx, "X-TEST", func(ch []byte) ([]byte, error) {
		calls++
		return []byte("r1"), nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Fatalf("err = %v after %d challenges; want context.DeadlineExceeded after 1", err, calls)
	}
	noop(t, c)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptSASLIR(t *testing.T) {
	tests := []struct {
		name string
		caps string
		m    func() interface {
			Start() (string, []byte, error)
			Next([]byte) ([]byte, error)
		}
		lines string
	}{
		{"PLAIN with SASL-IR", "SASL-IR AUTH=PLAIN", nil, `
			C: A1 AUTHENTICATE PLAIN ` + b64("\x00alice\x00pw") + `
			S: A1 OK done`},
		{"PLAIN without SASL-IR", "AUTH=PLAIN", nil, `
			C: A1 AUTHENTICATE PLAIN
			S: +
			C: ` + b64("\x00alice\x00pw") + `
			S: A1 OK done`},
		{"empty initial response with SASL-IR", "SASL-IR AUTH=EXTERNAL", nil, `
			C: A1 AUTHENTICATE EXTERNAL =
			S: A1 OK done`},
		{"empty initial response without SASL-IR", "AUTH=EXTERNAL", nil, `
			C: A1 AUTHENTICATE EXTERNAL
			S: +
			C:
			S: A1 OK done`},
		{"no initial response, SASL-IR offered", "SASL-IR AUTH=CRAM-MD5", nil, `
			C: A1 AUTHENTICATE CRAM-MD5
			S: + ` + b64("<1896.697170952@postoffice.reston.mci.net>") + `
			C: ` + b64("tim b913a602c7eda7a495b4e6e7334d3890") + `
			S: A1 OK done`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, wait := script(t, nil, "S: * OK [CAPABILITY IMAP4rev1 "+tt.caps+"] hi\n"+tt.lines+`
				C: A2 CAPABILITY
				S: * CAPABILITY IMAP4rev1
				S: A2 OK done`)
			c := mustOpen(t, conn, nil, nil)
			var err error
			switch {
			case strings.Contains(tt.caps, "PLAIN"):
				err = c.Authenticate(hangCtx(t), auth.NewPlain("", "alice", "pw"))
			case strings.Contains(tt.caps, "EXTERNAL"):
				err = c.Authenticate(hangCtx(t), auth.NewExternal(""))
			default:
				err = c.Authenticate(hangCtx(t), auth.NewCRAMMD5("tim", "tanstaaftanstaaf"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTranscriptProxyAuth(t *testing.T) {
	conn, wait := script(t, nil, `
		S: * PREAUTH [CAPABILITY IMAP4rev1] admin
		C: A1 PROXYAUTH bob
		S: A1 OK now bob
		C: A2 PROXYAUTH "no body"
		S: A2 NO [AUTHORIZATIONFAILED] not allowed
	`)
	c := mustOpen(t, conn, nil, nil)
	if err := c.ProxyAuth(hangCtx(t), "bob"); err != nil {
		t.Fatal(err)
	}
	err := c.ProxyAuth(hangCtx(t), "no body")
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Command != "PROXYAUTH" || !errors.Is(err, session.ErrNo) {
		t.Fatalf("err = %v; want an *auth.Error for PROXYAUTH", err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// Policy, with the library's defaults.

func TestPolicyCleartextRefused(t *testing.T) {
	// The script ends after the greeting: any command sent fails it.
	conn, wait := script(t, remoteServer, `
		S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=OAUTHBEARER AUTH=X-CUSTOM] hi
	`)
	c := mustOpen(t, conn, nil, nil)
	ctx := hangCtx(t)
	for name, err := range map[string]error{
		"LOGIN command":     c.Login(ctx, "alice", "pw"),
		"PLAIN":             c.Authenticate(ctx, auth.NewPlain("", "alice", "pw")),
		"LOGIN mechanism":   c.Authenticate(ctx, auth.NewLogin("alice", "pw")),
		"XOAUTH2":           c.Authenticate(ctx, auth.NewXOAuth2("alice", "tok")),
		"OAUTHBEARER":       c.Authenticate(ctx, auth.NewOAuthBearer("alice", "tok", "", 0)),
		"unknown mechanism": c.AuthenticateFunc(ctx, "X-CUSTOM", func([]byte) ([]byte, error) { return nil, nil }),
		"AuthenticateBest": func() error {
			_, err := c.AuthenticateBest(ctx, &auth.Credentials{Username: "alice", Password: "pw"})
			return err
		}(),
	} {
		if !errors.Is(err, auth.ErrInsecure) {
			t.Errorf("%s: err = %v; want ErrInsecure", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// Mechanisms that send no password are allowed on the same connection.
func TestPolicyChallengeResponseAllowed(t *testing.T) {
	conn, wait := script(t, remoteServer, `
		S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5] hi
		C: A1 AUTHENTICATE CRAM-MD5
		S: + `+b64("<1896.697170952@postoffice.reston.mci.net>")+`
		C: `+b64("tim b913a602c7eda7a495b4e6e7334d3890")+`
		S: A1 OK [CAPABILITY IMAP4rev1] done
	`)
	c := mustOpen(t, conn, nil, nil)
	name, err := c.AuthenticateBest(hangCtx(t), &auth.Credentials{Username: "tim", Password: "tanstaaftanstaaf"})
	if err != nil || name != "CRAM-MD5" {
		t.Fatalf("AuthenticateBest = %q, %v; want CRAM-MD5", name, err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyOptIn(t *testing.T) {
	conn, wait := script(t, remoteServer, `
		S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi
		C: A1 LOGIN alice "pw"
		S: A1 OK [CAPABILITY IMAP4rev1] done
	`)
	c := mustOpen(t, conn, &auth.Options{AllowInsecurePassword: true}, nil)
	if err := c.Login(hangCtx(t), "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyLoginDisabled(t *testing.T) {
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 LOGINDISABLED STARTTLS] hi
	`)
	c := mustOpen(t, conn, nil, nil)
	if err := c.Login(hangCtx(t), "alice", "pw"); !errors.Is(err, auth.ErrLoginDisabled) {
		t.Fatalf("err = %v; want ErrLoginDisabled", err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyTLSRequired(t *testing.T) {
	tests := []struct {
		name, transcript, want string
		cfg                    *tls.Config
	}{
		{"STARTTLS missing", `
			S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi`, "does not offer STARTTLS", nil},
		{"STARTTLS refused", `
			S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hi
			C: A1 STARTTLS
			S: A1 NO TLS not available`, "STARTTLS failed", &tls.Config{ServerName: "imap.example.com"}},
		// No name to verify the certificate against: STARTTLS is not
		// even sent (the session would be lost after the server's OK).
		{"no server name", `
			S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hi`, "no server name", nil},
		{"PREAUTH on plaintext", `
			S: * PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] hi`, "PREAUTH", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Even on loopback: TLS required means TLS.
			conn, wait := script(t, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143}, tt.transcript)
			c, err := open(t, conn, &auth.Options{RequireTLS: true, TLSConfig: tt.cfg}, nil)
			if !errors.Is(err, auth.ErrTLSRequired) || c != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v; want ErrTLSRequired (%s)", err, tt.want)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTranscriptEmptyInitialResponseNotSecret: the "=" of an empty initial
// response (EXTERNAL with SASL-IR) is no credential: the trace keeps every
// "=" the server sends afterwards (it showed SORT***DISPLAY).
func TestTranscriptEmptyInitialResponseNotSecret(t *testing.T) {
	conn, wait := script(t, nil, `S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=EXTERNAL] hi
		C: A1 AUTHENTICATE EXTERNAL =
		S: A1 OK done
		C: A2 CAPABILITY
		S: * CAPABILITY IMAP4rev1 SORT=DISPLAY
		S: A2 OK done`)
	var trace syncBuf
	c := mustOpen(t, conn, nil, &trace)
	if err := c.Authenticate(hangCtx(t), auth.NewExternal("")); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if got := trace.String(); !strings.Contains(got, "SORT=DISPLAY") {
		t.Errorf("trace redacts '=':\n%s", got)
	}
}

// syncBuf is a bytes.Buffer safe for the session's goroutines.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
