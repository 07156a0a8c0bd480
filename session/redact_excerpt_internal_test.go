package session

import (
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestRedactSyntaxForms: redactSyntax, comparing bytes in place, redacts
// what it did with copies: a whole secret, its quoted form, and a part of
// one (4 bytes or more) the excerpt stops or opens with.
func TestRedactSyntaxForms(t *testing.T) {
	x := &secrets{}
	x.add([]byte("hunter2-sekrit"))
	x.add([]byte("tab\there\"q"))
	for _, c := range []struct{ got, want string }{
		{`"a hunter2-sekrit"`, `"a ***"`},
		{`"xx hunter2-sek"...`, `"xx ***"...`},
		{`"er2-sekrit yy"`, `"*** yy"`},
		{`"tab\there\"q z"`, `"*** z"`},
		{`"nothing of note"...`, `"nothing of note"...`},
		{`"hunt"`, `"***"`},
		{`"ter2-sek"...`, `"***"...`}, // inside the secret
		{`EOF`, `EOF`},
	} {
		se := &wire.SyntaxError{Expected: "SP", Got: c.got}
		x.redactSyntax(se)
		if se.Got != c.want {
			t.Errorf("redactSyntax(%s) = %s, want %s", c.got, se.Got, c.want)
		}
	}
}
