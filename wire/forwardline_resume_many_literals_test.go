package wire_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestForwardLineResumedOverManyLiterals: a line of 9,000 small literals
// (99 KB, well inside MaxLineLength), whose ForwardLine is interrupted
// once near its start (a read deadline, or the writer failing), is
// resumed and relayed whole, as an uninterrupted ForwardLine relays it.
// The resumed call fails with ErrForwardGap at offset 90,108 whatever the
// interruption's place: reclaim is called with t.r below t.litStart
// (removed(-32765)), a literal's start left at a stale buffer index.
// Already so before 27a2d41 for a deadline; the fuzz target's inputs are
// too short to reach it.
func TestForwardLineResumedOverManyLiterals(t *testing.T) {
	line := "a1 XFOO {5}\r\nhello " + strings.Repeat("x {3}\r\nabc ", 9000) + "\r\n"
	in := line + "z NOOP\r\n"
	for _, deadline := range []bool{true, false} {
		r := &pausedReader{in: []byte(in), at: -1, max: 1 << 20}
		w := &failOnceWriter{failAt: 20}
		if deadline {
			r.at, w.failAt = 20, len(in)
		}
		tk := wire.NewTokenizer(r, nil)
		if err := tk.ForwardLine(w); !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, errWriterFailed) {
			t.Fatalf("deadline %v: ForwardLine: %v; want the interruption", deadline, err)
		}
		if err := tk.ForwardLine(w); err != nil {
			t.Fatalf("deadline %v: resumed ForwardLine: %v at offset %d (relayed %d of %d)", deadline, err, tk.Offset(), w.out.Len(), len(line))
		}
		if tag, err := tk.Tag(); err != nil || string(tag) != "z" || w.out.String() != line {
			t.Fatalf("deadline %v: next tag %q (%v), relayed %d bytes; want \"z\" and the line's %d", deadline, tag, err, w.out.Len(), len(line))
		}
	}
}
