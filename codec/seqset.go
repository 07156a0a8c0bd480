package codec

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/internal/seqrange"
	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/wire"
)

// SeqSet is a set of message sequence numbers or UIDs: the sequence-set of
// RFC 9051 section 9 (RFC 3501 section 9), such as "1:5,7,9:*", as found in
// SEARCH and ESEARCH results (RFC 4731), COPYUID and APPENDUID response codes
// (RFC 4315 section 3) and commands.
//
// A SeqSet is stored compactly as a list of wire.SeqRange values and is
// never expanded into one entry per number: "1:100000" costs one range.
// The number 0 stands for "*", the largest number in use in the mailbox.
// SeqSet follows the usual model of "*" as a number larger than any other:
// x:* holds every n >= x (RFC 9051 section 9 lets x:* also mean *:x when x
// is larger than the mailbox; a set is interpreted as if "*" were at least
// as large as every number written in it).
//
// Every range is stored with Start <= Stop ("5:2" is kept as 2:5, "*:4" as
// 4:*). A set is either canonical (ranges sorted, neither overlapping nor
// adjacent: what AddNum, AddRange and Compact produce) or, after
// ParseSeqSet, in the order the peer wrote it. The order matters for
// COPYUID, where the n-th source UID maps to the n-th destination UID
// (RFC 4315 section 3), so Ranges, Nums and All keep it; String, AppendTo
// and Equal always work on the canonical form (Equal taking x:* and
// x:4294967295,* as the same set, which they are). Canonical gives a set
// known canonical, copying only one out of order, for a caller that uses
// a set it was given many times.
//
// The zero value is an empty set ready to use. A SeqSet shares its storage
// when copied by value; use Clone for an independent copy.
type SeqSet struct {
	r        []wire.SeqRange
	unsorted bool // r is not known to be canonical
}

// SeqSetError reports a malformed sequence-set (RFC 9051 section 9).
type SeqSetError struct {
	Offset int    // offset of the offending byte in the input
	Reason string // what is wrong, e.g. "number overflows 32 bits"
}

// Error implements error.
func (e *SeqSetError) Error() string {
	return "codec: invalid sequence set at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// normRange returns r with Start <= Stop in seqrange.Key order.
func normRange(start, stop uint32) wire.SeqRange {
	if seqrange.Key(start) > seqrange.Key(stop) {
		start, stop = stop, start
	}
	return wire.SeqRange{Start: start, Stop: stop}
}

// ParseSeqSet parses a sequence-set (RFC 9051 section 9): comma-separated
// numbers and ranges, "*" for the largest number, such as "1:5,7,9:*".
// A reversed range ("5:2") is normalised to 2:5; the ranges are kept in the
// order given. Numbers are nz-number: 1 to 4294967295 without leading
// zeros; 0, overflow, an empty set and any other byte (including spaces)
// are errors of type *SeqSetError. "$" (RFC 5182) is not accepted.
func ParseSeqSet(b []byte) (SeqSet, error) {
	var s SeqSet
	err := s.ParseInto(b)
	return s, err
}

// SeqSetOf returns the set of the ranges rs (0 stands for "*"; the bounds
// may be given in either order), canonical, in one allocation of their
// size; rs is not modified. It costs O(r) for r ranges given in ascending
// order, O(r log r) otherwise.
func SeqSetOf(rs ...wire.SeqRange) SeqSet {
	if len(rs) == 0 {
		return SeqSet{}
	}
	r := make([]wire.SeqRange, len(rs))
	sorted := true
	for i, x := range rs {
		r[i] = normRange(x.Start, x.Stop)
		if i > 0 && seqrange.Key(r[i].Start) <= seqrange.Key(r[i-1].Stop)+1 {
			sorted = false // out of order, overlapping or adjacent
		}
	}
	if !sorted {
		r, _ = compactRanges(r)
	}
	return SeqSet{r: r}
}

// ParseInto is ParseSeqSet decoding into s and reusing its memory: once s
// has grown to the size of the sets it receives, it does not allocate
// (0 allocations per call for SEARCH or ESEARCH results of any size). On
// error s is left empty, as after Reset. It takes O(len(b)) time.
func (s *SeqSet) ParseInto(b []byte) error {
	s.r = s.r[:0]
	s.unsorted = false
	if len(b) == 0 {
		return &SeqSetError{Offset: 0, Reason: "empty sequence set"}
	}
	i := 0
	for {
		start, j, err := parseSeqNum(b, i)
		if err != nil {
			s.Reset()
			return err
		}
		stop := start
		if j < len(b) && b[j] == ':' {
			stop, j, err = parseSeqNum(b, j+1)
			if err != nil {
				s.Reset()
				return err
			}
		}
		r := normRange(start, stop)
		s.noteOrder(r)
		s.r = append(s.r, r)
		if j == len(b) {
			return nil
		}
		if b[j] != ',' {
			s.Reset()
			return &SeqSetError{Offset: j, Reason: "expected ',' or ':', got " + printable.QuoteChar(string(b[j:min(j+utf8.UTFMax, len(b))]))}
		}
		i = j + 1
	}
}

// noteOrder marks s as not canonical when r, about to be appended in the
// order the peer wrote it, does not come after the last range with a gap.
func (s *SeqSet) noteOrder(r wire.SeqRange) {
	if n := len(s.r); n > 0 && seqrange.Key(r.Start) <= seqrange.Key(s.r[n-1].Stop)+1 {
		s.unsorted = true
	}
}

// parseSeqNum parses a seq-number (nz-number or "*") at b[i:].
func parseSeqNum(b []byte, i int) (uint32, int, error) {
	if i >= len(b) {
		return 0, i, &SeqSetError{Offset: i, Reason: "expected number or '*', got end of input"}
	}
	c := b[i]
	if c == '*' {
		return 0, i + 1, nil
	}
	if c < '1' || c > '9' {
		if c == '0' {
			return 0, i, &SeqSetError{Offset: i, Reason: "numbers start at 1 (0 or a leading zero is invalid)"}
		}
		return 0, i, &SeqSetError{Offset: i, Reason: "expected number or '*', got " + printable.QuoteChar(string(b[i:min(i+utf8.UTFMax, len(b))]))}
	}
	var n uint64
	j := i
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
		n = n*10 + uint64(b[j]-'0')
		if n > 0xFFFFFFFF {
			return 0, i, &SeqSetError{Offset: i, Reason: "number overflows 32 bits"}
		}
	}
	return uint32(n), j, nil
}

// Ranges returns the ranges of s, each with Start <= Stop (0 meaning "*"),
// in canonical order or, for a parsed set, in the order the peer sent
// them. The slice is owned by s and must not be modified; it is valid until
// s is next changed. wire.AppendSeqSet(dst, s.Ranges()) writes the set in
// that order.
func (s SeqSet) Ranges() []wire.SeqRange { return s.r }

// Slice returns the set of the ranges i to j of s (s.Ranges()[i:j]),
// known canonical when s is, in O(1) and without copying: it shares s's
// storage, as a SeqSet copied by value does, but with no room past its
// last range, so that adding to it (AddRange and the like) never writes
// over the ranges of s after j. A set cut into parts this way (the parts
// of a long command's set, each a canonical set) is one copy of the
// whole, not one per part. Changing the result in place (an AddRange
// that merges ranges, Compact, Reset then adding) changes s's ranges i
// to j, and s is then no longer a valid set: a caller changes a slice
// only of a set it no longer uses, and takes Clone to keep the result
// while s's owner may change s. It panics unless 0 <= i <= j <=
// len(s.Ranges()), even where s's storage has room past its last range.
func (s SeqSet) Slice(i, j int) SeqSet {
	r := s.r[:len(s.r):len(s.r)] // no room: j past the ranges panics
	return SeqSet{r: r[i:j:j], unsorted: s.unsorted}
}

// AddNum adds the numbers n to s; 0 stands for "*". Numbers in ascending
// order cost O(1) each (amortised); once one comes before the last range
// of s, the rest are added in one sort, O((r+k) log(r+k)) for r ranges and
// k numbers, where adding them one by one (AddRange) would cost O(r) each:
// a server's SEARCH of a million UIDs in descending order took an hour.
func (s *SeqSet) AddNum(n ...uint32) {
	for i, v := range n {
		if len(n)-i > 1 && s.before(seqrange.Key(v)) {
			rs := make([]wire.SeqRange, len(n)-i)
			for j, w := range n[i:] {
				rs[j] = wire.SeqRange{Start: w, Stop: w}
			}
			s.addSorting(rs)
			return
		}
		s.AddRange(v, v)
	}
}

// AddRanges adds the ranges rs to s, as AddRange does each (0 stands for
// "*"; the bounds may be given in either order), in one sort when they do
// not come in ascending order (see AddNum). It does not modify rs.
func (s *SeqSet) AddRanges(rs ...wire.SeqRange) {
	for i, r := range rs {
		nr := normRange(r.Start, r.Stop)
		if len(rs)-i > 1 && s.before(seqrange.Key(nr.Start)) {
			s.addSorting(slices.Clone(rs[i:]))
			return
		}
		s.AddRange(nr.Start, nr.Stop)
	}
}

// Append adds the ranges rs (0 stands for "*"; the bounds may be given in
// either order) after those of s, in the order given, as ParseSeqSet
// keeps the order a peer wrote: what joins the COPYUIDs of several
// commands without losing which source UID pairs with which destination
// UID. A range that goes on where the last one stops joins it. s stays
// canonical only when they come in ascending order; AddRange and the other
// additions compact it first. It does not modify rs.
func (s *SeqSet) Append(rs ...wire.SeqRange) {
	for _, r := range rs {
		nr := normRange(r.Start, r.Stop)
		if n := len(s.r); n > 0 && s.r[n-1].Stop != 0 && nr.Start != 0 && uint64(nr.Start) == uint64(s.r[n-1].Stop)+1 {
			// It goes on where the last range stops: the same numbers
			// in the same order, in one range (1:1711 then 1712:2000 is
			// 1:2000).
			s.r[n-1].Stop = nr.Stop
			continue
		}
		s.noteOrder(nr)
		s.r = append(s.r, nr)
	}
}

// before reports whether a range starting at key k would go before the
// last range of s, where AddRange shifts the ranges after it.
func (s *SeqSet) before(k uint64) bool {
	return len(s.r) > 0 && k < seqrange.Key(s.r[len(s.r)-1].Start)
}

// addSorting adds the ranges rs, which it may modify, to s in one sort.
// Its comparisons (the sort's and the merge's) are reported to
// workhook.RangesCompared (a is the ranges s held, b those added; in a
// build with the tag imapkit_workhook, nothing otherwise).
func (s *SeqSet) addSorting(rs []wire.SeqRange) {
	for i := range rs {
		rs[i] = normRange(rs[i].Start, rs[i].Stop)
	}
	a := len(s.r)
	var steps int
	s.r, steps = compactRanges(append(s.r, rs...))
	s.unsorted = false
	workhook.RangesCompared.Report(a, len(rs), steps)
}

// AddRange adds the range start:stop to s (0 stands for "*"; the bounds may
// be given in either order) and keeps s canonical, merging the new range
// with overlapping and adjacent ones.
//
// Cost: O(1) amortised when numbers are added in ascending order (the
// usual case), otherwise O(log r) to find the place plus O(r) to shift
// later ranges, for r ranges. A parsed set that is not canonical is first
// compacted (see Compact), which loses the order the peer sent. The
// ranges it shifts are reported to workhook.RangesShifted (in a build
// with the tag imapkit_workhook; nothing otherwise).
func (s *SeqSet) AddRange(start, stop uint32) {
	if s.unsorted {
		s.Compact()
	}
	nr := normRange(start, stop)
	ks, ke := seqrange.Key(nr.Start), seqrange.Key(nr.Stop)
	n := len(s.r)
	// Fast path: after the last range.
	if n == 0 || ks > seqrange.Key(s.r[n-1].Stop)+1 {
		s.r = append(s.r, nr)
		return
	}
	// First range that is not entirely before nr (not ending before ks-1).
	i, _ := slices.BinarySearchFunc(s.r, ks, func(r wire.SeqRange, k uint64) int {
		if seqrange.Key(r.Stop)+1 < k {
			return -1
		}
		return 1
	})
	// First range entirely after nr (starting after ke+1), at or after i.
	j, _ := slices.BinarySearchFunc(s.r[i:], ke, func(r wire.SeqRange, k uint64) int {
		if seqrange.Key(r.Start) <= k+1 {
			return -1
		}
		return 1
	})
	j += i
	if i == j {
		workhook.RangesShifted.Report(n, 0, n-i)
		s.r = slices.Insert(s.r, i, nr)
		return
	}
	if seqrange.Key(s.r[i].Start) < ks {
		nr.Start = s.r[i].Start
	}
	if seqrange.Key(s.r[j-1].Stop) > ke {
		nr.Stop = s.r[j-1].Stop
	}
	s.r[i] = nr
	if j > i+1 {
		workhook.RangesShifted.Report(n, 0, n-j)
	}
	s.r = slices.Delete(s.r, i+1, j)
}

// Compact sorts and merges the ranges of s in place, making it canonical:
// ascending, with overlapping and adjacent ranges merged. It costs
// O(r log r) for r ranges (O(1) if s is known canonical, O(r) if it is
// canonical without being known so: see Canonical) and does not
// allocate. Its comparisons, when it makes any, are reported to
// workhook.RangesCompared (b is 0; in a build with the tag
// imapkit_workhook, nothing otherwise).
func (s *SeqSet) Compact() {
	if !s.unsorted {
		return
	}
	workhook.RangesCompared.Report(len(s.r), 0, s.compact())
}

// compact is Compact for a set not known canonical; it returns the
// number of comparisons it made.
func (s *SeqSet) compact() (steps int) {
	s.unsorted = false
	ok, steps := inOrder(s.r)
	if !ok {
		var c int
		s.r, c = compactRanges(s.r)
		steps += c
	}
	return steps
}

// Canonical returns the numbers of s as a set known to be canonical (see
// SeqSet), leaving s as it is: the one way to get a canonical set from a
// set that may not be, such as one the caller gave or a peer sent.
//
// A set known canonical (built by AddNum, AddRange, SeqSetOf, Remove,
// Intersect, or by Append or ParseSeqSet in ascending order) is returned
// as it is, in O(1). A set not known canonical has its order checked
// once, O(r) for r ranges: when its ranges are in canonical order after
// all, c is s itself, marked known canonical, so that Contains, Overlaps,
// Remove, Intersect, Len and String on c neither check nor sort again;
// otherwise c is a sorted copy, one allocation of r ranges, O(r log r).
// copied reports which: when it is false c shares s's storage (as a
// SeqSet copied by value does), and a caller that keeps c while s's
// owner may change s, or changes c, takes c.Clone(), the only copy then.
// Its comparisons, when s is not known canonical, are reported to
// workhook.RangesCompared (b is 0; in a build with the tag
// imapkit_workhook, nothing otherwise).
func (s SeqSet) Canonical() (c SeqSet, copied bool) {
	if !s.unsorted {
		return s, false // inlined: a set known canonical costs a test
	}
	return s.canonicalCheck()
}

// canonicalCheck is Canonical for a set not known canonical.
func (s SeqSet) canonicalCheck() (c SeqSet, copied bool) {
	r, copied, steps := canonicalRanges(s.r)
	workhook.RangesCompared.Report(len(s.r), 0, steps)
	return SeqSet{r: r}, copied
}

// canonicalRanges returns r, in canonical order, when it is, else a
// sorted and merged copy (copied), and the number of comparisons it made
// (the check of order, the sort's and the merge's). r is not modified.
func canonicalRanges(r []wire.SeqRange) (out []wire.SeqRange, copied bool, steps int) {
	ok, steps := inOrder(r)
	if ok {
		return r, false, steps
	}
	out, c := compactRanges(slices.Clone(r))
	return out, true, steps + c
}

// inOrder reports whether the ranges r are canonical: each after the one
// before it with a gap. steps is the number of pairs it compared: up to
// the first out of order, len(r)-1 at most.
func inOrder(r []wire.SeqRange) (ok bool, steps int) {
	for i := 1; i < len(r); i++ {
		steps++
		if seqrange.Key(r[i].Start) <= seqrange.Key(r[i-1].Stop)+1 {
			return false, steps
		}
	}
	return true, steps
}

// compactRanges sorts and merges r in place and returns the result and
// the number of comparisons it made (the sort's, counted only in a build
// with the tag imapkit_workhook, and the merge's).
func compactRanges(r []wire.SeqRange) (out []wire.SeqRange, steps int) {
	if len(r) < 2 {
		return r, 0
	}
	slices.SortFunc(r, func(a, b wire.SeqRange) int {
		if workhook.Enabled {
			steps++
		}
		ka, kb := seqrange.Key(a.Start), seqrange.Key(b.Start)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	out = r[:1]
	for _, x := range r[1:] {
		steps++
		last := &out[len(out)-1]
		if seqrange.Key(x.Start) <= seqrange.Key(last.Stop)+1 {
			if seqrange.Key(x.Stop) > seqrange.Key(last.Stop) {
				last.Stop = x.Stop
			}
			continue
		}
		out = append(out, x)
	}
	clear(r[len(out):])
	return out, steps
}

// canonical returns the ranges of s in canonical form, copying them only
// if s is not canonical (see Canonical), and the comparisons that took.
func (s SeqSet) canonical() ([]wire.SeqRange, int) {
	if !s.unsorted {
		return s.r, 0
	}
	r, _, steps := canonicalRanges(s.r)
	return r, steps
}

// Contains reports whether n is in s. Contains(0) reports whether s holds
// "*". Following the model described on SeqSet, a range x:* holds every
// n >= x, while a lone "*" holds no number but "*" itself.
//
// Cost: O(log r) for a canonical set of r ranges, O(r) otherwise; no
// allocation. Each call reports the ranges it compared n with to
// workhook.RangesCompared (in a build with the tag imapkit_workhook;
// nothing otherwise).
func (s SeqSet) Contains(n uint32) bool {
	ok, c := s.contains(n)
	workhook.RangesCompared.Report(len(s.r), 1, c)
	return ok
}

// contains is Contains; c is the number of ranges it compared n with.
func (s SeqSet) contains(n uint32) (ok bool, c int) {
	k := seqrange.Key(n)
	if s.unsorted {
		for _, r := range s.r {
			c++
			if seqrange.Key(r.Start) <= k && k <= seqrange.Key(r.Stop) {
				return true, c
			}
		}
		return false, c
	}
	i, c := seqrange.SearchStop(s.r, k)
	return i < len(s.r) && seqrange.Key(s.r[i].Start) <= k, c + 1
}

// Overlaps reports whether s and t hold a number in common, following the
// model described on SeqSet and Contains: a range x:* holds every n >= x,
// a lone "*" only "*" itself. A client that takes "*" as the largest
// number in use, which it may not know, checks Dynamic first.
//
// Cost, for sets of r and q ranges, r <= q: O(r+q) when both are
// canonical (O(r log q) when q is much larger); O(q log r) or O(r log q)
// when one of them is, without allocation (each range of the other is
// looked up by binary search); when neither is, a sorted copy of the
// smaller is made (O(r log r), one allocation), then as before. A set
// parsed from a server keeps the server's order, so its size never
// multiplies the other's.
//
// Each call reports the ranges it compared, with the comparisons of the
// sort of that copy, to workhook.RangesCompared (in a build with the tag
// imapkit_workhook; nothing otherwise).
func (s SeqSet) Overlaps(t SeqSet) bool {
	ok, n := s.overlaps(t)
	workhook.RangesCompared.Report(len(s.r), len(t.r), n)
	return ok
}

// overlaps is Overlaps; n is the number of range comparisons it made.
func (s SeqSet) overlaps(t SeqSet) (ok bool, n int) {
	if len(s.r) > len(t.r) {
		s, t = t, s // s is the smaller
	}
	if len(s.r) == 0 {
		return false, 0
	}
	switch {
	case s.unsorted && t.unsorted:
		if len(s.r) <= 8 && len(t.r) <= 8 {
			for _, a := range s.r {
				for _, b := range t.r {
					n++
					if seqMeet(a, b) {
						return true, n
					}
				}
			}
			return false, n
		}
		sorted, c := s.canonical()
		ok, n := overlapsSorted(sorted, t.r)
		return ok, c + n
	case s.unsorted:
		return overlapsSorted(t.r, s.r)
	case t.unsorted:
		return overlapsSorted(s.r, t.r)
	}
	if len(s.r)*bits.Len(uint(len(t.r))) < len(t.r) {
		return overlapsSorted(t.r, s.r)
	}
	for i, j := 0, 0; i < len(s.r) && j < len(t.r); {
		a, b := s.r[i], t.r[j]
		n++
		if seqMeet(a, b) {
			return true, n
		}
		if seqrange.Key(a.Stop) < seqrange.Key(b.Stop) {
			i++
		} else {
			j++
		}
	}
	return false, n
}

// seqMeet reports whether ranges a and b share a number.
func seqMeet(a, b wire.SeqRange) bool {
	return seqrange.Key(a.Start) <= seqrange.Key(b.Stop) && seqrange.Key(b.Start) <= seqrange.Key(a.Stop)
}

// overlapsSorted reports whether a range of rs, in any order, meets one of
// sorted, which is canonical: O(len(rs) log len(sorted)), no allocation.
// n is the number of ranges of sorted it compared a range of rs with.
func overlapsSorted(sorted, rs []wire.SeqRange) (ok bool, n int) {
	for _, b := range rs {
		// The first range of sorted that does not end before b starts:
		// the only one that can meet b if any does (sorted's ranges are
		// ascending and apart).
		i, c := seqrange.SearchStop(sorted, seqrange.Key(b.Start))
		n += c + 1
		if i < len(sorted) && seqrange.Key(sorted[i].Start) <= seqrange.Key(b.Stop) {
			return true, n
		}
	}
	return false, n
}

// Remove removes from s every number that t holds (the set difference
// s minus t), following the model described on SeqSet and Contains:
// removing x:* removes every n >= x and "*", removing a number from a
// range x:* splits it (1:* minus 5 is 1:4,6:*), removing a lone "*"
// leaves every number (1:* minus * is 1:4294967295). A client that keeps
// the UIDs it knows of a mailbox removes those a VANISHED names. s becomes
// canonical; t is not modified. It costs O(r+q) for canonical sets of r
// and q ranges, O(r log q + m) for few ranges of s against many of t
// (r*bits.Len(q) < q; m the ranges of the result: a COPYUID's source
// set of one UID checked against the 4,000 ranges a MOVE sent compares
// a few dozen ranges, not up to 8,000, as Intersect), and allocates the
// result once, at its size (and a sorted copy of t when t is not
// canonical: see Canonical). The steps of its walks, and the comparisons
// of the sorts of s and of a copy of t when they are not canonical, are
// reported to workhook.RangesCompared (in a build with the tag
// imapkit_workhook; nothing otherwise).
func (s *SeqSet) Remove(t SeqSet) {
	steps := 0
	if s.unsorted {
		steps = s.compact()
	}
	if len(s.r) == 0 || len(t.r) == 0 {
		if steps > 0 {
			workhook.RangesCompared.Report(len(s.r), len(t.r), steps)
		}
		return
	}
	tr, c := t.canonical()
	steps += c
	// Few ranges of s against many of t (a server's COPYUID source set
	// checked against the many ranges a MOVE sent, once a COPYUID) skip,
	// by search (seqrange.Gallop), the ranges of t before each range of s, as
	// Intersect does: walked one by one, they cost t's ranges a call.
	skip := len(s.r)*bits.Len(uint(len(tr))) < len(tr)
	// Two passes over the same walk: the first counts the ranges, so that
	// the result is allocated once and no larger than it is (t may hold a
	// million ranges that touch s nowhere).
	walk := func(emit func(lo, hi uint64)) {
		j := 0
		for _, a := range s.r {
			lo, hi := seqrange.Key(a.Start), seqrange.Key(a.Stop)
			steps++
			if skip {
				var c int
				j, c = seqrange.Gallop(tr, j, lo)
				steps += c
			}
			for j < len(tr) && seqrange.Key(tr[j].Stop) < lo {
				steps++
				j++
			}
			for k := j; lo <= hi && k < len(tr) && seqrange.Key(tr[k].Start) <= hi; k++ {
				steps++
				b0, b1 := seqrange.Key(tr[k].Start), seqrange.Key(tr[k].Stop)
				if b0 > lo {
					emit(lo, b0-1)
				}
				if b1+1 > lo {
					lo = b1 + 1
				}
			}
			emit(lo, hi)
		}
	}
	// Keys 1..2^32-1 are numbers and 2^32+1 is "*": 2^32 is none.
	clamp := func(lo, hi uint64) (uint64, uint64) {
		if lo == 1<<32 {
			lo++
		}
		if hi == 1<<32 {
			hi--
		}
		return lo, hi
	}
	n := 0
	walk(func(lo, hi uint64) {
		if lo, hi = clamp(lo, hi); lo <= hi {
			n++
		}
	})
	out := make([]wire.SeqRange, 0, n)
	walk(func(lo, hi uint64) {
		if lo, hi = clamp(lo, hi); lo <= hi {
			out = append(out, wire.SeqRange{Start: seqrange.Unkey(lo), Stop: seqrange.Unkey(hi)})
		}
	})
	workhook.RangesCompared.Report(len(s.r), len(t.r), steps)
	s.r, s.unsorted = out, false
}

// Intersect returns the numbers that s and t both hold (the set
// intersection s ∩ t), canonical, following the model described on SeqSet
// and Contains: a range x:* holds every n >= x and "*", a lone "*" only
// "*" itself. So 1:* ∩ 5 is 5, 1:* ∩ 3:* is 3:*, * ∩ 7:* is *, and
// * ∩ 1:4294967295 is empty: "*" is kept only when both hold it. The
// result is a cut of s's ranges: 4294967295 and "*" stay in one range
// where s holds them in one (22:* ∩ 1:4294967295,* is 22:*, where
// 1:4294967295,* ∩ 22:* is 22:4294967295,*), as Remove leaves them. A
// client that takes "*" as the largest number in use, which it may not
// know, checks Dynamic first. A server's VANISHED (EARLIER) cut to the
// UIDs a command asked about is asked.Intersect(vanished).
//
// s and t are not modified (not even compacted). It costs O(r+q) for
// canonical sets of r and q ranges, O(r log q + m) for few against many
// (r ranges against q, r*bits.Len(q) < q; m the ranges of the result: a
// VANISHED (EARLIER) of one UID against 100,000 known ranges compares a
// few dozen pairs, not up to 200,000, but 1:4294967295 against them
// yields, and costs, all 100,000), and allocates at most once, the
// result at its size (none when it is empty); a set that is not
// canonical (a parsed one, in the peer's order) is first sorted into a
// copy, O(r log r), as for Remove (see Canonical). The steps of its merge
// walks, and the comparisons of those sorts, are reported to
// workhook.RangesCompared (in a build with the tag imapkit_workhook;
// nothing otherwise).
func (s SeqSet) Intersect(t SeqSet) SeqSet {
	if len(s.r) == 0 || len(t.r) == 0 {
		return SeqSet{}
	}
	a, sa := s.canonical()
	b, sb := t.canonical()
	steps := sa + sb
	// A set of few ranges against one of many (a VANISHED (EARLIER) of
	// one UID against the UIDs a client knows) skips, by search, the
	// ranges of the larger that meet none of the smaller: walked one by
	// one, a million such lines against 100,000 known ranges cost 10^11
	// steps.
	lo, hi := min(len(a), len(b)), max(len(a), len(b))
	skip := lo*bits.Len(uint(hi)) < hi
	// Two passes over the same walk, as in Remove: the first counts the
	// ranges, so that the result is allocated once, at its size.
	n := 0
	steps += meetRanges(a, b, skip, func(wire.SeqRange) { n++ })
	if n == 0 {
		workhook.RangesCompared.Report(len(s.r), len(t.r), steps)
		return SeqSet{}
	}
	out := make([]wire.SeqRange, 0, n)
	steps += meetRanges(a, b, skip, func(r wire.SeqRange) { out = append(out, r) })
	workhook.RangesCompared.Report(len(s.r), len(t.r), steps)
	return SeqSet{r: out}
}

// meetRanges calls emit with each range that canonical a and b share, in
// ascending order: a merge walk, O(len(a)+len(b)). The ranges emitted are
// canonical: two that follow each other lie in different ranges of a or
// of b, which are apart, but for 4294967295 and "*" (never adjacent under
// seqrange.Key), which are emitted as one range when they come from one range
// of a (x:*), as Remove keeps them. No clamping is needed (see Remove): a
// bound is always one of a or b, never the key 2^32. steps is the
// number of pairs of ranges it compared. With skip, once it has passed a
// range of one set it goes on to the next range of that set that can meet
// the other's by an exponential search (seqrange.Gallop): O(k log(q/k) + m) for k
// ranges of the smaller set, q of the larger and m emitted, where the
// walk is O(k+q) (and never more than about twice the walk's steps, as
// where it skips nothing); the ranges skipped meet nothing, so what is
// emitted is the same.
func meetRanges(a, b []wire.SeqRange, skip bool, emit func(wire.SeqRange)) (steps int) {
	var pend wire.SeqRange // the last range met, not yet emitted
	pendA := -1            // the index in a of pend, -1 for none
	for i, j := 0, 0; i < len(a) && j < len(b); {
		steps++
		lo := max(seqrange.Key(a[i].Start), seqrange.Key(b[j].Start))
		ka, kb := seqrange.Key(a[i].Stop), seqrange.Key(b[j].Stop)
		if hi := min(ka, kb); lo <= hi {
			r := wire.SeqRange{Start: seqrange.Unkey(lo), Stop: seqrange.Unkey(hi)}
			if pendA == i && pend.Stop == 1<<32-1 && r.Start == 0 {
				pend.Stop = 0 // x:4294967295 and "*" of a's x:*
			} else {
				if pendA >= 0 {
					emit(pend)
				}
				pend, pendA = r, i
			}
		}
		var c int
		switch {
		case ka < kb && skip:
			i, c = seqrange.Gallop(a, i+1, seqrange.Key(b[j].Start))
		case ka < kb:
			i++
		case skip:
			j, c = seqrange.Gallop(b, j+1, seqrange.Key(a[i].Start))
		default:
			j++
		}
		steps += c
	}
	if pendA >= 0 {
		emit(pend)
	}
	return steps
}

// Len returns how many distinct numbers s holds. ok is false if s is
// dynamic (holds "*"), since the count then depends on the mailbox. It
// costs O(r) for a set of r ranges that is canonical or, in the order a
// peer sent them, ascending or descending without overlaps (1,2,3 or
// 9,7,5:6: what servers send), and does not allocate then; a set in any
// other order is compacted into a temporary copy first (O(r log r)),
// whose comparisons (with the check of order before it) are reported to
// workhook.RangesCompared (b is 0; in a build with the tag
// imapkit_workhook, nothing otherwise).
func (s SeqSet) Len() (n uint64, ok bool) {
	if s.Dynamic() {
		return 0, false
	}
	rs := s.r
	if s.unsorted {
		if apart, steps := monotoneApart(rs); !apart {
			var c int
			rs, c = s.canonical()
			workhook.RangesCompared.Report(len(s.r), 0, steps+c)
		}
	}
	for _, r := range rs {
		n += uint64(r.Stop) - uint64(r.Start) + 1
	}
	return n, true
}

// monotoneApart reports whether the ranges rs, in their order, are all
// ascending or all descending, none overlapping another (adjacent ones
// may follow each other): then none holds a number another holds. steps
// is the number of pairs it compared.
func monotoneApart(rs []wire.SeqRange) (ok bool, steps int) {
	up, down := true, true
	for i := 1; i < len(rs) && (up || down); i++ {
		steps++
		a, b := rs[i-1], rs[i]
		up = up && seqrange.Key(b.Start) > seqrange.Key(a.Stop)
		down = down && seqrange.Key(b.Stop) < seqrange.Key(a.Start)
	}
	return up || down, steps
}

// IsEmpty reports whether s holds nothing. An empty set is not valid on
// the wire (RFC 9051 section 9 requires at least one number).
func (s SeqSet) IsEmpty() bool { return len(s.r) == 0 }

// Dynamic reports whether s holds "*", whose value depends on the mailbox.
// It costs O(1) for a canonical set (where "*" can only end the last
// range), O(r) for a set of r ranges in the order a peer sent them.
func (s SeqSet) Dynamic() bool {
	if !s.unsorted {
		return len(s.r) > 0 && s.r[len(s.r)-1].Stop == 0
	}
	for _, r := range s.r {
		if r.Stop == 0 {
			return true
		}
	}
	return false
}

// Nums expands s into its numbers, in the order of Ranges: ascending for a
// canonical set, as sent for a parsed one (which is what pairs COPYUID
// source and destination UIDs). ok is false, and nums nil, if s is dynamic.
// A parsed set with overlapping ranges yields the overlap twice; call
// Compact first for ascending distinct numbers.
//
// The result has one element per number: for a set from the network check
// Len first, since "1:4294967295" would need 16 GiB. All iterates without
// allocating.
func (s SeqSet) Nums() (nums []uint32, ok bool) {
	if s.Dynamic() {
		return nil, false
	}
	var n uint64
	for _, r := range s.r {
		n += uint64(r.Stop) - uint64(r.Start) + 1
	}
	nums = make([]uint32, 0, n)
	for _, r := range s.r {
		for v := uint64(r.Start); v <= uint64(r.Stop); v++ {
			nums = append(nums, uint32(v))
		}
	}
	return nums, true
}

// All is an iterator over the numbers of s, in the order of Ranges (see
// Nums): for n := range s.All { ... }. Ranges that hold "*" (x:* and "*")
// are skipped, since their extent depends on the mailbox; check Dynamic
// first if that matters. It does not allocate.
func (s SeqSet) All(yield func(uint32) bool) {
	for _, r := range s.r {
		if r.Stop == 0 {
			continue
		}
		for v := uint64(r.Start); v <= uint64(r.Stop); v++ {
			if !yield(uint32(v)) {
				return
			}
		}
	}
}

// MarshalText implements encoding.TextMarshaler with the canonical form,
// so that JSON shows "1:3,5" rather than {}.
func (s SeqSet) MarshalText() ([]byte, error) {
	return s.AppendTo(nil), nil
}

// String returns the canonical wire form of s (RFC 9051 section 9): ranges
// sorted, overlapping and adjacent ones merged, e.g. "1:3,5,9:*". An empty
// set gives "". For the order in which a parsed set was sent use
// wire.AppendSeqSet with Ranges.
func (s SeqSet) String() string {
	return string(s.AppendTo(nil))
}

// AppendTo appends the canonical wire form of s (see String) to dst and
// returns the extended slice. It does not allocate beyond growing dst when
// s is canonical.
func (s SeqSet) AppendTo(dst []byte) []byte {
	rs, _ := s.canonical()
	return wire.AppendSeqSet(dst, rs)
}

// Equal reports whether s and t hold the same numbers (and both or neither
// hold "*"), whatever the order and grouping of their ranges: x:* and
// x:4294967295,* are equal (so are 4294967295:* and 4294967295,*), as
// Contains, Remove, Intersect and Len take them. "*" is the largest number
// in use (RFC 9051 section 9, seq-number), never above 4294967295: in any
// mailbox both name the messages from x to the last (the last alone when
// x is past it), where x:4294967295 alone does not name the last below x,
// and "*" alone is not 4294967295. The canonical form keeps them apart
// (see seqrange.Key), so String tells them apart; Equal does not.
func (s SeqSet) Equal(t SeqSet) bool {
	sr, _ := s.canonical()
	tr, _ := t.canonical()
	a, as, aStar := starTail(sr)
	b, bs, bStar := starTail(tr)
	return aStar == bStar && as == bs && slices.Equal(a, b)
}

// starTail splits rs, canonical, into the ranges before the one that
// holds "*" and that one (x:*, or *:* for a lone "*"), when there is one:
// a range x:4294967295 followed by a lone "*", which holds the same
// numbers as x:*, is taken as x:*.
func starTail(rs []wire.SeqRange) (head []wire.SeqRange, tail wire.SeqRange, star bool) {
	n := len(rs)
	if n == 0 || rs[n-1].Stop != 0 {
		return rs, wire.SeqRange{}, false
	}
	if last := rs[n-1]; last.Start != 0 || n < 2 || rs[n-2].Stop != math.MaxUint32 {
		return rs[:n-1], last, true
	}
	return rs[:n-2], wire.SeqRange{Start: rs[n-2].Start}, true
}

// Reset empties s, keeping its memory for reuse.
func (s *SeqSet) Reset() {
	s.r = s.r[:0]
	s.unsorted = false
}

// Clone returns a copy of s that shares no memory with it.
func (s SeqSet) Clone() SeqSet {
	if len(s.r) == 0 {
		return SeqSet{}
	}
	return SeqSet{r: slices.Clone(s.r), unsorted: s.unsorted}
}
