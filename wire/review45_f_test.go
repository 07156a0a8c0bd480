package wire_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// relayLines relays in as cmd/imapkit's proxy does (defaults: the
// tokenized path, ForwardLongLine for a line too long, ForwardLine for one
// that does not tokenize) and returns the first token of each line it
// relayed, and the error that ended it (nil at EOF).
func relayLines(in string) ([]string, error) {
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	var lines []string
	var line []wire.Token
	first, start := "", true
	for {
		var err error
		line, err = tk.AppendUntilLiteral(line[:0])
		if err == io.EOF {
			return lines, nil
		}
		if start && len(line) > 0 {
			first, start = string(line[0].Bytes()), false
		}
		if errors.Is(err, wire.ErrLineTooLong) && tk.Broken() == nil && len(line) > 0 {
			if err := tk.ForwardLongLine(io.Discard, 32<<20); err != nil {
				return lines, err
			}
			lines, start = append(lines, first), true
			continue
		}
		if errors.Is(err, wire.ErrSyntax) {
			if err := tk.ForwardLine(io.Discard); err != nil {
				return lines, err
			}
			lines, start = append(lines, first), true
			continue
		}
		if err != nil {
			return lines, err
		}
		if _, err := tk.Forward(io.Discard); err != nil {
			return lines, err
		}
		if line[len(line)-1].Kind == wire.KindLiteral {
			if _, err := tk.ForwardLiteral(io.Discard); err != nil {
				return lines, err
			}
			continue
		}
		lines, start = append(lines, first), true
	}
}

// TestReview45FLongLineLiteralInCode: a literal inside a status
// response's code ("* OK [X ... {7}") is a literal to the tokenizer (and
// to any imapkit client). Once a token in the code was over MaxLineLength,
// ForwardLongLine took the whole status line for text, so the literal's
// body "a9 OK" became a line of its own to the relay (a stray or forged
// completion). It now refuses such a line (fails closed, out of step);
// the short one is still read as the tokenizer reads it.
func TestReview45FLongLineLiteralInCode(t *testing.T) {
	body := "a9 OK\r\n"
	tail := body + "] text\r\n* 2 EXISTS\r\n"
	lines, err := relayLines("* OK [X short {7}\r\n" + tail)
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("short token: lines %q, %v; want [* *]", lines, err)
	}
	long := strings.Repeat("x", 1100000)
	lines, err = relayLines("* OK [X " + long + " {7}\r\n" + tail)
	if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
		t.Errorf("long token in the code: lines %q, %v; want none and ErrOutOfStep", lines, err)
	}
	// Past the code's end the text has no literal: relayed as text.
	lines, err = relayLines("* OK [X] " + long + " {7}\r\n" + tail)
	if err != nil || strings.Join(lines, ",") != "*,a9,,*" {
		t.Errorf("long text: lines %q, %v; want [* a9 (]) *]", lines, err)
	}
}

// TestReview45FSyntaxErrorLiteralInCode: the same for a code that does
// not tokenize (an unmatched quote in it) and ends in a literal's header:
// ForwardLine took the line for text; it now refuses it. A code that does
// not tokenize and announces no literal is still relayed as a line.
func TestReview45FSyntaxErrorLiteralInCode(t *testing.T) {
	lines, err := relayLines("* OK [X \"y {7}\r\na9 OK\r\n] text\r\n* 2 EXISTS\r\n")
	if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
		t.Errorf("lines %q, %v; want none and ErrOutOfStep", lines, err)
	}
	lines, err = relayLines("* OK [X \"y] text\r\n* 2 EXISTS\r\n")
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("lines %q, %v; want [* *]", lines, err)
	}
}

// TestReview45FRefuseCommandMaxLastPiece: RefuseCommandMax checked its
// bound after each piece was read, before looking at how the piece ended:
// a refused command that ended in the piece that went past max failed
// (the proxy said BYE where it meant to answer BAD). Now the bound is
// checked before each piece is read: the command that ends in that piece
// is refused whole and the next command follows; one that goes on fails
// before the next piece, having read at most max and one piece.
// Defaults (pieces of MaxLineTokens tokens, 65,536 or 576 KiB here).
func TestReview45FRefuseCommandMaxLastPiece(t *testing.T) {
	const max = 1 << 20
	nums := strings.Repeat("12345678 ", max/9+30) // ends just past max
	for _, ends := range []bool{true, false} {
		in := "a SEARCH " + nums + "1\r\nb NOOP\r\n"
		if !ends {
			in = "a SEARCH " + nums + nums + "1\r\nb NOOP\r\n"
		}
		tk := wire.NewTokenizer(strings.NewReader(in), nil)
		line, err := tk.AppendUntilLiteral(nil)
		if !errors.Is(err, wire.ErrTooManyTokens) {
			t.Fatal(err)
		}
		// As cmd/imapkit's proxy counts: from the command's start.
		err = tk.RefuseCommandMax(line, max-tk.Offset())
		if !ends {
			if !errors.Is(err, wire.ErrLineTooLong) || tk.Offset() > max+int64(tk.MaxLineLength()) {
				t.Errorf("a command that goes on: %v at offset %d", err, tk.Offset())
			}
			continue
		}
		if err != nil {
			t.Fatalf("a command that ends just past max: %v", err)
		}
		line, err = tk.AppendLine(line[:0])
		if err != nil || len(line) == 0 || string(line[0].Bytes()) != "b" {
			t.Errorf("next: %v %v", line, err)
		}
	}
}
