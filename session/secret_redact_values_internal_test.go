package session

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/wire"
)

// TestSecretRedactsValuesNotLiteralHeaders: what a session redacts from the
// server's text is what wire.Encoded.Secrets lists. Inside
// wire.Encoder.Secret: (1) a LiteralReader of size 0 is not cut out, so
// "tok {0+}" is remembered, not "tok": a server echoing the token is not
// redacted (and "... {0+}" would be); (2) a LiteralFunc is not cut either:
// "tok1  tok2" is remembered, neither token; (3) a password that needs a
// literal (8-bit, not UTF-8) is remembered with its header, "{6+}\r\np\xe4sswd",
// so a NO echoing the password shows it. Found by review (stop 53); (3) is
// older (c282439 too). Defaults; a bubble.
func TestSecretRedactsValuesNotLiteralHeaders(t *testing.T) {
	open := func() (io.Reader, int64, error) { return strings.NewReader("body!"), 5, nil }
	for _, tc := range []struct {
		name   string
		args   func(e *wire.Encoder)
		secret []string // each must be redacted
	}{
		{"EmptyReader", func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) { e.Atom("tok").SP().LiteralReader(0, strings.NewReader(""), false) })
		}, []string{"tok"}},
		{"AroundFunc", func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) { e.Atom("tok1").SP().LiteralFunc(open, false).SP().Atom("tok2") })
		}, []string{"tok1", "tok2"}},
		{"PasswordLiteral", func(e *wire.Encoder) {
			e.SP().AString("user").SP().Secret(func(e *wire.Encoder) { e.Password("p\xe4sswd") })
		}, []string{"p\xe4sswd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := pumpTestSession(t)
				if _, err := s.Run(context.Background(), &Command{Name: "XBLOB", Args: tc.args}); err != nil {
					t.Fatal(err)
				}
				for _, sec := range tc.secret {
					text := []byte("NO echo " + sec + " here")
					if got := s.secrets.redact(text); bytes.Contains(got, []byte(sec)) {
						t.Errorf("server text %q redacted to %q: the secret %q shows", text, got, sec)
					}
				}
			})
		})
	}
}
