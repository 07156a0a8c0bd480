package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

var errWriterFailed = errors.New("writer failed")

// failOnceWriter accepts bytes until it has taken failAt of them, then
// fails once, having accepted only what fits; later writes succeed. It
// has no ReadFrom (a bytes.Buffer has).
type failOnceWriter struct {
	out    bytes.Buffer
	failAt int
	failed bool
}

func (w *failOnceWriter) Write(p []byte) (int, error) {
	if !w.failed && w.out.Len()+len(p) > w.failAt {
		w.failed = true
		n := w.failAt - w.out.Len()
		w.out.Write(p[:n])
		return n, errWriterFailed
	}
	return w.out.Write(p)
}

// relayLiteralLine is a command with a literal of n bytes in its middle,
// the line it ends and the next line's tag.
func relayLiteralLine(n int) (line, next string, bodyAt int) {
	head := fmt.Sprintf("a1 APPEND INBOX {%d}\r\n", n)
	body := strings.Repeat("0123456789abcdef", n/16+1)[:n]
	return head + body + " (x)\r\n", "z", len(head)
}

// TestForwardLineResumedAfterWriterFails: ForwardLine whose writer fails
// at byte k of a literal's body (the first, one in the middle, the last,
// and the first after the body) is resumed by calling it again, and goes
// on from the first byte the writer did not accept: the peer gets the
// line exactly, and the next line is read as the next line. Before, the
// resumed call drained the rest of the body (given up unforwarded) and
// failed with ErrForwardGap. So for a writer failing in the middle of the
// line's other bytes (k negative: in the header's line; past n: after
// the body), which the resumed call had already forwarded past the
// tokenizer's position (ErrForwardGap too).
func TestForwardLineResumedAfterWriterFails(t *testing.T) {
	const n = 10_000
	line, next, bodyAt := relayLiteralLine(n)
	in := line + next + " NOOP\r\n"
	for _, chunk := range []int{1 << 20, 4096, 7} {
		for _, k := range []int{-bodyAt, 3 - bodyAt, -1, 0, 1, n / 2, n - 1, n, n + 2, len(line) - bodyAt - 1} {
			for _, opts := range []*wire.TokenizerOptions{nil, commandsOpts} {
				tk := wire.NewTokenizer(&chunkReader{r: bytes.NewReader([]byte(in)), n: chunk}, opts)
				w := &failOnceWriter{failAt: bodyAt + k}
				if err := tk.ForwardLine(w); !errors.Is(err, errWriterFailed) {
					t.Fatalf("reads of %d, writer failing at body byte %d: ForwardLine: %v; want the writer's error", chunk, k, err)
				}
				// Forward between writes nothing: what was consumed
				// was forwarded (or the line's bytes ahead of it).
				if n, err := tk.Forward(w); n != 0 || err != nil {
					t.Fatalf("reads of %d, writer failing at body byte %d: Forward between: %d, %v; want 0, nil", chunk, k, n, err)
				}
				if err := tk.ForwardLine(w); err != nil {
					t.Fatalf("reads of %d, writer failing at body byte %d: resumed ForwardLine: %v", chunk, k, err)
				}
				if got := w.out.String(); got != line {
					t.Fatalf("reads of %d, writer failing at body byte %d: relayed %d bytes (%q...); want the line's %d", chunk, k, len(got), excerptOf([]byte(got)), len(line))
				}
				if tag, err := tk.Tag(); err != nil || string(tag) != next {
					t.Fatalf("reads of %d, writer failing at body byte %d: next tag %q (%v); want %q", chunk, k, tag, err, next)
				}
			}
		}
	}
}

// TestForwardLineResumedAfterReadFails: the same when the reader fails
// (a deadline) at byte k of the literal's body: before, the resumed call
// drained the rest of the body unforwarded (ErrForwardGap).
func TestForwardLineResumedAfterReadFails(t *testing.T) {
	const n = 10_000
	line, next, bodyAt := relayLiteralLine(n)
	in := line + next + " NOOP\r\n"
	for _, k := range []int{0, 1, n / 2, n - 1, n} {
		tk := wire.NewTokenizer(&stepReader{steps: []*string{strStep(in[:bodyAt+k]), nil, strStep(in[bodyAt+k:])}}, nil)
		var out bytes.Buffer
		if err := tk.ForwardLine(&out); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a deadline at body byte %d: ForwardLine: %v; want the deadline", k, err)
		}
		if err := tk.ForwardLine(&out); err != nil {
			t.Fatalf("a deadline at body byte %d: resumed ForwardLine: %v", k, err)
		}
		if out.String() != line {
			t.Fatalf("a deadline at body byte %d: relayed %d bytes; want the line's %d", k, out.Len(), len(line))
		}
		if tag, err := tk.Tag(); err != nil || string(tag) != next {
			t.Fatalf("a deadline at body byte %d: next tag %q (%v); want %q", k, tag, err, next)
		}
	}
}

// readFromWriter is a writer with a ReadFrom, failing once when it has
// taken failAt bytes. Honest, it keeps every byte it read (as a
// bufio.Writer does) and reports them; lossy, it is built on io.Copy
// style: it reads a chunk, writes what fits, and reports what it wrote,
// so the bytes it read past that are gone.
type readFromWriter struct {
	failOnceWriter
	lossy bool
}

func (w *readFromWriter) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	buf := make([]byte, 512)
	for {
		m, rerr := r.Read(buf)
		if !w.lossy && !w.failed && w.out.Len()+m > w.failAt {
			// Honest: what it read is kept; it fails after.
			w.out.Write(buf[:m])
			w.failed = true
			return n + int64(m), errWriterFailed
		}
		k, err := w.Write(buf[:m])
		n += int64(k)
		if err != nil {
			return n, err
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// givingReader counts the bytes it served.
type givingReader struct {
	r     io.Reader
	given int64
}

func (c *givingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.given += int64(n)
	return n, err
}

// TestForwardLineResumedReaderFromWriter: a writer with a ReadFrom takes
// a literal's body straight from the connection. The tokenizer moves on
// by what left the connection, whatever ReadFrom reports: an honest one
// (all it read kept) is resumed from the next byte, the line relayed
// exactly; a lossy one (io.Copy style: it reports what it wrote, the
// bytes read past that are gone) leaves a gap the resumed call refuses
// (ErrForwardGap), with the stream still framed (the tokenizer's
// position is what the connection gave). Counting ReadFrom's report
// instead, the tokenizer stays behind the connection: the lost bytes
// become part of what it reads as the rest of the body.
func TestForwardLineResumedReaderFromWriter(t *testing.T) {
	const n = 10_000
	line, next, bodyAt := relayLiteralLine(n)
	in := line + next + " NOOP\r\n"
	for _, lossy := range []bool{false, true} {
		for _, k := range []int{0, 1, n / 2, n - 1} {
			src := &givingReader{r: &stepReader{steps: []*string{strStep(in[:bodyAt]), strStep(in[bodyAt:])}}}
			tk := wire.NewTokenizer(src, nil)
			w := &readFromWriter{failOnceWriter: failOnceWriter{failAt: bodyAt + k}, lossy: lossy}
			if err := tk.ForwardLine(w); !errors.Is(err, errWriterFailed) {
				t.Fatalf("lossy %v, failing at body byte %d: ForwardLine: %v; want the writer's error", lossy, k, err)
			}
			if at := tk.Offset() + int64(tk.Buffered()); at != src.given {
				t.Fatalf("lossy %v, failing at body byte %d: the tokenizer is at %d (offset %d, %d buffered); the connection gave %d", lossy, k, at, tk.Offset(), tk.Buffered(), src.given)
			}
			err := tk.ForwardLine(w)
			if lossy {
				if !errors.Is(err, wire.ErrForwardGap) {
					t.Fatalf("lossy, failing at body byte %d: resumed ForwardLine: %v (relayed %d bytes of %d); want ErrForwardGap", k, err, w.out.Len(), len(line))
				}
				continue
			}
			if err != nil {
				t.Fatalf("honest, failing at body byte %d: resumed ForwardLine: %v", k, err)
			}
			if w.out.String() != line {
				t.Fatalf("honest, failing at body byte %d: relayed %d bytes; want the line's %d", k, w.out.Len(), len(line))
			}
			if tag, err := tk.Tag(); err != nil || string(tag) != next {
				t.Fatalf("honest, failing at body byte %d: next tag %q (%v); want %q", k, tag, err, next)
			}
		}
	}
}

// interruptedSkips are the calls that skip a line and resume after an
// error, with the commands mode they are for.
var interruptedSkips = []struct {
	name     string
	commands bool
	call     func(*wire.Tokenizer, io.Writer) error
}{
	{"SkipLine", false, func(tk *wire.Tokenizer, _ io.Writer) error { return tk.SkipLine() }},
	{"ForwardLine", false, (*wire.Tokenizer).ForwardLine},
	{"RefuseLine", true, func(tk *wire.Tokenizer, _ io.Writer) error { return tk.RefuseLine() }},
}

// TestNextBetweenInterruptedSkipAndResume: a skip of a line (SkipLine,
// ForwardLine, RefuseLine) interrupted by a deadline after it gave up the
// '{' of a long literal header leaves the tokenizer in the middle of the
// header's digits. A Next, a Drop, a literal's reader there would misframe
// the line (the digits read as a number, the body as the next line):
// they fail with ErrSkipPending (Drop does nothing) until the skip is
// resumed, which then frames the line as an uninterrupted one does.
func TestNextBetweenInterruptedSkipAndResume(t *testing.T) {
	head := "a NOOP {" + strings.Repeat("0", 60)
	rest := "5+}\r\nhello\r\nz NOOP\r\n"
	for _, m := range interruptedSkips {
		opts := &wire.TokenizerOptions{Commands: m.commands}
		tk := wire.NewTokenizer(&stepReader{steps: []*string{strStep(head), nil, strStep(rest)}}, opts)
		var out bytes.Buffer
		if err := m.call(tk, &out); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: %v; want the deadline", m.name, err)
		}
		if tok, err := tk.Next(); !errors.Is(err, wire.ErrSkipPending) {
			t.Fatalf("%s interrupted, then Next: %v, %v; want ErrSkipPending", m.name, tok, err)
		}
		tk.Drop()
		if _, err := tk.LiteralReader(); !errors.Is(err, wire.ErrSkipPending) {
			t.Fatalf("%s interrupted, then LiteralReader: %v; want ErrSkipPending", m.name, err)
		}
		if err := m.call(tk, &out); err != nil {
			t.Fatalf("%s resumed: %v", m.name, err)
		}
		if tag, err := tk.Tag(); err != nil || string(tag) != "z" {
			t.Fatalf("%s resumed: next tag %q (%v); want \"z\"", m.name, tag, err)
		}
		if m.name == "ForwardLine" && out.String() != head+"5+}\r\nhello\r\n" {
			t.Fatalf("ForwardLine resumed relayed %q", out.String())
		}
	}
}

// TestDropBetweenInterruptedSkipsKeepsLineBound: a line longer than
// MaxLineLength is refused (ErrLineTooLong) by SkipLine, ForwardLine
// and RefuseLine resumed after each deadline, a Drop between each
// included: a Drop restarted the line's count, so a server pausing past
// the deadline every half megabyte sent an endless line.
func TestDropBetweenInterruptedSkipsKeepsLineBound(t *testing.T) {
	in := "a1 XFOO " + strings.Repeat("x", 3*wire.DefaultMaxLineLength) + "\r\nz NOOP\r\n"
	for _, m := range interruptedSkips {
		opts := &wire.TokenizerOptions{Commands: m.commands}
		tk := wire.NewTokenizer(&deadlineEveryReader{in: in, every: wire.DefaultMaxLineLength / 2}, opts)
		var err error
		for range 100 {
			if err = m.call(tk, io.Discard); !errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			tk.Drop()
		}
		if !errors.Is(err, wire.ErrLineTooLong) {
			t.Fatalf("%s resumed with a Drop at each deadline over a line of %d bytes: %v at offset %d; want ErrLineTooLong", m.name, len(in)-10, err, tk.Offset())
		}
	}
}

// TestRefusedLineNotForwardedAfterInterrupt: a RefuseLine interrupted
// inside a non-synchronizing literal is resumed by RefuseLine only: a
// ForwardLine or SkipLine there fails with ErrSkipPending and relays
// nothing (a refused command is never passed on; and SkipLine would wait
// for the body of the synchronizing literal that ends the refused line).
func TestRefusedLineNotForwardedAfterInterrupt(t *testing.T) {
	steps := []*string{strStep("a1 NOOP {5+}\r\nhe"), nil, strStep("llo x {3}\r\nz NOOP\r\n")}
	tk := wire.NewTokenizer(&stepReader{steps: steps}, commandsOpts)
	if err := tk.RefuseLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("RefuseLine: %v; want the deadline", err)
	}
	var out bytes.Buffer
	if err := tk.ForwardLine(&out); !errors.Is(err, wire.ErrSkipPending) || out.Len() != 0 {
		t.Fatalf("ForwardLine after an interrupted RefuseLine: %v, relayed %q; want ErrSkipPending, nothing", err, out.String())
	}
	if err := tk.SkipLine(); !errors.Is(err, wire.ErrSkipPending) {
		t.Fatalf("SkipLine after an interrupted RefuseLine: %v; want ErrSkipPending", err)
	}
	if err := tk.RefuseLine(); err != nil {
		t.Fatalf("RefuseLine resumed: %v", err)
	}
	if tag, err := tk.Tag(); err != nil || string(tag) != "z" {
		t.Fatalf("after the refused line: tag %q (%v); want \"z\"", tag, err)
	}
	if _, err := tk.Forward(io.Discard); err != nil {
		t.Fatalf("Forward after the refused line: %v (RefuseLine drops as Forward(io.Discard) does)", err)
	}
}

// TestSkipLineCutByEndThenNext: a skip the end of the stream cut leaves
// the line to it as any interrupted skip, but a reader's loop still ends:
// Next returns io.EOF, not ErrSkipPending for ever.
func TestSkipLineCutByEndThenNext(t *testing.T) {
	for _, m := range interruptedSkips {
		opts := &wire.TokenizerOptions{Commands: m.commands}
		tk := wire.NewTokenizer(strings.NewReader("a1 NOOP "+strings.Repeat("7", 100)), opts)
		if err := m.call(tk, io.Discard); err != io.ErrUnexpectedEOF {
			t.Fatalf("%s cut by the end: %v; want io.ErrUnexpectedEOF", m.name, err)
		}
		for range 2 {
			if tok, err := tk.Next(); err != io.EOF {
				t.Fatalf("%s cut by the end, then Next: %v, %v; want io.EOF", m.name, tok, err)
			}
		}
	}
}

// TestForwardLineWriterFailsAfterLongLiteralHeader: a ForwardLine whose
// writer fails as it relays the end of a literal's header longer than
// the tail it keeps (its '{' given up before) is resumed, and frames the
// line as an uninterrupted call does: "hello" is the literal's body, "z"
// the next line's tag. Before, the header's scan was reset before the
// line's part was forwarded, and the resumed call ended the line at the
// header's LF (found by FuzzForwardLineResumed).
func TestForwardLineWriterFailsAfterLongLiteralHeader(t *testing.T) {
	head := "a NOOP {" + strings.Repeat("0", 60)
	line := head + "5}\r\nhello\r\n"
	for _, opts := range []*wire.TokenizerOptions{nil, commandsOpts} {
		tk := wire.NewTokenizer(&stepReader{steps: []*string{strStep(head), strStep(line[len(head):] + "z NOOP\r\n")}}, opts)
		w := &failOnceWriter{failAt: len(head) - 10}
		if err := tk.ForwardLine(w); !errors.Is(err, errWriterFailed) {
			t.Fatalf("commands %v: ForwardLine: %v; want the writer's error", opts != nil, err)
		}
		if err := tk.ForwardLine(w); err != nil {
			t.Fatalf("commands %v: resumed ForwardLine: %v", opts != nil, err)
		}
		if w.out.String() != line {
			t.Fatalf("commands %v: relayed %q; want %q", opts != nil, w.out.String(), line)
		}
		if tag, err := tk.Tag(); err != nil || string(tag) != "z" {
			t.Fatalf("commands %v: next tag %q (%v); want \"z\"", opts != nil, tag, err)
		}
	}
}
