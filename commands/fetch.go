package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// FetchItems says what Fetch asks for. The zero value asks for nothing
// but the message number; set the attributes wanted.
type FetchItems struct {
	UID           bool
	Flags         bool
	InternalDate  bool
	Size          bool // RFC822.SIZE
	Envelope      bool
	BodyStructure bool
	ModSeq        bool // CONDSTORE
	EmailID       bool // OBJECTID
	ThreadID      bool // OBJECTID
	Preview       bool // RFC 8970 PREVIEW
	// Sections are the body sections to fetch, streamed in order.
	Sections []FetchSection
	// Raw is appended to the items as written, e.g. "X-GM-LABELS" or,
	// alone, a macro such as "FAST" or a whole list "(FLAGS RFC822)".
	Raw string
	// ChangedSince adds the CHANGEDSINCE modifier (RFC 7162): only
	// messages whose mod-sequence is higher.
	ChangedSince uint64
	// Vanished adds the VANISHED modifier (RFC 7162 QRESYNC, UID sets
	// only, with ChangedSince): expunged UIDs come to OnVanished.
	Vanished bool
	// OnVanished receives the UIDs of VANISHED responses, on the
	// iterating goroutine, in order with the messages.
	OnVanished func(uids codec.SeqSet)
	// BufferMax is the size up to which a body section is read whole as it
	// arrives; larger ones are streamed. 0 means BufferedSectionMax, a
	// negative value streams every section.
	BufferMax int
}

// FetchSection is one body section to fetch: BODY.PEEK[...] by default.
type FetchSection struct {
	// Binary fetches BINARY.PEEK[...] (RFC 3516): decoded content.
	Binary bool
	// SetSeen fetches BODY[...] instead of BODY.PEEK[...], which sets
	// \Seen (imaplib's fetch(n, "(RFC822)") does).
	SetSeen bool
	// Part is the part number, e.g. []int{1, 2}; empty for the message.
	Part []int
	// Specifier is HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME
	// or "" (the whole part).
	Specifier string
	// Fields are the header field names of HEADER.FIELDS (.NOT).
	Fields []string
	// Partial fetches Count bytes from Offset (<offset.count>), when
	// Count > 0.
	Offset, Count uint32
}

// WholeMessage is the section of the whole message, BODY.PEEK[].
var WholeMessage = FetchSection{}

// HeaderSection is the section of the message's header, BODY.PEEK[HEADER].
var HeaderSection = FetchSection{Specifier: "HEADER"}

// TextSection is the section of the message's text, BODY.PEEK[TEXT].
var TextSection = FetchSection{Specifier: "TEXT"}

// String returns the section's item as sent, e.g. "BODY.PEEK[1.TEXT]<0.100>".
func (s FetchSection) String() string {
	var b strings.Builder
	switch {
	case s.Binary && s.SetSeen:
		b.WriteString("BINARY[")
	case s.Binary:
		b.WriteString("BINARY.PEEK[")
	case s.SetSeen:
		b.WriteString("BODY[")
	default:
		b.WriteString("BODY.PEEK[")
	}
	for i, p := range s.Part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(p))
	}
	if s.Specifier != "" {
		if len(s.Part) > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.ToUpper(s.Specifier))
	}
	if len(s.Fields) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(s.Fields, " "))
		b.WriteByte(')')
	}
	b.WriteByte(']')
	if s.Count > 0 {
		fmt.Fprintf(&b, "<%d.%d>", s.Offset, s.Count)
	}
	return b.String()
}

// check validates the section's parts.
func (s FetchSection) check() error {
	switch strings.ToUpper(s.Specifier) {
	case "", "HEADER", "TEXT", "MIME":
		if len(s.Fields) > 0 {
			return errors.New("commands: header fields without HEADER.FIELDS")
		}
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		if len(s.Fields) == 0 {
			return errors.New("commands: HEADER.FIELDS without fields")
		}
	default:
		return fmt.Errorf("commands: unknown section specifier %q", s.Specifier)
	}
	for _, p := range s.Part {
		if p <= 0 {
			return fmt.Errorf("commands: part number %d", p)
		}
	}
	for _, f := range s.Fields {
		if f == "" || strings.ContainsAny(f, " ()[]{}\"\\%*\r\n:") {
			return fmt.Errorf("commands: invalid header field name %q", f)
		}
		for _, c := range []byte(f) {
			if c < 0x21 || c > 0x7e {
				return fmt.Errorf("commands: invalid header field name %q", f)
			}
		}
	}
	return nil
}

// encode writes the items (after a space).
func (it *FetchItems) encode(e *wire.Encoder, uid bool) {
	var names []string
	add := func(ok bool, name string) {
		if ok {
			names = append(names, name)
		}
	}
	add(it.UID && !uid, "UID") // UID FETCH returns the UID anyway
	add(it.Flags, "FLAGS")
	add(it.InternalDate, "INTERNALDATE")
	add(it.Size, "RFC822.SIZE")
	add(it.Envelope, "ENVELOPE")
	add(it.BodyStructure, "BODYSTRUCTURE")
	add(it.ModSeq, "MODSEQ")
	add(it.EmailID, "EMAILID")
	add(it.ThreadID, "THREADID")
	add(it.Preview, "PREVIEW")
	n := len(names) + len(it.Sections)
	e.SP()
	if n == 0 && it.Raw != "" {
		e.Raw(it.Raw)
	} else {
		e.List(func(e *wire.Encoder) {
			for i, name := range names {
				if i > 0 {
					e.SP()
				}
				e.Atom(name)
			}
			for i, s := range it.Sections {
				if i > 0 || len(names) > 0 {
					e.SP()
				}
				e.Raw(s.String())
			}
			if it.Raw != "" {
				if n > 0 {
					e.SP()
				}
				e.Raw(it.Raw)
			}
			if n == 0 && it.Raw == "" {
				e.Atom("UID") // something must be asked
			}
		})
	}
	if it.ChangedSince > 0 || it.Vanished {
		e.SP().List(func(e *wire.Encoder) {
			e.Atom("CHANGEDSINCE").SP().Number(it.ChangedSince)
			if it.Vanished {
				e.SP().Atom("VANISHED")
			}
		})
	}
}

// BufferedSectionMax is the default size up to which a body section sent
// as a literal is read whole as it arrives, so that the connection does not
// wait for the caller; larger sections are streamed to Message.NextSection
// (see FetchItems.BufferMax).
const BufferedSectionMax = 4096

// Fetch fetches the items of the messages in set (FETCH, or UID FETCH for
// a UID set) and returns an iterator of the messages as they arrive. Body
// sections larger than BufferedSectionMax are streamed
// (Message.NextSection); what the loop body does not read is skipped when
// it moves on. Breaking out of the loop drops the rest
// of the answer (read in the background). An error ends the iteration with
// a nil message; a tagged NO or BAD is a *session.StatusError.
//
// While a section is being read the connection waits for the reader, so
// do not run another command on the Client from inside the loop while
// holding a section; the metadata of messages without sections is queued
// and does not block.
func (c *Client) Fetch(ctx context.Context, set Set, items *FetchItems) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		var it FetchItems
		if items != nil {
			it = *items
		}
		for _, s := range it.Sections {
			if err := s.check(); err != nil {
				yield(nil, err)
				return
			}
		}
		if it.Vanished && !set.UID {
			yield(nil, errors.New("commands: VANISHED needs a UID set"))
			return
		}
		fs := newFetchStream(it.OnVanished)
		fs.bufferMax = int64(it.BufferMax)
		if it.BufferMax == 0 {
			fs.bufferMax = BufferedSectionMax
		}
		cmd := &session.Command{
			Name:     set.name("FETCH"),
			Args:     func(e *wire.Encoder) { set.encode(e); it.encode(e, set.UID) },
			OnData:   fs.data,
			Sections: fs.section,
		}
		p, err := c.s.Start(ctx, cmd)
		if err != nil {
			yield(nil, err)
			return
		}
		fs.ctx, fs.p = ctx, p
		defer fs.stop()
		var cur *Message
		for {
			if cur != nil {
				if err := cur.finish(); err != nil {
					yield(nil, err)
					return
				}
				cur = nil
			}
			ev, err := fs.pop()
			if err == io.EOF {
				break
			}
			if err != nil {
				yield(nil, err)
				return
			}
			switch {
			case ev.sec != nil:
				cur = ev.snap
				if cur == nil { // cannot happen: the first section carries the snapshot
					cur = &Message{}
				}
				cur.st = fs
				cur.pending = ev
			case ev.msg != nil:
				cur = ev.msg
				cur.complete = true
			default:
				fs.handle(ev)
				continue
			}
			if !yield(cur, nil) {
				cur.releaseCur()
				if cur.pending != nil && cur.pending.release != nil {
					close(cur.pending.release)
				}
				return
			}
		}
		if _, err := p.Wait(ctx); err != nil {
			yield(nil, err)
		}
	}
}

// FetchAll is Fetch collecting the messages, for small answers without
// body sections (the sections of the messages are skipped).
func (c *Client) FetchAll(ctx context.Context, set Set, items *FetchItems) ([]*Message, error) {
	var out []*Message
	for m, err := range c.Fetch(ctx, set, items) {
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

// fetchEvent is one thing the reader goroutine hands the iterator: a
// message read whole (msg), the start of a streamed section (sec, with
// snap holding the message's attributes so far when it is the message's
// first), or VANISHED (vanished).
type fetchEvent struct {
	msg      *Message
	sec      *Section
	snap     *Message
	release  chan struct{}
	vanished *codec.SeqSet

	secv Section   // sec points here: one allocation per section
	sr   secReader // the section's reader
}

// fetchStream connects the session's reader goroutine (OnData, Sections)
// to the iterating goroutine. It is the one place that turns the session's
// push delivery into a pull; a pull API of the session would replace it.
type fetchStream struct {
	ctx context.Context
	p   *session.Pending

	mu   sync.Mutex
	q    []*fetchEvent
	wake chan struct{}
	quit chan struct{}
	once sync.Once

	onVanished func(codec.SeqSet)
	bufferMax  int64

	// reader goroutine only
	inStream bool            // a section of the message being decoded was streamed
	snapHas  codec.FetchItem // the attributes its snapshot holds
	small    []*Section      // small sections of that message, read whole
	arena    arena           // the bytes of that message
}

func newFetchStream(onVanished func(codec.SeqSet)) *fetchStream {
	return &fetchStream{wake: make(chan struct{}, 1), quit: make(chan struct{}), onVanished: onVanished}
}

func (fs *fetchStream) push(ev *fetchEvent) {
	fs.mu.Lock()
	fs.q = append(fs.q, ev)
	fs.mu.Unlock()
	select {
	case fs.wake <- struct{}{}:
	default:
	}
}

func (fs *fetchStream) quitting() bool {
	select {
	case <-fs.quit:
		return true
	default:
		return false
	}
}

// data receives the command's responses (reader goroutine).
func (fs *fetchStream) data(r codec.Response) {
	if fs.quitting() {
		return
	}
	switch r := r.(type) {
	case *codec.Fetch:
		mask := ^codec.FetchItem(0)
		if fs.inStream {
			// The snapshot has the attributes sent before the first
			// section: copy only the later ones.
			mask = ^fs.snapHas
		}
		m := newMessageMask(r, mask, &fs.arena)
		m.SeqNum = r.Seq
		m.ready = append(append(m.readyBuf[:0], fs.small...), readySections(r)...)
		clear(fs.small)
		fs.small = fs.small[:0]
		fs.arena = arena{}
		fs.inStream = false
		m.ev.msg = m
		fs.push(&m.ev)
	case *codec.Vanished:
		v := r.UIDs.Clone()
		fs.push(&fetchEvent{vanished: &v})
	}
}

// section receives a streamed body section (reader goroutine) and waits
// until the iterator is done with it.
func (fs *fetchStream) section(f *codec.Fetch, sec *codec.Section, r io.Reader) error {
	if fs.quitting() {
		return nil
	}
	if sec.Size <= fs.bufferMax {
		// Small: read whole now, so that the connection does not wait
		// for the iterator (headers, small parts).
		n := int(sec.Size)
		if len(fs.arena.buf) == 0 {
			// One buffer for the section and the message's values
			// decoded so far (most servers send them first).
			n += envelopeSize(f.Envelope) + bodySize(f.BodyStructure)
		}
		fs.arena.reserve(n)
		b := fs.arena.buf[len(fs.arena.buf) : len(fs.arena.buf)+int(sec.Size) : len(fs.arena.buf)+int(sec.Size)]
		fs.arena.buf = fs.arena.buf[:len(fs.arena.buf)+int(sec.Size)]
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		sv := &Section{}
		fillSection(sv, sec, nil)
		sv.br.Reset(b)
		sv.r = &sv.br
		fs.small = append(fs.small, sv)
		return nil
	}
	// Large: streamed. The small sections before it go first, in order.
	for _, sv := range fs.small {
		ev := &fetchEvent{sec: sv}
		if !fs.inStream {
			ev.snap = newMessage(f)
			fs.inStream = true
			fs.snapHas = f.Has
		}
		fs.push(ev)
	}
	clear(fs.small)
	fs.small = fs.small[:0]
	ev := &fetchEvent{release: make(chan struct{})}
	ev.sr.r = r
	fillSection(&ev.secv, sec, &ev.sr)
	ev.sec = &ev.secv
	sr := &ev.sr
	if !fs.inStream {
		ev.snap = newMessage(f)
		fs.inStream = true
		fs.snapHas = f.Has
	}
	fs.push(ev)
	select {
	case <-ev.release:
	case <-fs.quit:
	}
	sr.close()
	return nil
}

// pop returns the next event; io.EOF when the command has ended and every
// event was taken.
func (fs *fetchStream) pop() (*fetchEvent, error) {
	for {
		if err := fs.ctx.Err(); err != nil {
			return nil, err
		}
		fs.mu.Lock()
		if len(fs.q) > 0 {
			ev := fs.q[0]
			fs.q[0] = nil
			fs.q = fs.q[1:]
			fs.mu.Unlock()
			return ev, nil
		}
		fs.mu.Unlock()
		select {
		case <-fs.wake:
		case <-fs.p.Done():
			fs.mu.Lock()
			n := len(fs.q)
			fs.mu.Unlock()
			if n == 0 {
				return nil, io.EOF
			}
		case <-fs.ctx.Done():
			return nil, fs.ctx.Err()
		}
	}
}

// handle deals with an event that is not a message's.
func (fs *fetchStream) handle(ev *fetchEvent) {
	if ev.vanished != nil && fs.onVanished != nil {
		fs.onVanished(*ev.vanished)
	}
	if ev.release != nil {
		close(ev.release)
	}
}

// stop ends the stream: the reader goroutine no longer waits, and what is
// left of the answer is dropped.
func (fs *fetchStream) stop() {
	fs.once.Do(func() { close(fs.quit) })
	select {
	case <-fs.p.Done():
	default:
		if fs.ctx.Err() != nil {
			fs.p.Wait(fs.ctx) // abandons the command: its answer is read and dropped
		}
	}
}
