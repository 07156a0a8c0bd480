package wire_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestReview46ADialogUnspaced: Dialog.Server sets Event.Unspaced for a
// tagged OK that the codec does not read as OK (no SP after the status
// word, or a line that begins with a space), the rule the proxy kept to
// itself (okUnspaced) so that a STARTTLS or COMPRESS completion a server
// may switch on, while an imapkit client does not, closes the connection:
// any embedder of wire now gets it. The line's tokens are those read up
// to its end, its first literal, or a syntax error, as a proxy has them.
func TestReview46ADialogUnspaced(t *testing.T) {
	for _, c := range []struct {
		line string
		want bool
	}{
		{"a1 OK done\r\n", false},
		{"a1 OK\r\n", false}, // no text: an OK
		{"a1 ok begin TLS\r\n", false},
		{"a1 OK [CAPABILITY IMAP4rev1] x\r\n", false},
		{"a[1] OK x\r\n", false}, // a tag of several tokens
		{"a1 OK{5}\r\nhello\r\n", true},
		{"a1 OK(x)\r\n", true},
		{"a1 OK[ALERT] x\r\n", true},
		{"a1 OK\"x\"\r\n", true},
		{"a1 OK\"x\r\n", true}, // a syntax error after OK: tokens a1 SP OK
		{"a[1] OK[x]\r\n", true},
		{" a1 OK x\r\n", true},
		{"a1 NO[x]\r\n", false},      // not an OK: nothing to switch on
		{"a1 BAD(x)\r\n", false},     // idem
		{"* OK[ALERT] x\r\n", false}, // untagged
	} {
		tk := wire.NewTokenizer(strings.NewReader(c.line), nil)
		toks, err := tk.AppendUntilLiteral(nil)
		if len(toks) == 0 {
			t.Fatalf("%q: no token (%v)", c.line, err)
		}
		var d wire.Dialog
		if ev := d.Server(toks); ev.Unspaced != c.want {
			t.Errorf("%q: Unspaced %v, want %v (%+v)", c.line, ev.Unspaced, c.want, ev)
		}
	}
}
