package session

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestKeptBytesAccounting: through random keeps, pops and clears, the
// store's count of bytes is the sum of what it holds (codec.CloneSize),
// stays within MaxKeptBytes, and the newest response of a name that fits
// is kept.
func TestKeptBytesAccounting(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	s := &Session{store: map[string][]codec.Response{}, maxKept: 5, maxNames: 3, maxKeptBytes: 4000}
	s.eventsCond = sync.NewCond(&s.mu)
	names := []string{"A", "B", "C", "D"}
	sum := func() int64 {
		var n int64
		for _, l := range s.store {
			n += storeSize(l)
		}
		return n
	}
	for i := range 20000 {
		name := names[rng.IntN(len(names))]
		switch op := rng.IntN(10); {
		case op < 7:
			n := rng.IntN(20) // most small, so that a name reaches 2 x maxKept
			if rng.IntN(4) == 0 {
				n = rng.IntN(1500)
			}
			c := &codec.Unknown{Name: codec.Bytes(name), Rest: codec.Bytes(strings.Repeat("x", n))}
			size := codec.CloneSize(c)
			l, known := s.store[name]
			fits := size <= s.maxKeptBytes-(sum()-storeSize(l)) && (known || len(s.store) < s.maxNames)
			s.mu.Lock()
			s.keepLocked(name, c, size)
			l = s.store[name]
			s.mu.Unlock()
			if kept := len(l) > 0 && l[len(l)-1] == c; kept != fits {
				t.Fatalf("step %d: kept %v, fits %v", i, kept, fits)
			}
		case op < 9:
			s.Responses(name)
		default:
			s.mu.Lock()
			s.clearStoreLocked()
			s.mu.Unlock()
		}
		if got, want := s.keptBytes, sum(); got != want || got > s.maxKeptBytes || len(s.store) > s.maxNames {
			t.Fatalf("step %d: counted %d, held %d, bound %d, %d names", i, got, want, s.maxKeptBytes, len(s.store))
		}
	}
}
