package wire_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// deadlineAtReader returns in, failing once with a read deadline when it
// reaches offset at (a server that paused past the caller's deadline).
type deadlineAtReader struct {
	in       string
	off, at  int
	deadline bool // the deadline was returned
}

func (r *deadlineAtReader) Read(p []byte) (int, error) {
	if r.off == r.at && !r.deadline {
		r.deadline = true
		return 0, os.ErrDeadlineExceeded
	}
	if r.off == len(r.in) {
		return 0, io.EOF
	}
	end := len(r.in)
	if r.off < r.at {
		end = r.at
	}
	n := copy(p, r.in[r.off:end])
	r.off += n
	return n, nil
}

// relayResumed relays the first line of in as cmd/imapkit's proxy does
// for a line that does not tokenize (AppendUntilLiteral, then ForwardLine
// on its *SyntaxError), calling again after a read deadline as
// docs/wire.md says, and returns where the line ended and the error.
func relayResumed(r io.Reader) (int64, error) {
	tk := wire.NewTokenizer(r, nil)
	var err error
	for {
		_, err = tk.AppendUntilLiteral(nil)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
	}
	if !errors.Is(err, wire.ErrSyntax) {
		return tk.Offset(), err
	}
	for {
		err = tk.ForwardLine(io.Discard)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return tk.Offset(), err
		}
	}
}

// TestForwardLineResumedInsideCode: a status line whose response code
// does not tokenize (a control byte in it) and ends in a literal's header
// is refused by ForwardLine when the code is still open at the header
// (here its ']' is inside a quoted string): a tokenizer reads "{5}" as a
// literal, the codec as text, and ForwardLine does not guess (ErrOutOfStep).
// Resumed after a read deadline (docs/wire.md), it should decide as the
// uninterrupted call does, wherever the deadline falls. It does not once
// the first call gave up bytes of the code: the resumed call no longer
// knows the line stopped inside the code (inCode is computed from the
// line's head, whose pendHead beginSlow cleared since the offset moved;
// codeScan is a local), so it takes the line for text and relays "abcde"
// to the client as a line of its own, the disagreement ForwardLine exists
// to refuse. A line whose code is closed is relayed alike either way.
func TestForwardLineResumedInsideCode(t *testing.T) {
	pad := strings.Repeat("a", 60)
	for _, in := range []string{
		"* OK [X \x01 \"" + pad + "]\" {5}\r\nabcde\r\n* 2 EXISTS\r\n", // open: refused
		"* OK [X \x01 " + pad + "] " + pad + " {5}\r\n* 2 EXISTS\r\n",  // closed: text
	} {
		wantOff, wantErr := relayResumed(strings.NewReader(in))
		for at := 0; at <= len(in); at++ {
			off, err := relayResumed(&deadlineAtReader{in: in, at: at})
			if errors.Is(err, wire.ErrOutOfStep) != errors.Is(wantErr, wire.ErrOutOfStep) || (wantErr == nil && off != wantOff) {
				t.Errorf("%q, a deadline at offset %d: ForwardLine resumed ends at %d (%v); uninterrupted at %d (%v)", in, at, off, err, wantOff, wantErr)
				break
			}
		}
	}
}

// deadlineEveryReader returns in, failing with a read deadline each time
// it reaches a multiple of every.
type deadlineEveryReader struct {
	in          string
	off, every  int
	lastTripped int
}

func (r *deadlineEveryReader) Read(p []byte) (int, error) {
	if r.off > 0 && r.off%r.every == 0 && r.lastTripped != r.off {
		r.lastTripped = r.off
		return 0, os.ErrDeadlineExceeded
	}
	if r.off == len(r.in) {
		return 0, io.EOF
	}
	end := min(len(r.in), (r.off/r.every+1)*r.every)
	n := copy(p, r.in[r.off:end])
	r.off += n
	return n, nil
}

// TestSkipLineResumedCountsLineLength: SkipLine gives up on a line longer
// than MaxLineLength (ErrLineTooLong, out of step). Resumed after read
// deadlines (docs/wire.md) it should count the line from its start, as
// one call does. It does not: skipped starts at t.r - lineStart, and the
// interrupted call's dropTo moved lineStart up to t.r, so each resumed call
// counts from zero: a server that pauses past the deadline every
// megabyte sends a line without end that SkipLine, ForwardLine and
// RefuseLine read on (the buffer stays bounded, the bound does not hold).
func TestSkipLineResumedCountsLineLength(t *testing.T) {
	in := "* 1 XFOO " + strings.Repeat("x", 3*wire.DefaultMaxLineLength) + "\r\n* 2 EXISTS\r\n"
	tk := wire.NewTokenizer(&deadlineEveryReader{in: in, every: wire.DefaultMaxLineLength / 2}, nil)
	var err error
	for range 100 {
		if err = tk.SkipLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
	}
	if !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("SkipLine resumed over a line of %d bytes: %v at offset %d; want ErrLineTooLong as without the deadlines", len(in)-14, err, tk.Offset())
	}
}
