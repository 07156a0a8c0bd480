package wire_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestDialogRelayBracketFirstTagLiteral: a client's tag may begin with '['
// (an ATOM-CHAR: RFC 9051's tag, validTag's, the model server's). Since
// the bare-code head (a line that begins with '[' is text after its
// code's ']'), the proxy's tokenizer reads "[a APPEND x] {13}" as text
// after "x]" and forwards the line with no literal, while the server
// reads a tagged APPEND whose message is a 13-byte literal. The server's
// "+" for it is then taken for the go-ahead of the next line's literal
// ("b NOOP {0018}", 13 bytes: the server's APPEND message), and that
// "literal's" body, which the proxy forwards unread, is a command to the
// server: "a2 DELETE Victim" runs with no LineCommand for it.
func TestDialogRelayBracketFirstTagLiteral(t *testing.T) {
	s := relaySeed{client: "[a APPEND x] {13}\r\nb NOOP {0018}\r\na2 DELETE Victim\r\na3 NOOP\r\n", server: []byte{accept}}
	if msg := checkRelay(t, []byte(s.client), s.decide(), s.pieces); msg != "" {
		t.Fatal(msg)
	}
	s.sched = eager
	if msg := checkRelay(t, []byte(s.client), s.decide(), s.pieces); msg != "" {
		t.Fatal("eager: " + msg)
	}
}

// TestBracketFirstTagReadsLiteral: the same line read by the tokenizer a
// proxy runs on the client's bytes: the "{5}" after "x]" is the literal of
// a command tagged "[a" (Dialog's LineCommand), so AppendLine must read
// it as one, and the line must end after the body, as it did before the
// bare-code head (cce1e2b).
func TestBracketFirstTagReadsLiteral(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("[a APPEND x] {5}\r\nhello\r\nz NOOP\r\n"), nil)
	line, err := tk.AppendLine(nil)
	if err != nil {
		t.Fatal(err)
	}
	var d wire.Dialog
	ev := d.Client(line)
	var b []byte
	for _, tok := range line {
		b = wire.AppendToken(b, tok)
		b = append(b, '|')
	}
	if ev.Kind == wire.LineCommand && !bytes.Contains(b, []byte("hello")) {
		t.Fatalf("Dialog reads a command (%+v) whose literal the tokenizer reads as text: %q", ev, b)
	}
}
