// Unsolicited data: the store behind Responses (imaplib's
// untagged_responses), and the queue that feeds OnUnsolicited.

package session

import (
	"context"
	"strings"

	"github.com/imapkit/imapkit/codec"
)

// keep stores r for Responses (imaplib's untagged_responses), bounded to
// the last 1000 of each name. Data that a command took is in its Result
// instead; the code of a status response is kept under the code's name
// too.
func (s *Session) keep(r codec.Response) {
	s.keepAs(r, codec.ResponseName(r))
}

// keepCode stores the response code of a tagged status response for
// Responses, under the code's name alone, as imaplib keeps the
// "bracketed response information" of every answer: READ-ONLY of a
// SELECT, APPENDUID of an APPEND, COPYUID of a COPY.
func (s *Session) keepCode(st *codec.Status) {
	if st.Code != nil {
		s.keepAs(st, "")
	}
}

// keepAs stores r under name and, for a status response with a code,
// under the code's name; an empty name stores it under the code's alone.
func (s *Session) keepAs(r codec.Response, name string) {
	st, _ := r.(*codec.Status)
	if name == "" && (st == nil || st.Code == nil) {
		return
	}
	if codec.CloneSize(r) > s.maxKeptBytes {
		// Too large to keep: counted before it is copied (a 60 MB
		// body was copied whole to be dropped).
		s.mu.Lock()
		s.droppedKept++
		s.mu.Unlock()
		return
	}
	c := s.cloneRedacted(r)
	size := codec.CloneSize(c)
	// The bytes read so far order the kept responses by arrival: the
	// bound on their memory drops the oldest first, whatever their name.
	at := s.tr.delivered.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != "" {
		s.keepLocked(name, keptResponse{c, at, size})
	}
	if cs, ok := c.(*codec.Status); ok && cs.Code != nil {
		s.keepLocked(strings.ToUpper(string(cs.Code.Name)), keptResponse{c, at, size})
	}
}

// cloneRedacted copies r for Responses or OnUnsolicited: a status
// response with its text and its code's name and arguments redacted (a
// server may echo a credential in either: a LOGIN's tagged NO), and a
// response the codec does not know with its name and rest redacted; the
// text and the rest (or a name with no rest) run to the line's end, where
// a part of a secret that goes on past it is redacted too.
func (s *Session) cloneRedacted(r codec.Response) codec.Response {
	switch v := r.(type) {
	case *codec.Status:
		return s.cloneStatus(v)
	case *codec.Unknown:
		c := codec.CloneResponse(v).(*codec.Unknown)
		if s.secrets.any() {
			c.Name, c.Rest = s.secrets.redactNameRest(c.Name, c.Rest)
		}
		return c
	}
	return codec.CloneResponse(r)
}

// Redacted returns r with the session's secrets (the password LOGIN sent,
// AddSecret's) hidden where a server may echo them: a status response's
// text and its code's name and arguments, and the name and rest of a
// response the codec does not know, as the session's errors and the
// responses it keeps (Responses, OnUnsolicited, Catch) have them. It
// returns r itself when the session has no secret or r is of another
// kind, else a copy. For a caller that hands on responses it was given
// as they came (a pulled command's Items, IDLE's).
func (s *Session) Redacted(r codec.Response) codec.Response {
	if !s.secrets.any() {
		return r
	}
	switch r.(type) {
	case *codec.Status, *codec.Unknown:
		return s.cloneRedacted(r)
	}
	return r
}

// keptResponse is a response kept for Responses: a copy, when it arrived
// (the bytes read from the server by then) and its size
// (codec.CloneSize).
type keptResponse struct {
	r    codec.Response
	at   int64
	size int64
}

// keepLocked stores k under name within the store's bounds (under mu): the
// last MaxKept responses of a name, at most MaxKeptNames names (the
// server chooses them; a new name past the bound is dropped and counted),
// and MaxKeptBytes in all: the oldest kept responses, of any name, make
// room for k (so that an ALERT or a READ-ONLY that comes after a flood of
// another name is kept); one larger than the bound alone is dropped and
// counted.
func (s *Session) keepLocked(name string, k keptResponse) {
	l, ok := s.store[name]
	if !ok && len(s.store) >= int(s.maxNames) || k.size > s.maxKeptBytes {
		s.droppedKept++
		return
	}
	if len(l) >= int(s.maxKept) {
		s.droppedKept++
		if len(l) >= 2*int(s.maxKept) {
			// Slide in place once the list is twice the bound: amortised
			// O(1) per response, and the array never grows past it.
			gone := l[:len(l)-int(s.maxKept)+1]
			s.keptBytes -= storeSize(gone)
			n := copy(l, l[len(gone):])
			clear(l[n:])
			l = l[:n]
			s.store[name] = l
		}
	}
	for s.keptBytes+k.size > s.maxKeptBytes && s.dropOldestLocked() {
	}
	s.keptBytes += k.size
	s.store[name] = append(s.store[name], k)
}

// dropOldestLocked drops the oldest kept response, of whichever name
// (under mu), and reports whether there was one: the names are few
// (MaxKeptNames), and each list is in the order of arrival.
func (s *Session) dropOldestLocked() bool {
	oldest := ""
	var at int64
	for name, l := range s.store {
		if len(l) > 0 && (oldest == "" || l[0].at < at) {
			oldest, at = name, l[0].at
		}
	}
	if oldest == "" {
		return false
	}
	l := s.store[oldest]
	s.keptBytes -= l[0].size
	s.droppedKept++
	l[0] = keptResponse{}
	if l = l[1:]; len(l) == 0 {
		delete(s.store, oldest)
	} else {
		s.store[oldest] = l
	}
	return true
}

// storeSize returns the bytes the store counts for l.
func storeSize(l []keptResponse) int64 {
	var n int64
	for _, k := range l {
		n += k.size
	}
	return n
}

// clearStoreLocked empties the store (under mu).
func (s *Session) clearStoreLocked() {
	clear(s.store)
	s.keptBytes = 0
}

// Responses pops the untagged responses stored under name (imaplib's
// response(code)): a response name such as "EXISTS", "FETCH" or "OK", or a
// response code such as "READ-ONLY" or "ALERT". As in imaplib, the codes
// of tagged answers are kept too, under the code's name alone (the
// tagged *codec.Status, whose Code holds it): READ-ONLY after an EXAMINE,
// APPENDUID after an APPEND, COPYUID after a COPY.
func (s *Session) Responses(name string) []codec.Response {
	name = strings.ToUpper(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeLocked(name)
}

// takeLocked pops the responses stored under name, upper case (under mu).
func (s *Session) takeLocked(name string) []codec.Response {
	l := s.store[name]
	delete(s.store, name)
	s.keptBytes -= storeSize(l)
	if len(l) > int(s.maxKept) {
		l = l[len(l)-int(s.maxKept):]
	}
	if len(l) == 0 {
		return nil
	}
	out := make([]codec.Response, len(l))
	for i, k := range l {
		out[i] = k.r
	}
	return out
}

// DroppedUnsolicited returns how many unsolicited responses were dropped
// because OnUnsolicited fell Options.MaxUnsolicited (or MaxKeptBytes)
// behind, or were read in the clear and still queued for it when
// STARTTLS's OK came (StartTLS), and how many kept responses the bounds of Responses dropped.
func (s *Session) DroppedUnsolicited() (events, kept uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.droppedEvents, s.droppedKept
}

// Recent returns pending RECENT data, or sends NOOP to prod the server and
// returns what it brought (imaplib's recent()), of the mailbox selected at
// the call: RecentIn with the count Selections gives at the call (read in
// the same step as the data kept). A count above the mailbox's (Exists,
// when known), which a broken or hostile server may send (the recent
// messages are some of the messages), is cut to it: to the count of the
// same selection, read in the step that takes the data, never to that of
// a mailbox another goroutine selected since.
func (s *Session) Recent(ctx context.Context) ([]codec.Response, error) {
	return s.recent(ctx, 0, false)
}

// RecentIn is Recent for a caller bound to a selection of its own: the
// count of Selections it read (MailboxState.Bind in package commands
// passes its binding's), so that no other goroutine's SELECT can come
// between its check of the count and Recent's read of it. The data is
// returned only while that selection holds: the count is compared with
// the session's and the RECENT data kept taken in one step (under the
// session's lock), the NOOP is bound to it (Command.Selection with
// CheckSelection), and the data it brought is again compared and taken in
// one step. A selection that no longer holds (a SELECT or EXAMINE another
// goroutine started, a CLOSE or UNSELECT that finished) gives a
// *NotSentError wrapping ErrReselected and leaves the data kept where it
// is: it is of the selection now, for the next caller. With no mailbox
// selected (before any SELECT, after CLOSE, UNSELECT or a failed SELECT)
// it returns nothing and sends no NOOP: the RECENT data kept then (of a
// mailbox left) stays for Responses, as imaplib's response() keeps it.
func (s *Session) RecentIn(ctx context.Context, selection uint32) ([]codec.Response, error) {
	return s.recent(ctx, selection, true)
}

// recent is Recent (bound false: sel is read with the data kept) and
// RecentIn (bound: sel is the caller's).
func (s *Session) recent(ctx context.Context, sel uint32, bound bool) ([]codec.Response, error) {
	s.mu.Lock()
	if !bound {
		sel = s.selections
	}
	if s.selections != sel {
		s.mu.Unlock()
		return nil, notSent(ErrReselected)
	}
	if !s.count.track {
		// No mailbox selected: nothing is of one, and a NOOP would
		// ask the server about none (or, after Cyrus's BAD SELECT,
		// about the mailbox it kept selected).
		s.mu.Unlock()
		return nil, nil
	}
	l := s.takeRecentLocked()
	s.mu.Unlock()
	if len(l) > 0 {
		return l, nil
	}
	hook := testHookRecent // read once: a test's Cleanup may reset it
	if hook != nil {
		hook(false)
	}
	if _, err := s.Run(ctx, &Command{Name: "NOOP", Selection: sel, CheckSelection: true}); err != nil {
		return nil, err
	}
	if hook != nil {
		hook(true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.selections != sel {
		// A SELECT started since the NOOP: the data kept now is its
		// mailbox's, left for the next caller.
		return nil, notSent(ErrReselected)
	}
	return s.takeRecentLocked(), nil
}

// takeRecentLocked pops the RECENT data kept, each count cut to the
// selected mailbox's (when known), under mu: the count is the one of the
// selection whose data is taken, in the same hold of the lock.
func (s *Session) takeRecentLocked() []codec.Response {
	l := s.takeLocked("RECENT")
	if !s.count.known {
		return l
	}
	for i, r := range l {
		if rc, ok := r.(*codec.Recent); ok && rc.Count > s.count.n {
			l[i] = &codec.Recent{Count: s.count.n}
		}
	}
	return l
}

// testHookRecent, when set (tests only), is called by Recent before its
// NOOP (false: it read the selection and found no data kept) and once the
// NOOP is over (true).
var testHookRecent func(afterNoop bool)

// event queues r for OnUnsolicited.
func (s *Session) event(r codec.Response) {
	if s.opts.OnUnsolicited == nil {
		return
	}
	s.mu.Lock()
	if len(s.events) >= int(s.maxEvents) || s.eventBytes+codec.CloneSize(r) > s.maxKeptBytes {
		// The handler is too slow for the server: drop rather than grow
		// without bound (waiting could deadlock a handler that runs
		// commands). DroppedUnsolicited tells how many. Measured before
		// the copy, which a response over the bound made in vain.
		s.droppedEvents++
		s.caughtEventLocked(r)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c := s.cloneRedacted(r)
	size := codec.CloneSize(c)
	s.mu.Lock()
	s.caughtEventLocked(r)
	if s.eventBytes+size > s.maxKeptBytes {
		// The same, for the memory of the queue (MaxKeptBytes).
		s.droppedEvents++
		s.mu.Unlock()
		return
	}
	s.eventBytes += size
	s.events = append(s.events, c)
	s.eventsCond.Signal()
	s.mu.Unlock()
}

// caughtEventLocked tells the running Catches of r, which the stream gets
// (or drops) in this hold of mu: an EXPUNGE or VANISHED renumbers the
// FETCHes they hold for the stream (Catch.Stop).
func (s *Session) caughtEventLocked(r codec.Response) {
	if c := s.catch; c != nil {
		c.xl.record(r)
	}
}

// eventOwnedLocked queues r, a redacted copy the session owns (a Catch's,
// at its Stop), for OnUnsolicited within the bounds event keeps (under
// mu).
func (s *Session) eventOwnedLocked(r codec.Response) {
	if s.opts.OnUnsolicited == nil {
		return
	}
	size := codec.CloneSize(r)
	if len(s.events) >= int(s.maxEvents) || s.eventBytes+size > s.maxKeptBytes {
		s.droppedEvents++
		return
	}
	s.eventBytes += size
	s.events = append(s.events, r)
	s.eventsCond.Signal()
}

// eventLoop calls OnUnsolicited in order on its own goroutine.
func (s *Session) eventLoop() {
	defer func() {
		<-s.readerDone // the reader ends first: it may queue the last events
		close(s.done)
	}()
	for {
		s.mu.Lock()
		for len(s.events) == 0 && s.err == nil {
			s.eventsCond.Wait()
		}
		if len(s.events) == 0 {
			s.mu.Unlock()
			return
		}
		r := s.events[0]
		s.events[0] = nil
		s.events = s.events[1:]
		s.eventBytes -= codec.CloneSize(r)
		s.inHandler = true
		s.mu.Unlock()
		s.opts.OnUnsolicited(r)
		s.mu.Lock()
		s.inHandler = false
		s.mu.Unlock()
	}
}
