package commands_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestUnauthenticateForgetsKeptResponses: UNAUTHENTICATE (RFC 8437)
// ends one user's session so that the connection serves another (a
// pool, a proxy). What the session kept for Session.Responses
// (imaplib's response(code)) from the first user's commands, an ALERT
// naming their mailbox, the EXISTS of their INBOX, is still handed out
// after it, to whoever logs in next: a transition to NONAUTH clears
// the selection and what ENABLE turned on (session/read.go transition,
// case ToNonAuth) but not the kept responses, as a SELECT does
// (session/write.go, clearStoreLocked).
func TestUnauthenticateForgetsKeptResponses(t *testing.T) {
	c, srv, ctx := zzSelected(t, "UNAUTHENTICATE")
	srv.extra = func(cmd string) []string {
		if strings.Contains(cmd, " NOOP") {
			return []string{"* OK [ALERT] alice: your mailbox alice-private is 98% full"}
		}
		return nil
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Unauthenticate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ALERT", "OK", "EXISTS"} {
		if rs := c.Session().Responses(name); len(rs) > 0 {
			var l []string
			for _, r := range rs {
				l = append(l, fmt.Sprintf("%+v", r))
			}
			t.Errorf("Responses(%q) after UNAUTHENTICATE: %s; want the previous user's forgotten", name, strings.Join(l, "; "))
		}
	}
}
