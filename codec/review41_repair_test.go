package codec

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// review41Wall is the wall clock, as a duration since a fixed instant.
func review41Wall() time.Duration { return time.Since(review41Epoch) }

var review41Epoch = time.Now()

// review41DecodeTime decodes b (one or more responses) once with the
// default options and returns the CPU time it took (review41CPU).
func review41DecodeTime(t *testing.T, b []byte) time.Duration {
	d := NewDecoder(wire.NewTokenizer(bytes.NewReader(b), nil), nil)
	runtime.GC() // the garbage of the run before is not this one's time
	start := review41CPU()
	for {
		_, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
	return review41CPU() - start
}

// TestReview41QEnvelopeRepairQuadratic: a quoted string in an ENVELOPE or
// BODYSTRUCTURE whose closing quote is followed by something other than a
// delimiter ("a"b", 163.com's unescaped quotes) is repaired by
// msgRepairQuoted, which rewinds and reads the whole REST OF THE LINE with
// Text() for each such string. A line of n of them costs O(n * line):
// an ENVELOPE whose address list holds 48,000 addresses ("a"b" as the
// mailbox), 960 KB (within the 1 MiB MaxLineLength), takes 0.6 to 1 s,
// 10 to 30 times what the same envelope with plain strings takes; the
// time grows with the square of the line's length, and a server may send
// such lines one after the other. The repair should
// look no further than the string's end (as lenientQuoted does).
func TestReview41QEnvelopeRepairQuadratic(t *testing.T) {
	if raceOn {
		t.Skip("about 45 s under the race detector; runs in plain go test")
	}
	gen := func(n int, addr string) []byte {
		return []byte("* 1 FETCH (UID 1 ENVELOPE (NIL \"s\" (" + strings.Repeat(addr, n) + ") NIL NIL NIL NIL NIL NIL NIL))\r\n")
	}
	const repair, plain = `(NIL NIL "a"b" "h") `, `(NIL NIL "abc" "h") `
	sizes := []int{6000, 12000, 24000, 48000}
	// Seven rounds, each timing every line once, the best of each kept:
	// a burst of load on a shared machine hits all the lines alike rather
	// than all the runs of one.
	times, plains := make([]time.Duration, len(sizes)), make([]time.Duration, len(sizes))
	for i := range sizes {
		times[i], plains[i] = 1<<62, 1<<62
	}
	for range 7 {
		for i, n := range sizes {
			times[i] = min(times[i], review41DecodeTime(t, gen(n, repair)))
			plains[i] = min(plains[i], review41DecodeTime(t, gen(n, plain)))
		}
	}
	for i, n := range sizes {
		t.Logf("%6d addresses, %7d bytes: %v (the same with plain strings: %v)", n, len(gen(n, repair)), times[i], plains[i])
	}
	ratio := float64(times[3]) / float64(times[0])
	t.Logf("x8 the line: x%.1f the time (linear ~8, quadratic ~64)", ratio)
	// The plain strings cost the same allocations (an Address each): on a
	// loaded machine their time too grows faster than the line (x50 and
	// more was seen for x8 the line, from the 4.6 MB of addresses and the
	// collector, not from the decoder's work). A repair that costs
	// O(n * line) shows against them too (x11 to x30 at 48,000 before the
	// fix), a linear one does not (x1 to x2). The times are CPU times: a
	// loaded machine's waits for a core are not counted (in wall time x6
	// was seen with the fix, another test binary running).
	vsPlain := float64(times[3]) / float64(plains[3])
	t.Logf("%d addresses: x%.1f the time of plain strings", sizes[3], vsPlain)
	if ratio > 24 && vsPlain > 5 {
		t.Errorf("repairing the quoted strings of one line costs super-linear time: x8 the bytes took x%.1f the time (%v for a %d KB line, x%.1f the time of plain strings)", ratio, times[3], len(gen(sizes[3], repair))>>10, vsPlain)
	}
}
