package wire_test

import (
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestDialogAuthenticating: Authenticating reports an AUTHENTICATE from
// the client's line to its completion, or to Answered (the proxy's own
// answer), challenges and responses and untagged lines in between; a
// proxy redacts a server's line with no token then.
func TestDialogAuthenticating(t *testing.T) {
	var d wire.Dialog
	line := func(s string) []wire.Token { return dialogLine(t, s) }
	check := func(step string, want bool) {
		t.Helper()
		if got := d.Authenticating(); got != want {
			t.Fatalf("%s: Authenticating %v, want %v", step, got, want)
		}
	}
	check("a new Dialog", false)
	d.Client(line("a1 NOOP\r\n"))
	check("a NOOP", false)
	d.Client(line("a2 AUTHENTICATE PLAIN\r\n"))
	check("AUTHENTICATE sent", true)
	d.Server(line("a1 OK done\r\n"))
	d.Server(line("+ \r\n"))
	d.Client(line("AHUAcA==\r\n"))
	d.Server(line("* OK still\r\n"))
	check("inside the exchange", true)
	d.Server(line("a2 OK done\r\n"))
	check("AUTHENTICATE completed", false)
	d.Client(line("a3 AUTHENTICATE PLAIN\r\n"))
	d.Answered()
	check("AUTHENTICATE answered by the caller", false)
}
