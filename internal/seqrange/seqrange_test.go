package seqrange

import (
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestKeyStarApart: "*" sorts after every number and is not adjacent to
// 4294967295; Unkey inverts Key.
func TestKeyStarApart(t *testing.T) {
	if Key(0) <= Key(1<<32-1)+1 {
		t.Fatalf("Key(0) = %d, Key(4294967295) = %d: \"*\" must sort after it, not adjacent", Key(0), Key(1<<32-1))
	}
	for _, n := range []uint32{0, 1, 7, 1<<32 - 1} {
		if got := Unkey(Key(n)); got != n {
			t.Errorf("Unkey(Key(%d)) = %d", n, got)
		}
	}
}

// TestSearchesMatchScan: SearchStop and Gallop, from every start, give
// the first range not ending before each key, as a scan does.
func TestSearchesMatchScan(t *testing.T) {
	set := []wire.SeqRange{{Start: 2, Stop: 3}, {Start: 5, Stop: 5}, {Start: 9, Stop: 20}, {Start: 22, Stop: 1<<32 - 1}, {Start: 0, Stop: 0}}
	for _, k := range []uint64{1, 2, 3, 4, 5, 6, 9, 20, 21, 22, 1<<32 - 1, 1 << 32, Key(0), Key(0) + 1} {
		for i := 0; i <= len(set); i++ {
			want := i
			for want < len(set) && Key(set[want].Stop) < k {
				want++
			}
			if i == 0 {
				if got, _ := SearchStop(set, k); got != want {
					t.Errorf("SearchStop(key %d) = %d; want %d", k, got, want)
				}
			}
			if got, _ := Gallop(set, i, k); got != want {
				t.Errorf("Gallop(from %d, key %d) = %d; want %d", i, k, got, want)
			}
		}
	}
}
