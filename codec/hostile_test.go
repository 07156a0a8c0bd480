package codec_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/wire"
)

// TestNextOutOfStep: a response that cannot be skipped within the limits
// (a literal over MaxLiteral, one whose size passes int64, an endless
// line) gives a DecodeError matching wire.ErrOutOfStep at once, and every
// later call fails too: no panic, no spin, no endless drain.
func TestNextOutOfStep(t *testing.T) {
	for name, in := range map[string]io.Reader{
		"literal over MaxLiteral": strings.NewReader("* 1 FETCH (BODY[] {9999999999}\r\nabc"),
		"literal past int64":      strings.NewReader("* 1 FETCH (BODY[] {9223372036854775808}\r\nabc"),
		"literal past 2^64":       strings.NewReader("* 1 FETCH (UID 1 BODY[] {99999999999999999999}\r\nabc\r\n"),
		"endless line":            io.MultiReader(strings.NewReader("* OK "), &endless{c: 'a'}),
		"endless after a literal": io.MultiReader(strings.NewReader("* 1 FETCH (BODY[] {3}\r\nabc"), &endless{c: ' '}),
	} {
		t.Run(name, func(t *testing.T) {
			d := codec.NewDecoder(wire.NewTokenizer(in, nil), nil)
			_, err := d.Next()
			var de *codec.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, wire.ErrOutOfStep) {
				t.Fatalf("Next: %v; want a *DecodeError matching wire.ErrOutOfStep", err)
			}
			if !errors.Is(err, wire.ErrLiteralTooLarge) && !errors.Is(err, wire.ErrLineTooLong) {
				t.Fatalf("Next: %v does not name the limit", err)
			}
			for i := 0; i < 3; i++ {
				if _, err := d.Next(); !errors.Is(err, wire.ErrOutOfStep) {
					t.Fatalf("Next after out of step: %v", err)
				}
			}
		})
	}
}

// TestNextNestedDeep: a list nested 100,000 deep fails with ErrTooDeep and
// the stream goes on.
func TestNextNestedDeep(t *testing.T) {
	deep := strings.Repeat("(", 100000) + strings.Repeat(")", 100000)
	in := "* 1 FETCH (BODYSTRUCTURE " + deep + ")\r\n* 2 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{MaxLineLength: 1 << 20}), nil)
	if _, err := d.Next(); !errors.Is(err, wire.ErrTooDeep) {
		t.Fatalf("Next: %v; want ErrTooDeep", err)
	}
	r, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := r.(*codec.Exists); !ok || e.Count != 2 {
		t.Fatalf("after the deep line: %#v", r)
	}
}

type endless struct{ c byte }

func (r *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.c
	}
	return len(p), nil
}

// failingReader serves data, then fails every read with err, counting the
// failed reads.
type failingReader struct {
	data  string
	err   error
	fails int
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data != "" {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	r.fails++
	if r.fails > 100 {
		return 0, io.EOF // end a decoder that ignores the error
	}
	return 0, r.err
}

// TestNextReadErrorAfterSpace: a read that fails (a stall timeout, a
// closed connection) right after a space the decoder has seen ends Next
// with that error. Inside an unknown attribute's list the decoder ignored
// the failed SP and looked at the same space again: with a connection
// that fails at once (closed), the session's reader spun for ever, and
// Close, which waits for it, never returned (found by FuzzSessionPull).
func TestNextReadErrorAfterSpace(t *testing.T) {
	errStall := errors.New("stalled")
	for name, data := range map[string]string{
		"unknown attribute's list": "* 1 FETCH (XFOO (a ",
		"after a response code":    "* OK [ALERT] ",
	} {
		t.Run(name, func(t *testing.T) {
			r := &failingReader{data: data, err: errStall}
			d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
			_, err := d.Next()
			if !errors.Is(err, errStall) || r.fails > 2 {
				t.Fatalf("Next: %v after %d failed reads; want the read's error after at most 2", err, r.fails)
			}
		})
	}
}

// FuzzDecodeReadError cuts a server stream at a fuzzed point, after which
// every read fails with an error that is not EOF (a stall timeout, a
// closed connection), and checks that the decoder gives the failure back
// instead of retrying: each Next that meets it returns, after at most two
// failed reads per call (TestNextReadErrorAfterSpace's loop read 100),
// with an error that matches it (a *DecodeError for a response found
// malformed first wraps it too: TestNextReadErrorAfterMalformed).
// The hang-up (EOF) the stream fuzzers end on did not find that loop.
func FuzzDecodeReadError(f *testing.F) {
	caps, err := fuzzseed.Captures("testdata/quirks")
	if err != nil {
		f.Fatal(err)
	}
	for i, c := range caps {
		f.Add(c.Data, uint16(len(c.Data)*(i%7+1)/8))
	}
	f.Add([]byte("* 1 FETCH (XFOO (a b))\r\n"), uint16(19))
	f.Add([]byte("* OK [ALERT] hello\r\n"), uint16(13))
	// A lone " " (a syntax error at once), then the failure: it was
	// reported in a later call, after a syntax error without it.
	f.Add([]byte(" \r\n* 1 EXISTS\r\n"), uint16(1))
	f.Add([]byte("* 1 FETCH (UID 1) x\r\n"), uint16(19))
	errStall := errors.New("stalled")
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		k := int(cut) % (len(data) + 1)
		r := &failingReader{data: string(data[:k]), err: errStall}
		d := codec.NewDecoder(wire.NewTokenizer(r, &fuzzOpts), nil)
		for calls := 1; calls <= maxFuzzResponses; calls++ {
			before := r.fails
			_, err := d.Next()
			if r.fails > 2*calls {
				t.Fatalf("%d failed reads in %d calls of Next: a read error was retried (last error: %v)", r.fails, calls, err)
			}
			if r.fails > before && !errors.Is(err, errStall) {
				// The failure met skipping a malformed response's
				// rest was left out of its *DecodeError: a session
				// read again, with a new deadline (a lone " " then a
				// stall took two stall timeouts).
				t.Fatalf("Next met the read's failure and returned %v without it", err)
			}
			if errors.Is(err, errStall) || err == io.EOF {
				return
			}
		}
	})
}
