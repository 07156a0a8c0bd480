package wire_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// failingTarget is a connection's writer whose first fails writes fail
// (a write deadline, as a relay's bound on a stalled peer); later ones
// take everything, recorded in out.
type failingTarget struct {
	fails int
	out   bytes.Buffer
}

func (f *failingTarget) Write(p []byte) (int, error) {
	if f.fails > 0 {
		f.fails--
		return 0, os.ErrDeadlineExceeded
	}
	return f.out.Write(p)
}

// partsReader returns its parts one a Read (a peer's writes as they
// come).
type partsReader struct{ parts []string }

func (r *partsReader) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	if r.parts[0] = r.parts[0][n:]; r.parts[0] == "" {
		r.parts = r.parts[1:]
	}
	return n, nil
}

// TestForwardResumedAfterBufioWriterFailedLosesNothing: a *bufio.Writer
// keeps the error of a write to its target and the bytes it held, which
// no writer sends after it (Reset drops them); the tokenizer had counted
// them forwarded when the bufio.Writer took them. A relay that resumed
// through a new bufio.Writer over the same connection (as after a
// splice's write deadline, TestForwardLineResumedAfterSpliceWriteDeadlineThroughBufio)
// relayed the stream with them missing, silently: a literal's header
// (ForwardLine's flush before the body failed), or the line before
// (Forward buffered it; the next line's write overflowed the buffer and
// its flush failed). Where the failure is a forwarding call's own (its
// write, or its flush before a literal's body), the call returns the
// writer's error, and every later forward fails with ErrForwardGap: the
// loss is told. Through a *bufio.ReadWriter too.
func TestForwardResumedAfterBufioWriterFailedLosesNothing(t *testing.T) {
	const next = "z NOOP\r\n"
	for _, tc := range []struct {
		name  string
		input []string                                    // as it comes
		run   func(tk *wire.Tokenizer, w io.Writer) error // up to the failure
	}{
		{
			// ForwardLine buffers the header, then flushes it before
			// the body: the flush fails.
			name:  "ForwardLine's flush before a literal's body",
			input: []string{"a1 APPEND INBOX {10}\r\n", "0123456789 (x)\r\n"},
			run:   func(tk *wire.Tokenizer, w io.Writer) error { return tk.ForwardLine(w) },
		},
		{
			// ForwardLiteral's flush of the header.
			name:  "ForwardLiteral's flush of the header",
			input: []string{"a1 APPEND INBOX {10}\r\n", "0123456789 (x)\r\n"},
			run: func(tk *wire.Tokenizer, w io.Writer) error {
				if _, err := tk.AppendUntilLiteral(nil); err != nil {
					return err
				}
				_, err := tk.ForwardLiteral(w)
				return err
			},
		},
		{
			// A line forwarded into the buffer, then a long one whose
			// write makes the buffer flush: the flush fails, the first
			// line still in it.
			name:  "Forward's write",
			input: []string{"a0 NOOP\r\na1 " + strings.Repeat("x", 200) + "\r\n"},
			run: func(tk *wire.Tokenizer, w io.Writer) error {
				for range 2 {
					if _, err := tk.AppendLine(nil); err != nil {
						return err
					}
					if _, err := tk.Forward(w); err != nil {
						return err
					}
				}
				return nil
			},
		},
	} {
		for _, rw := range []bool{false, true} {
			target := &failingTarget{fails: 1}
			bw := bufio.NewWriterSize(target, 64)
			var w io.Writer = bw
			if rw {
				w = bufio.NewReadWriter(bufio.NewReader(strings.NewReader("")), bw)
			}
			tk := wire.NewTokenizer(&partsReader{parts: append(append([]string(nil), tc.input...), next)}, &wire.TokenizerOptions{Commands: true})
			err := tc.run(tk, w)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("%s (ReadWriter %v): %v; want the target's error", tc.name, rw, err)
			}
			if bw.Buffered() == 0 {
				t.Fatalf("%s (ReadWriter %v): the bufio.Writer holds nothing: the case does not arise", tc.name, rw)
			}
			// A new writer over the same connection, as a relay resumes.
			nw := bufio.NewWriter(target)
			rerr := tk.ForwardLine(nw)
			if rerr == nil {
				if _, rerr = tk.AppendLine(nil); rerr == nil {
					_, rerr = tk.Forward(nw)
				}
			}
			nw.Flush()
			if !errors.Is(rerr, wire.ErrForwardGap) {
				t.Errorf("%s (ReadWriter %v): the resumed forward through a new writer: %v, relayed %q of %q; want ErrForwardGap (the %d bytes the failed bufio.Writer held are lost)",
					tc.name, rw, rerr, target.out.String(), strings.Join(tc.input, "")+next, bw.Buffered())
			}
		}
	}
}

// TestForwardCannotSeeCallersFailedFlush pins what Forward's doc says of a
// failure the tokenizer does not see: the caller's own Flush of a
// *bufio.Writer fails, holding a forwarded line; a forward resumed
// through a new writer returns no error, and the relayed stream lacks
// that line. (The caller must close the connection instead.)
func TestForwardCannotSeeCallersFailedFlush(t *testing.T) {
	target := &failingTarget{fails: 1}
	bw := bufio.NewWriter(target)
	tk := wire.NewTokenizer(strings.NewReader("a0 NOOP\r\na1 NOOP\r\n"), &wire.TokenizerOptions{Commands: true})
	if _, err := tk.AppendLine(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Forward(bw); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Flush: %v; want the target's error", err)
	}
	nw := bufio.NewWriter(target)
	if _, err := tk.AppendLine(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Forward(nw); err != nil {
		t.Fatalf("Forward through a new writer after the caller's failed Flush: %v; the doc says it returns no error", err)
	}
	nw.Flush()
	if got := target.out.String(); got != "a1 NOOP\r\n" {
		t.Fatalf("relayed %q; the doc says the line the failed bufio.Writer held is missing (%q)", got, "a1 NOOP\r\n")
	}
}
