package wire_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestInterruptedSkipCutByEndEndsEveryReader: a stream cut at every byte
// of lines with literals, skipped by SkipLine, ForwardLine or RefuseLine:
// once the skip is cut by the end, every other call a reader's loop makes
// (Next, and the other skips) ends with io.EOF, as ErrSkipPending's doc
// says ("Once the end of the stream interrupted the skip, those calls
// return io.EOF instead"), never ErrSkipPending for ever.
func TestInterruptedSkipCutByEndEndsEveryReader(t *testing.T) {
	for _, s := range resumeStreams {
		for p := range len(s.in) {
			for _, m := range interruptedSkips {
				opts := &wire.TokenizerOptions{Commands: s.commands}
				tk := wire.NewTokenizer(strings.NewReader(s.in[:p]), opts)
				var err error
				for range 20 {
					if err = m.call(tk, io.Discard); err != nil {
						break
					}
				}
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					continue // a refused line's framing may differ: not this test's subject
				}
				if _, err := tk.Next(); err != io.EOF {
					t.Fatalf("%q cut at %d, %s ended (%v), then Next: %v; want io.EOF", s.in, p, m.name, err, err)
				}
				for _, o := range interruptedSkips {
					if o.name == m.name {
						continue
					}
					if oerr := o.call(tk, io.Discard); errors.Is(oerr, wire.ErrSkipPending) {
						t.Fatalf("%q cut at %d, %s ended (%v), then %s: %v; want io.EOF", s.in, p, m.name, err, o.name, oerr)
					}
				}
			}
		}
	}
}

// TestSkipInterruptedBeforeLineBeganLeavesNoPending: a ForwardLine (or
// SkipLine) whose read deadline comes before the first byte of the next
// line (a relay's idle timeout) gave up nothing of any line: the
// tokenizer is between lines, and reading the next line with Next works
// as it did before ErrSkipPending; no skip is pending there.
func TestSkipInterruptedBeforeLineBeganLeavesNoPending(t *testing.T) {
	for _, m := range interruptedSkips[:2] {
		tk := wire.NewTokenizer(&stepReader{steps: []*string{strStep("a NOOP\r\n"), nil, strStep("b NOOP\r\n")}}, nil)
		if err := m.call(tk, io.Discard); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if err := m.call(tk, io.Discard); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s at the idle deadline: %v; want the deadline", m.name, err)
		}
		if tok, err := tk.Next(); err != nil || string(tok.Bytes()) != "b" {
			t.Fatalf("%s interrupted before the line began, then Next: %q, %v; want the next line's tag \"b\"", m.name, tok.Bytes(), err)
		}
	}
}
