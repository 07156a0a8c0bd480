package wire_test

import (
	"slices"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// sink keeps AppendString's results alive, so that its allocations are
// counted as a caller's would be.
var sink []byte

// TestAppendStringGrowsOnce: AppendString writing a quoted string into a
// short dst grew it byte by byte (appendQuoted), a new array at each
// doubling, each left to the collector holding the string's bytes so far
// (a password's start). It now grows dst once, to the exact size. A
// 1,000-byte string with escapes into a 16-byte dst allocates no more
// than one growth of dst does, and comes out as before.
func TestAppendStringGrowsOnce(t *testing.T) {
	pw := make([]byte, 1000)
	for i := range pw {
		pw[i] = 'a' + byte(i%26)
	}
	pw[10], pw[500] = '"', '\\'
	run := func(s string) float64 {
		return testing.AllocsPerRun(20, func() {
			sink = wire.AppendString(make([]byte, 0, 16), s, false, nil)
		})
	}
	// Against one growth of dst (slices.Grow's allocations: one, two
	// under -race).
	once := testing.AllocsPerRun(20, func() { sink = slices.Grow(make([]byte, 0, 16), 1004) })
	if long := run(string(pw)); long > once {
		t.Errorf("AppendString of a 1,000-byte quoted string into a 16-byte dst allocated %v times, one growth of dst %v; want dst grown once", long, once)
	}
	got := wire.AppendString(make([]byte, 0, 16), string(pw), false, nil)
	if want := 1000 + 2 + 2; len(got) != want || cap(got) < want || got[0] != '"' || got[len(got)-1] != '"' || string(got[11:13]) != `\"` {
		t.Errorf("AppendString gave %d bytes (cap %d): %.20q...", len(got), cap(got), got)
	}
}
