package codec_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview44LLongAnswerErrorBuffered: a SEARCH, SORT or THREAD answer
// past MaxLineLength is read without keeping its bytes, and one that
// fails (past MaxNumbers, docs/limits.md: "the rest of the line is skipped
// within MaxLineLength"; or a number 0) is skipped and the stream stays
// in step. The decoder gave its bytes up only when the buffer ran low
// (dropLong): a line already buffered whole (a slow reader behind a fast
// server) gave up nothing, and the SkipLine after the error counted the
// whole line against the bound: ErrOutOfStep, the connection lost, where
// the same bytes read piece by piece were skipped in step.
func TestReview44LLongAnswerErrorBuffered(t *testing.T) {
	var search, thread strings.Builder
	search.WriteString("* SEARCH")
	thread.WriteString("* THREAD ")
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&search, " %d", i)
		fmt.Fprintf(&thread, "(%d)", i)
	}
	cases := []struct {
		name string
		line string
		opts *codec.DecoderOptions
		want error
	}{
		{"SEARCH past MaxNumbers", search.String(), &codec.DecoderOptions{MaxNumbers: 1500}, codec.ErrTooManyNumbers},
		{"SORT past MaxNumbers", "* SORT" + search.String()[len("* SEARCH"):], &codec.DecoderOptions{MaxNumbers: 1500}, codec.ErrTooManyNumbers},
		{"THREAD past MaxNumbers", thread.String(), &codec.DecoderOptions{MaxNumbers: 8 * 1500}, codec.ErrTooManyNumbers},
		{"SEARCH with a 0", search.String() + " 0 5", nil, nil},
		{"THREAD with a 0", thread.String() + "(0)(5)", nil, nil},
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			if len(c.line) <= 4096 || len(c.line) > 16<<10 {
				t.Fatalf("%s: a line of %d bytes: want it past the bound (4096), within the first buffer", c.name, len(c.line))
			}
			var r io.Reader = strings.NewReader(c.line + "\r\n* 3 EXISTS\r\nA1 OK " + strings.Repeat("x", 100) + "\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			d := codec.NewDecoder(wire.NewTokenizer(r, &wire.TokenizerOptions{MaxLineLength: 4096}), c.opts)
			_, err := d.Next()
			if err == nil || errors.Is(err, wire.ErrOutOfStep) || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%s (one byte a read: %v): %v; want a *DecodeError (%v), the stream in step", c.name, oneByte, err, c.want)
				continue
			}
			if resp, err := d.Next(); err != nil {
				t.Errorf("%s (one byte a read: %v): the next response: %v", c.name, oneByte, err)
			} else if e, ok := resp.(*codec.Exists); !ok || e.Count != 3 {
				t.Errorf("%s: the next response: %#v; want EXISTS 3", c.name, resp)
			}
		}
	}
}
