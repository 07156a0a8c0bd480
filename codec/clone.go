package codec

import (
	"unsafe"

	"github.com/imapkit/imapkit/wire"
)

// CloneResponse returns a deep copy of r that borrows nothing from the
// decoder: keep it as long as you like. It returns nil for nil, and r
// itself for a type outside the closed set of Response (there is none
// unless the set grows).
//
// It calls the Clone method of r's type; every response type has one. A
// copy takes a small number of allocations whatever the size of the
// response: the response itself, ONE arena holding the bytes of all its
// Bytes (each a capped sub-slice of it, so that appending to one never
// writes into the next), and one array per kind of element it holds
// (addresses, parameters, body parts, ...). Keeping any part of the copy
// keeps the whole copy in memory.
//
// The copy is equal to r in every field, nil and empty alike: a nil Bytes
// (NIL) stays nil and an empty one stays empty and non-nil; so do slices.
func CloneResponse(r Response) Response {
	switch r := r.(type) {
	case nil:
		return nil
	case *Status:
		return r.Clone()
	case *Continuation:
		return r.Clone()
	case *Capability:
		return r.Clone()
	case *Enabled:
		return r.Clone()
	case *Flags:
		return r.Clone()
	case *Exists:
		return r.Clone()
	case *Recent:
		return r.Clone()
	case *Expunge:
		return r.Clone()
	case *Fetch:
		return r.Clone()
	case *List:
		return r.Clone()
	case *MailboxStatus:
		return r.Clone()
	case *Search:
		return r.Clone()
	case *ESearch:
		return r.Clone()
	case *Sort:
		return r.Clone()
	case *Thread:
		return r.Clone()
	case *Namespace:
		return r.Clone()
	case *Quota:
		return r.Clone()
	case *QuotaRoot:
		return r.Clone()
	case *ACL:
		return r.Clone()
	case *ListRights:
		return r.Clone()
	case *MyRights:
		return r.Clone()
	case *Annotation:
		return r.Clone()
	case *Metadata:
		return r.Clone()
	case *ID:
		return r.Clone()
	case *Vanished:
		return r.Clone()
	case *Unknown:
		return r.Clone()
	}
	return r
}

// A copy is made in two passes over the source: a cloneSize counts what
// it holds, then a cloner, whose arenas are allocated to those counts,
// copies it. The two passes mirror each other method by method. A count
// that falls short costs an allocation, never correctness (take and bytes
// fall back to allocating); TestCloneArenasExact checks the counts.

// cloneSize counts the bytes and the elements of each kind of arena that a
// copy needs.
type cloneSize struct {
	bytes  int // bytes of every Bytes
	strs   int // elements of []Bytes
	addrs  int // Address
	params int // Param
	bodies int // BodyStructure nodes
	kids   int // elements of BodyStructure.Children
	envs   int // Envelopes of message/rfc822 parts
	exts   int // ListExtension
	nums   int // uint32 (section part numbers)
	ranges int // wire.SeqRange of SeqSets
}

// cloner carves a copy's parts out of its arenas.
type cloner struct {
	buf    []byte
	strs   []Bytes
	addrs  []Address
	params []Param
	bodies []BodyStructure
	kids   []*BodyStructure
	envs   []Envelope
	exts   []ListExtension
	nums   []uint32
	ranges []wire.SeqRange
}

// cloneAudit, when set (by tests), receives each cloner once its copy is
// done: every arena must then be used up.
var cloneAudit func(c cloner)

// newCloner allocates the arenas that n counts (none for a zero count).
func newCloner(n *cloneSize) cloner {
	var c cloner
	c.buf = alloc[byte](n.bytes)
	c.strs = alloc[Bytes](n.strs)
	c.addrs = alloc[Address](n.addrs)
	c.params = alloc[Param](n.params)
	c.bodies = alloc[BodyStructure](n.bodies)
	c.kids = alloc[*BodyStructure](n.kids)
	c.envs = alloc[Envelope](n.envs)
	c.exts = alloc[ListExtension](n.exts)
	c.nums = alloc[uint32](n.nums)
	c.ranges = alloc[wire.SeqRange](n.ranges)
	return c
}

// done ends a copy.
func (c *cloner) done() {
	if cloneAudit != nil {
		cloneAudit(*c)
	}
}

func alloc[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, n)
}

// take carves n elements out of an arena, capped so that appending to
// them never writes into the rest of the arena. For n == 0 it returns an
// empty non-nil slice, which allocates nothing.
func take[T any](arena *[]T, n int) []T {
	if n == 0 {
		return make([]T, 0)
	}
	if n > len(*arena) {
		return make([]T, n)
	}
	s := (*arena)[:n:n]
	*arena = (*arena)[n:]
	return s
}

// one carves one element out of an arena.
func one[T any](arena *[]T) *T { return &take(arena, 1)[0] }

// bytes copies b into the byte arena; nil stays nil, empty stays empty.
func (c *cloner) bytes(b Bytes) Bytes {
	switch {
	case b == nil:
		return nil
	case len(b) == 0:
		return Bytes{}
	case len(b) > len(c.buf):
		return b.Clone()
	}
	n := copy(c.buf, b)
	d := c.buf[:n:n]
	c.buf = c.buf[n:]
	return d
}

func (n *cloneSize) strList(s []Bytes) {
	n.strs += len(s)
	for _, b := range s {
		n.bytes += len(b)
	}
}

func (c *cloner) strList(s []Bytes) []Bytes {
	if s == nil {
		return nil
	}
	d := take(&c.strs, len(s))
	for i, b := range s {
		d[i] = c.bytes(b)
	}
	return d
}

func (n *cloneSize) numList(s []uint32) { n.nums += len(s) }

func (c *cloner) numList(s []uint32) []uint32 {
	if s == nil {
		return nil
	}
	d := take(&c.nums, len(s))
	copy(d, s)
	return d
}

func (n *cloneSize) seqSet(s SeqSet) { n.ranges += len(s.r) }

// seqSet copies s as SeqSet.Clone does: an empty set becomes the zero
// SeqSet.
func (c *cloner) seqSet(s SeqSet) SeqSet {
	if len(s.r) == 0 {
		return SeqSet{}
	}
	d := take(&c.ranges, len(s.r))
	copy(d, s.r)
	return SeqSet{r: d, unsorted: s.unsorted}
}

func (n *cloneSize) paramList(ps []Param) {
	n.params += len(ps)
	for _, p := range ps {
		n.bytes += len(p.Name) + len(p.Value)
	}
}

func (c *cloner) paramList(ps []Param) []Param {
	if ps == nil {
		return nil
	}
	d := take(&c.params, len(ps))
	for i, p := range ps {
		d[i] = Param{Name: c.bytes(p.Name), Value: c.bytes(p.Value)}
	}
	return d
}

func (n *cloneSize) extList(es []ListExtension) {
	n.exts += len(es)
	for _, e := range es {
		n.bytes += len(e.Tag) + len(e.Value)
	}
}

func (c *cloner) extList(es []ListExtension) []ListExtension {
	if es == nil {
		return nil
	}
	d := take(&c.exts, len(es))
	for i, e := range es {
		d[i] = ListExtension{Tag: c.bytes(e.Tag), Value: c.bytes(e.Value)}
	}
	return d
}

// Envelopes and body structures.

func (n *cloneSize) addrList(l []Address) {
	n.addrs += len(l)
	for i := range l {
		a := &l[i]
		n.bytes += len(a.Name) + len(a.ADL) + len(a.Mailbox) + len(a.Host)
	}
}

func (c *cloner) addrList(l []Address) []Address {
	if l == nil {
		return nil
	}
	d := take(&c.addrs, len(l))
	for i := range l {
		a := &l[i]
		d[i] = Address{Name: c.bytes(a.Name), ADL: c.bytes(a.ADL), Mailbox: c.bytes(a.Mailbox), Host: c.bytes(a.Host)}
	}
	return d
}

// envelope counts e's contents, not e itself.
func (n *cloneSize) envelope(e *Envelope) {
	n.bytes += len(e.Date) + len(e.Subject) + len(e.InReplyTo) + len(e.MessageID)
	n.addrList(e.From)
	n.addrList(e.Sender)
	n.addrList(e.ReplyTo)
	n.addrList(e.To)
	n.addrList(e.Cc)
	n.addrList(e.Bcc)
}

// envelope copies e into d.
func (c *cloner) envelope(d, e *Envelope) {
	*d = Envelope{
		Date:      c.bytes(e.Date),
		Subject:   c.bytes(e.Subject),
		From:      c.addrList(e.From),
		Sender:    c.addrList(e.Sender),
		ReplyTo:   c.addrList(e.ReplyTo),
		To:        c.addrList(e.To),
		Cc:        c.addrList(e.Cc),
		Bcc:       c.addrList(e.Bcc),
		InReplyTo: c.bytes(e.InReplyTo),
		MessageID: c.bytes(e.MessageID),
	}
}

// body counts b and every part below it.
func (n *cloneSize) body(b *BodyStructure) {
	if b == nil {
		return
	}
	n.bodies++
	n.bytes += len(b.Type) + len(b.Subtype) + len(b.ID) + len(b.Description) + len(b.Encoding) +
		len(b.MD5) + len(b.Disposition) + len(b.Location) + len(b.Extension)
	n.kids += len(b.Children)
	for _, k := range b.Children {
		n.body(k)
	}
	n.paramList(b.Params)
	if b.Envelope != nil {
		n.envs++
		n.envelope(b.Envelope)
	}
	n.body(b.Body)
	n.paramList(b.MultipartParams)
	n.paramList(b.DispositionParams)
	n.strList(b.Language)
}

func (c *cloner) body(b *BodyStructure) *BodyStructure {
	if b == nil {
		return nil
	}
	d := one(&c.bodies)
	*d = *b
	d.Type = c.bytes(b.Type)
	d.Subtype = c.bytes(b.Subtype)
	if b.Children != nil {
		d.Children = take(&c.kids, len(b.Children))
		for i, k := range b.Children {
			d.Children[i] = c.body(k)
		}
	}
	d.Params = c.paramList(b.Params)
	d.ID = c.bytes(b.ID)
	d.Description = c.bytes(b.Description)
	d.Encoding = c.bytes(b.Encoding)
	if b.Envelope != nil {
		d.Envelope = one(&c.envs)
		c.envelope(d.Envelope, b.Envelope)
	}
	d.Body = c.body(b.Body)
	d.MultipartParams = c.paramList(b.MultipartParams)
	d.MD5 = c.bytes(b.MD5)
	d.Disposition = c.bytes(b.Disposition)
	d.DispositionParams = c.paramList(b.DispositionParams)
	d.Language = c.strList(b.Language)
	d.Location = c.bytes(b.Location)
	d.Extension = c.bytes(b.Extension)
	return d
}

// Clone returns a deep copy of e that owns its memory: it stays valid after
// the Decoder that returned e moves on. A nil e gives nil. See
// CloneResponse for how the copy is laid out.
func (e *Envelope) Clone() *Envelope {
	if e == nil {
		return nil
	}
	var n cloneSize
	n.envelope(e)
	c := newCloner(&n)
	d := new(Envelope)
	c.envelope(d, e)
	c.done()
	return d
}

// Clone returns a deep copy of b, its parts, envelopes and extension data
// included, that owns its memory: it stays valid after the Decoder that
// returned b moves on. A nil b gives nil. See CloneResponse for how the
// copy is laid out.
func (b *BodyStructure) Clone() *BodyStructure {
	if b == nil {
		return nil
	}
	var n cloneSize
	n.body(b)
	c := newCloner(&n)
	d := c.body(b)
	c.done()
	return d
}

// FETCH.

func (n *cloneSize) fetch(f *Fetch) {
	n.strList(f.Flags)
	n.bytes += len(f.InternalDate) + len(f.EmailID) + len(f.ThreadID) + len(f.SaveDate) + len(f.Preview)
	if f.Envelope != nil {
		n.envelope(f.Envelope) // the envelope itself is allocated with the Fetch
	}
	n.body(f.BodyStructure)
	n.strList(f.GmailLabels)
	for i := range f.Sections {
		s := &f.Sections[i]
		n.bytes += len(s.Spec) + len(s.Specifier) + len(s.Data)
		n.numList(s.Part)
		n.strList(s.Fields)
	}
	for _, bs := range f.BinarySizes {
		n.numList(bs.Part)
	}
	for _, u := range f.Unknown {
		n.bytes += len(u.Name) + len(u.Raw)
	}
}

// fetchWithEnvelope holds a cloned Fetch and its envelope in one
// allocation.
type fetchWithEnvelope struct {
	f   Fetch
	env Envelope
}

// Clone returns a deep copy of f, envelope, body structure and section
// bodies included, that owns its memory. A nil f gives nil. See
// CloneResponse for how the copy is laid out.
func (f *Fetch) Clone() *Fetch {
	if f == nil {
		return nil
	}
	var n cloneSize
	n.fetch(f)
	c := newCloner(&n)
	var d *Fetch
	if f.Envelope != nil {
		fe := &fetchWithEnvelope{}
		d = &fe.f
		d.Envelope = &fe.env
	} else {
		d = new(Fetch)
	}
	env := d.Envelope
	*d = *f
	d.Envelope = env
	d.Flags = c.strList(f.Flags)
	d.InternalDate = c.bytes(f.InternalDate)
	if env != nil {
		c.envelope(env, f.Envelope)
	}
	d.BodyStructure = c.body(f.BodyStructure)
	d.EmailID = c.bytes(f.EmailID)
	d.ThreadID = c.bytes(f.ThreadID)
	d.SaveDate = c.bytes(f.SaveDate)
	d.Preview = c.bytes(f.Preview)
	d.GmailLabels = c.strList(f.GmailLabels)
	if f.Sections != nil {
		d.Sections = make([]Section, len(f.Sections))
		for i := range f.Sections {
			s, t := &f.Sections[i], &d.Sections[i]
			*t = *s
			t.Spec = c.bytes(s.Spec)
			t.Part = c.numList(s.Part)
			t.Specifier = c.bytes(s.Specifier)
			t.Fields = c.strList(s.Fields)
			t.Data = c.bytes(s.Data)
		}
	}
	if f.BinarySizes != nil {
		d.BinarySizes = make([]BinarySize, len(f.BinarySizes))
		for i, bs := range f.BinarySizes {
			d.BinarySizes[i] = BinarySize{Part: c.numList(bs.Part), Size: bs.Size}
		}
	}
	if f.Unknown != nil {
		d.Unknown = make([]FetchAttr, len(f.Unknown))
		for i, u := range f.Unknown {
			d.Unknown[i] = FetchAttr{Name: c.bytes(u.Name), Raw: c.bytes(u.Raw)}
		}
	}
	c.done()
	return d
}

// Status and response codes.

func (n *cloneSize) code(k *Code) {
	n.bytes += len(k.Name) + len(k.Sub) + len(k.Raw)
	n.strList(k.Caps)
	n.strList(k.Flags)
	n.strList(k.Charsets)
	n.seqSet(k.Src)
	n.seqSet(k.Dst)
	n.seqSet(k.Set)
}

// code copies k into d.
func (c *cloner) code(d, k *Code) {
	*d = *k
	d.Name = c.bytes(k.Name)
	d.Caps = c.strList(k.Caps)
	d.Flags = c.strList(k.Flags)
	d.Charsets = c.strList(k.Charsets)
	d.Src = c.seqSet(k.Src)
	d.Dst = c.seqSet(k.Dst)
	d.Set = c.seqSet(k.Set)
	d.Sub = c.bytes(k.Sub)
	d.Raw = c.bytes(k.Raw)
}

// Clone returns a deep copy of k, of any kind, that owns its memory. A nil
// k gives nil.
func (k *Code) Clone() *Code {
	if k == nil {
		return nil
	}
	var n cloneSize
	n.code(k)
	c := newCloner(&n)
	d := new(Code)
	c.code(d, k)
	c.done()
	return d
}

// statusWithCode holds a cloned Status and its code in one allocation.
type statusWithCode struct {
	s    Status
	code Code
}

// Clone returns a deep copy of r, its code included, that owns its memory.
// A nil r gives nil.
func (r *Status) Clone() *Status {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Tag) + len(r.Text)
	if r.Code != nil {
		n.code(r.Code)
	}
	c := newCloner(&n)
	var d *Status
	if r.Code != nil {
		sc := &statusWithCode{}
		d = &sc.s
		c.code(&sc.code, r.Code)
		*d = Status{Code: &sc.code}
	} else {
		d = new(Status)
	}
	d.Tag = c.bytes(r.Tag)
	d.Kind = r.Kind
	d.Text = c.bytes(r.Text)
	c.done()
	return d
}

// Responses made of bytes and lists of bytes.

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Continuation) Clone() *Continuation {
	if r == nil {
		return nil
	}
	return &Continuation{Text: r.Text.Clone()}
}

// cloneStrs copies a list of Bytes into one []Bytes and one byte arena.
func cloneStrs(s []Bytes) []Bytes {
	var n cloneSize
	n.strList(s)
	c := newCloner(&n)
	d := c.strList(s)
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Capability) Clone() *Capability {
	if r == nil {
		return nil
	}
	return &Capability{Caps: cloneStrs(r.Caps)}
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Enabled) Clone() *Enabled {
	if r == nil {
		return nil
	}
	return &Enabled{Caps: cloneStrs(r.Caps)}
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Flags) Clone() *Flags {
	if r == nil {
		return nil
	}
	return &Flags{Flags: cloneStrs(r.Flags)}
}

// Clone returns a copy of r. A nil r gives nil.
func (r *Exists) Clone() *Exists {
	if r == nil {
		return nil
	}
	d := *r
	return &d
}

// Clone returns a copy of r. A nil r gives nil.
func (r *Recent) Clone() *Recent {
	if r == nil {
		return nil
	}
	d := *r
	return &d
}

// Clone returns a copy of r. A nil r gives nil.
func (r *Expunge) Clone() *Expunge {
	if r == nil {
		return nil
	}
	d := *r
	return &d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *List) Clone() *List {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.strList(r.Attrs)
	n.bytes += len(r.Mailbox) + len(r.OldName)
	n.strList(r.ChildInfo)
	n.extList(r.Extensions)
	c := newCloner(&n)
	d := &List{
		LSUB:       r.LSUB,
		Attrs:      c.strList(r.Attrs),
		Delim:      r.Delim,
		Mailbox:    c.bytes(r.Mailbox),
		ChildInfo:  c.strList(r.ChildInfo),
		OldName:    c.bytes(r.OldName),
		Extensions: c.extList(r.Extensions),
	}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *MailboxStatus) Clone() *MailboxStatus {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Mailbox) + len(r.MailboxID)
	n.extList(r.Unknown)
	c := newCloner(&n)
	d := new(MailboxStatus)
	*d = *r
	d.Mailbox = c.bytes(r.Mailbox)
	d.MailboxID = c.bytes(r.MailboxID)
	d.Unknown = c.extList(r.Unknown)
	c.done()
	return d
}

// cloneNums copies a list of numbers; nil stays nil.
func cloneNums(s []uint32) []uint32 {
	if s == nil {
		return nil
	}
	d := make([]uint32, len(s))
	copy(d, s)
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Search) Clone() *Search {
	if r == nil {
		return nil
	}
	return &Search{Nums: cloneNums(r.Nums), ModSeq: r.ModSeq}
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Sort) Clone() *Sort {
	if r == nil {
		return nil
	}
	return &Sort{Nums: cloneNums(r.Nums), ModSeq: r.ModSeq}
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *ESearch) Clone() *ESearch {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Tag)
	n.seqSet(r.All)
	n.extList(r.Unknown)
	c := newCloner(&n)
	d := new(ESearch)
	*d = *r
	d.Tag = c.bytes(r.Tag)
	d.All = c.seqSet(r.All)
	d.Unknown = c.extList(r.Unknown)
	c.done()
	return d
}

// count returns the number of nodes of r and of pointers to them.
func (r *Thread) count() (nodes, ptrs int) {
	ptrs = len(r.Threads)
	var count func(t *ThreadNode)
	count = func(t *ThreadNode) {
		// Down the last child by a loop, not a call: a chain of replies
		// is as deep as its line is long (500,000 nodes took 67 MB of
		// stack), while the branches, each in parentheses, are bounded
		// by the tokenizer's MaxDepth.
		for t != nil {
			nodes++
			n := len(t.Children)
			ptrs += n
			if n == 0 {
				return
			}
			for _, k := range t.Children[:n-1] {
				count(k)
			}
			t = t.Children[n-1]
		}
	}
	for _, t := range r.Threads {
		count(t)
	}
	return nodes, ptrs
}

// Clone returns a deep copy of r, every thread and node, that owns its
// memory. A nil r gives nil. The nodes are copied into one array and the
// lists of children into another.
func (r *Thread) Clone() *Thread {
	if r == nil {
		return nil
	}
	nodes, ptrs := r.count()
	nodeArena, ptrArena := alloc[ThreadNode](nodes), alloc[*ThreadNode](ptrs)
	var copyNode func(t *ThreadNode) *ThreadNode
	copyList := func(l []*ThreadNode) []*ThreadNode {
		if l == nil {
			return nil
		}
		d := take(&ptrArena, len(l))
		for i, t := range l {
			d[i] = copyNode(t)
		}
		return d
	}
	copyNode = func(t *ThreadNode) *ThreadNode {
		// Down the last child by a loop, as count does.
		var head *ThreadNode
		link := &head
		for t != nil {
			d := one(&nodeArena)
			d.Num = t.Num
			*link = d
			n := len(t.Children)
			if n == 0 {
				if t.Children != nil {
					d.Children = take(&ptrArena, 0)
				}
				break
			}
			d.Children = take(&ptrArena, n)
			for i, k := range t.Children[:n-1] {
				d.Children[i] = copyNode(k)
			}
			link, t = &d.Children[n-1], t.Children[n-1]
		}
		return head
	}
	return &Thread{Threads: copyList(r.Threads)}
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Namespace) Clone() *Namespace {
	if r == nil {
		return nil
	}
	var n cloneSize
	descs := 0
	for _, l := range [...][]NamespaceDesc{r.Personal, r.Other, r.Shared} {
		descs += len(l)
		for _, nd := range l {
			n.bytes += len(nd.Prefix) + len(nd.LongDelim)
			n.extList(nd.Extensions)
		}
	}
	c := newCloner(&n)
	arena := alloc[NamespaceDesc](descs)
	list := func(l []NamespaceDesc) []NamespaceDesc {
		if l == nil {
			return nil
		}
		d := take(&arena, len(l))
		for i, nd := range l {
			d[i] = NamespaceDesc{Prefix: c.bytes(nd.Prefix), Delim: nd.Delim, LongDelim: c.bytes(nd.LongDelim), Extensions: c.extList(nd.Extensions)}
		}
		return d
	}
	d := &Namespace{Personal: list(r.Personal), Other: list(r.Other), Shared: list(r.Shared)}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Quota) Clone() *Quota {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Root)
	for _, q := range r.Resources {
		n.bytes += len(q.Name)
	}
	c := newCloner(&n)
	d := &Quota{Root: c.bytes(r.Root)}
	if r.Resources != nil {
		d.Resources = make([]QuotaResource, len(r.Resources))
		for i, q := range r.Resources {
			d.Resources[i] = QuotaResource{Name: c.bytes(q.Name), Usage: q.Usage, Limit: q.Limit}
		}
	}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *QuotaRoot) Clone() *QuotaRoot {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Mailbox)
	n.strList(r.Roots)
	c := newCloner(&n)
	d := &QuotaRoot{Mailbox: c.bytes(r.Mailbox), Roots: c.strList(r.Roots)}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *ACL) Clone() *ACL {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Mailbox)
	for _, e := range r.Entries {
		n.bytes += len(e.Identifier) + len(e.Rights)
	}
	c := newCloner(&n)
	d := &ACL{Mailbox: c.bytes(r.Mailbox)}
	if r.Entries != nil {
		d.Entries = make([]ACLEntry, len(r.Entries))
		for i, e := range r.Entries {
			d.Entries[i] = ACLEntry{Identifier: c.bytes(e.Identifier), Rights: c.bytes(e.Rights)}
		}
	}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *ListRights) Clone() *ListRights {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Mailbox) + len(r.Identifier) + len(r.Required)
	n.strList(r.Optional)
	c := newCloner(&n)
	d := &ListRights{Mailbox: c.bytes(r.Mailbox), Identifier: c.bytes(r.Identifier), Required: c.bytes(r.Required), Optional: c.strList(r.Optional)}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *MyRights) Clone() *MyRights {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Mailbox) + len(r.Rights)
	c := newCloner(&n)
	d := &MyRights{Mailbox: c.bytes(r.Mailbox), Rights: c.bytes(r.Rights)}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Annotation) Clone() *Annotation {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Mailbox) + len(r.Entry)
	n.paramList(r.Attrs)
	c := newCloner(&n)
	d := &Annotation{Mailbox: c.bytes(r.Mailbox), Entry: c.bytes(r.Entry), Attrs: c.paramList(r.Attrs)}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Metadata) Clone() *Metadata {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Mailbox)
	n.paramList(r.Entries)
	for _, sk := range r.Skipped {
		n.bytes += len(sk.Name)
	}
	c := newCloner(&n)
	d := &Metadata{Mailbox: c.bytes(r.Mailbox), Values: r.Values, Entries: c.paramList(r.Entries)}
	if r.Skipped != nil {
		d.Skipped = make([]SkippedValue, len(r.Skipped))
		for i, sk := range r.Skipped {
			d.Skipped[i] = SkippedValue{Name: c.bytes(sk.Name), Size: sk.Size}
		}
	}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *ID) Clone() *ID {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.paramList(r.Params)
	c := newCloner(&n)
	d := &ID{Params: c.paramList(r.Params)}
	c.done()
	return d
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Vanished) Clone() *Vanished {
	if r == nil {
		return nil
	}
	return &Vanished{Earlier: r.Earlier, UIDs: r.UIDs.Clone()}
}

// Clone returns a deep copy of r that owns its memory. A nil r gives nil.
func (r *Unknown) Clone() *Unknown {
	if r == nil {
		return nil
	}
	var n cloneSize
	n.bytes += len(r.Tag) + len(r.Name) + len(r.Rest)
	c := newCloner(&n)
	d := &Unknown{Tag: c.bytes(r.Tag), Num: r.Num, HasNum: r.HasNum, Name: c.bytes(r.Name), Rest: c.bytes(r.Rest)}
	c.done()
	return d
}

// CloneSize returns how many bytes CloneResponse(r) allocates, without
// copying anything: what keeping a copy of r costs, to bound the memory of
// the responses kept (the session's MaxResultBytes counts it). It leaves
// out the allocator's rounding up to its size classes. A copy can take 20
// times the bytes of its response on the wire: a THREAD of single digits,
// a CAPABILITY or FLAGS of one-letter atoms, an envelope of NIL addresses.
func CloneSize(r Response) int64 {
	var n cloneSize
	var top, extra uintptr
	switch r := r.(type) {
	case nil:
		return 0
	case *Status:
		n.bytes += len(r.Tag) + len(r.Text)
		top = unsafe.Sizeof(Status{})
		if r.Code != nil {
			n.code(r.Code)
			top = unsafe.Sizeof(statusWithCode{})
		}
	case *Continuation:
		top = unsafe.Sizeof(Continuation{})
		n.bytes += len(r.Text)
	case *Capability:
		top = unsafe.Sizeof(Capability{})
		n.strList(r.Caps)
	case *Enabled:
		top = unsafe.Sizeof(Enabled{})
		n.strList(r.Caps)
	case *Flags:
		top = unsafe.Sizeof(Flags{})
		n.strList(r.Flags)
	case *Exists:
		top = unsafe.Sizeof(Exists{})
	case *Recent:
		top = unsafe.Sizeof(Recent{})
	case *Expunge:
		top = unsafe.Sizeof(Expunge{})
	case *Fetch:
		n.fetch(r)
		top = unsafe.Sizeof(Fetch{})
		if r.Envelope != nil {
			top = unsafe.Sizeof(fetchWithEnvelope{})
		}
		extra = uintptr(len(r.Sections))*unsafe.Sizeof(Section{}) +
			uintptr(len(r.BinarySizes))*unsafe.Sizeof(BinarySize{}) +
			uintptr(len(r.Unknown))*unsafe.Sizeof(FetchAttr{})
	case *List:
		top = unsafe.Sizeof(List{})
		n.strList(r.Attrs)
		n.bytes += len(r.Mailbox) + len(r.OldName)
		n.strList(r.ChildInfo)
		n.extList(r.Extensions)
	case *MailboxStatus:
		top = unsafe.Sizeof(MailboxStatus{})
		n.bytes += len(r.Mailbox) + len(r.MailboxID)
		n.extList(r.Unknown)
	case *Search:
		top = unsafe.Sizeof(Search{})
		n.nums += len(r.Nums)
	case *Sort:
		top = unsafe.Sizeof(Sort{})
		n.nums += len(r.Nums)
	case *ESearch:
		top = unsafe.Sizeof(ESearch{})
		n.bytes += len(r.Tag)
		n.seqSet(r.All)
		n.extList(r.Unknown)
	case *Thread:
		top = unsafe.Sizeof(Thread{})
		nodes, ptrs := r.count()
		extra = uintptr(nodes)*unsafe.Sizeof(ThreadNode{}) + uintptr(ptrs)*unsafe.Sizeof((*ThreadNode)(nil))
	case *Namespace:
		top = unsafe.Sizeof(Namespace{})
		for _, l := range [...][]NamespaceDesc{r.Personal, r.Other, r.Shared} {
			extra += uintptr(len(l)) * unsafe.Sizeof(NamespaceDesc{})
			for _, nd := range l {
				n.bytes += len(nd.Prefix) + len(nd.LongDelim)
				n.extList(nd.Extensions)
			}
		}
	case *Quota:
		top = unsafe.Sizeof(Quota{})
		n.bytes += len(r.Root)
		for _, q := range r.Resources {
			n.bytes += len(q.Name)
		}
		extra = uintptr(len(r.Resources)) * unsafe.Sizeof(QuotaResource{})
	case *QuotaRoot:
		top = unsafe.Sizeof(QuotaRoot{})
		n.bytes += len(r.Mailbox)
		n.strList(r.Roots)
	case *ACL:
		top = unsafe.Sizeof(ACL{})
		n.bytes += len(r.Mailbox)
		for _, e := range r.Entries {
			n.bytes += len(e.Identifier) + len(e.Rights)
		}
		extra = uintptr(len(r.Entries)) * unsafe.Sizeof(ACLEntry{})
	case *ListRights:
		top = unsafe.Sizeof(ListRights{})
		n.bytes += len(r.Mailbox) + len(r.Identifier) + len(r.Required)
		n.strList(r.Optional)
	case *MyRights:
		top = unsafe.Sizeof(MyRights{})
		n.bytes += len(r.Mailbox) + len(r.Rights)
	case *Annotation:
		top = unsafe.Sizeof(Annotation{})
		n.bytes += len(r.Mailbox) + len(r.Entry)
		n.paramList(r.Attrs)
	case *Metadata:
		top = unsafe.Sizeof(Metadata{})
		n.bytes += len(r.Mailbox)
		n.paramList(r.Entries)
		for _, sk := range r.Skipped {
			n.bytes += len(sk.Name)
		}
		extra = uintptr(len(r.Skipped)) * unsafe.Sizeof(SkippedValue{})
	case *ID:
		top = unsafe.Sizeof(ID{})
		n.paramList(r.Params)
	case *Vanished:
		top = unsafe.Sizeof(Vanished{})
		n.seqSet(r.UIDs)
	case *Unknown:
		top = unsafe.Sizeof(Unknown{})
		n.bytes += len(r.Tag) + len(r.Name) + len(r.Rest)
	}
	return int64(top+extra) + n.heap()
}

// heap returns the bytes of the arenas newCloner allocates for n.
func (n *cloneSize) heap() int64 {
	return int64(uintptr(n.bytes) +
		uintptr(n.strs)*unsafe.Sizeof(Bytes(nil)) +
		uintptr(n.addrs)*unsafe.Sizeof(Address{}) +
		uintptr(n.params)*unsafe.Sizeof(Param{}) +
		uintptr(n.bodies)*unsafe.Sizeof(BodyStructure{}) +
		uintptr(n.kids)*unsafe.Sizeof((*BodyStructure)(nil)) +
		uintptr(n.envs)*unsafe.Sizeof(Envelope{}) +
		uintptr(n.exts)*unsafe.Sizeof(ListExtension{}) +
		uintptr(n.nums)*unsafe.Sizeof(uint32(0)) +
		uintptr(n.ranges)*unsafe.Sizeof(wire.SeqRange{}))
}
