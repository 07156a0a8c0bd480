package hostile

import (
	"io"
	"strings"
	"testing"
)

// TestRepeatReadSizes: Repeat produces unit n times whatever the sizes of
// the reads (whole units copied at once, the partial ones byte by byte),
// and an endless Repeat fills every read.
func TestRepeatReadSizes(t *testing.T) {
	for _, unit := range []string{"x", "ab", "+ more\r\n"} {
		for _, n := range []int64{0, 1, 7, 1000} {
			for _, size := range []int{1, 3, 7, 8, 4096} {
				r := Repeat(unit, n)
				var got strings.Builder
				buf := make([]byte, size)
				for {
					k, err := r.Read(buf)
					got.Write(buf[:k])
					if err == io.EOF {
						break
					}
					if err != nil || k == 0 {
						t.Fatalf("Repeat(%q, %d), reads of %d: %d, %v", unit, n, size, k, err)
					}
				}
				if want := strings.Repeat(unit, int(n)); got.String() != want {
					t.Fatalf("Repeat(%q, %d), reads of %d: %d bytes %.40q; want %d bytes", unit, n, size, got.Len(), got.String(), len(want))
				}
			}
		}
		buf := make([]byte, 1001)
		r := Repeat(unit, -1)
		var got strings.Builder
		for range 5 {
			k, err := r.Read(buf)
			if k != len(buf) || err != nil {
				t.Fatalf("endless Repeat(%q): %d, %v", unit, k, err)
			}
			got.Write(buf)
		}
		if want := strings.Repeat(unit, got.Len()/len(unit)+1)[:got.Len()]; got.String() != want {
			t.Fatalf("endless Repeat(%q): %.40q", unit, got.String())
		}
	}
}
