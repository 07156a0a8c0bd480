package commands

import "github.com/imapkit/imapkit/codec"

// arena copies decoded values out of the decoder's buffers with few
// allocations: the bytes of a message's values share one buffer, and its
// addresses, body parts and parameters one slice each.
type arena struct {
	buf []byte
}

func (a *arena) bytes(b codec.Bytes) codec.Bytes {
	if b == nil {
		return nil
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		n := 512
		if len(b) > n {
			n = len(b)
		}
		a.buf = make([]byte, 0, n)
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return codec.Bytes(a.buf[start:len(a.buf):len(a.buf)])
}

func (a *arena) envelope(e *codec.Envelope) *codec.Envelope {
	if e == nil {
		return nil
	}
	c := new(codec.Envelope)
	a.envelopeInto(c, e)
	return c
}

// envelopeInto copies e into c.
func (a *arena) envelopeInto(c *codec.Envelope, e *codec.Envelope) {
	n := len(e.From) + len(e.Sender) + len(e.ReplyTo) + len(e.To) + len(e.Cc) + len(e.Bcc)
	addrs := make([]codec.Address, 0, n)
	list := func(l []codec.Address) []codec.Address {
		if l == nil {
			return nil
		}
		start := len(addrs)
		for _, ad := range l {
			addrs = append(addrs, codec.Address{Name: a.bytes(ad.Name), ADL: a.bytes(ad.ADL),
				Mailbox: a.bytes(ad.Mailbox), Host: a.bytes(ad.Host)})
		}
		return addrs[start:len(addrs):len(addrs)]
	}
	*c = codec.Envelope{
		Date: a.bytes(e.Date), Subject: a.bytes(e.Subject),
		From: list(e.From), Sender: list(e.Sender), ReplyTo: list(e.ReplyTo),
		To: list(e.To), Cc: list(e.Cc), Bcc: list(e.Bcc),
		InReplyTo: a.bytes(e.InReplyTo), MessageID: a.bytes(e.MessageID),
	}
}

// bodyCounts counts the nodes, child pointers and parameters of b.
func bodyCounts(b *codec.BodyStructure) (nodes, kids, params, strs int) {
	if b == nil {
		return
	}
	nodes = 1
	kids = len(b.Children)
	params = len(b.Params) + len(b.MultipartParams) + len(b.DispositionParams)
	strs = len(b.Language)
	for _, c := range b.Children {
		n, k, p, s := bodyCounts(c)
		nodes, kids, params, strs = nodes+n, kids+k, params+p, strs+s
	}
	if b.Body != nil {
		n, k, p, s := bodyCounts(b.Body)
		nodes, kids, params, strs = nodes+n, kids+k, params+p, strs+s
	}
	return
}

type bodyArena struct {
	*arena
	nodes  []codec.BodyStructure
	kids   []*codec.BodyStructure
	params []codec.Param
	strs   []codec.Bytes
}

func (a *arena) body(b *codec.BodyStructure) *codec.BodyStructure {
	if b == nil {
		return nil
	}
	n, k, p, s := bodyCounts(b)
	ba := &bodyArena{arena: a, nodes: make([]codec.BodyStructure, 0, n)}
	if k > 0 {
		ba.kids = make([]*codec.BodyStructure, 0, k)
	}
	if p > 0 {
		ba.params = make([]codec.Param, 0, p)
	}
	if s > 0 {
		ba.strs = make([]codec.Bytes, 0, s)
	}
	return ba.copy(b)
}

func (ba *bodyArena) paramList(l []codec.Param) []codec.Param {
	if l == nil {
		return nil
	}
	start := len(ba.params)
	for _, p := range l {
		ba.params = append(ba.params, codec.Param{Name: ba.bytes(p.Name), Value: ba.bytes(p.Value)})
	}
	return ba.params[start:len(ba.params):len(ba.params)]
}

func (ba *bodyArena) copy(b *codec.BodyStructure) *codec.BodyStructure {
	ba.nodes = append(ba.nodes, codec.BodyStructure{})
	c := &ba.nodes[len(ba.nodes)-1]
	*c = codec.BodyStructure{
		Type: ba.bytes(b.Type), Subtype: ba.bytes(b.Subtype),
		Params: ba.paramList(b.Params), ID: ba.bytes(b.ID), Description: ba.bytes(b.Description),
		Encoding: ba.bytes(b.Encoding), Size: b.Size, Lines: b.Lines,
		Extended: b.Extended, MultipartParams: ba.paramList(b.MultipartParams), MD5: ba.bytes(b.MD5),
		Disposition: ba.bytes(b.Disposition), DispositionParams: ba.paramList(b.DispositionParams),
		Location: ba.bytes(b.Location), Extension: ba.bytes(b.Extension),
	}
	if b.Envelope != nil {
		c.Envelope = ba.envelope(b.Envelope)
	}
	if b.Language != nil {
		start := len(ba.strs)
		for _, l := range b.Language {
			ba.strs = append(ba.strs, ba.bytes(l))
		}
		c.Language = ba.strs[start:len(ba.strs):len(ba.strs)]
	}
	if b.Children != nil {
		start := len(ba.kids)
		ba.kids = ba.kids[:start+len(b.Children)]
		for i, ch := range b.Children {
			ba.kids[start+i] = ba.copy(ch)
		}
		c.Children = ba.kids[start : start+len(b.Children) : start+len(b.Children)]
	}
	if b.Body != nil {
		c.Body = ba.copy(b.Body)
	}
	return c
}

// reserve makes room for n more bytes in one allocation.
func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, n)
	}
}

// envelopeSize is the number of bytes envelope copies.
func envelopeSize(e *codec.Envelope) int {
	if e == nil {
		return 0
	}
	n := len(e.Date) + len(e.Subject) + len(e.InReplyTo) + len(e.MessageID)
	for _, l := range [][]codec.Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
		for _, a := range l {
			n += len(a.Name) + len(a.ADL) + len(a.Mailbox) + len(a.Host)
		}
	}
	return n
}

// bodySize is the number of bytes body copies.
func bodySize(b *codec.BodyStructure) int {
	if b == nil {
		return 0
	}
	n := len(b.Type) + len(b.Subtype) + len(b.ID) + len(b.Description) + len(b.Encoding) +
		len(b.MD5) + len(b.Disposition) + len(b.Location) + len(b.Extension) + envelopeSize(b.Envelope)
	for _, l := range [][]codec.Param{b.Params, b.MultipartParams, b.DispositionParams} {
		for _, p := range l {
			n += len(p.Name) + len(p.Value)
		}
	}
	for _, l := range b.Language {
		n += len(l)
	}
	for _, c := range b.Children {
		n += bodySize(c)
	}
	return n + bodySize(b.Body)
}
