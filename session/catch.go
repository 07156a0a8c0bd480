// Catch: the untagged responses that come when no command takes them,
// collected for a caller that watches the mailbox across several
// commands (commands.Client.Idle between two IDLEs).

package session

import "github.com/imapkit/imapkit/codec"

// Catch collects, in the order the server sent them, the untagged data
// responses that no command in flight takes: those a server sends between
// two commands (an EXISTS right after the tagged answer to an IDLE's
// DONE, before the next IDLE went out). Made by Session.Catch.
type Catch struct {
	s       *Session
	prev    *Catch // the Catch running before this one (under mu)
	items   []codec.Response
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
	c.items, c.bytes, c.dropped = nil, 0, 0
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
		c.items = nil
	} else {
		c.items = c.items[n:]
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
// went to both at once. So the handler gets what c held after those, when
// they came later: a FETCH by sequence number that c held can reach
// OnUnsolicited after an EXPUNGE that renumbered its message; a handler
// that follows sequence numbers should go by the FETCH's UID there (or
// take what a Catch holds with Take before stopping it). A second call
// does nothing.
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
	// Under the lock that routes every response: what the reader
	// routes next goes after these, to the stream or to prev.
	if p := c.prev; p != nil && !p.stopped {
		for _, r := range c.items {
			p.addLocked(r, codec.CloneSize(r))
		}
		p.dropped += c.dropped
	} else {
		for _, r := range c.items {
			if !AlwaysEvent(r) { // the stream had it when it came
				s.eventOwnedLocked(r)
			}
		}
		if s.opts.OnUnsolicited != nil {
			s.droppedEvents += uint64(c.dropped)
		}
	}
	c.prev, c.items, c.bytes, c.dropped = nil, nil, 0, 0
	c.mark, c.markBytes, c.markDropped = 0, 0, 0
}

// addLocked adds r, a copy c owns, of size bytes, to c within
// MaxResultBytes (under mu).
func (c *Catch) addLocked(r codec.Response, size int64) {
	if c.bytes+size > c.s.opts.MaxResultBytes {
		c.dropped++
		return
	}
	c.bytes += size
	c.items = append(c.items, r)
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
	c.addLocked(s.cloneRedacted(r), size)
	return true
}
