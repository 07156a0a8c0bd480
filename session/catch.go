// Catch: the untagged responses that come when no command takes them,
// collected for a caller that watches the mailbox across several
// commands (commands.Client.Idle between two IDLEs).

package session

import (
	"math"

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
// and Take reports it with a *ResultTooLargeError.
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
	} else {
		c.items, c.at = c.items[n:], c.at[n:]
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
// latter holding 1024 ranges of UIDs in all); a FETCH
// held across more than that (or across a VANISHED of more ranges) can
// not be renumbered and is left out, counted in DroppedUnsolicited. A
// handler that wants every FETCH takes what a Catch holds with Take
// before stopping it. A second call does nothing.
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
		from := 0 // the first entry of c.xl after the last FETCH's position
		for i, r := range c.items {
			if AlwaysEvent(r) { // the stream had it when it came
				continue
			}
			if f, ok := r.(*codec.Fetch); ok && s.opts.OnUnsolicited != nil {
				switch c.xl.renumber(f, c.at[i], &from) {
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
	if c.bytes+size > c.s.opts.MaxResultBytes {
		c.dropped++
		return
	}
	c.bytes += size
	c.items = append(c.items, r)
	c.at = append(c.at, at)
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
	if c.bytes+size > s.opts.MaxResultBytes {
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
		if n := len(r.UIDs.Ranges()); n > catchExpunges {
			// Too many ranges to keep: what came before can not be
			// renumbered any more.
			l.pos++
			l.lost = l.pos
			clear(l.ents)
			l.ents, l.ranges = l.ents[:0], 0
			return
		}
		e.uids = r.UIDs.Clone()
		e.uids.Compact()
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

// What renumber did with a FETCH.
const (
	fetchKept = iota // renumbered (or as it was)
	fetchGone        // its message was removed
	fetchLost        // the log forgot what came after it
)

// renumber makes f, caught at position at, fit the EXPUNGEs and VANISHEDs
// the stream got after it (Catch.Stop). from is where to start looking
// in l.ents: the positions of the FETCHes a Catch holds do not go down,
// so each call starts where the last one did.
func (l *expungeLog) renumber(f *codec.Fetch, at uint64, from *int) int {
	if at >= l.pos {
		return fetchKept // nothing came after it
	}
	if at < l.lost {
		return fetchLost
	}
	for *from < len(l.ents) && l.ents[*from].pos <= at {
		*from++
	}
	n := f.Seq
	for _, e := range l.ents[*from:] {
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
