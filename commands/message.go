package commands

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/imapkit/imapkit/codec"
)

// Message is one message of a FETCH (or STORE) answer: the attributes the
// server sent, copied out of the decoder (they stay valid), and its body
// sections, streamed.
//
// A message whose FETCH response carries body sections as literals is
// handed out as soon as its first section arrives: the attributes the
// server sent before that section are set, and those it sends after it are
// set once NextSection has returned io.EOF (or the iteration has moved on).
// Dovecot, like most servers, sends the other attributes first.
type Message struct {
	SeqNum uint32
	// Items says which attributes the server sent.
	Items         codec.FetchItem
	UID           uint32
	Flags         []string
	InternalDate  time.Time
	Size          int64 // RFC822.SIZE
	Envelope      *codec.Envelope
	BodyStructure *codec.BodyStructure
	ModSeq        uint64
	EmailID       string // OBJECTID
	ThreadID      string // OBJECTID; "" for NIL
	Preview       string
	BinarySizes   []codec.BinarySize
	// Unknown holds attributes the codec does not know, raw.
	Unknown []codec.FetchAttr

	// streaming state, used by the consumer's goroutine only
	st       *fetchStream
	pending  *fetchEvent // a section popped for this message, not yet handed out
	cur      *fetchEvent // the section handed out last
	complete bool        // the message's FETCH response has been read whole
	ready    []*Section  // sections with their data in the response
	readyBuf [2]*Section // ready's first elements, without an allocation
	ev       fetchEvent  // the event that hands out the message whole
}

// Has reports whether the server sent the attribute.
func (m *Message) Has(item codec.FetchItem) bool { return m.Items&item != 0 }

// Section is one body section of a message (BODY[...], BINARY[...],
// RFC822, ...). It reads the section's body: streamed from the connection
// while the iteration stays on its message and no later section has been
// asked for.
type Section struct {
	Kind codec.SectionKind
	// Spec is the section specification between the brackets, e.g.
	// "1.2.HEADER.FIELDS (FROM TO)"; "" for BODY[].
	Spec      string
	Part      []uint32
	Specifier string // HEADER, HEADER.FIELDS, TEXT, MIME, ...; "" when none
	Origin    uint32 // the origin of a partial fetch (BODY[]<origin>)
	HasOrigin bool
	Size      int64 // the body's size in bytes
	Nil       bool  // the server sent NIL

	r  io.Reader
	br bytes.Reader // r for a section held whole
}

// ErrSectionGone is returned by Section.Read once the section is no longer
// current: the next section was asked for, the iteration moved on, or it
// ended.
var ErrSectionGone = errors.New("commands: body section read after the iteration moved on")

// Read reads the section's body.
func (s *Section) Read(p []byte) (int, error) {
	if s.r == nil {
		return 0, io.EOF
	}
	return s.r.Read(p)
}

// fillSection describes sec in s, reading from r.
func fillSection(s *Section, sec *codec.Section, r io.Reader) {
	s.Kind, s.Spec, s.Specifier = sec.Kind, string(sec.Spec), flagString(sec.Specifier)
	s.Origin, s.HasOrigin, s.Size, s.r = sec.Origin, sec.HasOrigin, sec.Size, r
	if len(sec.Part) > 0 {
		s.Part = append([]uint32(nil), sec.Part...)
	}
}

// secReader is a streamed body, valid while the reader goroutine waits
// for the consumer to release it.
type secReader struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

func (r *secReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, ErrSectionGone
	}
	return r.r.Read(p)
}

// close ends the reader; it waits for a Read in progress.
func (r *secReader) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// newMessage copies the attributes of f.
func newMessage(f *codec.Fetch) *Message { return newMessageMask(f, ^codec.FetchItem(0), nil) }

// newMessageMask copies the attributes of f that are in mask.
// a, when not nil, is the arena to copy into.
func newMessageMask(f *codec.Fetch, mask codec.FetchItem, a *arena) *Message {
	m := &Message{SeqNum: f.Seq}
	m.merge(f, mask, a)
	return m
}

// merge copies the attributes present in f and in mask into m.
func (m *Message) merge(f *codec.Fetch, mask codec.FetchItem, ap *arena) {
	has := f.Has & mask
	m.Items |= has
	if ap == nil {
		ap = &arena{}
	}
	a := ap
	n := 0
	if has&codec.FetchEnvelope != 0 {
		n += envelopeSize(f.Envelope)
	}
	if has&codec.FetchBodyStructure != 0 {
		n += bodySize(f.BodyStructure)
	}
	a.reserve(n)
	if has&codec.FetchUID != 0 {
		m.UID = f.UID
	}
	if has&codec.FetchFlags != 0 {
		m.Flags = strs(f.Flags)
		if m.Flags == nil {
			m.Flags = []string{}
		}
	}
	if has&codec.FetchInternalDate != 0 {
		if t, err := codec.ParseInternalDate(f.InternalDate); err == nil {
			m.InternalDate = t
		}
	}
	if has&codec.FetchRFC822Size != 0 {
		m.Size = f.RFC822Size
	}
	if has&codec.FetchEnvelope != 0 {
		m.Envelope = a.envelope(f.Envelope)
	}
	if has&codec.FetchBodyStructure != 0 {
		m.BodyStructure = a.body(f.BodyStructure)
	}
	if has&codec.FetchModSeq != 0 {
		m.ModSeq = f.ModSeq
	}
	if has&codec.FetchEmailID != 0 {
		m.EmailID = string(f.EmailID)
	}
	if has&codec.FetchThreadID != 0 {
		m.ThreadID = string(f.ThreadID)
	}
	if has&codec.FetchPreview != 0 {
		m.Preview = string(f.Preview)
	}
	if len(f.BinarySizes) > 0 {
		m.BinarySizes = append([]codec.BinarySize(nil), f.BinarySizes...)
		for i := range m.BinarySizes {
			m.BinarySizes[i].Part = append([]uint32(nil), m.BinarySizes[i].Part...)
		}
	}
	for _, u := range f.Unknown {
		m.Unknown = append(m.Unknown, codec.FetchAttr{Name: u.Name.Clone(), Raw: u.Raw.Clone()})
	}
}

// readySections returns the sections of f whose data is in f (quoted
// strings, NIL), copied.
func readySections(f *codec.Fetch) []*Section {
	var out []*Section
	for i := range f.Sections {
		sec := &f.Sections[i]
		if sec.Streamed {
			continue
		}
		s := &Section{}
		fillSection(s, sec, nil)
		s.br.Reset(bytes.Clone(sec.Data))
		s.r = &s.br
		s.Nil = sec.Data == nil && !sec.Missing
		if s.Size == 0 {
			s.Size = int64(len(sec.Data))
		}
		out = append(out, s)
	}
	return out
}

// NextSection returns the message's next body section, in the order the
// server sent them, and io.EOF after the last one; the attributes of the
// message are then all set. The previous section can no longer be read.
// Sections with small bodies the server sent as quoted strings come after
// the streamed ones.
func (m *Message) NextSection() (*Section, error) {
	m.releaseCur()
	if m.pending != nil {
		ev := m.pending
		m.pending = nil
		m.cur = ev
		return ev.sec, nil
	}
	for !m.complete {
		if m.st == nil {
			m.complete = true
			break
		}
		ev, err := m.st.pop()
		if err != nil {
			return nil, err
		}
		switch {
		case ev.sec != nil:
			m.cur = ev
			return ev.sec, nil
		case ev.msg != nil:
			m.mergeFrom(ev.msg)
			m.ready = ev.msg.ready
			m.complete = true
		default:
			m.st.handle(ev) // VANISHED in between: not this message's
		}
	}
	if len(m.ready) > 0 {
		s := m.ready[0]
		m.ready = m.ready[1:]
		return s, nil
	}
	return nil, io.EOF
}

// releaseCur lets the reader goroutine go past the current section.
func (m *Message) releaseCur() {
	if m.cur != nil {
		if m.cur.release != nil {
			close(m.cur.release)
		}
		m.cur = nil
	}
}

// finish skips what is left of the message.
func (m *Message) finish() error {
	for {
		_, err := m.NextSection()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// mergeFrom copies the attributes src holds into m.
func (m *Message) mergeFrom(src *Message) {
	h := src.Items
	m.Items |= h
	if h&codec.FetchUID != 0 {
		m.UID = src.UID
	}
	if h&codec.FetchFlags != 0 {
		m.Flags = src.Flags
	}
	if h&codec.FetchInternalDate != 0 {
		m.InternalDate = src.InternalDate
	}
	if h&codec.FetchRFC822Size != 0 {
		m.Size = src.Size
	}
	if h&codec.FetchEnvelope != 0 {
		m.Envelope = src.Envelope
	}
	if h&codec.FetchBodyStructure != 0 {
		m.BodyStructure = src.BodyStructure
	}
	if h&codec.FetchModSeq != 0 {
		m.ModSeq = src.ModSeq
	}
	if h&codec.FetchEmailID != 0 {
		m.EmailID = src.EmailID
	}
	if h&codec.FetchThreadID != 0 {
		m.ThreadID = src.ThreadID
	}
	if h&codec.FetchPreview != 0 {
		m.Preview = src.Preview
	}
	if src.BinarySizes != nil {
		m.BinarySizes = src.BinarySizes
	}
	if src.Unknown != nil {
		m.Unknown = src.Unknown
	}
}
