package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// resumeStreams are streams of lines with several literals each
// (synchronizing, non-synchronizing, literal8, empty, a header with
// leading zeros past the kept tail), with the commands mode they are for.
var resumeStreams = []struct {
	in       string
	commands bool
}{
	{"a1 APPEND INBOX (\\Seen) {5}\r\nhello {3+}\r\nabc ~{4}\r\nab\x00c {0}\r\n x\r\nz NOOP\r\n", true},
	{"a2 X {" + strings.Repeat("0", 50) + "3+}\r\nabc {2}\r\nde\r\nz NOOP\r\n", true},
	{"* 1 FETCH (BODY[] {5}\r\nhello BINARY[] ~{3}\r\na\x00c X {0}\r\n)\r\n* 2 FETCH (Y {" + strings.Repeat("0", 40) + "2}\r\nab)\r\na OK done\r\n", false},
	{"* OK [ALERT] text {5}\r\n* 1 FETCH (X {3}\r\nabc)\r\n+ go {2}\r\n* OK [X {2}\r\nab] t\r\n* NO [BADCHARSET (a\"b)] x {2}\r\n", false},
	{"* OK [ALERT] " + strings.Repeat("y", 60) + " {5}\r\n* 3 FETCH (Z " + strings.Repeat("y", 60) + " {" + strings.Repeat("0", 45) + "1}\r\nq)\r\n* OK [Q " + strings.Repeat("y", 40) + "] {1}\r\n", false},
}

// stutterWriter accepts at most one byte a Write and fails every Write it
// cannot take whole: a writer failing at every byte of the stream.
type stutterWriter struct{ out bytes.Buffer }

func (w *stutterWriter) Write(p []byte) (int, error) {
	if len(p) <= 1 {
		return w.out.Write(p)
	}
	w.out.WriteByte(p[0])
	return 1, errWriterFailed
}

// resumeRun relays tk's stream line by line with ForwardLine, resuming it
// after a deadline or w's error, and returns the offsets where lines ended
// (checking that out holds the stream exactly there) and what ended it.
func resumeRun(t *testing.T, name string, tk *wire.Tokenizer, in string, w io.Writer, out *bytes.Buffer) ([]int64, error) {
	t.Helper()
	var ends []int64
	for tries := 0; tries < 100_000; tries++ {
		err := tk.ForwardLine(w)
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, errWriterFailed) {
			continue
		}
		if err != nil {
			return ends, err
		}
		off := tk.Offset()
		if off > int64(len(in)) || out.String() != in[:off] {
			t.Fatalf("%s: at line end %d relayed %q; want %q", name, off, out.String(), in[:min(off, int64(len(in)))])
		}
		ends = append(ends, off)
	}
	t.Fatalf("%s: ForwardLine still interrupted after 100000 calls", name)
	return nil, nil
}

// TestForwardLineResumedAtEveryByte: ForwardLine over lines with several
// literals of every kind, its writer failing at byte k of the stream for
// every k (without and with a ReadFrom), its reader serving 1, 5 or 4096
// bytes a read, and a writer failing at every byte, is resumed each time
// and relays the stream exactly, its lines framed as one uninterrupted
// run frames them.
func TestForwardLineResumedAtEveryByte(t *testing.T) {
	for _, s := range resumeStreams {
		opts := &wire.TokenizerOptions{Commands: s.commands}
		var ref bytes.Buffer
		want, wantErr := resumeRun(t, "uninterrupted", wire.NewTokenizer(strings.NewReader(s.in), opts), s.in, &ref, &ref)
		for _, chunk := range []int{1, 5, 4096} {
			check := func(name string, w io.Writer, out *bytes.Buffer) {
				r := &pausedReader{in: []byte(s.in), at: -1, max: chunk}
				ends, err := resumeRun(t, name, wire.NewTokenizer(r, opts), s.in, w, out)
				if err != wantErr || !slices.Equal(ends, want) {
					t.Fatalf("%s: lines end at %v (%v); want %v (%v)", name, ends, err, want, wantErr)
				}
			}
			sw := &stutterWriter{}
			check(fmt.Sprintf("%q chunk %d, writer failing at every byte", s.in, chunk), sw, &sw.out)
			for k := range len(s.in) {
				for _, rf := range []bool{false, true} {
					w := &readFromWriter{failOnceWriter: failOnceWriter{failAt: k}}
					var dst io.Writer = &w.failOnceWriter
					if rf {
						dst = w
					}
					check(fmt.Sprintf("%q chunk %d, writer failing at %d, ReadFrom %v", s.in, chunk, k, rf), dst, &w.out)
				}
			}
		}
	}
}

// TestForwardLineResumedDeadlineThenWriterFails: a read deadline at
// byte j, and the writer failing at byte k of the same line or the next
// (before the deadline or after it), for every j and every such k but a
// third of those inside a long run of one byte (bytePlaceMatters): the
// resumed calls relay the stream exactly, framed alike. (Every k for
// every j, 110,000 runs, took 8 s; a k two lines past j meets a
// tokenizer the deadline left no trace in.)
func TestForwardLineResumedDeadlineThenWriterFails(t *testing.T) {
	for _, s := range resumeStreams {
		opts := &wire.TokenizerOptions{Commands: s.commands}
		var ref bytes.Buffer
		want, wantErr := resumeRun(t, "uninterrupted", wire.NewTokenizer(strings.NewReader(s.in), opts), s.in, &ref, &ref)
		for j := range len(s.in) {
			if !bytePlaceMatters(s.in, j) {
				continue
			}
			from, to := lineAround(want, j, len(s.in))
			for k := from; k < to; k++ {
				if !bytePlaceMatters(s.in, k) {
					continue
				}
				name := fmt.Sprintf("%q deadline at %d, writer failing at %d", s.in, j, k)
				r := &pausedReader{in: []byte(s.in), at: j, max: 7}
				w := &readFromWriter{failOnceWriter: failOnceWriter{failAt: k}}
				ends, err := resumeRun(t, name, wire.NewTokenizer(r, opts), s.in, w, &w.out)
				if err != wantErr || !slices.Equal(ends, want) {
					t.Fatalf("%s: lines end at %v (%v); want %v (%v)", name, ends, err, want, wantErr)
				}
			}
		}
	}
}

// lineAround is the span from the start of the line holding byte j (by
// the line ends ends) to the end of the line after it, n at most.
func lineAround(ends []int64, j, n int) (from, to int) {
	to = n
	next := 0
	for _, e := range ends {
		switch {
		case int(e) <= j:
			from = int(e)
		case next == 0:
			next = 1
		default:
			return from, int(e)
		}
	}
	return from, to
}

// bytePlaceMatters says whether an interruption at byte i of in is one
// to try: every place but two of three inside a run of one byte (the
// leading zeros of a long literal header, a long text), where a place
// is much as its neighbours (those kept still fall at every place of
// the 7-byte reads and of the 32-byte tail ForwardLine keeps).
func bytePlaceMatters(in string, i int) bool {
	if i < 3 || i+4 > len(in) || i%3 == 0 {
		return true
	}
	return strings.Count(in[i-3:i+4], in[i:i+1]) != 7
}
