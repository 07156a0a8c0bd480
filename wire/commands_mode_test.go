package wire_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// commandLines are client lines whose head a server's tokenizer reads
// as a status response's or a continuation request's (or, for "[x",
// Exchange's bare code's): each carries a literal of litSize bytes, and
// "z NOOP" is the next command.
var commandLines = []struct {
	in      string
	litSize uint64
	// serverText: the default (server) mode reads the line's "{n}" as
	// text, and so the literal's body as the next line.
	serverText bool
}{
	{"a1 OK {5+}\r\nhello\r\nz NOOP\r\n", 5, true},
	{"a1 ok {5}\r\nhello\r\nz NOOP\r\n", 5, true},
	{"a[1 OK {5+}\r\nhello\r\nz NOOP\r\n", 5, true},
	{"a1 BYE [x] {5}\r\nhello\r\nz NOOP\r\n", 5, true},
	{"a1 PREAUTH ~{5}\r\nhello\r\nz NOOP\r\n", 5, true},
	{"* NO {5}\r\nhello\r\nz NOOP\r\n", 5, true},
	{"+ {3}\r\nabc\r\nz NOOP\r\n", 3, true},
	{"+{3}\r\nabc\r\nz NOOP\r\n", 3, true},
	{"[x {3}\r\nabc\r\nz NOOP\r\n", 3, false},
	{"[x OK {3}\r\nabc\r\nz NOOP\r\n", 3, false},
}

var commandsOpts = &wire.TokenizerOptions{Commands: true}

// lineLiteral returns the size of the first literal of line, and whether
// it has one.
func lineLiteral(line []wire.Token) (uint64, bool) {
	for _, tok := range line {
		if tok.Kind == wire.KindLiteral {
			return uint64(tok.Literal().Size), true
		}
	}
	return 0, false
}

// TestCommandsModeReadsEveryLiteral: with TokenizerOptions.Commands, a
// client's line is a command whatever its second word (OK, BYE) or its
// first byte ('+', '['): its "{n}" is a literal, read by AppendLine whole
// or a byte at a time, and the next line is "z NOOP".
func TestCommandsModeReadsEveryLiteral(t *testing.T) {
	for _, c := range commandLines {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			tk := wire.NewTokenizer(r, commandsOpts)
			line, err := tk.AppendLine(nil)
			if err != nil {
				t.Fatalf("%q: %v", c.in, err)
			}
			if n, ok := lineLiteral(line); !ok || n != c.litSize {
				t.Errorf("%q (one byte %v): literal %d %v, want one of %d bytes", c.in, oneByte, n, ok, c.litSize)
			}
			checkNextIsNoop(t, tk, c.in)
		}
	}
}

// checkNextIsNoop checks that the next line tk reads is "z NOOP".
func checkNextIsNoop(t *testing.T, tk *wire.Tokenizer, in string) {
	t.Helper()
	next, err := tk.AppendLine(nil)
	if err != nil {
		t.Fatalf("%q: next line: %v", in, err)
	}
	if len(next) == 0 || next[0].String() != "z" {
		t.Errorf("%q: the next line begins %v, want z NOOP", in, next)
	}
}

// TestCommandsModeLineEnds: every other reader of a line agrees in
// Commands mode: Next to the CRLF, SkipLine, ForwardLine (which forwards
// the literal with its line) and Rest end the line after the literal's
// body.
func TestCommandsModeLineEnds(t *testing.T) {
	for _, c := range commandLines {
		first := c.in[:strings.Index(c.in, "z NOOP")]
		readers := map[string]func(tk *wire.Tokenizer) error{
			"Next": func(tk *wire.Tokenizer) error {
				for {
					tok, err := tk.Next()
					if err != nil || tok.Kind == wire.KindCRLF {
						return err
					}
				}
			},
			"SkipLine": (*wire.Tokenizer).SkipLine,
			"ForwardLine": func(tk *wire.Tokenizer) error {
				var w bytes.Buffer
				if err := tk.ForwardLine(&w); err != nil {
					return err
				}
				if w.String() != first {
					t.Errorf("%q: ForwardLine forwarded %q, want %q", c.in, w.String(), first)
				}
				return nil
			},
			"Rest": func(tk *wire.Tokenizer) error {
				if _, err := tk.Rest(); err != nil {
					return err
				}
				return tk.CRLF()
			},
		}
		for name, read := range readers {
			tk := wire.NewTokenizer(strings.NewReader(c.in), commandsOpts)
			if err := read(tk); err != nil {
				t.Fatalf("%s %q: %v", name, c.in, err)
			}
			checkNextIsNoop(t, tk, c.in+" after "+name)
		}
	}
}

// TestServerModeUnchangedForCommandLines: the default mode reads a
// server's responses as before: "a1 OK {5+}" and "+ {3}" are status
// and continuation lines, whose "{n}" is text, and the literal's "body"
// is the next line; a line that begins with '[' has its literal.
func TestServerModeUnchangedForCommandLines(t *testing.T) {
	for _, c := range commandLines {
		tk := wire.NewTokenizer(strings.NewReader(c.in), nil)
		line, err := tk.AppendLine(nil)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		_, lit := lineLiteral(line)
		if lit == c.serverText {
			t.Errorf("%q: server mode reads a literal: %v, want %v (%v)", c.in, lit, !c.serverText, line)
		}
		if c.serverText {
			next, err := tk.AppendLine(nil)
			if err != nil || len(next) == 0 || next[0].String() == "z" {
				t.Errorf("%q: server mode's next line %v (%v): want the literal's body", c.in, next, err)
			}
		}
	}
}

// TestCommandsModeResetKeepsMode: Reset (after STARTTLS) keeps the mode.
func TestCommandsModeResetKeepsMode(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("a STARTTLS\r\n"), commandsOpts)
	if _, err := tk.AppendLine(nil); err != nil {
		t.Fatal(err)
	}
	in := commandLines[0].in
	tk.Reset(strings.NewReader(in))
	line, err := tk.AppendLine(nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := lineLiteral(line); !ok || n != 5 {
		t.Fatalf("after Reset: %v, want a literal of 5 bytes", line)
	}
	checkNextIsNoop(t, tk, in)
}
