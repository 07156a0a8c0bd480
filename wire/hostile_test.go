package wire_test

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// endless is a reader that never ends: the same byte forever. It counts
// what was read, so a test can bound what the tokenizer consumed.
type endless struct {
	c byte
	n int64
}

func (r *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.c
	}
	r.n += int64(len(p))
	return len(p), nil
}

// TestLiteralSizePastInt64 is the regression test for a remote crash: a
// literal announced with 19 digits, just over int64, wrapped negative,
// passed the MaxLiteral check and panicked a later slice expression.
func TestLiteralSizePastInt64(t *testing.T) {
	for _, size := range []string{
		"9223372036854775808",  // 2^63: wraps to math.MinInt64
		"9999999999999999999",  // 19 digits, under 2^64
		"18446744073709551615", // 2^64-1
		"18446744073709551616", // 2^64
		"99999999999999999999999",
	} {
		t.Run(size, func(t *testing.T) {
			in := "* 1 FETCH (BODY[] {" + size + "}\r\nabc"
			tk := wire.NewTokenizer(strings.NewReader(in), nil)
			tk.Expect('*')
			tk.SP()
			tk.Number()
			tk.SP()
			tk.Atom()
			tk.SP()
			tk.Expect('(')
			tk.Atom()
			tk.Expect('[')
			tk.Expect(']')
			tk.SP()
			info, err := tk.Literal()
			if err == nil {
				t.Fatalf("literal of %s bytes accepted: %+v", size, info)
			}
			if !errors.Is(err, wire.ErrLiteralTooLarge) && !errors.Is(err, wire.ErrNumberOverflow) {
				t.Fatalf("got %v, want ErrLiteralTooLarge or ErrNumberOverflow", err)
			}
			if info.Size < 0 {
				t.Fatalf("size wrapped negative: %d", info.Size)
			}
			// Skipping the line cannot get in step again: it must say so,
			// and keep saying so, instead of taking the body for lines.
			err = tk.SkipLine()
			if !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrLiteralTooLarge) {
				t.Fatalf("SkipLine: got %v, want ErrOutOfStep and ErrLiteralTooLarge", err)
			}
			var le *wire.LimitError
			if !errors.As(err, &le) || le.Got <= 0 {
				t.Fatalf("SkipLine: %v is not a *LimitError with the size", err)
			}
			if _, err2 := tk.Atom(); !errors.Is(err2, wire.ErrOutOfStep) {
				t.Fatalf("the next call after out of step: %v", err2)
			}
			if err3 := tk.SkipLine(); !errors.Is(err3, wire.ErrOutOfStep) {
				t.Fatalf("SkipLine again: %v", err3)
			}
		})
	}
}

// TestSkipLineLiteralOverLimit: the reader used to spin on a literal over
// MaxLiteral, as SkipLine returned its error without consuming anything.
func TestSkipLineLiteralOverLimit(t *testing.T) {
	r := strings.NewReader("* 1 FETCH (BODY[] {9999999999}\r\nsome bytes\r\n* 2 EXISTS\r\n")
	tk := wire.NewTokenizer(r, nil)
	tk.Expect('*')
	err := tk.SkipLine()
	if !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrLiteralTooLarge) {
		t.Fatalf("got %v", err)
	}
	if tk.Broken() == nil {
		t.Fatal("Broken() is nil after ErrOutOfStep")
	}
	// Reset (onto a new stream) clears the state.
	tk.Reset(strings.NewReader("* 2 EXISTS\r\n"))
	if tk.Broken() != nil {
		t.Fatal("Reset kept the out-of-step state")
	}
	if err := tk.Expect('*'); err != nil {
		t.Fatal(err)
	}
}

// TestSkipLineEndless: an endless line is given up after MaxLineLength
// skipped bytes, with defaults, instead of being drained for ever.
func TestSkipLineEndless(t *testing.T) {
	r := &endless{c: 'a'}
	tk := wire.NewTokenizer(io.MultiReader(strings.NewReader("* "), r), nil)
	tk.Expect('*')
	tk.SP()
	if _, err := tk.Atom(); !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("Atom on an endless line: %v", err)
	}
	err := tk.SkipLine()
	if !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("SkipLine on an endless line: %v", err)
	}
	if max := int64(3 * wire.DefaultMaxLineLength); r.n > max {
		t.Fatalf("read %d bytes of an endless line, want at most %d", r.n, max)
	}
	t.Logf("gave up after reading %d bytes", r.n)
}

// TestSkipLineEndlessFromStart: SkipLine called first, with nothing of the
// line consumed, is bounded too.
func TestSkipLineEndlessFromStart(t *testing.T) {
	r := &endless{c: 'x'}
	tk := wire.NewTokenizer(r, nil)
	err := tk.SkipLine()
	if !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("got %v", err)
	}
	if max := int64(2*wire.DefaultMaxLineLength + wire.DefaultBufferSize); r.n > max {
		t.Fatalf("read %d bytes, want at most %d", r.n, max)
	}
}

// TestSkipLineLongButBounded: a line just under the limit is skipped
// and the stream stays in step.
func TestSkipLineLongButBounded(t *testing.T) {
	line := "* " + strings.Repeat("a", wire.DefaultMaxLineLength-100) + "\r\n* 3 EXISTS\r\n"
	tk := wire.NewTokenizer(strings.NewReader(line), nil)
	if err := tk.SkipLine(); err != nil {
		t.Fatal(err)
	}
	if err := tk.Expect('*'); err != nil {
		t.Fatal(err)
	}
	if tk.Broken() != nil {
		t.Fatal("a line under the limit put the tokenizer out of step")
	}
}

// TestNumbersAudit: every number the tokenizer parses rejects overflow.
func TestNumbersAudit(t *testing.T) {
	big := "18446744073709551616"
	tk := wire.NewTokenizer(strings.NewReader(big+" "), nil)
	if _, err := tk.Number(); !errors.Is(err, wire.ErrNumberOverflow) {
		t.Errorf("Number(%s): %v", big, err)
	}
	tk = wire.NewTokenizer(strings.NewReader("18446744073709551615 "), nil)
	if n, err := tk.Number(); err != nil || n != math.MaxUint64 {
		t.Errorf("Number(2^64-1) = %d, %v", n, err)
	}
	tk = wire.NewTokenizer(strings.NewReader("<"+big+">"), nil)
	if _, _, _, err := tk.Partial(); !errors.Is(err, wire.ErrNumberOverflow) {
		t.Errorf("Partial(<%s>): %v", big, err)
	}
	tk = wire.NewTokenizer(strings.NewReader("<0."+big+">"), nil)
	if _, _, _, err := tk.Partial(); !errors.Is(err, wire.ErrNumberOverflow) {
		t.Errorf("Partial(<0.%s>): %v", big, err)
	}
	tk = wire.NewTokenizer(strings.NewReader("-1 "), nil)
	if _, err := tk.Number(); err == nil {
		t.Error("Number(-1) accepted")
	}
}

// TestSkipLineAfterBufferFull: the line filled the buffer up to the limit
// with tokens the caller consumed (an endless flag list); SkipLine must
// still get past it or give up, never fail without consuming.
func TestSkipLineAfterBufferFull(t *testing.T) {
	r := &endless{c: 'a'}
	tk := wire.NewTokenizer(io.MultiReader(strings.NewReader("* 1 FETCH (FLAGS ("), &repeater{unit: `\Seen `, n: &r.n}), nil)
	tk.Expect('*')
	tk.SP()
	tk.Number()
	tk.SP()
	tk.Atom()
	tk.SP()
	tk.Expect('(')
	tk.Atom()
	tk.SP()
	tk.Expect('(')
	var err error
	for err == nil {
		if _, err = tk.Flag(); err == nil {
			err = tk.SP()
		}
	}
	if !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("flags: %v", err)
	}
	err = tk.SkipLine()
	if !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("SkipLine: %v; want ErrOutOfStep", err)
	}
	if max := int64(3 * wire.DefaultMaxLineLength); r.n > max {
		t.Fatalf("read %d bytes", r.n)
	}
}

// repeater repeats unit for ever, counting into n.
type repeater struct {
	unit string
	n    *int64
}

func (r *repeater) Read(p []byte) (int, error) {
	for i := 0; i < len(p); {
		i += copy(p[i:], r.unit)
	}
	*r.n += int64(len(p))
	return len(p), nil
}

// TestUnshare: bytes borrowed before Unshare keep their contents while the
// tokenizer reads on; Unshare refuses while a literal is open.
func TestUnshare(t *testing.T) {
	in := "* 1 EXISTS\r\n* 2 EXISTS\r\n" + strings.Repeat("* 3 RECENT\r\n", 10000)
	tk := wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{BufferSize: 64})
	tk.Expect('*')
	tk.SP()
	tk.Number()
	tk.SP()
	b, err := tk.Atom()
	if err != nil || string(b) != "EXISTS" {
		t.Fatal(b, err)
	}
	tk.CRLF()
	if err := tk.Unshare(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10001; i++ {
		if err := tk.SkipLine(); err != nil {
			t.Fatal(i, err)
		}
	}
	if string(b) != "EXISTS" {
		t.Fatalf("borrowed bytes changed to %q", b)
	}
	tk = wire.NewTokenizer(strings.NewReader("{3}\r\nabc\r\n"), nil)
	if _, err := tk.Literal(); err != nil {
		t.Fatal(err)
	}
	if err := tk.Unshare(); !errors.Is(err, wire.ErrLiteralOpen) {
		t.Fatalf("Unshare with a literal open: %v", err)
	}
}
