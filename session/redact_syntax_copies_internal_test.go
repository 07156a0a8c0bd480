package session

import (
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestRedactSyntaxCopiesNoSecret: redactSyntax, run on every syntax error
// the reader meets while a credential is remembered, builds a string copy
// of each remembered secret and its quoted form (string(sec),
// strconv.Quote) on every call, whether or not the excerpt holds it: copies
// of the passwords handed to the garbage collector unzeroed, against
// docs/security.md ("A secret goes into it without a temporary copy", and
// a password is not left in memory the session hands to the collector).
// With an excerpt that holds no secret there is nothing to replace, and
// the only memory such a call could allocate is such a copy.
func TestRedactSyntaxCopiesNoSecret(t *testing.T) {
	x := &secrets{}
	x.add([]byte("hunter2-sekrit"))
	x.add([]byte("a-rather-long-password-of-forty-bytes-xx"))
	se := &wire.SyntaxError{Expected: "SP", Got: `"nothing of note"...`}
	var err error = se
	allocs := testing.AllocsPerRun(50, func() { x.redactSyntax(err) })
	if se.Got != `"nothing of note"...` {
		t.Fatalf("Got changed to %q", se.Got)
	}
	if allocs > 0 {
		t.Errorf("redactSyntax of an excerpt holding no secret allocated %v times a call: copies of the remembered secrets (string(sec), strconv.Quote), let go unzeroed", allocs)
	}
}
