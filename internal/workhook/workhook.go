// Package workhook lets tests count the work of the library's algorithms
// where the work happens in one package and the test that bounds it is in
// another: codec's SeqSet, whose cost the session's routing of VANISHED,
// commands' Search and Move, and the CLI's gathering of SEARCH answers
// depend on. A test sets a function on a Hook (Hook.Set; RangesCompared,
// RangesShifted), the algorithm reports its steps to it (Hook.Report);
// outside tests every hook is nil and a report costs one atomic load. Counting steps
// instead of timing them makes a linearity test exact: a loaded machine
// (GC, caches, a shared core) changes no count.
package workhook

import "sync/atomic"

// A Hook holds the function a test set, nil when none is.
type Hook struct {
	f atomic.Pointer[func(a, b, n int)]
}

// Set sets f (nil clears it) and returns a function that restores the
// function set before.
func (h *Hook) Set(f func(a, b, n int)) (restore func()) {
	var p *func(a, b, n int)
	if f != nil {
		p = &f
	}
	old := h.f.Swap(p)
	return func() { h.f.Store(old) }
}

// Report gives a, b and n to the function set, if any.
func (h *Hook) Report(a, b, n int) {
	if p := h.f.Load(); p != nil {
		(*p)(a, b, n)
	}
}

// RangesCompared is given, by each codec.SeqSet.Overlaps and Intersect
// of sets of a and b ranges, and each Contains in a set of a ranges (b
// is 1), the number n of range comparisons it made (a step of a binary
// search, of a merge or of a loop), whatever the answer.
var RangesCompared Hook

// RangesShifted is given, by each codec.SeqSet.AddRange that inserts
// into or deletes from the middle of a set of a ranges, the number n of
// ranges it moved (b is 0).
var RangesShifted Hook
