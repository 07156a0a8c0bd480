// Package workhook lets tests count the work of the library's algorithms
// where the work happens in one package and the test that bounds it is in
// another: codec's SeqSet, whose cost the session's routing of VANISHED,
// commands' Search and Move, and the CLI's gathering of SEARCH answers
// depend on. A test sets a function on a Hook (Hook.Set; RangesCompared,
// RangesShifted), the algorithm reports its steps to it (Hook.Report).
// Counting steps instead of timing them makes a linearity test exact: a
// loaded machine (GC, caches, a shared core) changes no count.
//
// Counting is compiled in only with the build tag imapkit_workhook
// (Enabled), which make test and make vet give: in every other build
// Report is empty and inlined away, so codec's SeqSet.Contains (on the
// session's routing path) and the rest pay nothing for it, not even a
// load. Without the tag, Hook.Set skips the test that calls it (a plain
// go test ./... passes, checking no count), and the package's own test
// fails when the environment variable CI is set, so that .ci/run cannot
// pass by counting nothing.
package workhook

import "sync/atomic"

// Tag is the build tag that compiles the counting in.
const Tag = "imapkit_workhook"

// A Hook holds the function a test set, nil when none is.
type Hook struct {
	f atomic.Pointer[func(a, b, n int)]
}

// Skipper is what Hook.Set needs of a test: testing.TB's Helper and
// Skipf (testing is not imported here, so that the library's packages do
// not link it).
type Skipper interface {
	Helper()
	Skipf(format string, args ...any)
}

// Set sets f (nil clears it) and returns a function that restores the
// function set before. It skips t (Skipf) when counting is not compiled
// in (Enabled is false: the build lacks the tag Tag): a bound checked
// against no count would pass whatever the code does.
func (h *Hook) Set(t Skipper, f func(a, b, n int)) (restore func()) {
	t.Helper()
	if !Enabled {
		t.Skipf("workhook: this build counts no work: run the test with -tags %s (make test does)", Tag)
	}
	var p *func(a, b, n int)
	if f != nil {
		p = &f
	}
	old := h.f.Swap(p)
	return func() { h.f.Store(old) }
}

// Report gives a, b and n to the function set, if any. Without the tag
// Tag it does nothing, and costs nothing once inlined.
func (h *Hook) Report(a, b, n int) {
	if !Enabled {
		return
	}
	if p := h.f.Load(); p != nil {
		(*p)(a, b, n)
	}
}

// RangesCompared is given, by each codec.SeqSet.Overlaps, Intersect and
// Remove of sets of a and b ranges, each Contains in a set of a ranges
// (b is 1), each Canonical or Compact of a set of a ranges not known
// canonical and each Len of one neither ascending nor descending (b is
// 0), each AddNum or AddRanges that sorts the b ranges added out of
// order into a set of a ranges, and in package commands each cut of a
// VANISHED (EARLIER) of b ranges to a set of a ranges and each check of a
// COPYUID's or [MODIFIED]'s set of a ranges against a command's set of
// b ranges (withinSet), the number n of range comparisons it made (a
// step of a binary search, of a merge, of a loop, of a check of order
// or of a sort, the sort of a copy of a set not canonical included),
// whatever the answer.
var RangesCompared Hook

// RangesShifted is given, by each codec.SeqSet.AddRange that inserts
// into or deletes from the middle of a set of a ranges, the number n of
// ranges it moved (b is 0).
var RangesShifted Hook
