package wire_test

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// numbersLine is "* SEARCH 1000000 1000001 ..." with n numbers: 8 bytes
// each.
func numbersLine(n int) string {
	var b strings.Builder
	b.WriteString("* SEARCH")
	for i := 0; i < n; i++ {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(1000000 + i))
	}
	b.WriteString("\r\n")
	return b.String()
}

// readNumbers reads the line numbersLine makes, calling Drop (when drop
// is set) after its first number, and returns the count and the sum of
// the numbers.
func readNumbers(tk *wire.Tokenizer, drop bool) (n int, sum uint64, err error) {
	if err := tk.Expect('*'); err != nil {
		return 0, 0, err
	}
	if err := tk.SP(); err != nil {
		return 0, 0, err
	}
	if _, err := tk.Atom(); err != nil { // SEARCH
		return 0, 0, err
	}
	for {
		if ok, err := tk.AtEOL(); err != nil || ok {
			return n, sum, err
		}
		if err := tk.SP(); err != nil {
			return n, sum, err
		}
		v, err := tk.Number()
		if err != nil {
			return n, sum, err
		}
		n++
		sum += v
		if drop && n == 1 {
			tk.Drop()
		}
	}
}

// TestDropLongLine: with the default limits, a line of 8 MB (eight times
// MaxLineLength) is read whole when the reader drops what it converted,
// in a buffer that stays small; without Drop it fails with
// ErrLineTooLong, as before. Marks and RawLine of the dropped line fail,
// and the next line reads as usual.
func TestDropLongLine(t *testing.T) {
	const n = 1 << 20
	line := numbersLine(n)
	var want uint64
	for i := 0; i < n; i++ {
		want += uint64(1000000 + i)
	}
	input := line + "* 3 EXISTS\r\n"

	t.Run("Drop", func(t *testing.T) {
		r := &countingReader{r: strings.NewReader(input)}
		tk := wire.NewTokenizer(r, nil)
		m := tk.Mark()
		got, sum, err := readNumbers(tk, true)
		if err != nil || got != n || sum != want {
			t.Fatalf("read %d numbers (sum %d), err %v; want %d (sum %d)", got, sum, err, n, want)
		}
		if err := tk.Rewind(m); !errors.Is(err, wire.ErrCannotRewind) {
			t.Errorf("Rewind to a mark before Drop: %v, want ErrCannotRewind", err)
		}
		if _, err := tk.RawLine(); !errors.Is(err, wire.ErrCannotRewind) {
			t.Errorf("RawLine of a dropped line: %v, want ErrCannotRewind", err)
		}
		if err := tk.CRLF(); err != nil {
			t.Fatal(err)
		}
		if toks := lineTokens(t, tk); toks != "* 3 EXISTS" {
			t.Errorf("next line: %q", toks)
		}
		// The buffer never grows (32 KiB, DefaultBufferSize): it moves
		// what is left to its front each time it is full.
		if r.maxRead > wire.DefaultBufferSize {
			t.Errorf("a read of %d bytes: the buffer grew to the line", r.maxRead)
		}
	})
	t.Run("SmallReads", func(t *testing.T) {
		// 7-byte reads against 8-byte numbers: tokens straddle every
		// read, and the buffer fills in the middle of a number.
		const n = 1 << 17 // 1 MiB and a little: past MaxLineLength
		var want uint64
		for i := 0; i < n; i++ {
			want += uint64(1000000 + i)
		}
		tk := wire.NewTokenizer(&smallReader{r: strings.NewReader(numbersLine(n)), n: 7}, nil)
		got, sum, err := readNumbers(tk, true)
		if err != nil || got != n || sum != want {
			t.Fatalf("read %d numbers (sum %d), err %v; want %d (sum %d)", got, sum, err, n, want)
		}
	})
	t.Run("LargeBuffer", func(t *testing.T) {
		// A buffer larger than the line bound (as one grows to after a
		// long line): what was consumed since Drop passes the bound
		// before the buffer is full.
		tk := wire.NewTokenizer(strings.NewReader(input), &wire.TokenizerOptions{BufferSize: 3 << 20})
		got, sum, err := readNumbers(tk, true)
		if err != nil || got != n || sum != want {
			t.Fatalf("read %d numbers (sum %d), err %v; want %d (sum %d)", got, sum, err, n, want)
		}
	})
	t.Run("NoDrop", func(t *testing.T) {
		tk := wire.NewTokenizer(strings.NewReader(input), nil)
		_, _, err := readNumbers(tk, false)
		if !errors.Is(err, wire.ErrLineTooLong) {
			t.Fatalf("err %v, want ErrLineTooLong", err)
		}
	})
}

// TestDropNoOp: Drop at the end of a line or with a literal open changes
// nothing: the literal's body and the line are read as usual, and the
// next line is not dropped.
func TestDropNoOp(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("* 1 X {5}\r\nhello Y\r\n* OK x\r\n"), nil)
	m := tk.Mark()
	steps := []func() error{
		func() error { return tk.Expect('*') }, tk.SP,
		func() error { _, err := tk.Number(); return err }, tk.SP,
		func() error { _, err := tk.Atom(); return err }, tk.SP,
		func() error { _, err := tk.Literal(); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	tk.Drop() // a literal is open
	b, err := tk.LiteralBytes()
	if err != nil || string(b) != "hello" {
		t.Fatalf("literal %q, %v", b, err)
	}
	if err := tk.SP(); err != nil {
		t.Fatal(err)
	}
	if a, err := tk.Atom(); err != nil || string(a) != "Y" {
		t.Fatalf("atom %q, %v", a, err)
	}
	if err := tk.CRLF(); err != nil {
		t.Fatal(err)
	}
	tk.Drop() // the line has ended
	if err := tk.Rewind(m); err == nil {
		t.Error("Rewind after the line ended succeeded")
	}
	if raw, err := tk.RawLine(); err != nil || string(raw) != "* 1 X {5}\r\nhello Y\r\n" {
		t.Errorf("RawLine %q, %v", raw, err)
	}
	if toks := lineTokens(t, tk); toks != "* OK x" {
		t.Errorf("next line: %q", toks)
	}
}

// lineTokens reads one line with Next and joins its tokens' bytes.
func lineTokens(t *testing.T, tk *wire.Tokenizer) string {
	t.Helper()
	var parts []string
	for {
		tok, err := tk.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch tok.Kind {
		case wire.KindCRLF:
			return strings.Join(parts, " ")
		case wire.KindSP:
		case wire.KindStar:
			parts = append(parts, "*")
		default:
			parts = append(parts, tok.String())
		}
	}
}

// countingReader records the largest read asked of it.
type countingReader struct {
	r       io.Reader
	maxRead int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.maxRead = max(c.maxRead, len(p))
	return c.r.Read(p)
}

// smallReader returns at most n bytes a read.
type smallReader struct {
	r io.Reader
	n int
}

func (s *smallReader) Read(p []byte) (int, error) {
	return s.r.Read(p[:min(len(p), s.n)])
}

// TestKeep: after a long run read with Drop, Keep makes what follows kept
// as usual: a mark taken after it survives the buffer's refills (a 16-byte
// buffer here), and Since returns the item whole.
func TestKeep(t *testing.T) {
	const n = 1 << 17 // 1 MiB of numbers: past MaxLineLength
	input := strings.TrimSuffix(numbersLine(n), "\r\n") + " ITEM (x y \"z z\")\r\n* OK\r\n"
	tk := wire.NewTokenizer(&smallReader{r: strings.NewReader(input), n: 5}, &wire.TokenizerOptions{BufferSize: 16})
	if err := tk.Expect('*'); err != nil {
		t.Fatal(err)
	}
	if err := tk.SP(); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Atom(); err != nil {
		t.Fatal(err)
	}
	tk.Drop()
	got := 0
	for {
		if err := tk.SP(); err != nil {
			t.Fatal(err)
		}
		if c, err := tk.Peek(); err != nil {
			t.Fatal(err)
		} else if c < '0' || c > '9' {
			break
		}
		if _, err := tk.Number(); err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Fatalf("%d numbers", got)
	}
	tk.Keep()
	m := tk.Mark()
	for {
		tok, err := tk.Next()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == wire.KindRParen {
			break
		}
	}
	item, err := tk.Since(m)
	if err != nil || string(item) != `ITEM (x y "z z")` {
		t.Fatalf("Since: %q, %v", item, err)
	}
	if err := tk.CRLF(); err != nil {
		t.Fatal(err)
	}
	if toks := lineTokens(t, tk); toks != "* OK" {
		t.Errorf("next line: %q", toks)
	}
}

// TestSkipLineAfterDrop: the bytes a reader consumes after Drop
// stop counting toward MaxLineLength (Drop's doc), but they are given up
// lazily, when the buffer needs room or a read checks the bound. SkipLine
// counted what was consumed since the last give-up as part of the line:
// with the line already buffered whole (a slow reader behind a fast
// server) nothing had been given up, and a caller that gave up on a long
// line read with Drop (the codec after ErrTooManyNumbers or a bad number
// in a SEARCH) had SkipLine fail with ErrOutOfStep, the connection lost,
// where the same bytes read piece by piece skipped and stayed in step.
func TestSkipLineAfterDrop(t *testing.T) {
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
