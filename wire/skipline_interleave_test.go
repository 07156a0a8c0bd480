package wire_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// interleaveLines are lines that SkipLine and ForwardLine frame with
// state kept across calls: a literal's body, a literal's header longer
// than the kept tail (leading zeros), a status line whose code did not
// tokenize (closed before its "{5}": text; open: refused), a long line
// whose literal's header is found in the kept tail.
var interleaveLines = []struct {
	opts *wire.TokenizerOptions
	// tokenize: the line is read with AppendUntilLiteral first (up to
	// its syntax error, in the code), as a relay does.
	tokenize bool
	line     string
}{
	{nil, false, "* 1 FETCH (BODY[] {10}\r\n0123456789 FLAGS (\\Seen))\r\n"},
	{commandsOpts, false, "a NOOP {" + strings.Repeat("0", 60) + "5+}\r\nhello\r\n"},
	{nil, true, "* OK [X \x01 " + strings.Repeat("a", 60) + "] " + strings.Repeat("b", 60) + " {5}\r\n"},
	{nil, true, "* OK [X \x01 \"" + strings.Repeat("a", 60) + "]\" {5}\r\nabcde\r\n"},
	{nil, false, "* 1 XFOO " + strings.Repeat("x", 100) + " {5}\r\nhello " + strings.Repeat("y", 100) + "\r\n"},
}

// skipInterleaved skips (or, with w, forwards) the first line of r,
// calling between an interrupted call (a read deadline) and its resumption
// what between does; it returns the first token of the line read after
// it, and the call's error.
func skipInterleaved(r io.Reader, opts *wire.TokenizerOptions, tokenize bool, w io.Writer, between func(*wire.Tokenizer) error) (wire.Token, error) {
	tk := wire.NewTokenizer(r, opts)
	for tokenize {
		_, err := tk.AppendUntilLiteral(nil)
		tokenize = errors.Is(err, os.ErrDeadlineExceeded)
	}
	skip := tk.SkipLine
	if w != nil {
		skip = func() error { return tk.ForwardLine(w) }
	}
	err := skip()
	for i := 0; errors.Is(err, os.ErrDeadlineExceeded) && i < 10; i++ {
		if between != nil {
			if err := between(tk); err != nil {
				return wire.Token{}, err
			}
		}
		err = skip()
	}
	if err != nil {
		return wire.Token{}, err
	}
	tok, err := tk.Next()
	if err != nil {
		return wire.Token{}, err
	}
	return tok, nil
}

// TestSkipLineInterleaved: a caller that, between a SkipLine or
// ForwardLine interrupted by a read deadline and its resumption, reads a
// token (Next), calls Drop, or nothing (the call again at once), still
// has the line framed as one uninterrupted call frames it: the same
// error (ErrOutOfStep for a code open at its literal's header) or the same
// next line, wherever the deadline fell. A Next that reads the line's end
// ends the line (no resumption); ForwardLine relays the line whole, the
// token Next read included, or fails with ErrForwardGap where Next skipped
// an open literal's body unforwarded (Forward's documented gap).
func TestSkipLineInterleaved(t *testing.T) {
	orders := []struct {
		name    string
		between func(*wire.Tokenizer) error
	}{
		{"again", nil},
		{"Next", func(tk *wire.Tokenizer) error {
			for _, read := range []func() error{
				func() error { _, err := tk.Next(); return err },
				func() error { _, err := tk.AppendLine(nil); return err },
				func() error { _, err := tk.LiteralReader(); return err },
			} {
				if err := read(); !errors.Is(err, wire.ErrSkipPending) {
					return fmt.Errorf("a read between: %v; want ErrSkipPending", err)
				}
			}
			return nil
		}},
		{"Drop", func(tk *wire.Tokenizer) error { tk.Drop(); tk.Keep(); return nil }},
	}
	for _, c := range interleaveLines {
		in := c.line + "* 2 EXISTS\r\n"
		if c.opts != nil {
			in = c.line + "z NOOP\r\n"
		}
		for _, fwd := range []bool{false, true} {
			var w *strings.Builder
			mk := func() io.Writer {
				if !fwd {
					return nil
				}
				w = new(strings.Builder)
				return w
			}
			wantTok, wantErr := skipInterleaved(strings.NewReader(in), c.opts, c.tokenize, mk(), nil)
			for _, o := range orders {
				for at := 1; at < len(c.line); at++ {
					tok, err := skipInterleaved(&deadlineAtReader{in: in, at: at}, c.opts, c.tokenize, mk(), o.between)
					if errors.Is(err, wire.ErrOutOfStep) != errors.Is(wantErr, wire.ErrOutOfStep) || wantErr == nil && (err != nil || tok.String() != wantTok.String()) {
						t.Errorf("%q forward %v, deadline at %d, then %s: %v, next %v; uninterrupted: %v, next %v", c.line, fwd, at, o.name, err, tok, wantErr, wantTok)
						break
					}
					if fwd && wantErr == nil && w.String() != c.line {
						t.Errorf("%q, deadline at %d, then %s: forwarded %q", c.line, at, o.name, w.String())
						break
					}
				}
			}
		}
	}
}

// TestSkipLineDropBetweenResumesCountsLineLength: a Drop between a
// SkipLine interrupted by a read deadline and its resumption gives up
// nothing the caller consumed (the skip gave the line up itself) and
// must not start the line's count over: a line of three MaxLineLength,
// with a pause every half of it and a Drop (and Keep) at each, still
// fails with ErrLineTooLong, as without the Drops. Before, Drop set the
// count of what the skip gave up to 0, and a server that paused every
// half megabyte sent a line without end that SkipLine read on.
func TestSkipLineDropBetweenResumesCountsLineLength(t *testing.T) {
	in := "* 1 XFOO " + strings.Repeat("x", 3*wire.DefaultMaxLineLength) + "\r\n* 2 EXISTS\r\n"
	for _, keep := range []bool{false, true} {
		tk := wire.NewTokenizer(&deadlineEveryReader{in: in, every: wire.DefaultMaxLineLength / 2}, nil)
		var err error
		for range 100 {
			if err = tk.SkipLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			tk.Drop()
			if keep {
				tk.Keep()
			}
		}
		if !errors.Is(err, wire.ErrLineTooLong) {
			t.Errorf("SkipLine resumed with Drop (Keep %v) between, over a line of %d bytes: %v at offset %d; want ErrLineTooLong", keep, len(in)-14, err, tk.Offset())
		}
	}
}
