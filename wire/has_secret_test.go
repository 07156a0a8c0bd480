package wire_test

import (
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestHasSecretEmptyPassword: HasSecret tells a command written with the
// Encoder's secret methods from one written without them, even when
// Secrets lists nothing (Password of ""), which is how the session tells
// a LOGIN with Password("") from a raw LOGIN.
func TestHasSecretEmptyPassword(t *testing.T) {
	cases := []struct {
		name string
		f    func(e *wire.Encoder)
		want bool
	}{
		{"Password empty", func(e *wire.Encoder) { e.SP().Password("") }, true},
		{"PasswordBytes empty", func(e *wire.Encoder) { e.SP().PasswordBytes(nil) }, true},
		{"Secret of an empty string", func(e *wire.Encoder) { e.SP().Secret(func(e *wire.Encoder) { e.String("") }) }, true},
		{"Password", func(e *wire.Encoder) { e.SP().Password("pw") }, true},
		{"raw", func(e *wire.Encoder) { e.SP().AString("pw") }, false},
	}
	var e wire.Encoder
	for _, c := range cases {
		e.Begin("a1").SP().Atom("LOGIN").SP().AString("alice")
		c.f(&e)
		wc, err := e.End()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := wc.HasSecret(); got != c.want {
			t.Errorf("%s: HasSecret() = %v, want %v (Secrets %q)", c.name, got, c.want, wc.Secrets())
		}
	}
}
