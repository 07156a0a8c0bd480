package codec_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestReview40DGroupNameDecoded: a group's display name is a phrase and may
// hold RFC 2047 encoded-words (RFC 2047 section 5 (3)), as in
// "To: =?utf-8?q?Empf=C3=A4nger?=: a@b, c@d;". In an ENVELOPE the group
// start carries it in the mailbox field (Dovecot and Cyrus send it as
// written), and Address.String, which decodes a display name, prints it
// raw: "=?utf-8?q?Empf=C3=A4nger?=:". No method of Address decodes it
// (DecodedName reads the NIL name).
func TestReview40DGroupNameDecoded(t *testing.T) {
	a := codec.Address{Mailbox: codec.Bytes("=?utf-8?q?Empf=C3=A4nger?="), Host: nil}
	if !a.IsGroupStart() {
		t.Fatal("not a group start")
	}
	if got, want := a.String(), "Empfänger:"; got != want {
		t.Fatalf("group start String() = %q; want %q", got, want)
	}
}

// TestReview40DAddressStringSplitsHeader: Address.String "returns the address
// as in a header", decoding the display name; an encoded-word holding
// CR LF (=0D=0A) comes out as a raw line break, so a header built from
// it ("To: " + a.String(), a reply) gains a header line of the sender's
// choosing ("Bcc: ..."). Go's net/mail Address.String encodes such a name
// as an encoded-word instead.
func TestReview40DAddressStringSplitsHeader(t *testing.T) {
	a := codec.Address{Name: codec.Bytes("=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?="), Mailbox: codec.Bytes("eve"), Host: codec.Bytes("example.com")}
	if s := a.String(); strings.ContainsAny(s, "\r\n") {
		t.Fatalf("Address.String() = %q: a line break in a header value", s)
	}
}

// TestReview40DAddressStringControls: a CR LF, a NUL or a tab that a
// hostile server puts in the mailbox or host part (as a literal) or in a
// group's name does not come out either; plain addresses are unchanged.
func TestReview40DAddressStringControls(t *testing.T) {
	for _, tc := range []struct {
		a    codec.Address
		want string
	}{
		// Since round 41 the local part is quoted when it is not a
		// dot-atom, and a host that is not one has "?" for what cannot
		// stand in it (TestReview41EAddressStringRoundTrip).
		{codec.Address{Mailbox: codec.Bytes("eve\r\nBcc: x"), Host: codec.Bytes("example.com")}, `"eve  Bcc: x"@example.com`},
		{codec.Address{Mailbox: codec.Bytes("eve"), Host: codec.Bytes("ex\x00ample.com\t")}, "eve@ex?ample.com?"},
		{codec.Address{Mailbox: codec.Bytes("=?utf-8?q?a=0Db?=")}, "a b:"},
		{codec.Address{Name: codec.Bytes("Ann Lee"), Mailbox: codec.Bytes("ann"), Host: codec.Bytes("example.com")}, "Ann Lee <ann@example.com>"},
		{codec.Address{Name: codec.Bytes("=?utf-8?q?Gr=C3=BC=C3=9Fe?="), Mailbox: codec.Bytes("g"), Host: codec.Bytes("h")}, "Grüße <g@h>"},
		{codec.Address{Mailbox: codec.Bytes("Team.A")}, `"Team.A":`},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%q/%q/%q: String() = %q, want %q", tc.a.Name, tc.a.Mailbox, tc.a.Host, got, tc.want)
		}
	}
}

// TestReview40ECharsetAliases: charset names that Python's email package
// and Microsoft's mailers write, unknown to the Encoding Standard and
// IANA, decode as the charset they name.
func TestReview40ECharsetAliases(t *testing.T) {
	for _, tc := range []struct{ word, want string }{
		{"=?latin-1?q?caf=E9?=", "café"},
		{"=?cp932?b?k/qWe4zq?=", "日本語"},
		{"=?eucjp?b?xvzL3Ljs?=", "日本語"},
		{"=?cp949?b?x9Gx27ChIA==?=", "한글가 "},
		{"=?koi8r?b?8NLJ18XU?=", "Привет"},
		{"=?KOI8_R?b?8NLJ18XU?=", "Привет"},
	} {
		got, err := codec.DecodeHeader(codec.Bytes(tc.word))
		if err != nil || got != tc.want {
			t.Errorf("DecodeHeader(%s) = %q, %v; want %q", tc.word, got, err, tc.want)
		}
	}
}
