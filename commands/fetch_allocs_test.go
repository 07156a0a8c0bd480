package commands_test

import (
	"testing"
)

// TestFetchAllocationsPerMessage guards the allocation line of
// BenchmarkFetchMetadataVsCodec (issue 10: at most 10 a message, with
// every field decoded) where a test sees it: the Fetch loop over 2,000
// messages of the metadata corpus costs about 2 allocations a message
// with FetchItems.Borrow unset (the message's copy) and none with it set.
// A pointer to the loop's session.Item handed to a closure made the item
// escape: one more allocation a message on both paths, which no test saw
// (stop 55). The bounds leave room for the race detector and the
// runtime's own allocations; they are counts, not times.
func TestFetchAllocationsPerMessage(t *testing.T) {
	const n = 2000
	for _, c := range []struct {
		name string
		mode fetchMode
		max  float64
	}{{"Owned", fetchOwned, 2.5}, {"Borrow", fetchBorrow, 0.5}} {
		res := testing.Benchmark(func(b *testing.B) {
			run, touched := fetchMetadataPipe(b, n, c.mode)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run()
			}
			if *touched == 0 {
				b.Fatal("nothing touched")
			}
		})
		if res.N == 0 {
			t.Fatalf("%s: the benchmark did not run", c.name)
		}
		per := float64(res.AllocsPerOp()) / n
		t.Logf("%s: %.3f allocations a message (%d runs)", c.name, per, res.N)
		if per > c.max {
			t.Errorf("%s: %.3f allocations a message; want at most %.1f", c.name, per, c.max)
		}
	}
}
