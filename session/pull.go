package session

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/imapkit/imapkit/codec"
)

// Pull delivery: a command started with Command.Pull hands its responses
// to the caller's goroutine through Pending.Next.
//
// The fast path copies nothing: when the caller is waiting in Next, the
// reader goroutine hands it the decoder's own response and waits until the
// caller calls Next again. When the caller is busy, the reader queues
// copies, up to pullQueue responses, then waits (backpressure). While it
// waits, any other goroutine that needs the reader (a command waiting for
// its answer, a command waiting to start) makes it go on: a response the
// caller holds is kept valid by giving the decoder new memory
// (codec.Decoder.Unshare), and a body section the caller is streaming is
// read into memory first. So a caller may run other commands between two
// calls to Next without deadlock.

// pullQueue is how many copied responses a pulled command may have waiting
// before the reader waits for the caller.
const pullQueue = 64

// Item is what Pending.Next hands out: a response that belongs to the
// command, or one of its FETCH body sections as it streams.
type Item struct {
	// Response is the response. For a body section it is a copy of the
	// FETCH decoded up to the section (attributes after it come with the
	// complete FETCH, delivered next).
	Response codec.Response
	// Section and Body are set for a body section: Body streams it, and is
	// valid until the next call to Next, which skips what is left unread.
	Section *codec.Section
	Body    io.Reader

	parked bool  // the reader waits until the caller is done with it
	cost   int64 // what a queued copy counts against MaxResultBytes
}

// puller is a pulled command's side of the handoff (guarded by s.mu).
type puller struct {
	queue   []Item // copies waiting for Next
	bytes   int64  // what they cost, against MaxResultBytes
	waiting bool   // the caller is in Next with nothing to take
	slot    Item   // a response handed over borrowed, not yet taken
	hasSlot bool

	// The context of the last Next, watched so that its end wakes the
	// caller: one registration for a loop of calls with the same ctx.
	ctx    context.Context
	stop   func() bool
	parked bool // the reader waits for the caller to be done with an item
	held   bool // the caller holds the item the reader is parked for
	closed bool // Wait was called: items are dropped
	ended  bool // the command is over: Next returns io.EOF once the queue is empty
}

// pullBody is the Body of a section item: the literal while the reader
// waits, or its rest in memory once the reader had to go on.
type pullBody struct {
	mu  sync.Mutex
	r   io.Reader // the literal, or a bytes.Reader over its rest
	err error     // set when the rest could not be kept
}

func (b *pullBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	return b.r.Read(p)
}

// detach reads what is left of the literal into memory, within limit
// bytes, so that the reader goroutine can go on.
func (b *pullBody) detach(limit int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.r.(*bytes.Reader); ok || b.err != nil {
		return
	}
	rest, err := io.ReadAll(io.LimitReader(b.r, limit+1))
	switch {
	case err != nil:
		b.err = err
	case int64(len(rest)) > limit:
		b.err = &ResultTooLargeError{Limit: limit, Dropped: 1}
	default:
		b.r = bytes.NewReader(rest)
	}
}

// demand marks that a goroutine needs the reader to go on: a pulled
// command's parked reader does. It returns the function that ends it.
func (s *Session) demand() func() {
	s.mu.Lock()
	s.demanders++
	s.pullCond.Broadcast()
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.demanders--
		s.mu.Unlock()
	}
}

// otherDemand reports whether a goroutine other than p's caller needs the
// reader to go on (under mu).
func (s *Session) otherDemand(p *Pending) bool {
	if s.demanders > 0 {
		return true
	}
	for _, q := range s.inflight {
		if q != p && q.pull != nil && q.pull.waiting {
			return true
		}
	}
	return false
}

// pullDeliver hands r to the pulled command p, on the reader goroutine.
func (s *Session) pullDeliver(p *Pending, r codec.Response) {
	s.mu.Lock()
	pl := p.pull
	if pl.closed || p.abandoned.Load() || s.err != nil {
		s.mu.Unlock()
		return
	}
	if pl.waiting && len(pl.queue) == 0 {
		// The caller waits: hand it the decoder's response, no copy.
		pl.slot, pl.hasSlot = Item{Response: r, parked: true}, true
		pl.waiting = false
		pl.parked = true
		s.pullCond.Broadcast()
		s.parkLocked(p, nil)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c := codec.CloneResponse(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if pl.bytes+s.rl.respSize > s.maxResult {
		p.dropped++
		return
	}
	pl.queue = append(pl.queue, Item{Response: c, cost: s.rl.respSize})
	pl.bytes += s.rl.respSize
	s.pullCond.Broadcast()
	for len(pl.queue) >= pullQueue && !s.otherDemand(p) && !pl.closed && !p.abandoned.Load() && s.err == nil {
		s.pullCond.Wait()
	}
}

// pullSection hands a body section to the pulled command p, on the reader
// goroutine, in the middle of decoding f: it returns when the caller is
// done with the body (or the reader had to go on).
func (s *Session) pullSection(p *Pending, f *codec.Fetch, sec *codec.Section, r io.Reader) error {
	// The caller gets a copy of the FETCH so far: the decoder goes on
	// filling f while the caller reads the body.
	snap := codec.CloneResponse(f).(*codec.Fetch)
	var secCopy *codec.Section
	if n := len(snap.Sections); n > 0 {
		secCopy = &snap.Sections[n-1]
	}
	body := &pullBody{r: r}
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := p.pull
	item := Item{Response: snap, Section: secCopy, Body: body, parked: true}
	// Items stay in order: the section waits for the queue to be taken,
	// unless another goroutine needs the reader: then its body is read
	// into memory and queued.
	for len(pl.queue) > 0 || pl.parked {
		if pl.closed || p.abandoned.Load() || s.err != nil {
			return nil // the decoder skips the body
		}
		if s.otherDemand(p) {
			s.mu.Unlock()
			body.detach(s.maxResult - pl.bytes)
			s.mu.Lock()
			item.parked = false
			pl.queue = append(pl.queue, item)
			s.pullCond.Broadcast()
			return nil
		}
		s.pullCond.Wait()
	}
	if pl.closed || p.abandoned.Load() || s.err != nil {
		return nil
	}
	if pl.waiting {
		pl.slot, pl.hasSlot = item, true
		pl.waiting = false
	} else {
		pl.queue = append(pl.queue, item)
	}
	pl.parked = true
	s.pullCond.Broadcast()
	s.parkLocked(p, body)
	return nil
}

// parkLocked waits, on the reader goroutine, until the caller of the
// pulled command p is done with the item the reader is parked for (its
// next Next, or Wait), or until another goroutine needs the reader: then a
// held response is kept valid by Unshare, and a section body is read into
// memory (under mu).
func (s *Session) parkLocked(p *Pending, body *pullBody) {
	pl := p.pull
	for pl.parked && !pl.closed && !p.abandoned.Load() && s.err == nil {
		if s.otherDemand(p) {
			s.mu.Unlock()
			var err error
			if body != nil {
				body.detach(s.maxResult)
			} else {
				// Between two responses no literal is open: Unshare
				// cannot fail. Were it to, the reader waits for the
				// caller rather than overwrite what it holds.
				err = s.dec.Unshare()
			}
			s.mu.Lock()
			if err == nil {
				break
			}
		}
		s.pullCond.Wait()
	}
	pl.parked = false
}

// Next returns the next response of a command started with Command.Pull,
// on the caller's goroutine, in the order the server sent them; io.EOF
// means the command is over (Wait then returns its result). A response is
// valid until the next call to Next: keep a copy with codec.CloneResponse.
// Body sections come as items with Section and Body set. Other commands may
// run between two calls to Next.
//
// When ctx ends, Next returns its error and the command is abandoned: the
// rest of its answer is read and thrown away.
func (p *Pending) Next(ctx context.Context) (Item, error) {
	s := p.s
	if p.pull == nil {
		return Item{}, errors.New("session: Next on a command not started with Pull")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := p.pull
	if ctx != pl.ctx && ctx.Done() != nil {
		if pl.stop != nil {
			pl.stop()
		}
		pl.ctx = ctx
		pl.stop = context.AfterFunc(ctx, func() {
			s.mu.Lock()
			s.pullCond.Broadcast()
			s.mu.Unlock()
		})
	}
	// Release what the caller held: the reader goes on.
	if pl.held {
		pl.held = false
		pl.parked = false
		s.pullCond.Broadcast()
	}
	defer func() { pl.waiting = false }()
	for {
		if len(pl.queue) > 0 {
			it := pl.queue[0]
			pl.queue[0] = Item{}
			pl.queue = pl.queue[1:]
			pl.bytes -= it.cost
			pl.held = it.parked
			s.pullCond.Broadcast()
			return it, nil
		}
		if pl.hasSlot {
			it := pl.slot
			pl.slot, pl.hasSlot = Item{}, false
			pl.held = it.parked
			return it, nil
		}
		if pl.ended {
			if pl.stop != nil {
				pl.stop()
				pl.stop, pl.ctx = nil, nil
			}
			return Item{}, io.EOF
		}
		if err := ctx.Err(); err != nil {
			pl.waiting = false
			p.abandoned.Store(true)
			s.pullCond.Broadcast()
			return Item{}, err
		}
		if s.err != nil {
			return Item{}, s.err
		}
		// Waiting here needs the reader too, if it is parked for another
		// pulled command (otherDemand).
		pl.waiting = true
		s.pullCond.Broadcast()
		s.pullCond.Wait()
	}
}
