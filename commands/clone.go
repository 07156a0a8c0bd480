package commands

import (
	"unsafe"

	"github.com/imapkit/imapkit/codec"
)

// A message's values are copied out of the decoder in two passes, as
// codec.CloneResponse does: copyCounts counts the bytes of every value and
// the elements of each kind (addresses, parameters, body parts, ...), then
// a copier, whose arenas are allocated to exactly those counts, carves the
// copy out of them. The bytes of all values share ONE buffer (each value a
// capped sub-slice of it, so that appending to one never writes into the
// next), and each kind of element one slice: a copy takes one allocation
// per kind present, whatever the size of the message. The two passes
// mirror each other method by method; a count that falls short costs an
// allocation, never correctness (the copier falls back to allocating), and
// TestFetchCopiesValues checks that none does on the corpus.

// copyCounts is what a copy needs: its bytes and its elements by kind.
type copyCounts struct {
	bytes  int // bytes of every Bytes value
	addrs  int // codec.Address
	params int // codec.Param
	nodes  int // codec.BodyStructure
	kids   int // elements of BodyStructure.Children
	strs   int // elements of BodyStructure.Language
	envs   int // codec.Envelope: the message's, and those of message/rfc822 parts
}

func (n *copyCounts) addrList(l []codec.Address) {
	n.addrs += len(l)
	for i := range l {
		a := &l[i]
		n.bytes += len(a.Name) + len(a.ADL) + len(a.Mailbox) + len(a.Host)
	}
}

// envelope counts what e holds, not e itself.
func (n *copyCounts) envelope(e *codec.Envelope) {
	n.bytes += len(e.Date) + len(e.Subject) + len(e.InReplyTo) + len(e.MessageID)
	n.addrList(e.From)
	n.addrList(e.Sender)
	n.addrList(e.ReplyTo)
	n.addrList(e.To)
	n.addrList(e.Cc)
	n.addrList(e.Bcc)
}

func (n *copyCounts) paramList(l []codec.Param) {
	n.params += len(l)
	for i := range l {
		n.bytes += len(l[i].Name) + len(l[i].Value)
	}
}

// body counts b and what it holds.
func (n *copyCounts) body(b *codec.BodyStructure) {
	n.nodes++
	n.bytes += len(b.Type) + len(b.Subtype) + len(b.ID) + len(b.Description) + len(b.Encoding) +
		len(b.MD5) + len(b.Disposition) + len(b.Location) + len(b.Extension)
	n.paramList(b.Params)
	n.paramList(b.MultipartParams)
	n.paramList(b.DispositionParams)
	n.strs += len(b.Language)
	for _, l := range b.Language {
		n.bytes += len(l)
	}
	n.kids += len(b.Children)
	for _, c := range b.Children {
		if c != nil {
			n.body(c)
		}
	}
	if b.Envelope != nil {
		n.envs++
		n.envelope(b.Envelope)
	}
	if b.Body != nil {
		n.body(b.Body)
	}
}

// message counts what the envelope e and the body structure b hold, and
// the envelope itself (either may be nil).
func (n *copyCounts) message(e *codec.Envelope, b *codec.BodyStructure) {
	if e != nil {
		n.envs++
		n.envelope(e)
	}
	if b != nil {
		n.body(b)
	}
}

// heap returns the bytes of the arenas copier.init allocates for n: the
// values' bytes and the elements'.
func (n *copyCounts) heap() int64 {
	return int64(n.bytes) + int64(n.addrs)*int64(unsafe.Sizeof(codec.Address{})) +
		int64(n.params)*int64(unsafe.Sizeof(codec.Param{})) +
		int64(n.nodes)*int64(unsafe.Sizeof(codec.BodyStructure{})) +
		int64(n.kids)*int64(unsafe.Sizeof((*codec.BodyStructure)(nil))) +
		int64(n.strs)*int64(unsafe.Sizeof(codec.Bytes(nil))) +
		int64(n.envs)*int64(unsafe.Sizeof(codec.Envelope{}))
}

// arena is the byte memory of a message: its values and its kept
// sections are carved out of free, front to back.
type arena struct {
	free []byte // reserved and not used yet
}

// reserve makes room for n more bytes, in one allocation when there is
// not enough left.
func (a *arena) reserve(n int) {
	if len(a.free) < n {
		a.free = make([]byte, n)
	}
}

// bytes copies b into the arena, capped; nil stays nil, empty stays empty
// (and non-nil).
func (a *arena) bytes(b codec.Bytes) codec.Bytes {
	n := len(b)
	switch {
	case b == nil:
		return nil
	case n == 0:
		return codec.Bytes{}
	case n > len(a.free):
		a.free = make([]byte, max(n, 512))
	}
	d := a.free[:n:n]
	copy(d, b)
	a.free = a.free[n:]
	return d
}

// copier carves a copy's parts out of its arenas. It lives on the stack
// of the copy: carving from its slices writes no pointer to the heap (no
// write barrier); copyValues gives what is left of buf back to the
// Message's arena. Every element it carves is zero (freshly allocated),
// so that only the fields that are set need to be written.
type copier struct {
	buf    []byte // the byte arena: what is free of it
	addrs  []codec.Address
	params []codec.Param
	nodes  []codec.BodyStructure
	kids   []*codec.BodyStructure
	strs   []codec.Bytes
	envs   []codec.Envelope
	short  bool // an arena fell short: something was allocated on the side
}

// copyAudit, when set (by tests), receives each copier once its copy is
// done, with the bytes reserved for sections: every arena must then be
// used up, but for those.
var copyAudit func(c copier, extra int)

// init reserves the bytes of n in a and allocates the arenas of its
// elements (none for a zero count).
func (c *copier) init(a *arena, n *copyCounts) {
	a.reserve(n.bytes)
	*c = copier{buf: a.free, addrs: alloc[codec.Address](n.addrs), params: alloc[codec.Param](n.params),
		nodes: alloc[codec.BodyStructure](n.nodes), kids: alloc[*codec.BodyStructure](n.kids),
		strs: alloc[codec.Bytes](n.strs), envs: alloc[codec.Envelope](n.envs)}
}

// A Message comes with the memory it needs in one allocation: alone when
// it has nothing to copy but scalars and flags (a flag resynchronisation's
// UID, FLAGS and MODSEQ), with a Section when it has body sections to hand
// out, and with the element arenas of its values (and a Section) when they
// fit one of the slabs, sized for the common shapes: an envelope of up to
// eight addresses, alone (messageSlabEnv: FetchAll of UID and ENVELOPE, to
// match Message-IDs, was a slab of 2,304 bytes and is one of 1,408) or with
// a body structure of one part or a multipart of two.
// With its bytes such a message takes two allocations in all; other
// messages take one per kind of element (copier.init). The Envelope and
// the first Section used to be fields of every Message (400 of its 752
// bytes), whatever was fetched.
type (
	messageSection struct {
		m   Message
		sec Section
	}
	messageSlabEnv struct {
		m     Message
		env   [1]codec.Envelope
		addrs [8]codec.Address
	}
	// messageSlab1 comes with a Section (S is Section) or without (S is
	// struct{}): without, it fits a size class lower (2,048 bytes, not
	// 2,304), for fetches without sections and for Clone.
	messageSlab1[S any] struct {
		m      Message
		sec    S
		env    [1]codec.Envelope
		addrs  [8]codec.Address
		params [4]codec.Param
		nodes  [1]codec.BodyStructure
	}
	messageSlab3 struct {
		m      Message
		sec    Section
		env    [1]codec.Envelope
		addrs  [8]codec.Address
		params [8]codec.Param
		nodes  [3]codec.BodyStructure
		kids   [2]*codec.BodyStructure
	}
)

// allocMessage returns a new Message and a copier for n, whose element
// arenas come with the Message in one allocation when they fit a slab. It
// sets the Message's size to the bytes it allocated, for FetchAll's bound.
// The Message has a first Section of its own (Message.sec0) when sections
// is set (and in a slab).
func allocMessage(n *copyCounts, c *copier, sections bool) *Message {
	var m *Message
	switch {
	case n.addrs+n.nodes == 0 || n.addrs > 8 || n.strs > 0 || n.envs > 1:
		return allocUnslabbed(n, c, sections)
	case n.nodes == 0 && n.params == 0 && !sections:
		s := new(messageSlabEnv)
		m = &s.m
		m.size = uint32(unsafe.Sizeof(*s))
		c.envs, c.addrs = s.env[:n.envs], s.addrs[:n.addrs]
	case n.nodes <= 1 && n.params <= 4 && n.kids == 0:
		if sections {
			m = newSlab1[Section](n, c)
		} else {
			m = newSlab1[struct{}](n, c)
		}
	case n.nodes <= 3 && n.params <= 8 && n.kids <= 2:
		s := new(messageSlab3)
		m = &s.m
		m.size = uint32(unsafe.Sizeof(*s))
		m.sec0 = &s.sec
		c.envs, c.addrs, c.params, c.nodes, c.kids = s.env[:n.envs], s.addrs[:n.addrs], s.params[:n.params], s.nodes[:n.nodes], s.kids[:n.kids]
	default:
		return allocUnslabbed(n, c, sections)
	}
	m.a.reserve(n.bytes)
	m.size = addSize(m.size, int64(n.bytes))
	c.buf = m.a.free
	return m
}

// allocUnslabbed is allocMessage for a copy that fits no slab: the Message
// (with its first Section when sections is set) alone, the arenas apart.
func allocUnslabbed(n *copyCounts, c *copier, sections bool) *Message {
	var m *Message
	if sections {
		s := new(messageSection)
		m = &s.m
		m.sec0 = &s.sec
		m.size = uint32(unsafe.Sizeof(*s))
	} else {
		m = new(Message)
		m.size = uint32(unsafe.Sizeof(*m))
	}
	c.init(&m.a, n)
	m.size = addSize(m.size, n.heap())
	return m
}

// newSlab1 returns the Message of a new messageSlab1[S] and carves c's
// element arenas out of it.
func newSlab1[S any](n *copyCounts, c *copier) *Message {
	s := new(messageSlab1[S])
	if sec, ok := any(&s.sec).(*Section); ok {
		s.m.sec0 = sec
	}
	s.m.size = uint32(unsafe.Sizeof(*s))
	c.envs, c.addrs, c.params, c.nodes = s.env[:n.envs], s.addrs[:n.addrs], s.params[:n.params], s.nodes[:n.nodes]
	return &s.m
}

func alloc[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, n)
}

// take carves n elements out of an arena, capped. It returns nil for a nil
// source list, an empty non-nil slice for an empty one (neither
// allocates), and allocates when the arena falls short.
func take[T any](arena *[]T, n int, src []T, short *bool) []T {
	switch {
	case src == nil:
		return nil
	case n == 0:
		return []T{}
	case n > len(*arena):
		*short = true
		return make([]T, n)
	}
	s := (*arena)[:n:n]
	*arena = (*arena)[n:]
	return s
}

// takeOne carves one T out of arena, or allocates it (and sets *short)
// when arena is used up.
func takeOne[T any](arena *[]T, short *bool) *T {
	if len(*arena) == 0 {
		*short = true
		return new(T)
	}
	d := &(*arena)[0]
	*arena = (*arena)[1:]
	return d
}

// bytes copies b into the byte arena, capped; nil stays nil, empty stays
// empty (and non-nil).
func (c *copier) bytes(b codec.Bytes) codec.Bytes {
	n := len(b)
	switch {
	case b == nil:
		return nil
	case n == 0:
		return codec.Bytes{}
	case n > len(c.buf):
		c.short = true
		return append(codec.Bytes(nil), b...)
	}
	d := c.buf[:n:n]
	copy(d, b)
	c.buf = c.buf[n:]
	return d
}

func (c *copier) addrList(l []codec.Address) []codec.Address {
	d := take(&c.addrs, len(l), l, &c.short)
	for i := range d {
		s, t := &l[i], &d[i]
		if s.Name != nil {
			t.Name = c.bytes(s.Name)
		}
		if s.ADL != nil {
			t.ADL = c.bytes(s.ADL)
		}
		if s.Mailbox != nil {
			t.Mailbox = c.bytes(s.Mailbox)
		}
		if s.Host != nil {
			t.Host = c.bytes(s.Host)
		}
	}
	return d
}

// newEnvelope returns a copy of e, carved out of the arena.
func (c *copier) newEnvelope(e *codec.Envelope) *codec.Envelope {
	d := takeOne(&c.envs, &c.short)
	c.envelope(d, e)
	return d
}

// envelope copies e into d.
func (c *copier) envelope(d, e *codec.Envelope) {
	*d = codec.Envelope{
		Date: c.bytes(e.Date), Subject: c.bytes(e.Subject),
		From: c.addrList(e.From), Sender: c.addrList(e.Sender), ReplyTo: c.addrList(e.ReplyTo),
		To: c.addrList(e.To), Cc: c.addrList(e.Cc), Bcc: c.addrList(e.Bcc),
		InReplyTo: c.bytes(e.InReplyTo), MessageID: c.bytes(e.MessageID),
	}
}

func (c *copier) paramList(l []codec.Param) []codec.Param {
	d := take(&c.params, len(l), l, &c.short)
	for i := range d {
		if l[i].Name != nil {
			d[i].Name = c.bytes(l[i].Name)
		}
		if l[i].Value != nil {
			d[i].Value = c.bytes(l[i].Value)
		}
	}
	return d
}

// body copies b and what it holds.
func (c *copier) body(b *codec.BodyStructure) *codec.BodyStructure {
	d := takeOne(&c.nodes, &c.short)
	d.Size, d.Lines, d.Extended = b.Size, b.Lines, b.Extended
	// d is zero: only what is set is written (most of these are NIL).
	if b.Type != nil {
		d.Type = c.bytes(b.Type)
	}
	if b.Subtype != nil {
		d.Subtype = c.bytes(b.Subtype)
	}
	if b.ID != nil {
		d.ID = c.bytes(b.ID)
	}
	if b.Description != nil {
		d.Description = c.bytes(b.Description)
	}
	if b.Encoding != nil {
		d.Encoding = c.bytes(b.Encoding)
	}
	if b.MD5 != nil {
		d.MD5 = c.bytes(b.MD5)
	}
	if b.Disposition != nil {
		d.Disposition = c.bytes(b.Disposition)
	}
	if b.Location != nil {
		d.Location = c.bytes(b.Location)
	}
	if b.Extension != nil {
		d.Extension = c.bytes(b.Extension)
	}
	if b.Params != nil {
		d.Params = c.paramList(b.Params)
	}
	if b.MultipartParams != nil {
		d.MultipartParams = c.paramList(b.MultipartParams)
	}
	if b.DispositionParams != nil {
		d.DispositionParams = c.paramList(b.DispositionParams)
	}
	if b.Language != nil {
		l := take(&c.strs, len(b.Language), b.Language, &c.short)
		for i, s := range b.Language {
			l[i] = c.bytes(s)
		}
		d.Language = l
	}
	if b.Children != nil {
		k := take(&c.kids, len(b.Children), b.Children, &c.short)
		for i, ch := range b.Children {
			if ch != nil {
				k[i] = c.body(ch)
			}
		}
		d.Children = k
	}
	if b.Envelope != nil {
		d.Envelope = c.newEnvelope(b.Envelope)
	}
	if b.Body != nil {
		d.Body = c.body(b.Body)
	}
	return d
}
