package wire_test

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestSecretStreamedLiteralSecretBody: a literal streamed by LiteralReader
// or LiteralFunc inside Secret left no trace a client could see: the body
// is not in the Encoder's buffer, so Secrets listed nothing of it (for
// LiteralFunc, nothing at all), and a client that zeroes what a secret
// went through took such a command for an ordinary one. SecretBody tells
// it now, and the streamed literal's header ("{5+}"), no secret, is not in
// Secrets either: a client redacting Secrets from what the server sends
// would have hidden every "{5+}" (found by review).
func TestSecretStreamedLiteralSecretBody(t *testing.T) {
	open := func() (io.Reader, int64, error) { return strings.NewReader("hello"), 5, nil }
	for _, tc := range []struct {
		name    string
		plus    bool
		args    func(e *wire.Encoder)
		body    bool
		secrets []string
	}{
		{"ReaderNonSync", true, func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) { e.LiteralReader(5, strings.NewReader("hello"), false) })
		}, true, nil},
		{"ReaderSync", false, func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) { e.LiteralReader(5, strings.NewReader("hello"), false) })
		}, true, nil},
		{"Reader8AfterAtom", true, func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) {
				e.Atom("tok1").SP().LiteralReader(5, strings.NewReader("hello"), true).SP().Atom("tok2")
			})
		}, true, []string{"tok1", "tok2"}},
		{"Func", true, func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) { e.LiteralFunc(open, false) })
		}, true, nil},
		{"ReaderOutside", true, func(e *wire.Encoder) {
			e.SP().Password("pw").SP().LiteralReader(5, strings.NewReader("hello"), false)
		}, false, []string{"pw"}},
		{"FuncOutside", true, func(e *wire.Encoder) { e.SP().LiteralFunc(open, false) }, false, nil},
		{"InMemory", true, func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) { e.Atom("abc") })
		}, false, []string{"abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := wire.NewEncoder(&wire.EncoderOptions{LiteralPlus: tc.plus})
			e.Begin("A1").SP().Atom("XBLOB")
			tc.args(e)
			c, err := e.End()
			if err != nil {
				t.Fatal(err)
			}
			if c.SecretBody() != tc.body {
				t.Errorf("SecretBody() = %v, want %v", c.SecretBody(), tc.body)
			}
			if !slices.Equal(c.Secrets(), tc.secrets) {
				t.Errorf("Secrets() = %q, want %q", c.Secrets(), tc.secrets)
			}
			// The next command starts afresh.
			if c, _ := e.Begin("A2").SP().Atom("NOOP").End(); c.SecretBody() {
				t.Error("SecretBody() still true for the next command")
			}
		})
	}
}
