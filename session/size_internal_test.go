package session

import (
	"testing"
	"unsafe"
)

// TestStructSizeClasses keeps a Session and a Pending in the allocator's
// size classes they fill (1024 and 384 bytes): an idle session holds both,
// and one more field past either bound costs 128 or 32 bytes per session
// (docs/performance.md, "IDLE"). Group small fields to find room before
// raising a bound.
func TestStructSizeClasses(t *testing.T) {
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		{"Session", unsafe.Sizeof(Session{}), 1024},
		{"Pending", unsafe.Sizeof(Pending{}), 384},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, past its %d-byte size class", c.name, c.size, c.max)
		}
	}
}
