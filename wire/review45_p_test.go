package wire_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestReview45PForwardLongLine: a token longer than MaxLineLength (a
// VANISHED set of 1.1 MB) fails AppendUntilLiteral with ErrLineTooLong,
// and ForwardLine could not relay the rest either (its bound is
// MaxLineLength). ForwardLongLine relays it unchanged within its own
// bound, in a buffer that does not grow, finds the literal at a line's end
// (not in a status response's text) and stays in step; past its bound it
// fails out of step. Defaults.
func TestReview45PForwardLongLine(t *testing.T) {
	set := strings.Repeat("12345,", 185000) + "1" // 1.1 MB
	in := "* VANISHED (EARLIER) " + set + "\r\n" +
		"* 1 FETCH (X " + set + " BODY[] {7}\r\n{3}\r\n)\r\n" +
		"* OK " + set + " {4}\r\n" +
		"a OK done\r\n"
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	var out bytes.Buffer
	var line []wire.Token
	for i := 0; i < 3; i++ {
		var err error
		line, err = tk.AppendUntilLiteral(line[:0])
		if !errors.Is(err, wire.ErrLineTooLong) || len(line) == 0 {
			t.Fatalf("line %d: %d tokens, %v", i, len(line), err)
		}
		if err := tk.ForwardLongLine(&out, 32<<20); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	line, err := tk.AppendUntilLiteral(line[:0])
	if err != nil || string(line[0].Bytes()) != "a" {
		t.Fatalf("out of step: %v %v", line, err)
	}
	if _, err := tk.Forward(&out); err != nil {
		t.Fatal(err)
	}
	if out.String() != in {
		t.Errorf("relayed %d bytes, want %d unchanged", out.Len(), len(in))
	}

	// Past its bound.
	tk = wire.NewTokenizer(strings.NewReader("* 1 FETCH (X "+set+")\r\na OK\r\n"), nil)
	_, _ = tk.AppendUntilLiteral(line[:0])
	err = tk.ForwardLongLine(&out, 1<<20)
	if !errors.Is(err, wire.ErrLineTooLong) || !errors.Is(err, wire.ErrOutOfStep) {
		t.Errorf("past the bound: %v", err)
	}
}

// TestReview45PRefuseMax: RefuseCommand and RefuseLine read a refused
// command to its end however long: tokens, or non-synchronizing literals,
// without end kept the reader busy for ever. RefuseCommandMax and
// RefuseLineMax stop past their bound (a literal's size checked before its
// body is read), out of step. Defaults.
func TestReview45PRefuseMax(t *testing.T) {
	ones := strings.Repeat(" 1", 1<<20) // 2 MiB of tokens, no line end
	lits := strings.Repeat(" {100+}\r\n"+strings.Repeat("x", 100), 20000)
	for _, c := range []struct {
		name, in string
		syntax   bool // refused as a line that does not tokenize
	}{
		{"tokens", "a NOOP" + ones, false},
		{"literals", "a APPEND x" + lits, false},
		{"big literal", "a APPEND x {2000000+}\r\n" + strings.Repeat("x", 100), false},
		{"line literals", "a NOOP \"x\\y\"" + lits, true},
		{"line big literal", "a NOOP \"x\\y\" {2000000+}\r\n" + strings.Repeat("x", 100), true},
	} {
		tk := wire.NewTokenizer(strings.NewReader(c.in), nil)
		line, err := tk.AppendUntilLiteral(nil)
		if c.syntax {
			if !errors.Is(err, wire.ErrSyntax) {
				t.Fatalf("%s: %v", c.name, err)
			}
			err = tk.RefuseLineMax(1 << 20)
		} else {
			if err != nil && !errors.Is(err, wire.ErrTooManyTokens) {
				t.Fatalf("%s: %v", c.name, err)
			}
			err = tk.RefuseCommandMax(line, 1<<20)
		}
		if !errors.Is(err, wire.ErrLineTooLong) || !errors.Is(err, wire.ErrOutOfStep) {
			t.Errorf("%s: %v", c.name, err)
		}
		if off := tk.Offset(); off > 3<<20 {
			t.Errorf("%s: read %d bytes", c.name, off)
		}
	}
	// Within the bound, as RefuseCommand.
	tk := wire.NewTokenizer(strings.NewReader("a APPEND x {3+}\r\nabc\r\nb NOOP\r\n"), nil)
	line, _ := tk.AppendUntilLiteral(nil)
	if err := tk.RefuseCommandMax(line, 1<<20); err != nil {
		t.Fatal(err)
	}
	if line, err := tk.AppendUntilLiteral(nil); err != nil || string(line[0].Bytes()) != "b" {
		t.Errorf("out of step: %v %v", line, err)
	}
}
