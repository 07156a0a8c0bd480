package wire_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestDialogOutstanding: Outstanding reports a command that awaits its
// completion (a proxy whose client half-closed waits longer for a server
// that owes an answer): from the client's command to the server's tagged
// line, or to Answered (the proxy's own answer); an untagged line or a
// "+" does not end it.
func TestDialogOutstanding(t *testing.T) {
	var d wire.Dialog
	line := func(s string) []wire.Token {
		toks, err := wire.NewTokenizer(strings.NewReader(s), nil).AppendLine(nil)
		if err != nil {
			t.Fatal(err)
		}
		return toks
	}
	if d.Outstanding() {
		t.Fatal("a new Dialog: outstanding")
	}
	d.Client(line("a1 SEARCH TEXT x\r\n"))
	d.Client(line("a2 NOOP\r\n"))
	d.Server(line("* SEARCH 1\r\n"))
	d.Server(line("a1 OK done\r\n"))
	if !d.Outstanding() {
		t.Fatal("a2 awaits its completion: not outstanding")
	}
	d.Server(line("a2 OK done\r\n"))
	if d.Outstanding() {
		t.Fatal("every command completed: outstanding")
	}
	d.Client(line("a3 STARTTLS\r\n"))
	if !d.Outstanding() {
		t.Fatal("a3: not outstanding")
	}
	d.Answered()
	if d.Outstanding() {
		t.Fatal("a3 answered by the caller: outstanding")
	}
	d.Client(line("* no tag\r\n"))
	if d.Outstanding() {
		t.Fatal("a line without a tag, which no completion answers: outstanding")
	}
}
