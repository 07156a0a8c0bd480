package session

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestKeptBytesAccounting: through random keeps, pops and clears, the
// store's count of bytes is the sum of what it holds (codec.CloneSize) and
// stays within MaxKeptBytes; a new response is kept whenever its name is
// allowed and it fits the bound alone; the responses that the bound on
// bytes drops are the oldest, of any name (all older than every response
// left); and the per-name bound slides a name's oldest out.
func TestKeptBytesAccounting(t *testing.T) {
	for _, maxKept := range []int32{5, 1 << 20} {
		rng := rand.New(rand.NewPCG(7, uint64(maxKept)))
		s := &Session{store: map[string][]keptResponse{}, maxKept: maxKept, maxNames: 3, maxKeptBytes: 4000}
		s.eventsCond = sync.NewCond(&s.mu)
		names := []string{"A", "B", "C", "D"}
		sum := func() int64 {
			var n int64
			for _, l := range s.store {
				n += storeSize(l)
			}
			return n
		}
		held := func() map[int64]bool {
			m := map[int64]bool{}
			for _, l := range s.store {
				for _, k := range l {
					m[k.at] = true
				}
			}
			return m
		}
		for i := range 20000 {
			name := names[rng.IntN(len(names))]
			switch op := rng.IntN(10); {
			case op < 7:
				n := rng.IntN(20) // most small, so that a name reaches 2 x maxKept
				if rng.IntN(4) == 0 {
					n = rng.IntN(1500)
				}
				if rng.IntN(200) == 0 {
					n = 5000 // larger than the bound alone
				}
				c := &codec.Unknown{Name: codec.Bytes(name), Rest: codec.Bytes(strings.Repeat("x", n))}
				size := codec.CloneSize(c)
				_, known := s.store[name]
				fits := size <= s.maxKeptBytes && (known || len(s.store) < int(s.maxNames))
				before := held()
				s.mu.Lock()
				s.keepLocked(name, keptResponse{c, int64(i), size})
				l := s.store[name]
				s.mu.Unlock()
				if kept := len(l) > 0 && l[len(l)-1].r == c; kept != fits {
					t.Fatalf("maxKept %d, step %d: kept %v, fits %v", maxKept, i, kept, fits)
				}
				if maxKept > 20000 {
					// No name slides: whatever went, the bound on bytes
					// dropped, oldest first.
					after := held()
					var gone, left int64 = -1, 1 << 62
					for at := range before {
						if !after[at] {
							gone = max(gone, at)
						} else {
							left = min(left, at)
						}
					}
					if gone >= 0 && gone > left {
						t.Fatalf("step %d: dropped the response of step %d, kept the older one of step %d", i, gone, left)
					}
				}
			case op < 9:
				s.Responses(name)
			default:
				s.mu.Lock()
				s.clearStoreLocked()
				s.mu.Unlock()
			}
			if got, want := s.keptBytes, sum(); got != want || got > s.maxKeptBytes || len(s.store) > int(s.maxNames) {
				t.Fatalf("maxKept %d, step %d: counted %d, held %d, bound %d, %d names", maxKept, i, got, want, s.maxKeptBytes, len(s.store))
			}
		}
	}
}
