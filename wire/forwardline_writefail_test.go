package wire_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// errWriterDown is the error failWriter returns once.
var errWriterDown = errors.New("writer down")

// failWriter collects what it is given, failing once when the total
// reaches at: it takes the bytes before at, then returns errWriterDown (a
// destination that failed and was mended before the caller called again).
type failWriter struct {
	strings.Builder
	at     int
	failed bool
}

func (w *failWriter) Write(p []byte) (int, error) {
	if !w.failed && w.Len()+len(p) > w.at {
		w.failed = true
		n := w.at - w.Len()
		w.Builder.Write(p[:n])
		return n, errWriterDown
	}
	return w.Builder.Write(p)
}

// failReaderFrom is failWriter with ReadFrom (a net.Conn): the tokenizer
// hands it the connection when nothing of the body is buffered. It reads
// only what it takes, and fails once as failWriter does.
type failReaderFrom struct{ failWriter }

func (w *failReaderFrom) ReadFrom(r io.Reader) (int64, error) {
	var buf [5]byte
	var total int64
	for {
		room := len(buf)
		if !w.failed {
			room = min(room, w.at-w.Len())
		}
		if room == 0 {
			w.failed = true
			return total, errWriterDown
		}
		n, err := r.Read(buf[:room])
		w.Builder.Write(buf[:n])
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// TestForwardLineResumedAfterWriteError: ForwardLine and ForwardLongLine
// called again after the writer failed (mended since) go on from the
// exact byte the writer did not take, wherever it failed: in the line
// before a literal's header, in the header, in the literal's body (the
// writer's Write or its ReadFrom), in the line after it, in a long line's
// given-up part. The line reaches the
// writer once, whole and in order, and the next line is read next. Before,
// a failure in the body left the literal open, and the call again drained
// the rest of it unforwarded (begin skips an open literal) and then
// failed with ErrForwardGap; one past the position consumed (in a header,
// or a long line's kept part) failed with ErrForwardGap at once.
func TestForwardLineResumedAfterWriteError(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, line := range []string{
		"* 1 FETCH (BODY[] {10}\r\n0123456789 FLAGS (\\Seen))\r\n",
		"* 1 XFOO " + long + " {5}\r\nhello " + long + " {3}\r\nabc\r\n",
		"a1 APPEND x {4+}\r\nbody\r\n",
		"* OK [X \x01] " + long + "\r\n",
	} {
		in := line + "* 2 EXISTS\r\n"
		for _, m := range []struct {
			name string
			call func(*wire.Tokenizer, io.Writer) error
		}{
			{"ForwardLine", (*wire.Tokenizer).ForwardLine},
			{"ForwardLongLine", func(tk *wire.Tokenizer, w io.Writer) error { return tk.ForwardLongLine(w, 1<<22) }},
		} {
			for at := range 2 * len(line) {
				var w interface {
					io.Writer
					String() string
				} = &failWriter{at: at}
				if at >= len(line) {
					w = &failReaderFrom{failWriter{at: at - len(line)}}
				}
				tk := wire.NewTokenizer(&chunkReader{r: bytes.NewReader([]byte(in)), n: 7}, nil)
				err := m.call(tk, w)
				if err != nil && !errors.Is(err, errWriterDown) {
					t.Fatalf("%s %q failing at %d: %v; want nil or the writer's error", m.name, line, at, err)
				}
				if err != nil {
					err = m.call(tk, w)
				}
				if err != nil || w.String() != line {
					t.Fatalf("%s %q failing at %d, called again: %v, forwarded\n%q\nwant\n%q", m.name, line, at, err, w.String(), line)
				}
				if tok, err := tk.Next(); err != nil || tok.Kind != wire.KindStar {
					t.Fatalf("%s %q failing at %d: the next line begins with %v (%v); want *", m.name, line, at, tok, err)
				}
			}
		}
	}
}
