package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestSetACLRightsRefused: SETACL's rights are right letters and digits
// (RFC 4314 section 2.1), with a leading "+" or "-". Others, a line feed
// say, went out (in a literal) and Dovecot echoed them raw in its BAD,
// whose line the client could not decode; now they are refused before
// anything is sent, and the session goes on.
func TestSetACLRightsRefused(t *testing.T) {
	c, srv, ctx := zzClient(t, "ACL", true)
	for _, rights := range []string{"l\nr", "l\r\nr", "l r", "l\x00r", "+-l", "lr\u00e9", "l(r"} {
		zzRefused(t, srv, "SetACL rights "+rights, func() error { return c.SetACL(ctx, "INBOX", testserver.Bob, rights) })
	}
	for _, rights := range []string{"lr", "+lrs", "-x", "lrswipkxtea", "lrcd0", ""} {
		if err := c.SetACL(ctx, "INBOX", testserver.Bob, rights); err != nil {
			t.Errorf("SetACL(%q): %v", rights, err)
		}
	}
}
