package session

import (
	"testing"
	"unsafe"

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
		{`EOF`, `EOF`},
	} {
		se := &wire.SyntaxError{Expected: "SP", Got: c.got}
		x.redactSyntax(se)
		if se.Got != c.want {
			t.Errorf("redactSyntax(%s) = %s, want %s", c.got, se.Got, c.want)
		}
	}
}

// TestRedactionQuotedFormsZeroed: the quoted form of a secret that add
// keeps for redactSyntax is zeroed with the secret, when it is dropped for
// a seventeenth and when the session forgets them all.
func TestRedactionQuotedFormsZeroed(t *testing.T) {
	x := &secrets{}
	x.add([]byte("first\tsecret\"1"))
	q := x.quoted[0]
	if q == nil {
		t.Fatal("no quoted form kept for a secret with escapes")
	}
	first := unsafe.Slice(unsafe.SliceData(q), cap(q))
	for i := range maxSecrets {
		x.add([]byte{'s', '\t', byte('a' + i), 'x', 'y'})
	}
	if string(first) != string(make([]byte, len(first))) {
		t.Errorf("quoted form of a dropped secret left as %q", first)
	}
	q = x.quoted[len(x.quoted)-1]
	last := unsafe.Slice(unsafe.SliceData(q), cap(q))
	x.forget()
	if string(last) != string(make([]byte, len(last))) {
		t.Errorf("quoted form left as %q after forget", last)
	}
}
