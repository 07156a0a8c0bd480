package codec_test

// Review round 41: Address.String quotes a local part that is not a
// dot-atom and makes a host that is neither a dot-atom nor a domain
// literal one, so that the string is one address in a header.

import (
	"net/mail"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestReview41EAddressStringLocalPartSpecials: Address.String ("the
// address as in a header"; 9d5b75e/5fde386 made it safe to build a header
// line from) wrote the mailbox (local part) and host bare. A sender's
// quoted local part holding "<", ">" and "," (Dovecot's envelope gives it
// unquoted, see commands' TestReview41EAddressStringLocalPartSpecials)
// turned the one address of From: into three in a reply's To: built from
// String.
func TestReview41EAddressStringLocalPartSpecials(t *testing.T) {
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

// TestReview41EAddressStringRoundTrip: net/mail reads String's output back
// as exactly one address with the same name and local part; the host is
// the same when it was a dot-atom, and the "?" form (printed) otherwise.
// Plain addresses come out byte for byte as before.
func TestReview41EAddressStringRoundTrip(t *testing.T) {
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

// TestReview41EAddressStringEmptyLocalPart: an empty local part is an
// empty quoted-string (RFC 5322 allows it; net/mail does not read it, nor
// the "@example.org" String gave before).
func TestReview41EAddressStringEmptyLocalPart(t *testing.T) {
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
