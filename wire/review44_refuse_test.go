package wire_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestReview44LRefuseCommandLong: RefuseCommand reads a refused command on
// to its end, "pieces of a line of more than MaxLineTokens tokens"
// included, and drops them (Forward(io.Discard)). It kept every piece in
// the line's buffer all the same: a command of many small tokens longer
// than MaxLineLength (a SEARCH of 150,000 criteria, legal IMAP; the proxy
// refuses command lines over 64,000 bytes) failed with ErrLineTooLong
// and the stream was stuck there, where the proxy meant to answer BAD
// and go on. The pieces dropped are now given up, as a relay gives up
// the pieces it forwarded.
func TestReview44LRefuseCommandLong(t *testing.T) {
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
