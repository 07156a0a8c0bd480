package wire_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestRefuseCommandLong: RefuseCommand reads a refused command on
// to its end, "pieces of a line of more than MaxLineTokens tokens"
// included, and drops them (Forward(io.Discard)). It kept every piece in
// the line's buffer all the same: a command of many small tokens longer
// than MaxLineLength (a SEARCH of 150,000 criteria, legal IMAP; the proxy
// refuses command lines over 64,000 bytes) failed with ErrLineTooLong
// and the stream was stuck there, where the proxy meant to answer BAD
// and go on. The pieces dropped are now given up, as a relay gives up
// the pieces it forwarded.
func TestRefuseCommandLong(t *testing.T) {
	for _, c := range []struct {
		max     int // 0: the defaults
		n       int // criteria
		oneByte bool
	}{
		{0, 150000, false},  // 1.2 MB under the default 1 MiB bound
		{4096, 3000, false}, // 24 KB under a 4096-byte bound
		{4096, 3000, true},  // the same, one byte a read
	} {
		var opts *wire.TokenizerOptions
		if c.max != 0 {
			opts = &wire.TokenizerOptions{MaxLineLength: c.max, MaxLineTokens: 512}
		}
		input := "A1 SEARCH" + strings.Repeat(" OR SEEN", c.n) + " SEEN\r\nA2 NOOP\r\n"
		var r io.Reader = strings.NewReader(input)
		if c.oneByte {
			r = iotest.OneByteReader(r)
		}
		tk := wire.NewTokenizer(r, opts)
		line, err := tk.AppendUntilLiteral(nil)
		if !errors.Is(err, wire.ErrTooManyTokens) {
			t.Fatalf("bound %d: the first piece: %v; want ErrTooManyTokens (a line of several pieces)", c.max, err)
		}
		if err := tk.RefuseCommand(line); err != nil {
			t.Fatalf("bound %d (one byte a read: %v): RefuseCommand of a %d-byte command of small tokens: %v; want it read to its end and dropped", c.max, c.oneByte, len(input)-len("A2 NOOP\r\n"), err)
		}
		line, err = tk.AppendUntilLiteral(nil)
		if err != nil || len(line) < 3 || string(line[2].Bytes()) != "NOOP" {
			t.Fatalf("bound %d: the next command: %v %v; want A2 NOOP", c.max, line, err)
		}
	}
	// What one piece holds is still bounded: a single token past the
	// line bound fails.
	tk := wire.NewTokenizer(strings.NewReader("A1 SEARCH"+strings.Repeat(" OR SEEN", 600)+" "+strings.Repeat("x", 5000)+"\r\n"), &wire.TokenizerOptions{MaxLineLength: 4096, MaxLineTokens: 512})
	line, _ := tk.AppendUntilLiteral(nil)
	if err := tk.RefuseCommand(line); !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("a token of 5000 bytes under a 4096-byte bound: %v; want ErrLineTooLong", err)
	}
}

// TestRefuseMax: RefuseCommand and RefuseLine read a refused
// command to its end however long: tokens, or non-synchronizing literals,
// without end kept the reader busy for ever. RefuseCommandMax and
// RefuseLineMax stop past their bound (a literal's size checked before its
// body is read), out of step. Defaults.
func TestRefuseMax(t *testing.T) {
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

// TestRefuseCommandMaxLastPiece: RefuseCommandMax checked its
// bound after each piece was read, before looking at how the piece ended:
// a refused command that ended in the piece that went past max failed
// (the proxy said BYE where it meant to answer BAD). Now the bound is
// checked before each piece is read: the command that ends in that piece
// is refused whole and the next command follows; one that goes on fails
// before the next piece, having read at most max and one piece.
// Defaults (pieces of MaxLineTokens tokens, 65,536 or 576 KiB here).
func TestRefuseCommandMaxLastPiece(t *testing.T) {
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

// TestRefuseWaits: RefuseCommandWaits and RefuseLineWaits report whether
// the refused command ended at a synchronizing literal's header, in its
// first piece or after a non-synchronizing literal's body, where its
// client waits for a "+" that only a tagged completion replaces (a proxy
// whose refusal names no tag closes then); a command that ends at its
// CRLF, or whose literals are all non-synchronizing, does not wait. The
// next command is read after it either way. Whole reads and one byte a
// read.
func TestRefuseWaits(t *testing.T) {
	for _, c := range []struct {
		input    string // the refused command; "N1 NOOP\r\n" follows
		tokenize bool   // its first piece tokenizes (RefuseCommandWaits), else RefuseLineWaits
		waits    bool
	}{
		{"x{5}\r\n", true, true},
		{"* NOOP {5}\r\n", true, true},
		{"x{3+}\r\nabc y{4}\r\n", true, true},
		{"x{3+}\r\nabc y {4+}\r\nabcd {2}\r\n", true, true},
		{"x y\r\n", true, false},
		{"x{3+}\r\nabc\r\n", true, false},
		{"a\x01b {5}\r\n", false, true},
		{"a\x01b {3+}\r\nabc {2}\r\n", false, true},
		{"a\x01b {5+}\r\nhello\r\n", false, false},
		{"a\x01b c\r\n", false, false},
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.input + "N1 NOOP\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			tk := wire.NewTokenizer(r, &wire.TokenizerOptions{Commands: true})
			line, err := tk.AppendUntilLiteral(nil)
			var waits bool
			if c.tokenize {
				if err != nil {
					t.Fatalf("%q: the first piece: %v", c.input, err)
				}
				waits, err = tk.RefuseCommandWaits(line, -1)
			} else {
				if !errors.Is(err, wire.ErrSyntax) {
					t.Fatalf("%q: the first piece: %v; want a syntax error", c.input, err)
				}
				waits, err = tk.RefuseLineWaits(-1)
			}
			if err != nil || waits != c.waits {
				t.Errorf("%q (one byte a read: %v): waits %v, %v; want waits %v", c.input, oneByte, waits, err, c.waits)
			}
			if line, err := tk.AppendUntilLiteral(nil); err != nil || len(line) < 3 || string(line[0].Bytes()) != "N1" {
				t.Errorf("%q (one byte a read: %v): the next command: %v %v; want N1 NOOP", c.input, oneByte, line, err)
			}
		}
	}
}
