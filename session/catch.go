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
}

// Catch starts collecting the untagged data responses that no command in
// flight takes (but CAPABILITY and ENABLED, which the session handles
// itself) until Stop: a watcher that runs one command after another (an
// IDLE, a FETCH, the next IDLE) takes what came between them with Take,
// in order, and hands it on before what the next command brings: a
// response either went to a command in flight or is here, as the same
// lock decides both. What a Catch takes goes no more to
// Options.OnUnsolicited and Responses, as what a command takes; the
// mailbox-state responses (AlwaysEvent) go there still.
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
	if dropped > 0 {
		return items, &ResultTooLargeError{Command: CatchCommand, Limit: c.s.opts.MaxResultBytes, Dropped: dropped}
	}
	return items, nil
}

// Stop ends the collection (an older Catch still running takes the next
// ones) and drops what was not taken. A second call does nothing.
func (c *Catch) Stop() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	for at := &c.s.catch; *at != nil; at = &(*at).prev {
		if *at == c {
			*at = c.prev
			break
		}
	}
	c.prev, c.items, c.bytes = nil, nil, 0
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
	c.bytes += size
	c.items = append(c.items, s.cloneRedacted(r))
	return true
}
