package wire_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// TestForwardAsSync: the header of a non-synchronizing literal goes out
// without its '+', everything else as it came; a synchronizing literal, a
// line without one, and a header already forwarded are left alone.
func TestForwardAsSync(t *testing.T) {
	for _, c := range []struct {
		in, want string
		lenient  bool
	}{
		{"a1 APPEND INBOX {5+}\r\n", "a1 APPEND INBOX {5}\r\n", false},
		{"a1 APPEND INBOX ~{12+}\r\n", "a1 APPEND INBOX ~{12}\r\n", false},
		{"a1 NOOP {007+}\r\n", "a1 NOOP {007}\r\n", false},
		{"a1 NOOP {7+}\n", "a1 NOOP {7}\n", true},
		{"a1 APPEND INBOX {5}\r\n", "a1 APPEND INBOX {5}\r\n", false},
		{"a1 NOOP x+}\r\n", "a1 NOOP x+}\r\n", false},
	} {
		tk := wire.NewTokenizer(strings.NewReader(c.in+"hello"), &wire.TokenizerOptions{LenientLineEnds: c.lenient})
		if _, err := tk.AppendUntilLiteral(nil); err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		var out bytes.Buffer
		if _, err := tk.ForwardAsSync(&out); err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if out.String() != c.want {
			t.Errorf("%q: forwarded %q; want %q", c.in, out.String(), c.want)
		}
	}
	// After Forward, the header went out as it came: too late.
	tk := wire.NewTokenizer(strings.NewReader("a1 NOOP {5+}\r\nhello\r\n"), nil)
	if _, err := tk.AppendUntilLiteral(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Forward(io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.ForwardAsSync(io.Discard); !errors.Is(err, wire.ErrHeaderForwarded) {
		t.Fatalf("ForwardAsSync after Forward: %v; want ErrHeaderForwarded", err)
	}
	// The body and the rest relay as before.
	var out bytes.Buffer
	tk = wire.NewTokenizer(strings.NewReader("a1 X {5+}\r\nhello Y\r\n"), nil)
	line, err := tk.AppendUntilLiteral(nil)
	if err != nil {
		t.Fatal(err)
	}
	tk.ForwardAsSync(&out)
	if _, err := tk.ForwardLiteral(&out); err != nil {
		t.Fatal(err)
	}
	if _, err = tk.AppendUntilLiteral(line[:0]); err != nil {
		t.Fatal(err)
	}
	tk.Forward(&out)
	if want := "a1 X {5}\r\nhello Y\r\n"; out.String() != want {
		t.Fatalf("relayed %q; want %q", out.String(), want)
	}
}

// TestDialogNonSyncLiteral: a client's non-synchronizing literal, which a
// proxy forwards as synchronizing to learn whether the server reads it.
// Dovecot 2.3 does not read the body after "a1 NOOP {18+}" (it skips the
// rest of the line to its LF and runs "a2 DELETE Victim" as a command of
// its own), so a proxy relaying it as a literal hid that DELETE from its
// filter and trace; sent as "{18}", the server says so: the completion
// instead of "+", the refusal. The "+" that does come (SELECT reads its
// literal) is the proxy's own: Event.Withhold. A literal on an IDLE line
// is refused by the IDLE's "+" (the server, idling, reads the body as a
// line of text).
func TestDialogNonSyncLiteral(t *testing.T) {
	for _, c := range []struct {
		name, client, server string
		want                 wire.Event // the server line's
		goAhead              bool
	}{
		{"NOOP", "a1 NOOP {18+}\r\n", "a1 OK NOOP completed\r\n", wire.Event{Kind: wire.LineCompletion, Tag: "a1", Command: "NOOP", Status: "OK"}, false},
		{"SELECT", "a1 SELECT {5+}\r\n", "+ OK\r\n", wire.Event{Kind: wire.LineContinuation, Withhold: true}, true},
		{"IDLE", "a1 IDLE {4+}\r\n", "+ idling\r\n", wire.Event{Kind: wire.LineContinuation}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d wire.Dialog
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			line, err := wire.NewTokenizer(strings.NewReader(c.client), nil).AppendUntilLiteral(nil)
			if err != nil {
				t.Fatal(err)
			}
			d.Client(line)
			d.ExpectContinuation(line[len(line)-1].Literal())
			toks, err := wire.NewTokenizer(strings.NewReader(c.server), nil).AppendLine(nil)
			if err != nil {
				t.Fatal(err)
			}
			if ev := d.Server(toks); ev != c.want {
				t.Fatalf("server %q: %+v; want %+v", c.server, ev, c.want)
			}
			if ok, err := d.WaitContinuation(ctx); err != nil || ok != c.goAhead {
				t.Fatalf("WaitContinuation: %v %v; want %v", ok, err, c.goAhead)
			}
			// Later "+"s are nobody's to withhold.
			if ev := d.Server(toks[:1]); ev.Withhold {
				t.Fatalf("a later +: %+v", ev)
			}
		})
	}
}

// TestDialogLeadingSpaceNoTag: a line that begins with a space has no tag
// as Dovecot reads it ("* BAD Invalid tag"), so it is not pending (no
// completion will come for "a1"); its command is still named, for a
// filter.
func TestDialogLeadingSpaceNoTag(t *testing.T) {
	var d wire.Dialog
	line, err := wire.NewTokenizer(strings.NewReader(" a1 DELETE x\r\n"), nil).AppendLine(nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev := d.Client(line); ev != (wire.Event{Kind: wire.LineCommand, Command: "DELETE"}) {
		t.Fatalf("%+v; want a LineCommand DELETE without a tag", ev)
	}
	// A first word with a byte no tag may have is no tag either.
	told := 0
	for _, l := range []string{"%1 DELETE x\r\n", "a*1 DELETE x\r\n", "+a DELETE x\r\n", "a\\1 DELETE x\r\n"} {
		toks, err := wire.NewTokenizer(strings.NewReader(l), nil).AppendLine(nil)
		if err != nil {
			continue // not a line the tokenizer hands out: never classified
		}
		told++
		if ev := d.Client(toks); ev.Tag != "" || ev.Command != "DELETE" {
			t.Errorf("%q: %+v; want DELETE without a tag", l, ev)
		}
	}
	if told < 2 {
		t.Fatalf("only %d of the lines tokenize", told)
	}
	// Nothing pending: a completion tagged a1 completes no command.
	toks, _ := wire.NewTokenizer(strings.NewReader("a1 OK done\r\n"), nil).AppendLine(nil)
	if ev := d.Server(toks); ev.Command != "" {
		t.Fatalf("a1's completion names %q", ev.Command)
	}
}

// TestRefuseLine: the rest of a refused command that does not tokenize,
// read as the client sends it once refused: a non-synchronizing literal's
// body is dropped, a synchronizing literal's header ends it (no body
// follows the refusal). ForwardLine(io.Discard) read the client's next
// command as that body. Forward goes on after it.
func TestRefuseLine(t *testing.T) {
	for _, c := range []struct{ in, next string }{
		{"a1 APPEND B\x01x {12}\r\na2 NOOP\r\n", "a2 NOOP\r\n"},
		{"a1 APPEND B\x01x {5+}\r\nhello {3}\r\na2 NOOP\r\n", "a2 NOOP\r\n"},
		{"a1 LOGIN \"a\\q\" {5+}\r\nhello\r\na2 NOOP\r\n", "a2 NOOP\r\n"},
	} {
		tk := wire.NewTokenizer(strings.NewReader(c.in), nil)
		if _, err := tk.AppendUntilLiteral(nil); !errors.Is(err, wire.ErrSyntax) {
			t.Fatalf("%q: %v; want a syntax error", c.in, err)
		}
		if err := tk.RefuseLine(); err != nil {
			t.Fatalf("%q: RefuseLine: %v", c.in, err)
		}
		line, err := tk.AppendLine(nil)
		if err != nil {
			t.Fatalf("%q: the next line: %v", c.in, err)
		}
		var out bytes.Buffer
		if _, err := tk.Forward(&out); err != nil || out.String() != c.next {
			t.Fatalf("%q: the next line %v forwarded as %q, %v; want %q", c.in, len(line), out.String(), err, c.next)
		}
	}
}

// TestRefuseCommand: the rest of a refused command that tokenizes, as the
// client sends it once refused: non-synchronizing bodies dropped, a
// synchronizing literal's header ends it, a line in pieces read to its
// end; Forward goes on with the next line.
func TestRefuseCommand(t *testing.T) {
	for _, c := range []struct {
		in     string
		pieces int
	}{
		{"a1 LOGIN alice pass\r\n", 0},
		{"a1 LOGIN {5+}\r\nalice {4+}\r\npass\r\n", 0},
		{"a1 LOGIN {5}\r\n", 0},
		{"a1 LOGIN alice {4}\r\n", 0},
		{"a1 SEARCH 1 2 3 4 5 6 7 8 {3+}\r\nabc 9 10\r\n", 4},
	} {
		tk := wire.NewTokenizer(strings.NewReader(c.in+"a2 NOOP\r\n"), &wire.TokenizerOptions{MaxLineTokens: c.pieces})
		line, err := tk.AppendUntilLiteral(nil)
		if err != nil && !errors.Is(err, wire.ErrTooManyTokens) {
			t.Fatalf("%q: %v", c.in, err)
		}
		if err := tk.RefuseCommand(line); err != nil {
			t.Fatalf("%q: RefuseCommand: %v", c.in, err)
		}
		if _, err := tk.AppendLine(nil); err != nil {
			t.Fatalf("%q: the next line: %v", c.in, err)
		}
		var out bytes.Buffer
		if _, err := tk.Forward(&out); err != nil || out.String() != "a2 NOOP\r\n" {
			t.Fatalf("%q: the next line forwarded as %q, %v", c.in, out.String(), err)
		}
	}
}
