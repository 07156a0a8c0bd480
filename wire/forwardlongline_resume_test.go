package wire_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestForwardLongLineResumedCountsLineLength: ForwardLongLine bounds the
// line's bytes outside literals by its limit, counted from the line's
// start however often a read deadline interrupts it (docs/wire.md: call
// again), as SkipLine counts MaxLineLength. Each resumed call counted
// from zero, so a line of 3 limits, with a pause every half limit, was
// relayed whole. A line within the limit is relayed whole either way.
func TestForwardLongLineResumedCountsLineLength(t *testing.T) {
	const limit = 2 * wire.DefaultMaxLineLength
	for _, c := range []struct {
		n    int
		over bool
	}{{3 * limit, true}, {limit - 100, false}} {
		in := "* 1 XFOO " + strings.Repeat("x", c.n) + "\r\n* 2 EXISTS\r\n"
		tk := wire.NewTokenizer(&deadlineEveryReader{in: in, every: wire.DefaultMaxLineLength / 2}, nil)
		var err error
		for range 100 {
			if err = tk.ForwardLongLine(io.Discard, limit); !errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
		}
		if got := errors.Is(err, wire.ErrLineTooLong); got != c.over || !c.over && err != nil {
			t.Errorf("ForwardLongLine(%d) resumed over a line of %d bytes: %v at offset %d; want ErrLineTooLong %v", limit, c.n+9, err, tk.Offset(), c.over)
		}
	}
}
