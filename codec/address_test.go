package codec_test

// Address.String quotes a local part that is not a dot-atom and makes a
// host that is neither a dot-atom nor a domain literal one, so that the
// string is one address in a header.

import (
	"net/mail"
	"strings"
	"testing"
	"unicode"

	"github.com/imapkit/imapkit/codec"
)

// TestAddressGroupNameDecoded: a group's display name is a phrase and may
// hold RFC 2047 encoded-words (RFC 2047 section 5 (3)), as in
// "To: =?utf-8?q?Empf=C3=A4nger?=: a@b, c@d;". In an ENVELOPE the group
// start carries it in the mailbox field (Dovecot and Cyrus send it as
// written), and Address.String, which decodes a display name, prints it
// raw: "=?utf-8?q?Empf=C3=A4nger?=:". No method of Address decodes it
// (DecodedName reads the NIL name).
func TestAddressGroupNameDecoded(t *testing.T) {
	a := codec.Address{Mailbox: codec.Bytes("=?utf-8?q?Empf=C3=A4nger?="), Host: nil}
	if !a.IsGroupStart() {
		t.Fatal("not a group start")
	}
	if got, want := a.String(), "Empfänger:"; got != want {
		t.Fatalf("group start String() = %q; want %q", got, want)
	}
}

// TestAddressStringSplitsHeader: Address.String "returns the address
// as in a header", decoding the display name; an encoded-word holding
// CR LF (=0D=0A) comes out as a raw line break, so a header built from
// it ("To: " + a.String(), a reply) gains a header line of the sender's
// choosing ("Bcc: ..."). Go's net/mail Address.String encodes such a name
// as an encoded-word instead.
func TestAddressStringSplitsHeader(t *testing.T) {
	a := codec.Address{Name: codec.Bytes("=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?="), Mailbox: codec.Bytes("eve"), Host: codec.Bytes("example.com")}
	if s := a.String(); strings.ContainsAny(s, "\r\n") {
		t.Fatalf("Address.String() = %q: a line break in a header value", s)
	}
}

// TestAddressStringControls: a CR LF, a NUL or a tab that a
// hostile server puts in the mailbox or host part (as a literal) or in a
// group's name does not come out either; plain addresses are unchanged.
func TestAddressStringControls(t *testing.T) {
	for _, tc := range []struct {
		a    codec.Address
		want string
	}{
		// Since round 41 the local part is quoted when it is not a
		// dot-atom, and a host that is not one has "?" for what cannot
		// stand in it (TestAddressStringRoundTrip).
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

// TestAddressStringC1Controls: Address.String's doc says control
// characters come out as spaces, but noCTL (codec/message_methods.go)
// replaces ASCII controls and DEL only: a decoded display name keeps the C1
// controls (U+0085 NEL, U+009B CSI) and U+2028/U+2029, which
// str.splitlines-based consumers take for line breaks and terminals for
// escapes.
func TestAddressStringC1Controls(t *testing.T) {
	for _, name := range []string{
		"=?utf-8?q?Eve=C2=85Bcc:_victim@example.org?=",
		"=?utf-8?q?Eve=E2=80=A8Bcc:_victim@example.org?=",
		"=?utf-8?q?Eve=C2=9B31m?=",
	} {
		a := codec.Address{Name: codec.Bytes(name), Mailbox: codec.Bytes("eve"), Host: codec.Bytes("example.com")}
		s := a.String()
		if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }); i >= 0 {
			t.Errorf("%s: String() = %q keeps a control or line-separator character at %d", name, s, i)
		}
	}
}

// TestAddressStringLocalPartSpecials: Address.String ("the
// address as in a header"; 9d5b75e/5fde386 made it safe to build a header
// line from) wrote the mailbox (local part) and host bare. A sender's
// quoted local part holding "<", ">" and "," (Dovecot's envelope gives it
// unquoted, see commands' TestAddressStringLocalPartSpecials)
// turned the one address of From: into three in a reply's To: built from
// String.
func TestAddressStringLocalPartSpecials(t *testing.T) {
	for _, a := range []codec.Address{
		{Name: codec.Bytes("Bob"), Mailbox: codec.Bytes("bob@example.org>, <mallory@evil.example>, <x"), Host: codec.Bytes("example.org")},
		{Mailbox: codec.Bytes("bob"), Host: codec.Bytes("example.org, mallory@evil.example")},
	} {
		s := a.String()
		list, err := mail.ParseAddressList(s)
		if err != nil || len(list) != 1 {
			t.Errorf("address (mailbox %q, host %q) prints as %q, which a header reader takes for %d addresses %v (%v); want one", a.Mailbox, a.Host, s, len(list), list, err)
		}
	}
}

// TestAddressStringRoundTrip: net/mail reads String's output back
// as exactly one address with the same name and local part; the host is
// the same when it was a dot-atom, and the "?" form (printed) otherwise.
// Plain addresses come out byte for byte as before.
func TestAddressStringRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name, mailbox, host string
		want                string // String(); "" for no check of the form
		wantHost            string // the host net/mail reads; "" for host
	}{
		{"", "bob", "example.org", "bob@example.org", ""},
		{"Bob Smith", "bob.smith", "example.org", "Bob Smith <bob.smith@example.org>", ""},
		{"", "a+tag!#$%&'*/=?^_`{|}~-", "sub.example.org", "a+tag!#$%&'*/=?^_`{|}~-@sub.example.org", ""},
		{"", "jürgen", "bücher.example", "jürgen@bücher.example", ""},
		{"Bob", "bob@example.org>, <mallory@evil.example>, <x", "example.org", `Bob <"bob@example.org>, <mallory@evil.example>, <x"@example.org>`, ""},
		{"", `a"b\c`, "example.org", `"a\"b\\c"@example.org`, ""},
		{"", "john..doe", "example.org", `"john..doe"@example.org`, ""},
		{"", ".bob", "example.org", `".bob"@example.org`, ""},
		{"", "bob.", "example.org", `"bob."@example.org`, ""},
		{"", "a b", "example.org", `"a b"@example.org`, ""},
		{"", "x", "example.org, mallory@evil.example", "x@example.org??mallory?evil.example", "example.org??mallory?evil.example"},
		{"", "x", "evil>, <y@z", "x@evil????y?z", "evil????y?z"},
		{"", "x", "a..b.", "x@a.?b?", "a.?b?"},
		{"", "x", "[192.0.2.1]", "x@[192.0.2.1]", ""},
		{"", "x", "[192.0.2.1], y@[192.0.2.2]", "x@?192.0.2.1???y??192.0.2.2?", "?192.0.2.1???y??192.0.2.2?"},
		{"", "bo\r\nb", "exa\r\nmple.org", `"bo  b"@exa??mple.org`, "exa??mple.org"},
		{"", "bo\u0085b", "exa\u2028mple.org", `"bo b"@exa?mple.org`, "exa?mple.org"},
	} {
		a := codec.Address{Mailbox: codec.Bytes(c.mailbox), Host: codec.Bytes(c.host)}
		if c.name != "" {
			a.Name = codec.Bytes(c.name)
		}
		s := a.String()
		if c.want != "" && s != c.want {
			t.Errorf("(%q, %q, %q).String() = %q; want %q", c.name, c.mailbox, c.host, s, c.want)
		}
		list, err := mail.ParseAddressList(s)
		if err != nil || len(list) != 1 {
			t.Errorf("%q: net/mail reads %d addresses %v (%v); want one", s, len(list), list, err)
			continue
		}
		host := c.host
		if c.wantHost != "" {
			host = c.wantHost
		}
		mailbox := noCtlForTest(c.mailbox)
		if got := list[0]; got.Name != c.name || got.Address != mailbox+"@"+host {
			t.Errorf("%q: net/mail reads name %q address %q; want %q and %q", s, got.Name, got.Address, c.name, mailbox+"@"+host)
		}
	}
}

// TestAddressStringEmptyLocalPart: an empty local part is an
// empty quoted-string (RFC 5322 allows it; net/mail does not read it, nor
// the "@example.org" String gave before).
func TestAddressStringEmptyLocalPart(t *testing.T) {
	a := codec.Address{Mailbox: codec.Bytes{}, Host: codec.Bytes("example.org")}
	if s := a.String(); s != `""@example.org` {
		t.Errorf("String() = %q; want %q", s, `""@example.org`)
	}
}

// noCtlForTest is what String makes of a local part's control
// characters: spaces.
func noCtlForTest(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}

// TestAddressEmptyHost: an ENVELOPE address whose host is the
// empty string (not NIL, which marks a group) is an unqualified address,
// "To: bob" as a local mailer writes it: String gave "bob@", which reads
// as an address cut short. It gives the mailbox alone, and a quoted local
// part stays quoted (one address).
func TestAddressEmptyHost(t *testing.T) {
	for _, tt := range []struct {
		a    codec.Address
		want string
	}{
		{codec.Address{Mailbox: codec.Bytes("bob"), Host: codec.Bytes("")}, "bob"},
		{codec.Address{Name: codec.Bytes("Bob"), Mailbox: codec.Bytes("bob"), Host: codec.Bytes("")}, "Bob <bob>"},
		{codec.Address{Mailbox: codec.Bytes("a>, <b@evil.example"), Host: codec.Bytes("")}, `"a>, <b@evil.example"`},
		{codec.Address{Mailbox: codec.Bytes("bob"), Host: codec.Bytes("example.com")}, "bob@example.com"},
	} {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v: String() = %q; want %q", tt.a, got, tt.want)
		}
	}
}
