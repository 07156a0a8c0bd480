package codec_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestReview45CAddressEmptyHost: an ENVELOPE address whose host is the
// empty string (not NIL, which marks a group) is an unqualified address,
// "To: bob" as a local mailer writes it: String gave "bob@", which reads
// as an address cut short. It gives the mailbox alone, and a quoted local
// part stays quoted (one address).
func TestReview45CAddressEmptyHost(t *testing.T) {
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
