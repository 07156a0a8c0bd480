package wire_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestReview43LLineAtBound: MaxLineLength counts a line's bytes without its
// CRLF (docs/limits.md, PeekAt's doc, TestReview42LGPeekAtLineEnd): a line
// of exactly MaxLineLength bytes and its CRLF reads, one byte longer fails
// with ErrLineTooLong. With the default options the buffer grows from
// DefaultBufferSize by doubling to exactly DefaultMaxLineLength: a line
// that filled it to the bound could not have its CRLF read (makeRoom
// refused to grow a buffer holding MaxLineLength bytes of the line), so
// the line of MaxLineLength bytes failed with ErrLineTooLong whichever
// method read it. Checked with the defaults (and a bound the buffer
// reaches exactly by doubling), at both edges, by several readers, whole
// reads and one byte a read.
func TestReview43LLineAtBound(t *testing.T) {
	starSP := func(tk *wire.Tokenizer) error {
		if err := tk.Expect('*'); err != nil {
			return err
		}
		return tk.SP()
	}
	nextToCRLF := func(tk *wire.Tokenizer) error {
		for {
			tok, err := tk.Next()
			if err != nil || tok.Kind == wire.KindCRLF {
				return err
			}
		}
	}
	appendLine := func(tk *wire.Tokenizer) error {
		_, err := tk.AppendLine(nil)
		return err
	}
	type reader struct {
		name string
		line func(n int) string // a line of n bytes, CRLF not counted
		read func(tk *wire.Tokenizer) error
	}
	pad := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	readers := []reader{
		{"Atom", func(n int) string { return pad("* ", n) }, func(tk *wire.Tokenizer) error {
			if err := starSP(tk); err != nil {
				return err
			}
			if _, err := tk.Atom(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"Text", func(n int) string { return pad("* OK ", n) }, func(tk *wire.Tokenizer) error {
			for range 2 {
				if _, err := tk.Atom(); err != nil {
					if err2 := tk.Expect('*'); err2 != nil {
						return err
					}
				}
				if err := tk.SP(); err != nil {
					return err
				}
			}
			if _, err := tk.Text(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"Quoted", func(n int) string { return pad("* \"", n-1) + "\"" }, func(tk *wire.Tokenizer) error {
			if err := starSP(tk); err != nil {
				return err
			}
			if _, err := tk.Quoted(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"Next", func(n int) string { return pad("* ", n) }, nextToCRLF},
		{"AppendLine", func(n int) string { return pad("* ", n) }, appendLine},
		{"Rest", func(n int) string { return pad("* OK ", n) }, func(tk *wire.Tokenizer) error {
			if err := starSP(tk); err != nil {
				return err
			}
			if _, err := tk.Rest(); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"ForwardLine", func(n int) string { return pad("* ", n) }, func(tk *wire.Tokenizer) error {
			return tk.ForwardLine(io.Discard)
		}},
		// Lines that end with a special or spaces: consumed from the
		// buffer without a check of their own, they are checked where
		// the line ends.
		{"ExpectParen", func(n int) string { return pad("* (", n-1) + ")" }, func(tk *wire.Tokenizer) error {
			for _, c := range []byte("* (") {
				if c == ' ' {
					if err := tk.SP(); err != nil {
						return err
					}
				} else if err := tk.Expect(c); err != nil {
					return err
				}
			}
			if _, err := tk.Atom(); err != nil {
				return err
			}
			if err := tk.Expect(')'); err != nil {
				return err
			}
			return tk.CRLF()
		}},
		{"NextParen", func(n int) string { return pad("* (", n-2) + "))" }, nextToCRLF},
		{"AppendLineParen", func(n int) string { return pad("* (", n-2) + "))" }, appendLine},
		{"TrailingSP", func(n int) string { return pad("* ", n-2) + "  " }, appendLine},
		{"SkipLine", func(n int) string { return pad("* ", n) }, func(tk *wire.Tokenizer) error {
			if _, err := tk.Atom(); err != nil && tk.Expect('*') != nil {
				return err
			}
			return tk.SkipLine()
		}},
	}
	for _, max := range []int{wire.DefaultMaxLineLength, 4 * wire.DefaultBufferSize} {
		var opts *wire.TokenizerOptions // the defaults
		if max != wire.DefaultMaxLineLength {
			opts = &wire.TokenizerOptions{MaxLineLength: max}
		}
		for _, rd := range readers {
			for _, oneByte := range []bool{false, true} {
				if oneByte && max == wire.DefaultMaxLineLength && rd.name != "Atom" && rd.name != "Text" {
					continue // one byte a read of 1 MiB: two readers are enough
				}
				open := func(n int) *wire.Tokenizer {
					var r io.Reader = strings.NewReader(rd.line(n) + "\r\n* 3 EXISTS\r\n")
					if oneByte {
						r = iotest.OneByteReader(r)
					}
					return wire.NewTokenizer(r, opts)
				}
				// Within the bound: read, and the next line follows.
				tk := open(max)
				if err := rd.read(tk); err != nil {
					t.Errorf("max %d, %s (one byte a read: %v): a line of %d bytes: %v; want it read", max, rd.name, oneByte, max, err)
				} else if err := tk.Expect('*'); err != nil {
					t.Errorf("max %d, %s: the next line: %v", max, rd.name, err)
				}
				// One byte past it: the typed error.
				tk = open(max + 1)
				if err := rd.read(tk); !errors.Is(err, wire.ErrLineTooLong) {
					t.Errorf("max %d, %s (one byte a read: %v): a line of %d bytes: %v; want ErrLineTooLong", max, rd.name, oneByte, max+1, err)
				} else if _, ok := errors.AsType[*wire.LimitError](err); !ok {
					t.Errorf("max %d, %s: %T; want a *wire.LimitError", max, rd.name, err)
				}
			}
		}
	}
}
