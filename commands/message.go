package commands

import (
	"bytes"
	"errors"
	"io"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/growread"
)

// Message is one message of a FETCH (or STORE) answer: the attributes the
// server sent, copied out of the decoder (they stay valid), and its body
// sections (NextSection). Under FetchItems.Borrow, Fetch lends one Message
// instead, whose attributes are the decoder's own values, valid only until
// the iteration moves on (see FetchItems.Borrow); Clone copies it.
//
// A message whose FETCH response carries a body section too large to come
// whole (over the tokenizer's string limit) is handed out as soon as that
// section starts: the attributes the server sent before it are set, and
// those it sends after it are set once NextSection has returned io.EOF (or
// the iteration has moved on); then every attribute has the value the
// server sent last, as in a message that came whole. Dovecot, like most
// servers, sends the other attributes first.
type Message struct {
	SeqNum uint32
	// Items says which attributes the server sent.
	Items codec.FetchItem
	// UID is 0 when the server did not send it (a FETCH of sequence
	// numbers without FetchItems.UID). Do not pass it on unchecked:
	// UIDs(0) is "*", the last message.
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
	// Extra holds the attributes few servers send: SAVEDATE and Gmail's
	// X-GM-MSGID, X-GM-THRID and X-GM-LABELS; nil when the server sent
	// none of them. (They are apart to keep every Message small.)
	Extra *MessageExtra
	// Unknown holds attributes the codec does not know, raw.
	Unknown []codec.FetchAttr

	// The sections, handed out by the iterating goroutine.
	it       *fetchIter
	f        *codec.Fetch // the response its sections come from: valid until it.next
	next     int32        // the index in f.Sections of the next section to hand out
	nsec     int32        // under Borrow: the Sections of it.secs handed out; in the same word
	body     io.Reader    // the streamed body of f's last section, not handed out yet
	complete bool         // the message's FETCH response has been taken whole
	sec0Used bool         // sec0 (or a first Section) was handed out; here to fill complete's word
	size     uint32       // for FetchAll's bound: of each response, the larger of its session.Item.Size and the memory its copy took (saturated); in the same word
	cur      *Section     // the section handed out last, when it is read in place
	a        arena        // the memory of the values and kept sections
	sec0     *Section     // the first section handed out, allocated with the Message (allocMessage)
	flags    [4]string    // what Flags holds, when it fits
}

// MessageExtra holds the attributes of a Message that few servers send
// (Message.Extra); Message.Items says which were sent.
type MessageExtra struct {
	// SaveDate is the date the message was saved in its mailbox
	// (SAVEDATE, RFC 8514); zero when the server sent NIL (it cannot
	// tell) or a date that does not parse.
	SaveDate time.Time
	// GmailMsgID and GmailThreadID are Gmail's message and thread IDs
	// (X-GM-MSGID and X-GM-THRID; X-GM-EXT-1).
	GmailMsgID, GmailThreadID uint64
	// GmailLabels are the message's Gmail labels (X-GM-LABELS) as sent,
	// quotes removed: system labels such as \Important or \Inbox, and
	// label names as Gmail writes mailbox names (modified UTF-7 unless
	// UTF8=ACCEPT is enabled: codec.DecodeMailbox decodes one).
	GmailLabels []string
}

// extraItems are the attributes that go to Message.Extra.
const extraItems = codec.FetchSaveDate | codec.FetchGmailMsgID | codec.FetchGmailThreadID | codec.FetchGmailLabels

// messageExtra is a MessageExtra with room for the labels it holds, when
// they fit: one allocation.
type messageExtra struct {
	MessageExtra
	labels [4]string
}

// Has reports whether the server sent the attribute.
func (m *Message) Has(item codec.FetchItem) bool { return m.Items&item != 0 }

// Section is one body section of a message (BODY[...], BINARY[...],
// RFC822, ...). It reads the section's body: a section over
// FetchItems.BufferMax is read in place, while the iteration stays on its
// message and no later section has been asked for.
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
	br bytes.Reader // r for a section in memory

	// A section read in place is gone when the iteration moves past it;
	// mu lets that wait for a Read in progress on another goroutine.
	mu   sync.Mutex
	gone bool
	// lent: under Borrow, read in place from the lent response: ended
	// with the iteration (fetchIter.retireLent).
	lent bool
}

// ErrSectionGone is returned by Section.Read once a section read in place
// is no longer current: the next section was asked for, the iteration
// moved on, or it ended.
var ErrSectionGone = errors.New("commands: body section read after the iteration moved on")

// Read reads the section's body. A section streamed from the connection
// heeds the context of the Fetch it came from: once that context has
// ended, Read returns an error matching the context's error (and
// session.ErrBodyDropped), also when it was waiting for the server (under
// COMPRESS, a read already waiting returns when bytes come or the
// session's stall timeout fires); the rest of the answer is read and
// dropped in the background, and the iteration ends with the context's
// error. A section in memory stays readable.
func (s *Section) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return 0, ErrSectionGone
	}
	if s.r == nil {
		return 0, io.EOF
	}
	return s.r.Read(p)
}

// WriteTo writes the section's body to w (io.Copy uses it: no buffer of
// its own).
func (s *Section) WriteTo(w io.Writer) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return 0, ErrSectionGone
	}
	if s.r == nil {
		return 0, nil
	}
	if s.r == &s.br {
		return s.br.WriteTo(w)
	}
	return io.Copy(w, s.r)
}

// end makes a section read in place gone.
func (s *Section) end() {
	s.mu.Lock()
	s.gone = true
	s.r = nil
	s.br.Reset(nil)
	s.mu.Unlock()
}

// fillSection describes sec in s, reading from r; *spec is the Spec of
// the last section described, whose string is reused. A borrowed Section
// takes the Part of sec in place.
func fillSection(s *Section, sec *codec.Section, r io.Reader, spec *string, borrow bool) {
	s.Kind, s.Specifier = sec.Kind, flagString(sec.Specifier)
	if string(sec.Spec) == *spec {
		s.Spec = *spec // the same section for every message: one string
	} else {
		s.Spec = string(sec.Spec)
		*spec = s.Spec
	}
	s.Origin, s.HasOrigin, s.Size, s.r = sec.Origin, sec.HasOrigin, sec.Size, r
	switch {
	case borrow:
		s.Part = sec.Part
	case len(sec.Part) > 0:
		s.Part = append([]uint32(nil), sec.Part...)
	}
}

// newMessage copies the attributes of f (a collected response: STORE,
// SELECT's changes); it has no sections.
func newMessage(f *codec.Fetch) *Message {
	n := valueCounts(f, f.Has, 0)
	var c copier
	m := allocMessage(&n, &c, false)
	m.SeqNum = f.Seq
	m.copyValues(f, f.Has, &c, 0)
	return m
}

// merge copies the attributes present in f and in mask into m, and
// reserves extra more bytes in its arena (for the sections it keeps). The
// values of ENVELOPE and BODYSTRUCTURE are copied in one pass with exact
// arenas (clone.go); common flags are interned, and the other strings
// (uncommon flags, EMAILID, THREADID, PREVIEW) are cut from one string.
func (m *Message) merge(f *codec.Fetch, mask codec.FetchItem, extra int) int64 {
	has := f.Has & mask
	n := valueCounts(f, has, extra)
	var c copier
	c.init(&m.a, &n)
	m.copyValues(f, has, &c, extra)
	return n.heap()
}

// valueCounts counts what copying the values of f in has needs, with
// extra bytes for sections.
func valueCounts(f *codec.Fetch, has codec.FetchItem, extra int) copyCounts {
	n := copyCounts{bytes: extra}
	var e *codec.Envelope
	var b *codec.BodyStructure
	if has&codec.FetchEnvelope != 0 {
		e = f.Envelope
	}
	if has&codec.FetchBodyStructure != 0 {
		b = f.BodyStructure
	}
	n.message(e, b)
	return n
}

// copyValues copies the attributes in has of f into m, carving them out of
// c's arenas (made for valueCounts(f, has, extra)).
func (m *Message) copyValues(f *codec.Fetch, has codec.FetchItem, c *copier, extra int) {
	m.Items |= has
	var fc *flagCache
	if m.it != nil {
		fc = &m.it.keywords
	}
	if has&codec.FetchEnvelope != 0 {
		m.Envelope = nil
		if f.Envelope != nil {
			m.Envelope = c.newEnvelope(f.Envelope)
		}
	}
	if has&codec.FetchBodyStructure != 0 {
		m.BodyStructure = nil
		if f.BodyStructure != nil {
			m.BodyStructure = c.body(f.BodyStructure)
		}
	}
	m.a.free = c.buf // what is left: the sections' bytes
	if copyAudit != nil {
		copyAudit(*c, extra)
	}
	if has&codec.FetchFlags != 0 {
		if len(f.Flags) <= len(m.flags) {
			m.Flags = m.flags[:len(f.Flags):len(f.Flags)]
		} else {
			m.Flags = make([]string, len(f.Flags))
		}
	}
	m.setScalars(f, has, fc)
	// The complete response of a message that came with a streamed
	// section holds these again, with those that followed the section.
	if len(f.BinarySizes) > 0 {
		m.BinarySizes = cloneBinarySizes(f.BinarySizes)
	}
	if len(f.Unknown) > 0 {
		m.Unknown = cloneUnknown(f.Unknown)
	}
}

// valuesHeap returns about what copyValues allocates for the attributes in
// has of f besides the arenas (copyCounts): the Flags past those a Message
// holds, the strings cut for them and for EMAILID, THREADID, PREVIEW and
// the Gmail labels (fewer when flags are interned or cached), the Extra,
// BinarySizes and Unknown. For
// FetchAll's bound: a FETCH of 500,000 one-letter flags is 1 MB on the
// wire and 9 MB copied.
func valuesHeap(m *Message, f *codec.Fetch, has codec.FetchItem) int64 {
	var n int64
	if has&codec.FetchFlags != 0 {
		if len(f.Flags) > len(m.flags) {
			n += int64(len(f.Flags)) * int64(unsafe.Sizeof(""))
		}
		for _, b := range f.Flags {
			n += int64(len(b))
		}
	}
	if has&codec.FetchEmailID != 0 {
		n += int64(len(f.EmailID))
	}
	if has&codec.FetchThreadID != 0 {
		n += int64(len(f.ThreadID))
	}
	if has&codec.FetchPreview != 0 {
		n += int64(len(f.Preview))
	}
	if has&extraItems != 0 {
		n += int64(unsafe.Sizeof(messageExtra{}))
		if has&codec.FetchGmailLabels != 0 {
			if len(f.GmailLabels) > len(messageExtra{}.labels) {
				n += int64(len(f.GmailLabels)) * int64(unsafe.Sizeof(""))
			}
			for _, b := range f.GmailLabels {
				n += int64(len(b))
			}
		}
	}
	// Each Part, Name and Raw is an allocation of its own: a 16-byte block
	// at least (the race detector turns off the packing of small ones).
	n += int64(len(f.BinarySizes)) * int64(unsafe.Sizeof(codec.BinarySize{}))
	for _, b := range f.BinarySizes {
		n += block(4 * len(b.Part))
	}
	n += int64(len(f.Unknown)) * int64(unsafe.Sizeof(codec.FetchAttr{}))
	for _, u := range f.Unknown {
		n += block(len(u.Name)) + block(len(u.Raw))
	}
	return n
}

// block returns the bytes an allocation of n bytes takes at least: a
// multiple of 16 (none for 0).
func block(n int) int64 { return int64(n+15) &^ 15 }

func cloneBinarySizes(l []codec.BinarySize) []codec.BinarySize {
	if l == nil {
		return nil
	}
	d := append([]codec.BinarySize(nil), l...)
	for i := range d {
		d[i].Part = append([]uint32(nil), d[i].Part...)
	}
	return d
}

func cloneUnknown(l []codec.FetchAttr) []codec.FetchAttr {
	if l == nil {
		return nil
	}
	d := make([]codec.FetchAttr, len(l))
	for i, u := range l {
		d[i] = codec.FetchAttr{Name: u.Name.Clone(), Raw: u.Raw.Clone()}
	}
	return d
}

// borrowValues sets the attributes in has of f in m without copying them
// (FetchItems.Borrow): m holds f's Envelope, BodyStructure, BinarySizes
// and Unknown; only the strings are made (common flags interned, the
// keywords of the iteration cached).
func (m *Message) borrowValues(f *codec.Fetch, has codec.FetchItem) {
	m.Items |= has
	fi := m.it
	if has&codec.FetchEnvelope != 0 {
		m.Envelope = f.Envelope
	}
	if has&codec.FetchBodyStructure != 0 {
		m.BodyStructure = f.BodyStructure
	}
	if has&codec.FetchFlags != 0 {
		if n := len(f.Flags); n <= len(m.flags) {
			m.Flags = m.flags[:n:n]
		} else {
			if cap(fi.flagBuf) < n {
				fi.flagBuf = make([]string, n)
			}
			m.Flags = fi.flagBuf[:n:n]
		}
	}
	m.setScalars(f, has, &fi.keywords)
	if len(f.BinarySizes) > 0 {
		m.BinarySizes = f.BinarySizes
	}
	if len(f.Unknown) > 0 {
		m.Unknown = f.Unknown
	}
}

// setScalars sets what copyValues and borrowValues set alike: UID, the
// flags (into m.Flags, which the caller has sized to f.Flags), INTERNALDATE,
// RFC822.SIZE, MODSEQ, the Extra (setExtra), and the strings cut by
// cutStrings (keywords and labels not cached in fc, EMAILID, THREADID,
// PREVIEW).
func (m *Message) setScalars(f *codec.Fetch, has codec.FetchItem, fc *flagCache) {
	if has&codec.FetchUID != 0 {
		m.UID = f.UID
	}
	sn := 0 // the bytes of the strings that are not interned
	if has&codec.FetchFlags != 0 {
		sn += setFlags(m.Flags, f.Flags, fc)
	}
	if has&codec.FetchInternalDate != 0 {
		if t, err := codec.ParseInternalDate(f.InternalDate); err == nil {
			m.InternalDate = t
		}
	}
	if has&codec.FetchRFC822Size != 0 {
		m.Size = f.RFC822Size
	}
	if has&codec.FetchModSeq != 0 {
		m.ModSeq = f.ModSeq
	}
	if has&codec.FetchEmailID != 0 {
		sn += len(f.EmailID)
	}
	if has&codec.FetchThreadID != 0 {
		sn += len(f.ThreadID)
	}
	if has&codec.FetchPreview != 0 {
		sn += len(f.Preview)
	}
	if has&extraItems != 0 {
		sn += m.setExtra(f, has, fc)
	}
	if sn > 0 {
		m.cutStrings(f, has, sn)
	}
}

// setExtra sets the attributes of m.Extra in has, making m.Extra when it
// is nil: the message's own, or under Borrow the iteration's, reused. The
// labels are set as setFlags sets flags: it returns the length of those
// left to cutStrings.
func (m *Message) setExtra(f *codec.Fetch, has codec.FetchItem, fc *flagCache) int {
	x := m.Extra
	var room []string // where the labels go when they fit
	if x == nil {
		var e *messageExtra
		if m.it != nil && m.it.borrow {
			e = &m.it.extra
			*e = messageExtra{}
		} else {
			e = new(messageExtra)
		}
		x, room = &e.MessageExtra, e.labels[:]
		m.Extra = x
	}
	if has&codec.FetchSaveDate != 0 {
		x.SaveDate = time.Time{}
		if t, err := codec.ParseInternalDate(f.SaveDate); err == nil {
			x.SaveDate = t
		}
	}
	if has&codec.FetchGmailMsgID != 0 {
		x.GmailMsgID = f.GmailMsgID
	}
	if has&codec.FetchGmailThreadID != 0 {
		x.GmailThreadID = f.GmailThreadID
	}
	if has&codec.FetchGmailLabels == 0 {
		return 0
	}
	n := len(f.GmailLabels)
	switch {
	case n == 0:
		// Empty, not nil (an absent list): room is nil when the Extra
		// was made by an earlier piece of the FETCH (before a streamed
		// section), and so may the slices below be.
		x.GmailLabels = noLabels
	case n <= len(room):
		x.GmailLabels = room[:n:n]
	case n <= cap(x.GmailLabels):
		// Sent again after a streamed section: the same message's.
		x.GmailLabels = x.GmailLabels[:n:n]
	case m.it != nil && m.it.borrow:
		if cap(m.it.labels) < n {
			m.it.labels = make([]string, n)
		}
		x.GmailLabels = m.it.labels[:n:n]
	default:
		x.GmailLabels = make([]string, n)
	}
	return setFlags(x.GmailLabels, f.GmailLabels, fc)
}

// noLabels is the empty, non-nil GmailLabels (of capacity 0: nothing
// appended to it writes into it).
var noLabels = []string{}

// setFlags sets dst to the flags of l that are interned or cached in fc (a
// nil fc caches nothing), and the others to "", to be cut by cutStrings:
// it returns their length.
func setFlags(dst []string, l []codec.Bytes, fc *flagCache) int {
	sn := 0
	for i, b := range l {
		if s, ok := interned(b); ok {
			dst[i] = s
		} else if s, ok := fc.get(b); ok {
			dst[i] = s
		} else {
			dst[i] = "" // cut by cutStrings
			sn += len(b)
		}
	}
	return sn
}

// flagCache holds the flags of an iteration that are not interned (the
// keywords, such as $Label1 or a client's own), so that each is allocated
// once per iteration: up to flagCacheMax flags of up to flagCacheLen
// bytes each.
type flagCache map[string]string

const (
	flagCacheMax = 64
	flagCacheLen = 64
)

// get returns the string of the flag b, allocating it if there is room in
// the cache. A nil fc caches nothing.
func (fc *flagCache) get(b []byte) (string, bool) {
	if fc == nil {
		return "", false
	}
	if s, ok := (*fc)[string(b)]; ok {
		return s, true
	}
	if len(*fc) >= flagCacheMax || len(b) > flagCacheLen {
		return "", false
	}
	if *fc == nil {
		*fc = make(flagCache)
	}
	s := string(b)
	(*fc)[s] = s
	return s, true
}

// Clone returns a copy of the message's attributes that borrows nothing:
// under FetchItems.Borrow, the way to keep a message after the iteration
// moves on. Of a message handed out with a streamed section, it holds the
// attributes set so far. The copy has no body sections: its NextSection
// returns io.EOF. Clone is safe on any Message (a copy's copy is a copy).
func (m *Message) Clone() *Message {
	var n copyCounts
	n.message(m.Envelope, m.BodyStructure)
	var c copier
	d := allocMessage(&n, &c, false)
	d.SeqNum, d.Items, d.UID, d.InternalDate, d.Size, d.ModSeq = m.SeqNum, m.Items, m.UID, m.InternalDate, m.Size, m.ModSeq
	d.EmailID, d.ThreadID, d.Preview = m.EmailID, m.ThreadID, m.Preview // strings: immutable
	if m.Envelope != nil {
		d.Envelope = c.newEnvelope(m.Envelope)
	}
	if m.BodyStructure != nil {
		d.BodyStructure = c.body(m.BodyStructure)
	}
	d.a.free = c.buf
	if copyAudit != nil {
		copyAudit(c, 0)
	}
	if m.Flags != nil {
		if len(m.Flags) <= len(d.flags) {
			d.Flags = d.flags[:len(m.Flags):len(m.Flags)]
		} else {
			d.Flags = make([]string, len(m.Flags))
		}
		copy(d.Flags, m.Flags)
	}
	if m.Extra != nil {
		d.Extra = cloneExtra(m.Extra)
	}
	d.BinarySizes = cloneBinarySizes(m.BinarySizes)
	d.Unknown = cloneUnknown(m.Unknown)
	d.complete = true
	return d
}

// cloneExtra returns a copy of x (its strings shared: immutable).
func cloneExtra(x *MessageExtra) *MessageExtra {
	e := &messageExtra{MessageExtra: *x}
	if l := x.GmailLabels; l != nil {
		if len(l) <= len(e.labels) {
			e.GmailLabels = e.labels[:len(l):len(l)]
		} else {
			e.GmailLabels = make([]string, len(l))
		}
		copy(e.GmailLabels, l)
	}
	return &e.MessageExtra
}

// cutStrings sets the flags and Gmail labels of m that are not interned
// (left "" by setFlags) and its EMAILID, THREADID and PREVIEW in has, from
// one string of their sn bytes.
func (m *Message) cutStrings(f *codec.Fetch, has codec.FetchItem, sn int) {
	var small [256]byte
	buf := small[:0]
	if sn > len(small) {
		buf = make([]byte, 0, sn)
	}
	flags := has&codec.FetchFlags != 0
	if flags {
		for i, b := range f.Flags {
			if m.Flags[i] == "" {
				buf = append(buf, b...)
			}
		}
	}
	if has&codec.FetchEmailID != 0 {
		buf = append(buf, f.EmailID...)
	}
	if has&codec.FetchThreadID != 0 {
		buf = append(buf, f.ThreadID...)
	}
	if has&codec.FetchPreview != 0 {
		buf = append(buf, f.Preview...)
	}
	labels := has&codec.FetchGmailLabels != 0
	if labels {
		for i, b := range f.GmailLabels {
			if m.Extra.GmailLabels[i] == "" {
				buf = append(buf, b...)
			}
		}
	}
	str := string(buf)
	cut := func(n int) string {
		s := str[:n]
		str = str[n:]
		return s
	}
	if flags {
		for i, b := range f.Flags {
			if m.Flags[i] == "" {
				m.Flags[i] = cut(len(b))
			}
		}
	}
	if has&codec.FetchEmailID != 0 {
		m.EmailID = cut(len(f.EmailID))
	}
	if has&codec.FetchThreadID != 0 {
		m.ThreadID = cut(len(f.ThreadID))
	}
	if has&codec.FetchPreview != 0 {
		m.Preview = cut(len(f.Preview))
	}
	if labels {
		for i, b := range f.GmailLabels {
			if m.Extra.GmailLabels[i] == "" {
				m.Extra.GmailLabels[i] = cut(len(b))
			}
		}
	}
}

// keptBytes is the size of the sections of f that a Message keeps in its
// arena (those up to bufferMax that came whole).
func keptBytes(f *codec.Fetch, bufferMax int64) int {
	n := 0
	for i := range f.Sections {
		if sec := &f.Sections[i]; !sec.Streamed && int64(len(sec.Data)) <= bufferMax {
			n += len(sec.Data)
		}
	}
	return n
}

// NextSection returns the message's next body section, in the order the
// server sent them, and io.EOF after the last one; the attributes of the
// message are then all set. A section over FetchItems.BufferMax that was
// handed out before can no longer be read. Every section the server sent
// is handed on, asked for or not (BODY[HEADER] for BODY[], another part,
// the same section twice, from a broken or hostile server): check it with
// Section.Answers before taking it for one of FetchItems.Sections.
func (m *Message) NextSection() (*Section, error) {
	m.releaseCur()
	for {
		if m.f != nil {
			secs := m.f.Sections
			for int(m.next) < len(secs) {
				sec := &secs[m.next]
				m.next++
				if !sec.Streamed {
					return m.handOut(sec, nil)
				}
				if m.body != nil && int(m.next) == len(secs) {
					// The streamed section the snapshot came with.
					body := m.body
					m.body = nil
					return m.handOut(sec, body)
				}
				// A streamed section handed out from an earlier item.
			}
		}
		if m.complete || m.it == nil {
			return nil, io.EOF
		}
		if err := m.advance(); err != nil {
			return nil, err
		}
	}
}

// handOut returns the Section of sec, whose body is in sec.Data or, for a
// streamed section, body.
func (m *Message) handOut(sec *codec.Section, body io.Reader) (*Section, error) {
	borrow := m.it.borrow
	s := m.newSection()
	fillSection(s, sec, nil, &m.it.spec, borrow)
	keep := m.it.bufferMax
	switch {
	case body != nil && sec.Size <= keep:
		// Memory that grows as the bytes arrive, not at the size the
		// server announced (TestSectionBufferAllocatesAsItArrives).
		b, err := growread.Read(body, sec.Size)
		if err != nil {
			return nil, err
		}
		s.br.Reset(b)
		s.r = &s.br
	case body != nil:
		s.r = body
		m.cur = s
	default:
		data := sec.Data
		s.Nil = data == nil && !sec.Missing
		if s.Size == 0 {
			s.Size = int64(len(data))
		}
		switch {
		case borrow:
			// In place until the iteration moves on: the response (or the
			// snapshot, the session's copy) stays valid until then.
			s.lent = true
		case int64(len(data)) <= keep:
			data = m.a.bytes(data)
		default:
			m.cur = s // in the decoder's memory
		}
		s.br.Reset(data)
		s.r = &s.br
	}
	return s, nil
}

// newSection returns a Section to hand out: the Message's own for the
// first, then new ones, or under Borrow those of the iteration, reused.
func (m *Message) newSection() *Section {
	if !m.sec0Used {
		m.sec0Used = true
		if m.sec0 != nil {
			return m.sec0
		}
	}
	fi := m.it
	if !fi.borrow {
		return &Section{}
	}
	if int(m.nsec) == len(fi.secs) {
		fi.secs = append(fi.secs, new(Section))
	}
	s := fi.secs[m.nsec]
	m.nsec++
	*s = Section{}
	return s
}

// advance takes the message's next item: a further streamed section, or
// its FETCH response whole.
func (m *Message) advance() error {
	m.releaseCur()
	m.f, m.body = nil, nil
	item, f, err := m.it.next()
	if err == io.EOF {
		m.complete = true // cannot happen: the response follows its sections
		return nil
	}
	if err != nil {
		return err
	}
	m.f = f
	if item.Section != nil {
		m.size = addSize(m.size, item.Size)
		m.body = item.Body
		return nil
	}
	// The complete response holds every attribute again, each with the
	// value the server sent last (as the codec keeps it), like the
	// message of a response that came whole: an attribute sent twice,
	// before and after the section, ends with its second value.
	if m.it.borrow {
		m.borrowValues(f, f.Has)
		m.size = addSize(m.size, item.Size)
	} else {
		m.size = addSize(m.size, max(item.Size, m.merge(f, f.Has, keptBytes(f, m.it.bufferMax))+valuesHeap(m, f, f.Has)))
	}
	m.complete = true
	return nil
}

// releaseCur ends the section read in place handed out last.
func (m *Message) releaseCur() {
	if m.cur != nil {
		m.cur.end()
		m.cur = nil
	}
}

// skip skips what is left of the message, before the iteration moves on:
// its attributes are then all set.
func (m *Message) skip() error {
	m.releaseCur()
	for !m.complete && m.it != nil {
		if err := m.advance(); err != nil {
			m.f = nil
			return err
		}
	}
	m.f, m.body = nil, nil
	return nil
}

// drop ends the message when the iteration stops on it.
func (m *Message) drop() {
	m.releaseCur()
	m.f, m.body = nil, nil
	m.complete = true
}

// addSize adds an item's Size to a message's, saturating at the largest
// uint32 (a message's size only counts against FetchAll's bound).
func addSize(size uint32, n int64) uint32 {
	if n >= math.MaxUint32-int64(size) {
		return math.MaxUint32
	}
	return size + uint32(n)
}
