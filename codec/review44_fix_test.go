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

// TestReview44RLongAnswerEarlyError: docs/limits.md (MaxNumbers row) says
// a SEARCH, SORT or THREAD answer that fails has "the rest of the line
// skipped within MaxLineLength (what was read before the error not
// counted, however the line was buffered)". That held only when the
// error came after dropAt (min(64 KiB, MaxLineLength/2) into the
// response): one that came earlier (a small MaxNumbers, a 0 near the
// start) had the whole line counted by SkipLine, ErrOutOfStep, the
// connection lost, while the same line failing later was skipped in step.
// Lines of 5,000 bytes under a 4096-byte bound, the error at ~1,500 or
// ~2,500 bytes; SEARCH, SORT and THREAD; whole and one byte a read. A
// line whose rest after the error passes the bound still puts the stream
// out of step.
func TestReview44RLongAnswerEarlyError(t *testing.T) {
	line := func(name string, zeroAt int) string {
		var b strings.Builder
		b.WriteString("* " + name)
		for i := 1; b.Len() < 5000; i++ {
			num := fmt.Sprint(1000 + i)
			if zeroAt > 0 && b.Len() >= zeroAt {
				num, zeroAt = "0", 0
			}
			if name == "THREAD" {
				fmt.Fprintf(&b, " (%s)", num)
			} else {
				b.WriteString(" " + num)
			}
		}
		return b.String()
	}
	type tc struct {
		name string
		line string
		max  int
	}
	var cases []tc
	for _, name := range []string{"SEARCH", "SORT", "THREAD"} {
		// MaxNumbers past which the error comes at ~2,500 and ~1,500
		// bytes: a number of SEARCH and SORT takes 5 bytes; a THREAD
		// node 7, and THREAD allows MaxNumbers/8 nodes.
		late, early := 500, 300
		if name == "THREAD" {
			late, early = 2500/7*8, 1500/7*8
		}
		cases = append(cases,
			tc{name + " past MaxNumbers late (2,500 bytes)", line(name, 0), late},
			tc{name + " past MaxNumbers early (1,500 bytes)", line(name, 0), early},
			tc{name + " a 0 late (2,500 bytes)", line(name, 2500), 0},
			tc{name + " a 0 early (1,500 bytes)", line(name, 1500), 0})
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.line + "\r\n* 3 EXISTS\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			d := codec.NewDecoder(wire.NewTokenizer(r, &wire.TokenizerOptions{MaxLineLength: 4096}), &codec.DecoderOptions{MaxNumbers: c.max})
			_, err := d.Next()
			if _, ok := errors.AsType[*codec.DecodeError](err); !ok || errors.Is(err, wire.ErrOutOfStep) {
				t.Errorf("%s (line %d bytes, one byte a read: %v): %v; want a *DecodeError, the stream in step", c.name, len(c.line), oneByte, err)
				continue
			}
			if resp, err := d.Next(); err != nil {
				t.Errorf("%s: the next response: %v", c.name, err)
			} else if e, ok := resp.(*codec.Exists); !ok || e.Count != 3 {
				t.Errorf("%s: the next response: %#v; want EXISTS 3", c.name, resp)
			}
		}
	}
	// The bound still holds for what follows the error: a 0 at the start
	// of a line of 9,000 bytes leaves more than 4,096 to skip.
	for _, name := range []string{"SEARCH", "THREAD"} {
		long := line(name, 10) + strings.Repeat(" 1", 2000)
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(long+"\r\n* 3 EXISTS\r\n"), &wire.TokenizerOptions{MaxLineLength: 4096}), nil)
		if _, err := d.Next(); !errors.Is(err, wire.ErrOutOfStep) {
			t.Errorf("%s: a 0 at the start of %d bytes: %v; want the stream out of step (the rest passes MaxLineLength)", name, len(long), err)
		}
	}
}
