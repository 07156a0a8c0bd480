package wire_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// pausedReader serves in at most chunk bytes a read, and fails once
// with a read deadline when it has served at bytes.
type pausedReader struct {
	in           []byte
	off, at, max int
	tripped      bool
}

func (r *pausedReader) Read(p []byte) (int, error) {
	if r.off == r.at && !r.tripped {
		r.tripped = true
		return 0, os.ErrDeadlineExceeded
	}
	if r.off == len(r.in) {
		return 0, io.EOF
	}
	end := min(len(r.in), r.off+r.max, r.off+len(p))
	if !r.tripped && r.off < r.at {
		end = min(end, r.at)
	}
	n := copy(p, r.in[r.off:end])
	r.off += n
	return n, nil
}

// forwardRun relays in line by line with ForwardLine, calling it again
// after the reader's deadline or w's failure, with a Next between: it
// must fail with ErrSkipPending, but after a deadline before the next
// line's first byte came (nothing of it buffered), where nothing is
// pending: a Peek there (which consumes nothing, so that the run frames
// the lines alike) reads the line as it would without the interrupted
// call. It returns the offsets where lines ended, checking
// at each that w holds the stream exactly to there, and the error that
// ended the run.
func forwardRun(t *testing.T, tk *wire.Tokenizer, in []byte, w io.Writer, out func() []byte) ([]int64, error) {
	var ends []int64
	for len(ends) < maxFuzzLines {
		err := tk.ForwardLine(w)
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, errWriterFailed) {
			lineStart := len(ends) == 0 && tk.Offset() == 0 || len(ends) > 0 && tk.Offset() == ends[len(ends)-1]
			between := errors.Is(err, os.ErrDeadlineExceeded) && lineStart && tk.Buffered() == 0
			if between {
				if _, perr := tk.Peek(); errors.Is(perr, wire.ErrSkipPending) {
					t.Fatalf("%q: Peek after a ForwardLine interrupted before the line began (%v): %v; want the line read", in, err, perr)
				}
				continue
			}
			if _, nerr := tk.Next(); !errors.Is(nerr, wire.ErrSkipPending) {
				t.Fatalf("%q: Next after an interrupted ForwardLine (%v): %v; want ErrSkipPending", in, err, nerr)
			}
			continue
		}
		if err != nil {
			return ends, err
		}
		off := tk.Offset()
		if !bytes.Equal(out(), in[:off]) {
			t.Fatalf("%q: ForwardLine relayed %q to offset %d; want the stream's bytes", in, out(), off)
		}
		ends = append(ends, off)
	}
	return ends, nil
}

// sameEnd reports whether two runs ended alike: out of step both, or at
// the end of the stream both.
func sameEnd(a, b error) bool {
	if errors.Is(a, wire.ErrOutOfStep) || errors.Is(b, wire.ErrOutOfStep) {
		return errors.Is(a, wire.ErrOutOfStep) && errors.Is(b, wire.ErrOutOfStep)
	}
	return errors.Is(a, io.ErrUnexpectedEOF) == errors.Is(b, io.ErrUnexpectedEOF) && errors.Is(a, io.EOF) == errors.Is(b, io.EOF)
}

// FuzzForwardLineResumed: ForwardLine interrupted by a read deadline at
// byte readAt of the stream and by its writer failing at byte failAt
// (with a ReadFrom taking a literal's body straight from the connection,
// readFrom), then called again each time, relays exactly the stream's
// bytes, line by line, and frames the lines where one uninterrupted run
// does, ending alike; in both modes.
func FuzzForwardLineResumed(f *testing.F) {
	for _, s := range []string{
		"a1 APPEND INBOX {11}\r\nhello world (x)\r\nz NOOP\r\n",
		"a NOOP {0000000000000000000000000000000000000000000000000000000000005+}\r\nhello\r\nz NOOP\r\n",
		"* 1 FETCH (BODY[] {3}\r\nabc FLAGS (\\Seen))\r\n* OK [ALERT] x {5}\r\nabcde\r\n",
		"a1 LOGIN {3}\r\nabc {2}\r\nde\r\n",
		"* OK [X {2}\r\nab] t\r\n",
	} {
		f.Add([]byte(s), uint16(20), uint16(24), uint8(7), false)
		f.Add([]byte(s), uint16(3), uint16(25), uint8(200), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, readAt, failAt uint16, chunk uint8, readFrom bool) {
		for _, opts := range []*wire.TokenizerOptions{nil, commandsOpts} {
			var ref bytes.Buffer
			wantEnds, wantErr := forwardRun(t, wire.NewTokenizer(bytes.NewReader(in), opts), in, &ref, ref.Bytes)
			r := &pausedReader{in: in, at: int(readAt), max: max(int(chunk), 1)}
			w := &readFromWriter{failOnceWriter: failOnceWriter{failAt: int(failAt)}}
			var dst io.Writer = &w.failOnceWriter
			if readFrom {
				dst = w
			}
			ends, err := forwardRun(t, wire.NewTokenizer(r, opts), in, dst, w.out.Bytes)
			if !slices.Equal(ends, wantEnds) || !sameEnd(err, wantErr) {
				t.Fatalf("%q, commands %v, deadline at %d, writer failing at %d: lines end at %v (%v); uninterrupted at %v (%v)", in, opts != nil, readAt, failAt, ends, err, wantEnds, wantErr)
			}
		}
	})
}
