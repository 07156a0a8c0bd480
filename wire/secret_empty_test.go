package wire_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestSecretsListNoEmptyValue: an empty value written as a secret (a
// LiteralReader of size 0, an empty string or literal inside Secret,
// Password of "") was listed by Encoded.Secrets as "", which a client
// replacing each listed value by "***" would put between every two bytes.
// No empty value is listed; a LiteralReader of size 0 streams nothing and
// is no SecretBody, one of size 1 is; the values around an empty literal
// are listed apart.
func TestSecretsListNoEmptyValue(t *testing.T) {
	cases := []struct {
		name    string
		f       func(e *wire.Encoder)
		secrets []string
		body    bool
	}{
		{"LiteralReader 0", func(e *wire.Encoder) { e.Secret(func(e *wire.Encoder) { e.LiteralReader(0, nil, false) }) }, nil, false},
		{"LiteralReader 1", func(e *wire.Encoder) {
			e.Secret(func(e *wire.Encoder) { e.LiteralReader(1, strings.NewReader("x"), false) })
		}, nil, true},
		{"around LiteralReader 0", func(e *wire.Encoder) {
			e.Secret(func(e *wire.Encoder) { e.Atom("tok1").SP().LiteralReader(0, nil, false).SP().Atom("tok2") })
		}, []string{"tok1", "tok2"}, false},
		{"String empty", func(e *wire.Encoder) { e.Secret(func(e *wire.Encoder) { e.String("") }) }, nil, false},
		{"Literal empty", func(e *wire.Encoder) { e.Secret(func(e *wire.Encoder) { e.Literal(nil) }) }, nil, false},
		{"Password empty", func(e *wire.Encoder) { e.Password("") }, nil, false},
		{"PasswordBytes empty", func(e *wire.Encoder) { e.PasswordBytes([]byte{}) }, nil, false},
	}
	for _, c := range cases {
		var e wire.Encoder
		e.Begin("a1").SP().Atom("AUTHENTICATE").SP().Atom("X").SP()
		c.f(&e)
		wc, err := e.End()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := wc.Secrets(); strings.Join(got, "|") != strings.Join(c.secrets, "|") || len(got) != len(c.secrets) {
			t.Errorf("%s: Secrets() = %q, want %q", c.name, got, c.secrets)
		}
		if wc.SecretBody() != c.body {
			t.Errorf("%s: SecretBody() = %v, want %v", c.name, wc.SecretBody(), c.body)
		}
		if red := string(wc.AppendRedacted(nil)); !strings.HasPrefix(red, "a1 AUTHENTICATE X ***") {
			t.Errorf("%s: AppendRedacted = %q", c.name, red)
		}
	}
}
