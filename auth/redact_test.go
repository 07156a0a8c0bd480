package auth_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/auth"
)

// The tests of this file come from a security audit (2026-12-04): a
// server getting a credential, or terminal escapes, into an auth error or
// a trace. Each failed before its fix; its comment says what the bug was.

// TestRedactAuthenticateFuncEcho: AuthenticateFunc (imaplib's
// authenticate(mech, authobject)) sends the callback's answers; the
// session learns only their base64 form (Pending.Continue), and funcClient
// gives it no secrets (auth/client.go:164 looks for secrets(), which
// funcClient lacks). A server that echoes the decoded answer, the password,
// gets it into the error and the trace; with NewLogin the same exchange
// is redacted.
func TestRedactAuthenticateFuncEcho(t *testing.T) {
	const pass = "hunter2-SECRET"
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 AUTH=LOGIN] hi
		C: A1 AUTHENTICATE LOGIN
		S: + `+b64("Username:")+`
		C: `+b64("alice")+`
		S: + `+b64("Password:")+`
		C: `+b64(pass)+`
		S: A1 NO [AUTHENTICATIONFAILED] wrong password `+pass+`
	`)
	var mu sync.Mutex
	var trace bytes.Buffer
	c := mustOpen(t, conn, nil, writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return trace.Write(p)
	}))
	err := c.AuthenticateFunc(hangCtx(t), "LOGIN", func(ch []byte) ([]byte, error) {
		if strings.HasPrefix(string(ch), "User") {
			return []byte("alice"), nil
		}
		return []byte(pass), nil
	})
	if err == nil {
		t.Fatal("AUTHENTICATE succeeded")
	}
	if werr := wait(); werr != nil {
		t.Fatal(werr)
	}
	if strings.Contains(err.Error(), pass) {
		t.Errorf("the error holds the password: %q", err.Error())
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(trace.String(), pass) {
		t.Errorf("the trace holds the password:\n%s", trace.String())
	}
}

// TestRedactOAuthErrorEscapes: the JSON error challenge of XOAUTH2 is the
// server's; OAuthError.Error (auth/errors.go:128-137) writes its status
// and scope raw, and auth.Error.Error appends it: JSON's \u001b becomes a
// raw ESC in the error. The server may also echo the token there, and
// redactError redacts Status.Text only.
func TestRedactOAuthErrorEscapes(t *testing.T) {
	const token = "ya29.secret-token"
	errJSON := `{"status":"401 \u001b[2J\u001b]0;owned\u0007","schemes":"bearer","scope":"` + token + `"}`
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi
		C: A1 AUTHENTICATE XOAUTH2 `+b64("user=alice@example.com\x01auth=Bearer "+token+"\x01\x01")+`
		S: + `+b64(errJSON)+`
		C:
		S: A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)
	`)
	c := mustOpen(t, conn, nil, nil)
	err := c.Authenticate(hangCtx(t), auth.NewXOAuth2("alice@example.com", token))
	if err == nil {
		t.Fatal("AUTHENTICATE succeeded")
	}
	if werr := wait(); werr != nil {
		t.Fatal(werr)
	}
	if strings.ContainsAny(err.Error(), "\x1b\x07") {
		t.Errorf("the error holds raw control bytes: %q", err.Error())
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the error holds the token: %q", err.Error())
	}
}

// TestRedactLoginCodeEcho: a NO to LOGIN whose response code is the
// password: auth.Error.Error writes the code's name as it is
// (auth/errors.go:64), unredacted, though the type "never holds
// credentials".
func TestRedactLoginCodeEcho(t *testing.T) {
	const pass = "hunter2-SECRET"
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1] hi
		C: A1 LOGIN alice "`+pass+`"
		S: A1 NO [`+pass+`] wrong password
	`)
	c := mustOpen(t, conn, nil, nil)
	err := c.Login(hangCtx(t), "alice", pass)
	if err == nil {
		t.Fatal("LOGIN succeeded")
	}
	if werr := wait(); werr != nil {
		t.Fatal(werr)
	}
	if strings.Contains(err.Error(), pass) {
		t.Errorf("the error holds the password: %q", err.Error())
	}
}
