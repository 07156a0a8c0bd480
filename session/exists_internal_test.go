package session

import (
	"math"
	"testing"
)

// TestSelectionCounterWrap: the count of mailbox changes
// (Selections, Command.Selection) was 16 bits: after exactly 65,535
// SELECTs it came back to its value, and the rest of a long UID Fetch
// split in parts, bound to mailbox A, went to mailbox B without an error
// (the extremes audit's reproducer did so through commands.Client). It is
// 32 bits now, and still skips 0 (a Selection of 0 checks nothing).
func TestSelectionCounterWrap(t *testing.T) {
	s := &Session{}
	s.reselectedLocked()
	first := s.Selections()
	for range 65535 {
		s.reselectedLocked()
	}
	if got := s.Selections(); got == first {
		t.Fatalf("after 65,535 changes Selections() = %d, as before them", got)
	}
	s.selections = math.MaxUint32
	s.reselectedLocked()
	if got := s.Selections(); got != 1 {
		t.Fatalf("Selections() after 2^32-1 = %d, want 1 (0 is skipped)", got)
	}
}
