// Catch: the untagged responses that come when no command takes them,
// collected for a caller that watches the mailbox across several
// commands (commands.Client.Idle between two IDLEs).

package session

import (
	"cmp"
	"math"
	"slices"

	"github.com/imapkit/imapkit/codec"
)

// Catch collects, in the order the server sent them, the untagged data
// responses that no command in flight takes: those a server sends between
// two commands (an EXISTS right after the tagged answer to an IDLE's
// DONE, before the next IDLE went out). Made by Session.Catch.
type Catch struct {
	s     *Session
	prev  *Catch // the Catch running before this one (under mu)
	items []codec.Response
	// at[i] is the stream's expunge position (xl.pos) when items[i]
	// was caught: Stop renumbers a held FETCH by the EXPUNGEs and
	// VANISHEDs the stream had after it.
	at      []uint64
	xl      *expungeLog // shared by the Catches running together (under mu)
	bytes   int64
	dropped int
	stopped bool
	// mark is how many of items came before the last command started
	// with Command.Catch set to c went in flight; markBytes their size,
	// markDropped the responses dropped by then (TakeMarked).
	mark, markDropped int
	markBytes         int64
}

// Catch starts collecting the untagged data responses that no command in
// flight takes (but CAPABILITY and ENABLED, which the session handles
// itself) until Stop: a watcher that runs one command after another (an
// IDLE, a FETCH, the next IDLE) takes what came between them with Take,
// in order, and hands it on before what the next command brings: a
// response either went to a command in flight or is here, as the same
// lock decides both. What a Catch takes goes no more to
// Options.OnUnsolicited, as what a command takes (but what Stop hands
// back); it is still kept for Responses, as every response no command
// takes (imaplib's untagged_responses: a FLAGS, an OK [PERMANENTFLAGS],
// another client's flag change between two commands stays there for
// Response(name)). The mailbox-state responses (AlwaysEvent) go to both
// at once still.
//
// While several Catches are running, the newest takes them all (a
// function that catches inside a caller that does). What one holds is
// bounded by Options.MaxResultBytes: past it, responses are dropped,
// and Take reports it with a *ResultTooLargeError. What it holds is then
// a prefix of what came: once one is dropped, every later one is too
// (also one that would fit the room left), until the Take (or the
// TakeMarked past that response) that reports it, as a pulled command's
// queue and the typed client's collecting methods do past their bounds.
func (s *Session) Catch() *Catch {
	c := &Catch{s: s}
	s.mu.Lock()
	c.prev, s.catch = s.catch, c
	if c.prev != nil {
		c.xl = c.prev.xl
	} else {
		c.xl = new(expungeLog)
	}
	s.mu.Unlock()
	return c
}

// CatchCommand is the Command of the *ResultTooLargeError that
// Catch.Take returns: no command is involved, and Queued is false.
const CatchCommand = "Catch (the responses no command took)"

// Take returns what c collected since the last Take, in the order it
// came, and a *ResultTooLargeError when the bound dropped some of it
// (its Command is CatchCommand, Dropped counts the responses left out).
func (c *Catch) Take() ([]codec.Response, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	items, dropped := c.items, c.dropped
	c.items, c.at, c.bytes, c.dropped = nil, nil, 0, 0
	c.mark, c.markBytes, c.markDropped = 0, 0, 0
	return items, c.tooLarge(dropped)
}

// TakeMarked returns what c collected, since the last Take or
// TakeMarked, before the last command started with Command.Catch set to
// c went in flight, in the order it came, and a *ResultTooLargeError
// when the bound dropped some of it. What c collected after that moment
// stays in c for the next Take. Without such a command since the last
// Take, it returns nothing.
func (c *Catch) TakeMarked() ([]codec.Response, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n, dropped := c.mark, c.markDropped
	var items []codec.Response
	if n > 0 {
		items = c.items[:n:n]
	}
	if n == len(c.items) {
		c.items, c.at = nil, nil
	} else if n > 0 {
		// Copied out, not re-sliced: the array under items[n:] holds
		// what was taken, which the Catch would keep reachable (after
		// the caller is done with it) until its slice grew.
		c.items = append([]codec.Response(nil), c.items[n:]...)
		c.at = append([]uint64(nil), c.at[n:]...)
	}
	c.bytes -= c.markBytes
	c.dropped -= dropped
	c.mark, c.markBytes, c.markDropped = 0, 0, 0
	return items, c.tooLarge(dropped)
}

// markLocked marks what c holds as collected before a command went in
// flight (TakeMarked; under mu).
func (c *Catch) markLocked() {
	c.mark, c.markBytes, c.markDropped = len(c.items), c.bytes, c.dropped
}

// tooLarge is Take's error when dropped responses were left out.
func (c *Catch) tooLarge(dropped int) error {
	if dropped > 0 {
		return &ResultTooLargeError{Command: CatchCommand, Limit: c.s.opts.MaxResultBytes, Dropped: dropped}
	}
	return nil
}

// Stop ends the collection (an older Catch still running takes the next
// ones) and loses nothing of what c holds and was not taken: it goes, in
// order, to the Catch that was running when c was started, if it still
// runs (within its MaxResultBytes bound; responses c dropped are counted
// in its next Take's error too), and else where the session would have
// sent it had no Catch run: to Options.OnUnsolicited (within its bounds,
// Options.MaxUnsolicited and MaxKeptBytes; what c dropped is counted in
// DroppedUnsolicited), after whatever the handler had before. Responses
// has it already (see Catch), and EXISTS, EXPUNGE, RECENT and VANISHED
// went to both at once, when they came.
//
// So the handler gets what c held after the EXPUNGEs and VANISHEDs that
// came later, and Stop makes a FETCH it hands on fit them: its sequence
// number is the one its message has after them, as if the FETCH had gone
// to the handler when it came, and a FETCH of a message one of them
// removed is left out (its message is gone: not counted as dropped). An
// EXPUNGE renumbers it; a VANISHED (not EARLIER) leaves out the FETCH
// whose UID it holds and lowers the number of one with a UID by the
// UIDs below that UID it holds (a FETCH without a UID keeps its number
// then: a server that sends VANISHED, in QRESYNC mode, sends the UID in
// every FETCH). What it takes to do so is bounded: the Catches running
// together remember the last 1024 EXPUNGEs and VANISHEDs (the
// latter holding 1024 ranges of UIDs in all, adjacent and overlapping
// ones merged); a FETCH
// held across more than that (or across a VANISHED of more ranges) can
// not be renumbered and is left out, counted in DroppedUnsolicited. So is
// a FETCH caught before the selected mailbox changed (a SELECT or EXAMINE,
// even of the same mailbox, CLOSE, UNSELECT): it names a message of the mailbox
// selected then, and handed on after the next one's EXISTS it would be
// taken for one of that mailbox's. A handler that wants every FETCH takes
// what a Catch holds with Take before stopping it, or before changing
// the selected mailbox. A second call does nothing.
func (c *Catch) Stop() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	for at := &s.catch; *at != nil; at = &(*at).prev {
		if *at == c {
			*at = c.prev
			break
		}
	}
	// Under the lock that routes every response, and under which the
	// stream gets its EXPUNGEs and VANISHEDs (and c.xl hears of them):
	// what the reader routes next goes after these, to the stream or to
	// prev.
	if p := c.prev; p != nil && !p.stopped {
		// p shares c.xl: the positions go with the responses.
		for i, r := range c.items {
			p.addLocked(r, codec.CloneSize(r), c.at[i])
		}
		p.dropped += c.dropped
	} else {
		var fate []uint8
		if s.opts.OnUnsolicited != nil && slices.ContainsFunc(c.at, func(p uint64) bool { return p < c.xl.pos }) {
			// Every FETCH at once: one at a time, each walked the log
			// after it, under mu (220,000 FETCHes by 1024 VANISHEDs
			// held the lock for seconds).
			fs := make([]*codec.Fetch, 0, len(c.items))
			at := make([]uint64, 0, len(c.items))
			for i, r := range c.items {
				if f, ok := r.(*codec.Fetch); ok && !AlwaysEvent(r) {
					fs = append(fs, f)
					at = append(at, c.at[i])
				}
			}
			fate = c.xl.renumberAll(fs, at)
		}
		k := 0
		for _, r := range c.items {
			if AlwaysEvent(r) { // the stream had it when it came
				continue
			}
			if _, ok := r.(*codec.Fetch); ok && fate != nil {
				k++
				switch fate[k-1] {
				case fetchGone:
					continue
				case fetchLost:
					s.droppedEvents++
					continue
				}
			}
			s.eventOwnedLocked(r)
		}
		if s.opts.OnUnsolicited != nil {
			s.droppedEvents += uint64(c.dropped)
		}
	}
	c.prev, c.items, c.at, c.bytes, c.dropped = nil, nil, nil, 0, 0
	c.mark, c.markBytes, c.markDropped = 0, 0, 0
}

// addLocked adds r, a copy c owns, of size bytes, caught at the stream's
// expunge position at, to c within MaxResultBytes (under mu).
func (c *Catch) addLocked(r codec.Response, size int64, at uint64) {
	if c.fullLocked(size) {
		c.dropped++
		return
	}
	c.bytes += size
	c.items = append(c.items, r)
	c.at = append(c.at, at)
}

// fullLocked reports whether a response of size bytes is to be dropped:
// it does not fit in MaxResultBytes, or one was dropped before it that
// no Take has reported yet (what c holds stays a prefix; under mu).
func (c *Catch) fullLocked(size int64) bool {
	return c.dropped > 0 || c.bytes+size > c.s.opts.MaxResultBytes
}

// catchLocked gives r, which no command in flight takes, to the newest
// Catch, and reports whether one took it (under mu).
func (s *Session) catchLocked(r codec.Response) bool {
	c := s.catch
	if c == nil {
		return false
	}
	switch r.(type) {
	case *codec.Capability, *codec.Enabled:
		return false
	}
	size := max(s.rl.respSize, codec.CloneSize(r)) // as a collecting command counts
	// Checked before the copy, which addLocked would drop.
	if c.fullLocked(size) {
		c.dropped++
		return true
	}
	c.addLocked(s.cloneRedacted(r), size, c.xl.pos)
	return true
}

// catchExpunges bounds what an expungeLog remembers: its entries, and the
// ranges of UIDs its VANISHEDs hold in all (Catch.Stop).
const catchExpunges = 1024

// expungeLog remembers, for the Catches running together, the EXPUNGEs and
// VANISHEDs (not EARLIER) the stream got, in its order, while they run:
// Stop renumbers by them a FETCH it hands to the stream (under mu).
type expungeLog struct {
	pos    uint64 // the position of the last one the stream got
	lost   uint64 // the last position forgotten past the bound
	ents   []expungeEntry
	ranges int // the UID ranges ents hold
	// steps is the work the last renumberAll did, counted in entries
	// visited, holes moved and FETCHes placed: its cost, which a test
	// bounds without a clock (TestCatchStopHostileLogCost).
	steps int
}

// expungeEntry is an EXPUNGE (seq) or a VANISHED (uids, canonical).
type expungeEntry struct {
	pos  uint64
	seq  uint32
	uids codec.SeqSet
}

// record notes r, which the stream gets (or, past its bound, drops) now,
// when it is an EXPUNGE or a VANISHED (not EARLIER); under mu, in the same
// hold that queues or drops r, so that the stream's order and the log's
// are one.
func (l *expungeLog) record(r codec.Response) {
	var e expungeEntry
	switch r := r.(type) {
	case *codec.Expunge:
		e.seq = r.Seq
	case *codec.Vanished:
		if r.Earlier {
			return // messages gone before: no number changes
		}
		// Counted once merged: a server that lists adjacent UIDs one
		// by one (1,2,3,...), or overlapping ranges, sends fewer
		// ranges than it wrote. Compacting costs O(r log r) for r
		// ranges, as the session's count of the mailbox (exists.go:
		// Len) pays for the same VANISHED already.
		e.uids = r.UIDs.Clone()
		e.uids.Compact()
		if n := len(e.uids.Ranges()); n > catchExpunges {
			// Too many ranges to keep: what came before can not be
			// renumbered any more.
			l.pos++
			l.lost = l.pos
			clear(l.ents)
			l.ents, l.ranges = l.ents[:0], 0
			return
		}
		if len(e.uids.Ranges()) < len(r.UIDs.Ranges()) {
			// Merged: kept in an array of its own size, not of the
			// ranges as written (the log's memory is bounded by the
			// ranges it keeps).
			e.uids = e.uids.Clone()
		}
	default:
		return
	}
	l.pos++
	e.pos = l.pos
	n := len(e.uids.Ranges())
	for len(l.ents) > 0 && (len(l.ents) >= catchExpunges || l.ranges+n > catchExpunges) {
		l.lost = l.ents[0].pos
		l.ranges -= len(l.ents[0].uids.Ranges())
		l.ents[0] = expungeEntry{}
		l.ents = l.ents[1:]
	}
	if len(l.ents) == cap(l.ents) && len(l.ents) > 0 {
		// Slid to the end of its array: move it to a new one, no larger
		// than twice what it holds.
		l.ents = append(make([]expungeEntry, 0, 2*len(l.ents)), l.ents...)
	}
	l.ents = append(l.ents, e)
	l.ranges += n
}

// reselected notes a change of the selected mailbox (a SELECT or EXAMINE
// given its turn, CLOSE, UNSELECT, a failed SELECT), under mu: the
// FETCHes caught before it name messages of the mailbox selected then,
// which no number in the next one names; like those held across more
// than the log remembers, Stop leaves them out and counts them.
func (l *expungeLog) reselected() {
	l.pos++
	l.lost = l.pos
	clear(l.ents)
	l.ents, l.ranges = l.ents[:0], 0
}

// What renumber did with a FETCH.
const (
	fetchKept = iota // renumbered (or as it was)
	fetchGone        // its message was removed
	fetchLost        // the log forgot what came after it
)

// renumberAll makes each FETCH fs[i], caught at position at[i], fit the
// EXPUNGEs and VANISHEDs the stream got after it (Catch.Stop), and
// returns what it did with each (fetchKept, with its Seq renumbered;
// fetchGone; fetchLost). The result is the one of applying the entries
// after each FETCH to it one by one (renumberOne, kept for the tests), at
// a cost of O((F + E) log E), and per class of UIDs that holds a FETCH
// (below) O(E log E) comparisons and up to E*E/2 words moved (the holes
// kept in a sorted slice), where one by one cost O(F x E): 220,000
// FETCHes spread over the 1025 classes of a VANISHED of 1024 ranges
// followed by 1023 EXPUNGEs take some 60 ms.
//
// An EXPUNGE of s takes a FETCH of number n away when n == s and lowers
// it when n > s: the same for every FETCH. A VANISHED takes it away when
// its UID u is in the set and lowers n by the UIDs below u it holds (and
// takes it away when that reaches n), which depends on u only through
// the gap of the set's ranges u falls in: so the UIDs fall into classes
// (between two consecutive bounds of the ranges of all the VANISHEDs),
// and within one every VANISHED does the same. For one class, counting
// n + P(k), P(k) what the VANISHEDs before entry k take below it, a
// VANISHED changes nothing and an EXPUNGE of s at entry k is one of
// s + P(k): a FETCH's fate is that of its number under a list of
// EXPUNGEs alone, which is read off where those EXPUNGEs' messages were
// before the first of them (holes): the message a FETCH started at entry j
// names is the m-th position that no EXPUNGE before j took; it is gone
// when a later one took that position, and else lowered by the holes
// below it.
func (l *expungeLog) renumberAll(fs []*codec.Fetch, at []uint64) []uint8 {
	steps := len(fs) + len(l.ents)
	defer func() { l.steps = steps }()
	fate := make([]uint8, len(fs))
	start := make([]int32, len(fs)) // the first entry after each FETCH
	lastV := -1                     // the last entry that is no EXPUNGE of a number
	var bounds []uint64             // the class bounds, as seqKey
	var exps []int32                // the entries that are EXPUNGEs
	for k := range l.ents {
		e := &l.ents[k]
		if e.seq != 0 {
			exps = append(exps, int32(k))
			continue
		}
		lastV = k
		for _, r := range e.uids.Ranges() {
			bounds = append(bounds, seqKeyOf(r.Start), seqKeyOf(r.Stop)+1)
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	// The classes: 0 to len(bounds) by a UID's key, then UID 0 (which
	// uidsBelow and Contains see apart), then no UID.
	zeroClass, noUID := len(bounds)+1, len(bounds)+2
	class := make([]int32, len(fs))
	count := make([]int32, len(bounds)+4)
	ordered := true
	j := 0
	for i, f := range fs {
		start[i] = -1
		if at[i] >= l.pos {
			continue // nothing came after it
		}
		if at[i] < l.lost {
			fate[i] = fetchLost
			continue
		}
		if i > 0 && at[i] < at[i-1] {
			j = 0 // positions do not go down; if they did, look again
		}
		for j < len(l.ents) && l.ents[j].pos <= at[i] {
			j++
		}
		start[i] = int32(j)
		if f.Seq == 0 {
			// Nothing lowers a 0, nothing equals it; and a VANISHED
			// (or an entry without a number) after it takes a
			// FETCH with a UID away.
			if f.Has&codec.FetchUID != 0 && lastV >= j {
				fate[i] = fetchGone
			}
			start[i] = -1
			continue
		}
		c := noUID
		if f.Has&codec.FetchUID != 0 {
			if f.UID == 0 {
				c = zeroClass
			} else {
				c, _ = slices.BinarySearch(bounds, seqKeyOf(f.UID)+1)
			}
		}
		class[i] = int32(c)
		count[c+1]++
	}
	// The FETCHes by class (a counting sort: stable, so each class's
	// come in the order of their positions).
	for c := 1; c < len(count); c++ {
		count[c] += count[c-1]
	}
	byClass := make([]int32, count[len(count)-1])
	next := slices.Clone(count)
	for i := range fs {
		if start[i] >= 0 {
			c := class[i]
			byClass[next[c]] = int32(i)
			next[c]++
			if next[c] > count[c]+1 && start[byClass[next[c]-2]] > start[i] {
				ordered = false
			}
		}
	}
	p := make([]int64, len(l.ents)+1) // P(k) of the class
	var holes []int64
	mpos := make([]int64, len(fs))
	for c := 0; c+1 < len(count); c++ {
		list := byClass[count[c]:count[c+1]]
		if len(list) == 0 {
			continue
		}
		if !ordered {
			slices.SortStableFunc(list, func(a, b int32) int { return cmp.Compare(start[a], start[b]) })
		}
		rep := fs[list[0]]
		kill := -1 // the last VANISHED that holds the class's UIDs
		steps += len(l.ents) + len(list)
		for k := range l.ents {
			e := &l.ents[k]
			p[k+1] = p[k]
			if e.seq != 0 || c == noUID {
				continue
			}
			if e.uids.Contains(rep.UID) {
				kill = k
			} else {
				p[k+1] += int64(uidsBelow(e.uids, rep.UID))
			}
		}
		holes = holes[:0]
		x := 0 // the next EXPUNGE to make a hole of
		for _, i := range list {
			for ; x < len(exps) && exps[x] < start[i]; x++ {
				holes = addHole(holes, int64(l.ents[exps[x]].seq)+p[exps[x]])
				steps += len(holes)
			}
			mpos[i] = nthFree(holes, int64(fs[i].Seq)+p[start[i]])
		}
		for ; x < len(exps); x++ {
			holes = addHole(holes, int64(l.ents[exps[x]].seq)+p[exps[x]])
			steps += len(holes)
		}
		for _, i := range list {
			if kill >= int(start[i]) {
				fate[i] = fetchGone
				continue
			}
			h, found := slices.BinarySearch(holes, mpos[i])
			n := mpos[i] - int64(h) - p[len(l.ents)]
			if found || n <= 0 {
				fate[i] = fetchGone
				continue
			}
			fs[i].Seq = uint32(n)
		}
	}
	return fate
}

// nthFree returns the m-th positive number (m >= 1) that holes, sorted,
// does not hold.
func nthFree(holes []int64, m int64) int64 {
	// Below holes[i] lie holes[i]-1-i free numbers: the first i with
	// m of them or more.
	lo, hi := 0, len(holes)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if holes[h]-1-int64(h) >= m {
			hi = h
		} else {
			lo = h + 1
		}
	}
	return m + int64(lo)
}

// addHole adds to holes, sorted, the position of the message an EXPUNGE
// of s removed, in the numbering before the first of those EXPUNGEs: the
// s-th that none before it removed.
func addHole(holes []int64, s int64) []int64 {
	h := nthFree(holes, s)
	i, _ := slices.BinarySearch(holes, h)
	return slices.Insert(holes, i, h)
}

// seqKeyOf orders set numbers as codec.SeqSet does: "*" (0) past every
// number.
func seqKeyOf(n uint32) uint64 {
	if n == 0 {
		return 1<<32 + 1
	}
	return uint64(n)
}

// renumberOne makes f, caught at position at, fit the EXPUNGEs and
// VANISHEDs the stream got after it, one entry at a time: what
// renumberAll does for many at once (the tests compare them).
func (l *expungeLog) renumberOne(f *codec.Fetch, at uint64) int {
	if at >= l.pos {
		return fetchKept // nothing came after it
	}
	if at < l.lost {
		return fetchLost
	}
	from := 0
	for from < len(l.ents) && l.ents[from].pos <= at {
		from++
	}
	n := f.Seq
	for _, e := range l.ents[from:] {
		switch {
		case e.seq != 0:
			if e.seq == n {
				return fetchGone
			}
			if e.seq < n {
				n--
			}
		case f.Has&codec.FetchUID != 0:
			if e.uids.Contains(f.UID) {
				return fetchGone
			}
			below := uidsBelow(e.uids, f.UID)
			if below >= uint64(n) {
				return fetchGone // more removed below it than there were: a server's error
			}
			n -= uint32(below)
		}
	}
	f.Seq = n
	return fetchKept
}

// uidsBelow counts the numbers below u that s, canonical, holds ("*" as
// the largest number).
func uidsBelow(s codec.SeqSet, u uint32) uint64 {
	var k uint64
	for _, r := range s.Ranges() {
		lo, hi := uint64(r.Start), uint64(r.Stop)
		if r.Start == 0 {
			lo = math.MaxUint32
		}
		if r.Stop == 0 {
			hi = math.MaxUint32
		}
		if lo >= uint64(u) {
			break
		}
		k += min(hi, uint64(u)-1) - lo + 1
	}
	return k
}
