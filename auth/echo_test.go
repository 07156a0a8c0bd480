package auth_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/auth"
)

// TestEchoedPasswordNotInErrors: a server that echoes the password (raw,
// not only the base64 payload that carried it) and terminal escapes in its
// refusal of LOGIN and AUTHENTICATE PLAIN: the *auth.Error may hold
// neither the password nor raw control bytes (docs/security.md). Both
// used to: Error printed the status text raw, and only the base64 payload
// was redacted.
func TestEchoedPasswordNotInErrors(t *testing.T) {
	const pass = "hunter2-SECRET"
	conn, wait := script(t, nil, `
		S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi
		C: A1 AUTHENTICATE PLAIN `+b64("\x00alice\x00"+pass)+`
		S: A1 NO [AUTHENTICATIONFAILED] wrong password `+pass+` for alice `+b64("\x00alice\x00"+pass)+"\x1b[2J\x07"+`
		C: A2 LOGIN alice "`+pass+`"
		S: A2 NO [AUTHENTICATIONFAILED] wrong password `+pass+"\x1b]0;owned\x07"+`
	`)
	var mu sync.Mutex
	var trace bytes.Buffer
	c := mustOpen(t, conn, nil, writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return trace.Write(p)
	}))
	clean := func(what, s string) {
		t.Helper()
		if strings.Contains(s, pass) || strings.Contains(s, b64("\x00alice\x00"+pass)) {
			t.Errorf("%s holds the password: %q", what, s)
		}
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("%s holds raw control bytes: %q", what, s)
		}
	}
	err := c.Authenticate(hangCtx(t), auth.NewPlain("", "alice", pass))
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("PLAIN refused: %v; want an *auth.Error", err)
	}
	clean("the PLAIN error", err.Error())
	err = c.Login(hangCtx(t), "alice", pass)
	if !errors.As(err, &ae) {
		t.Fatalf("LOGIN refused: %v; want an *auth.Error (script: %v)", err, wait())
	}
	clean("the LOGIN error", err.Error())
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	// The trace: no raw control bytes, neither the LOGIN password nor the
	// PLAIN payload, nor the raw password a server echoes after
	// AUTHENTICATE PLAIN: the mechanism's secrets are given to the session
	// (Session.AddSecret), which knows only the base64 payload it sent.
	mu.Lock()
	defer mu.Unlock()
	clean("the trace", trace.String())
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
