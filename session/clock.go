package session

import "time"

// Times kept in atomics (a pulled command's wait in Next, the write side's
// last progress) are readings of the monotonic clock, as nanoseconds since
// monoBase, not Unix nanoseconds: a wall-clock step (NTP stepping the
// clock, a VM resynced after its host slept, a suspend and resume) does not
// move them, where a difference of two UnixNano readings took such a step
// for time that passed (or, backwards, for time that did not) and could
// abort a healthy session (TestCommandBoundWaitMonotonic). Reading it
// allocates nothing and takes no room in the Session.

// monoBase is the origin of the readings, with its monotonic reading,
// taken a second before the package was initialised so that no reading is
// 0, which the atomics holding one use for "none".
var monoBase = time.Now().Add(-time.Second)

// monoNow returns the monotonic clock's reading now.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// monoAt returns the monotonic clock's reading at t, which came from
// time.Now (it carries a monotonic reading).
func monoAt(t time.Time) int64 { return int64(t.Sub(monoBase)) }
