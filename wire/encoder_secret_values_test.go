package wire_test

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestSecretEmptyStreamedLiteralHeaderNotListed: Secret's doc says what f
// writes is listed by Secrets "but for the headers of streamed literals
// (LiteralReader, LiteralFunc)". A LiteralReader of size 0 inside Secret
// (an empty SASL response streamed, say) writes its header "{0+}" into the
// buffer but no Part with a Body, so addRawSecrets does not cut there and
// Secrets lists "{0+}" ("{0}" without LITERAL+): a session redacts every
// "{0}" from what the server sends (its trace, its texts), the accident
// the header cut was made to avoid. Found by review.
func TestSecretEmptyStreamedLiteralHeaderNotListed(t *testing.T) {
	for _, plus := range []bool{true, false} {
		e := wire.NewEncoder(&wire.EncoderOptions{LiteralPlus: plus})
		e.Begin("A1").SP().Atom("XBLOB").SP().Secret(func(e *wire.Encoder) {
			e.Atom("tok").SP().LiteralReader(0, strings.NewReader(""), false)
		})
		c, err := e.End()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"tok"}; !slices.Equal(c.Secrets(), want) {
			t.Errorf("LiteralPlus %v: Secrets() = %q, want %q (a literal header is no secret)", plus, c.Secrets(), want)
		}
	}
}

// TestSecretAroundLiteralFuncListedApart: a LiteralFunc inside Secret
// writes nothing into the buffer (its header is rendered by WriteTo), so
// addRawSecrets, which cuts only at Parts with a Body (LiteralReader),
// lists what Secret wrote before and after it as one value, "tok1  tok2",
// which a server never echoes: a server echoing "tok1" is not redacted,
// where the same command with LiteralReader lists "tok1" and "tok2"
// (TestSecretStreamedLiteralSecretBody/Reader8AfterAtom). Found by review.
func TestSecretAroundLiteralFuncListedApart(t *testing.T) {
	open := func() (io.Reader, int64, error) { return strings.NewReader("hello"), 5, nil }
	e := wire.NewEncoder(&wire.EncoderOptions{LiteralPlus: true})
	e.Begin("A1").SP().Atom("XBLOB").SP().Secret(func(e *wire.Encoder) {
		e.Atom("tok1").SP().LiteralFunc(open, false).SP().Atom("tok2")
	})
	c, err := e.End()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tok1", "tok2"}; !slices.Equal(c.Secrets(), want) {
		t.Errorf("Secrets() = %q, want %q", c.Secrets(), want)
	}
}

// TestSecretInMemoryLiteralListedWithoutHeader: a value inside Secret that
// needs a literal (a password or token longer than MaxQuoted, with 8-bit
// bytes outside UTF8 mode, or CR/LF: Password, String, Literal) is listed
// by Secrets with its literal header in front ("{7+}\r\npässwd"), a
// string no server echoes: a server that echoes the password in a NO text
// is not redacted, where Password outside Secret lists the value itself.
// (Older than stop 53: c282439 lists the same.) Found by review.
func TestSecretInMemoryLiteralListedWithoutHeader(t *testing.T) {
	const pw = "p\xe4sswd" // Latin-1, not UTF-8: a literal
	e := wire.NewEncoder(&wire.EncoderOptions{LiteralPlus: true})
	e.Begin("A1").SP().Atom("LOGIN").SP().AString("user").SP().Secret(func(e *wire.Encoder) {
		e.Password(pw)
	})
	c, err := e.End()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.Secrets(), pw) {
		t.Errorf("Secrets() = %q, want it to hold %q (as Password outside Secret lists it)", c.Secrets(), pw)
	}
}
