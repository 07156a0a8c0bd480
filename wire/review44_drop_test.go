package wire_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestReview44LSkipLineAfterDrop: the bytes a reader consumes after Drop
// stop counting toward MaxLineLength (Drop's doc), but they are given up
// lazily, when the buffer needs room or a read checks the bound. SkipLine
// counted what was consumed since the last give-up as part of the line:
// with the line already buffered whole (a slow reader behind a fast
// server) nothing had been given up, and a caller that gave up on a long
// line read with Drop (the codec after ErrTooManyNumbers or a bad number
// in a SEARCH) had SkipLine fail with ErrOutOfStep, the connection lost,
// where the same bytes read piece by piece skipped and stayed in step.
func TestReview44LSkipLineAfterDrop(t *testing.T) {
	var b strings.Builder
	b.WriteString("* SEARCH")
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&b, " %d", i)
	}
	line := b.String() + " 0 5\r\n* 3 EXISTS\r\n"
	const max = 4096 // the line is about 9 KB: past it, within the first buffer
	for _, oneByte := range []bool{false, true} {
		var r io.Reader = strings.NewReader(line)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		tk := wire.NewTokenizer(r, &wire.TokenizerOptions{MaxLineLength: max})
		if err := tk.Expect('*'); err != nil {
			t.Fatal(err)
		}
		if err := tk.SP(); err != nil {
			t.Fatal(err)
		}
		if _, err := tk.Atom(); err != nil {
			t.Fatal(err)
		}
		tk.Drop() // numbers are converted as they come: nothing is kept
		n := 0
		for {
			if err := tk.SP(); err != nil {
				t.Fatalf("one byte a read %v: %v", oneByte, err)
			}
			v, err := tk.Number()
			if err != nil {
				t.Fatalf("one byte a read %v: %v", oneByte, err)
			}
			if v == 0 {
				break // the reader gives up on the line here
			}
			n++
		}
		if n != 2000 {
			t.Fatalf("%d numbers; want 2000", n)
		}
		if err := tk.SkipLine(); err != nil {
			t.Fatalf("one byte a read %v: SkipLine after %d numbers read with Drop, 4 bytes left: %v; want the line skipped, in step", oneByte, n, err)
		}
		if err := tk.Expect('*'); err != nil {
			t.Fatalf("one byte a read %v: the next line: %v", oneByte, err)
		}
		// The bound still holds for what SkipLine itself reads.
		tk = wire.NewTokenizer(strings.NewReader("* SEARCH 1 "+strings.Repeat("x", max+10)+"\r\n"), &wire.TokenizerOptions{MaxLineLength: max})
		for _, c := range []byte("* ") {
			if c == ' ' {
				tk.SP()
			} else {
				tk.Expect(c)
			}
		}
		tk.Atom()
		tk.Drop()
		if err := tk.SkipLine(); !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrLineTooLong) {
			t.Fatalf("SkipLine of %d bytes after Drop: %v; want ErrOutOfStep and ErrLineTooLong", max+10, err)
		}
	}
}
