package wire

import "testing"

// TestQuotedGrowsBufferOnce: a quoted value longer than the Encoder's
// buffer grows it once, not byte by byte: the arrays an append outgrows
// are zeroed (setBuf), but only the one before the write and the final
// one are seen there, so an array outgrown in the middle of one value (a
// password, quoted when it is short and plain) would go to the GC with
// part of it. Counted as allocations of a fresh Encoder's buffer.
func TestQuotedGrowsBufferOnce(t *testing.T) {
	pw := make([]byte, 1000)
	for i := range pw {
		pw[i] = 'a' + byte(i%26)
	}
	pw[10], pw[500] = '"', '\\'
	run := func(s string) float64 {
		return testing.AllocsPerRun(20, func() {
			e := NewEncoder(nil)
			e.buf = make([]byte, 0, 16)
			e.Begin("A1").SP().Atom("LOGIN").SP().String("u").SP().Password(s)
		})
	}
	// Against a 2-byte password, which fits the buffer: the long one may
	// take one allocation more (its growth); byte by byte it took 7 more.
	short, long := run("pw"), run(string(pw))
	if long > short+1 {
		t.Errorf("encoding a 1,000-byte quoted password into a 16-byte buffer allocated %v times, a 2-byte one %v; want the buffer grown once", long, short)
	}
}
