package codec

// Decoders of the untagged data responses other than FETCH.

import (
	"bytes"
	"errors"
	"math"

	"github.com/imapkit/imapkit/wire"
)

func (d *Decoder) atomsToEOL(dst []Bytes) ([]Bytes, error) {
	dst = dst[:0]
	for {
		more, err := d.sp()
		if err != nil || !more {
			return dst, err
		}
		a, err := d.t.Atom()
		if err != nil {
			return dst, err
		}
		dst = append(dst, Bytes(a))
	}
}

// astringsToEOL reads *(SP astring) up to the end of the line into dst.
func (d *Decoder) astringsToEOL(dst []Bytes) ([]Bytes, error) {
	for {
		more, err := d.sp()
		if err != nil || !more {
			return dst, err
		}
		a, err := d.astring()
		if err != nil {
			return dst, err
		}
		dst = append(dst, a)
	}
}

func (d *Decoder) capabilityResp() (Response, error) {
	r := &d.fw.caps
	var err error
	r.Caps, err = d.atomsToEOL(r.Caps)
	return r, err
}

func (d *Decoder) enabledResp() (Response, error) {
	r := &d.fw.enabled
	var err error
	r.Caps, err = d.atomsToEOL(r.Caps)
	return r, err
}

func (d *Decoder) flagsResp() (Response, error) {
	r := &d.fw.flags
	if err := d.t.SP(); err != nil {
		return nil, err
	}
	var err error
	r.Flags, err = d.flagList(r.Flags)
	return r, err
}

func (d *Decoder) lsubResp() (Response, error) { return d.listData(true) }
func (d *Decoder) listResp() (Response, error) { return d.listData(false) }

// listData decodes mailbox-list [SP mbox-list-extended].
func (d *Decoder) listData(lsub bool) (Response, error) {
	t := d.t
	r := &d.fw.list
	attrs, ci, ext := r.Attrs[:0], r.ChildInfo[:0], r.Extensions[:0]
	*r = List{LSUB: lsub, Attrs: attrs, ChildInfo: ci, Extensions: ext}
	if err := t.SP(); err != nil {
		return nil, err
	}
	var err error
	if r.Attrs, err = d.flagList(r.Attrs); err != nil {
		return nil, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	if r.Delim, err = d.delim(); err != nil {
		return nil, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	if r.Mailbox, err = d.astring(); err != nil {
		return nil, err
	}
	more, err := d.sp()
	if err != nil || !more {
		return r, err
	}
	err = d.list(false, func() error {
		tag, err := t.AString()
		if err != nil {
			return err
		}
		if err := t.SP(); err != nil {
			return err
		}
		switch {
		case eqFold(tag, "CHILDINFO"):
			return d.list(false, func() error {
				v, err := d.astring()
				r.ChildInfo = append(r.ChildInfo, v)
				return err
			})
		case eqFold(tag, "OLDNAME"):
			return d.list(false, func() error {
				v, err := d.astring()
				r.OldName = v
				return err
			})
		}
		v, err := d.rawValue()
		r.Extensions = append(r.Extensions, ListExtension{Tag: Bytes(tag), Value: v})
		return err
	})
	return r, err
}

// delim reads a hierarchy delimiter: a quoted character or NIL. An empty
// string (some servers) means no hierarchy, as NIL does.
func (d *Decoder) delim() (byte, error) {
	b, isNil, err := d.t.NString()
	if err != nil || isNil || len(b) == 0 {
		return 0, err
	}
	if len(b) != 1 {
		return 0, errSyntax("hierarchy delimiter is not one character")
	}
	return b[0], nil
}

// nsDelim reads the delimiter of a namespace: as delim, except that a
// string of several characters (seen in Trojita's tests) is kept as sent
// in long.
func (d *Decoder) nsDelim() (c byte, long Bytes, err error) {
	b, isNil, err := d.t.NString()
	if err != nil || isNil || len(b) == 0 {
		return 0, nil, err
	}
	if len(b) != 1 {
		return 0, Bytes(b), nil
	}
	return b[0], nil, nil
}

// statusDataResp decodes "STATUS" SP mailbox SP "(" [status-att-list] ")".
func (d *Decoder) statusDataResp() (Response, error) {
	t := d.t
	r := &d.fw.mstatus
	unknown := r.Unknown[:0]
	*r = MailboxStatus{Unknown: unknown}
	if err := t.SP(); err != nil {
		return nil, err
	}
	var err error
	if r.Mailbox, err = d.astring(); err != nil {
		return nil, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	err = d.list(false, func() error {
		name, err := t.Atom()
		if err != nil {
			return err
		}
		if err := t.SP(); err != nil {
			return err
		}
		num := func(item StatusItem, p *uint32) error {
			n, err := d.num32()
			*p = n
			r.Items |= item
			return err
		}
		// UIDNEXT and UIDVALIDITY are nz-numbers (RFC 3501, 9051), but
		// servers do send 0 (WinWebMail, SmarterMail, old Apache James
		// a UIDVALIDITY; some a UIDNEXT for every mailbox). Such an
		// item is taken as not sent: its bit cleared from Items, its
		// value 0 (commands' "unknown"), the rest of the answer kept.
		// Past 32 bits it fails the response as any other item does.
		nz := func(item StatusItem, p *uint32) error {
			if err := num(item, p); err != nil {
				return err
			}
			if *p == 0 {
				r.Items &^= item
			}
			return nil
		}
		num64 := func(item StatusItem, p *uint64) error {
			n, err := t.Number()
			*p = n
			r.Items |= item
			return err
		}
		switch {
		case eqFold(name, "MESSAGES"):
			return num(StatusMessages, &r.Messages)
		case eqFold(name, "RECENT"):
			return num(StatusRecent, &r.Recent)
		case eqFold(name, "UIDNEXT"):
			return nz(StatusUIDNext, &r.UIDNext)
		case eqFold(name, "UIDVALIDITY"):
			return nz(StatusUIDValidity, &r.UIDValidity)
		case eqFold(name, "UNSEEN"):
			return num(StatusUnseen, &r.Unseen)
		case eqFold(name, "DELETED"):
			return num(StatusDeleted, &r.Deleted)
		case eqFold(name, "SIZE"):
			return num64(StatusSize, &r.Size)
		case eqFold(name, "HIGHESTMODSEQ"):
			r.Items |= StatusHighestModSeq
			r.HighestModSeq, err = d.modSeq()
			return err
		case eqFold(name, "APPENDLIMIT"):
			r.Items |= StatusAppendLimit
			if ok, err := t.AcceptNIL(); err != nil || ok {
				return err
			}
			return num64(StatusAppendLimit, &r.AppendLimit)
		case eqFold(name, "MAILBOXID"):
			r.Items |= StatusMailboxID
			r.MailboxID, err = d.objectID()
			return err
		}
		v, err := d.rawValue()
		r.Unknown = append(r.Unknown, ListExtension{Tag: Bytes(name), Value: v})
		return err
	})
	return r, err
}

// numbers decodes *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence ")"] as
// in SEARCH and SORT responses. Gmail and others end with a space. A 0 is
// a syntax error (nzNum32): taken as a number it was "*" in the SeqSet a
// search result becomes, the mailbox's last message.
func (d *Decoder) numbers(dst []uint32) ([]uint32, uint64, error) {
	t := d.t
	dst = dst[:0]
	if cap(dst) > d.maxNumbers {
		dst = nil // grow checks the bound only when the slice is full
	}
	d.dropAt = d.longAt()
	for {
		if t.Offset() > d.dropAt {
			d.dropLong()
		}
		// Fast path: " 123" already buffered.
		if c, ok := t.PeekBuffered(); ok && c == ' ' {
			if err := t.SP(); err != nil {
				return dst, 0, err
			}
			if c, ok := t.PeekBuffered(); ok && c >= '0' && c <= '9' {
				n, err := d.nzNum32()
				if err != nil {
					return dst, 0, err
				}
				if len(dst) == cap(dst) {
					if dst, ok = grow(dst, d.maxNumbers); !ok {
						return dst, 0, d.tooMany(d.maxNumbers)
					}
				}
				dst = append(dst, n)
				continue
			}
			if ok, err := t.AtEOL(); err != nil || ok {
				return dst, 0, err // Gmail's trailing space
			}
		} else {
			more, err := d.sp()
			if err != nil || !more {
				return dst, 0, err
			}
		}
		c, err := t.Peek()
		if err != nil {
			return dst, 0, err
		}
		if c == '(' {
			t.Expect('(')
			name, err := t.Atom()
			if err != nil {
				return dst, 0, err
			}
			if !eqFold(name, "MODSEQ") {
				return dst, 0, d.wordErr(name, "MODSEQ")
			}
			if err := t.SP(); err != nil {
				return dst, 0, err
			}
			ms, err := d.modSeq()
			if err != nil {
				return dst, 0, err
			}
			return dst, ms, t.Expect(')')
		}
		n, err := d.nzNum32()
		if err != nil {
			return dst, 0, err
		}
		if len(dst) == cap(dst) {
			var ok bool
			if dst, ok = grow(dst, d.maxNumbers); !ok {
				return dst, 0, d.tooMany(d.maxNumbers)
			}
		}
		dst = append(dst, n)
	}
}

// grow makes room for one more element in s, a full slice of numbers or
// ranges, doubling its capacity but never past limit; ok is false when s
// already holds limit elements. The bound is checked only here, once per
// growth rather than once per element, which is why the capacity is
// exact (a slice that came in with more capacity than limit is
// reallocated). Doubling allocates twice the final size on the way, where
// append, growing a large slice by a quarter, allocates five times (40
// MiB for 8 MiB of numbers, and a heap to match until the collector runs).
func grow[T any](s []T, limit int) ([]T, bool) {
	if len(s) >= limit {
		return s, false
	}
	n := make([]T, len(s), min(max(2*len(s), 64), limit))
	copy(n, s)
	return n, true
}

// dropLong reads a long SEARCH, SORT or THREAD response on without
// keeping its bytes (see dropAfter): its numbers are converted as they
// come, and its line may be longer than MaxLineLength, the bound on its
// numbers taking that one's place. Its callers call it (testing dropAt,
// inlined) as soon as the response is long, once per response: the
// tokenizer then gives up what was read each time its buffer needs room,
// where the line's length is checked, and in the SkipLine after an
// error. It was called only where the buffered bytes ran out: a line
// already buffered whole (a slow reader behind a fast server) never was,
// and when it failed (past MaxNumbers, a number 0) the SkipLine after it
// counted the whole line against the bound, ErrOutOfStep, where the same
// line read in pieces was skipped in step
// (TestLongAnswerErrorBuffered). A response that fails before
// it is long gives up its bytes on the error path (dropFailed).
func (d *Decoder) dropLong() {
	d.t.Drop()
	d.dropAt = math.MaxInt64
}

// long reports whether the response being decoded has read past dropAfter
// bytes, or half the line bound if less: from there on, a response made
// of numbers gives up the bytes it has read.
func (d *Decoder) long() bool { return d.t.Offset() > d.longAt() }

// longAt is the stream offset past which the response being decoded is
// long (long): dropAfter bytes from its start, or half the line bound if
// less. numbers and threads set dropAt to it when they begin, the one
// place it is needed (not Next, for every response).
func (d *Decoder) longAt() int64 {
	return d.off + int64(min(dropAfter, d.t.MaxLineLength()/2))
}

// tooMany is the error of a response with more than limit numbers (or
// thread members).
func (d *Decoder) tooMany(limit int) error {
	return &wire.LimitError{Offset: d.t.Offset(), Limit: int64(limit), Got: int64(limit) + 1, Err: ErrTooManyNumbers}
}

// giveUpLong gives up the bytes a long response read without keeping
// them (Drop, then Keep: MaxLineLength counts from here), before its
// line's end, where the line's length is checked: a long set read whole
// by seqSet (VANISHED), and a SEARCH, SORT or THREAD answer (CI of stop
// 43: TestLongAnswersDovecot, a THREAD of 118 KB under a 64 KiB bound,
// buffered whole, failed with wire.ErrLineTooLong when dropLong acted
// only where the buffered bytes ran out).
func (d *Decoder) giveUpLong() {
	if d.long() {
		d.t.Drop()
		d.t.Keep()
	}
}

func (d *Decoder) searchResp() (Response, error) {
	r := &d.fw.search
	var err error
	r.Nums, r.ModSeq, err = d.numbers(r.Nums)
	if err != nil {
		d.dropFailed(err)
		return nil, err
	}
	d.giveUpLong()
	return r, nil
}

func (d *Decoder) sortResp() (Response, error) {
	r := &d.fw.sort
	var err error
	r.Nums, r.ModSeq, err = d.numbers(r.Nums)
	if err != nil {
		d.dropFailed(err)
		return nil, err
	}
	d.giveUpLong()
	return r, nil
}

// dropFailed gives up what a SEARCH, SORT or THREAD response that failed
// with err read (Drop: the decoder keeps none of its bytes), so that the
// SkipLine after it (Next) counts only the rest of the line against
// MaxLineLength, as when the error comes past dropAt, where dropLong has
// already given them up. A response that failed early (past a small
// MaxNumbers, a 0 near the start) in a line longer than MaxLineLength had
// the whole line counted: ErrOutOfStep, the connection lost
// (TestLongAnswerEarlyError). An I/O error gives up nothing: Next
// rewinds to the response's start to read it again.
func (d *Decoder) dropFailed(err error) {
	if !isIOError(err) {
		d.t.Drop()
	}
}

// esearchResp decodes "ESEARCH" [search-correlator] [SP "UID"]
// *(SP search-return-data). Gmail sends a bare "* ESEARCH".
func (d *Decoder) esearchResp() (Response, error) {
	t := d.t
	r := &d.fw.esearch
	all, unknown := r.All, r.Unknown[:0]
	all.Reset()
	*r = ESearch{All: all, Unknown: unknown}
	// copied: the tag and the first copied unknown items are copies
	// (see ALL below), of copiedBytes in all.
	copied, copiedBytes := 0, 0
	tagCopied := false
	for {
		more, err := d.sp()
		if err != nil || !more {
			return r, err
		}
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		if c == '(' {
			err := d.list(false, func() error {
				name, err := t.Atom()
				if err != nil {
					return err
				}
				if err := t.SP(); err != nil {
					return err
				}
				v, err := t.AString()
				if eqFold(name, "TAG") {
					r.Tag = Bytes(v)
				}
				return err
			})
			if err != nil {
				return nil, err
			}
			continue
		}
		name, err := t.Atom()
		if err != nil {
			return nil, err
		}
		if eqFold(name, "UID") {
			r.UID = true
			continue
		}
		if err := t.SP(); err != nil {
			return nil, err
		}
		num := func(item ESearchItem, p *uint32, read func() (uint32, error)) error {
			n, err := read()
			*p = n
			r.Has |= item
			return err
		}
		switch {
		case eqFold(name, "MIN"):
			// MIN and MAX are nz-numbers (RFC 4731): a 0 was "*",
			// the last message, in a caller's set. COUNT may be 0.
			err = num(ESearchMin, &r.Min, d.nzNum32)
		case eqFold(name, "MAX"):
			err = num(ESearchMax, &r.Max, d.nzNum32)
		case eqFold(name, "COUNT"):
			err = num(ESearchCount, &r.Count, d.num32)
		case eqFold(name, "ALL"):
			r.Has |= ESearchAll
			// A set of scattered numbers (ESORT's, in sort order,
			// seldom has ranges) may pass the line bound: it is then
			// read in pieces, without keeping its bytes, as numbers
			// does. Either way a long set's bytes are given up once
			// read (it is parsed into ranges of its own), so that what
			// follows has the line bound's room (Keep). What was
			// borrowed from the line before it, the tag and the
			// unknown items, must then be copies: the buffer reuses
			// its room.
			err = d.seqSet(&r.All)
			if tooLong := errors.Is(err, wire.ErrLineTooLong); tooLong || err == nil && d.long() {
				// Each once: an ALL after each unknown item copied
				// them all again (quadratic). And the copies count
				// against the line bound together, which Keep
				// restarts: else a line of unknown items, an ALL
				// after each, was held whole whatever its length
				// (100 MiB of them decoded as one response).
				if !tagCopied {
					r.Tag = Bytes(bytes.Clone(r.Tag))
					copiedBytes += len(r.Tag)
					tagCopied = true
				}
				for ; copied < len(r.Unknown); copied++ {
					u := &r.Unknown[copied]
					u.Tag, u.Value = Bytes(bytes.Clone(u.Tag)), Bytes(bytes.Clone(u.Value))
					copiedBytes += len(u.Tag) + len(u.Value)
				}
				if max := t.MaxLineLength(); copiedBytes > max {
					return nil, &wire.LimitError{Offset: t.Offset(), Limit: int64(max), Got: int64(copiedBytes), Err: wire.ErrLineTooLong}
				}
				if tooLong {
					err = d.seqSetLong(&r.All)
				} else {
					t.Drop()
				}
				t.Keep()
			}
			if err == nil {
				err = noStar(&r.All, "ESEARCH ALL")
			}
		case eqFold(name, "MODSEQ"):
			r.Has |= ESearchModSeq
			r.ModSeq, err = d.modSeq()
		default:
			var v Bytes
			v, err = d.esearchRaw()
			r.Unknown = append(r.Unknown, ListExtension{Tag: Bytes(name), Value: v})
		}
		if err != nil {
			return nil, err
		}
	}
}

// esearchRaw reads the value of an unknown ESEARCH return item raw: one
// value, and the parenthesized lists that follow it, as INCTHREAD's thread
// lists do ("INCTHREAD 666 (8)(2 3 4)((11)(12))", the INTHREAD draft). No
// return item starts with "(", so the lists cannot be the next item.
func (d *Decoder) esearchRaw() (Bytes, error) {
	t := d.t
	m := t.Mark()
	if _, err := d.rawValue(); err != nil {
		return nil, err
	}
	for {
		end := t.Mark()
		if err := d.skipSpaces(); err != nil {
			return nil, err
		}
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		if c != '(' {
			if err := t.Rewind(end); err != nil {
				return nil, err
			}
			break
		}
		if _, err := d.rawValue(); err != nil {
			return nil, err
		}
	}
	v, err := t.Since(m)
	return Bytes(v), err
}

// threadResp decodes "THREAD" *(SP? thread-list) (RFC 5256).
func (d *Decoder) threadResp() (Response, error) {
	r, err := d.threads()
	if err != nil {
		d.dropFailed(err)
		return nil, err
	}
	return r, nil
}

// threads decodes the threads of a THREAD response (threadResp).
func (d *Decoder) threads() (*Thread, error) {
	t := d.t
	r := &d.fw.thread
	r.Threads = r.Threads[:0]
	d.nodes = 0
	d.dropAt = d.longAt()
	for {
		if ok, err := t.AtEOL(); err != nil || ok {
			if ok {
				d.giveUpLong()
			}
			return r, err
		}
		if err := d.skipSpaces(); err != nil {
			return nil, err
		}
		n, err := d.threadList()
		if err != nil {
			return nil, err
		}
		r.Threads = append(r.Threads, n)
	}
}

// threadList decodes "(" (thread-members / thread-nested) ")" into a node.
// A list that starts with nested lists has no known root: it gets a node
// with Num 0 whose children are the nested threads.
func (d *Decoder) threadList() (*ThreadNode, error) {
	t := d.t
	if err := t.Expect('('); err != nil {
		return nil, err
	}
	var root, cur *ThreadNode
	for {
		if t.Offset() > d.dropAt {
			d.dropLong()
		}
		if err := d.skipSpaces(); err != nil {
			return nil, err
		}
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		switch c {
		case ')':
			t.Expect(')')
			if root == nil {
				return nil, errSyntax("empty thread")
			}
			return root, nil
		case '(':
			if root == nil {
				if err := d.node(); err != nil {
					return nil, err
				}
				root = &ThreadNode{}
				cur = root
			}
			child, err := d.threadList()
			if err != nil {
				return nil, err
			}
			cur.Children = append(cur.Children, child)
		default:
			n, err := d.num32()
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, errSyntax("thread member 0 is not a message number")
			}
			if err := d.node(); err != nil {
				return nil, err
			}
			node := &ThreadNode{Num: n}
			if root == nil {
				root = node
			} else {
				cur.Children = append(cur.Children, node)
			}
			cur = node
		}
	}
}

// namespaceResp decodes "NAMESPACE" SP namespace SP namespace SP namespace.
func (d *Decoder) namespaceResp() (Response, error) {
	r := &d.fw.namespace
	*r = Namespace{}
	for i, dst := range []*[]NamespaceDesc{&r.Personal, &r.Other, &r.Shared} {
		if err := d.t.SP(); err != nil {
			if i == 2 && !isIOError(err) {
				// Some servers omit the shared namespaces. (Not after a
				// read error: a deadline before the line's end is no
				// proof that the line ends there.)
				if ok, _ := d.t.AtEOL(); ok {
					return r, nil
				}
			}
			return nil, err
		}
		err := d.list(true, func() error {
			var nd NamespaceDesc
			err := d.list(false, func() error {
				var err error
				if nd.Prefix == nil {
					if nd.Prefix, err = d.nstring(); err != nil {
						return err
					}
					if nd.Prefix == nil {
						nd.Prefix = Bytes{}
					}
					if err := d.t.SP(); err != nil {
						return err
					}
					nd.Delim, nd.LongDelim, err = d.nsDelim()
					return err
				}
				tag, err := d.t.AString()
				if err != nil {
					return err
				}
				if err := d.t.SP(); err != nil {
					return err
				}
				v, err := d.rawValue()
				nd.Extensions = append(nd.Extensions, ListExtension{Tag: Bytes(tag), Value: v})
				return err
			})
			*dst = append(*dst, nd)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// quotaResp decodes "QUOTA" SP quota-root-name SP quota-list.
func (d *Decoder) quotaResp() (Response, error) {
	t := d.t
	r := &d.fw.quota
	res := r.Resources[:0]
	*r = Quota{Resources: res}
	if err := t.SP(); err != nil {
		return nil, err
	}
	var err error
	if r.Root, err = d.astring(); err != nil {
		return nil, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	err = d.list(false, func() error {
		var q QuotaResource
		var err error
		if q.Name, err = d.astring(); err != nil {
			return err
		}
		if err := t.SP(); err != nil {
			return err
		}
		if q.Usage, err = t.Number(); err != nil {
			return err
		}
		if err := t.SP(); err != nil {
			return err
		}
		q.Limit, err = t.Number()
		r.Resources = append(r.Resources, q)
		return err
	})
	return r, err
}

// quotaRootResp decodes "QUOTAROOT" SP mailbox *(SP quota-root-name).
func (d *Decoder) quotaRootResp() (Response, error) {
	r := &d.fw.quotaRoot
	roots := r.Roots[:0]
	*r = QuotaRoot{Roots: roots}
	if err := d.t.SP(); err != nil {
		return nil, err
	}
	var err error
	if r.Mailbox, err = d.astring(); err != nil {
		return nil, err
	}
	r.Roots, err = d.astringsToEOL(r.Roots)
	return r, err
}

// aclResp decodes "ACL" SP mailbox *(SP identifier SP rights).
func (d *Decoder) aclResp() (Response, error) {
	t := d.t
	r := &d.fw.acl
	entries := r.Entries[:0]
	*r = ACL{Entries: entries}
	if err := t.SP(); err != nil {
		return nil, err
	}
	var err error
	if r.Mailbox, err = d.astring(); err != nil {
		return nil, err
	}
	for {
		more, err := d.sp()
		if err != nil || !more {
			return r, err
		}
		var e ACLEntry
		if e.Identifier, err = d.astring(); err != nil {
			return nil, err
		}
		if err := t.SP(); err != nil {
			return nil, err
		}
		if e.Rights, err = d.astring(); err != nil {
			return nil, err
		}
		r.Entries = append(r.Entries, e)
	}
}

// listRightsResp decodes "LISTRIGHTS" SP mailbox SP identifier SP rights
// *(SP rights).
func (d *Decoder) listRightsResp() (Response, error) {
	t := d.t
	r := &d.fw.listRights
	opt := r.Optional[:0]
	*r = ListRights{Optional: opt}
	var err error
	for _, p := range []*Bytes{&r.Mailbox, &r.Identifier, &r.Required} {
		if err := t.SP(); err != nil {
			return nil, err
		}
		if *p, err = d.astring(); err != nil {
			return nil, err
		}
	}
	r.Optional, err = d.astringsToEOL(r.Optional)
	return r, err
}

// myRightsResp decodes "MYRIGHTS" SP mailbox SP rights.
func (d *Decoder) myRightsResp() (Response, error) {
	t := d.t
	r := &d.fw.myRights
	*r = MyRights{}
	var err error
	for _, p := range []*Bytes{&r.Mailbox, &r.Rights} {
		if err := t.SP(); err != nil {
			return nil, err
		}
		if *p, err = d.astring(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// annotationResp decodes the ANNOTATEMORE draft's
// "ANNOTATION" SP mailbox SP entry SP "(" attr SP value ... ")".
func (d *Decoder) annotationResp() (Response, error) {
	t := d.t
	r := &d.fw.annotation
	attrs := r.Attrs[:0]
	*r = Annotation{Attrs: attrs}
	var err error
	for _, p := range []*Bytes{&r.Mailbox, &r.Entry} {
		if err := t.SP(); err != nil {
			return nil, err
		}
		if *p, err = d.astring(); err != nil {
			return nil, err
		}
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	r.Attrs, err = d.pairList(r.Attrs, d.astring)
	return r, err
}

// metadataResp decodes "METADATA" SP mailbox SP (entry-values / entry-list)
// (RFC 5464 section 4.4).
func (d *Decoder) metadataResp() (Response, error) {
	t := d.t
	r := &d.fw.metadata
	entries := r.Entries[:0]
	*r = Metadata{Entries: entries}
	if err := t.SP(); err != nil {
		return nil, err
	}
	var err error
	if r.Mailbox, err = d.astring(); err != nil {
		return nil, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	c, err := t.Peek()
	if err != nil {
		return nil, err
	}
	if c == '(' {
		r.Values = true
		err = d.list(false, func() error {
			var p Param
			var err error
			if p.Name, err = d.astring(); err != nil {
				return err
			}
			if err := t.SP(); err != nil {
				return err
			}
			p.Value, err = d.nstring()
			if err != nil && d.opts.SkipLargeMetadata {
				if size, ok := d.skipLargeLiteral(err); ok {
					r.Skipped = append(r.Skipped, SkippedValue{Name: p.Name, Size: size})
					return nil
				}
			}
			r.Entries = append(r.Entries, p)
			return err
		})
		return r, err
	}
	for {
		e, err := d.astring()
		if err != nil {
			return nil, err
		}
		r.Entries = append(r.Entries, Param{Name: e})
		more, err := d.sp()
		if err != nil || !more {
			return r, err
		}
	}
}

// skipLargeLiteral handles err from reading a string whose literal is
// larger than the tokenizer's MaxStringLiteral (a *wire.LimitError
// wrapping wire.ErrStringTooLarge; the tokenizer put the literal's header
// back): it opens the literal and skips its body, so that the response
// can be read on past it, and returns the literal's size, ok true. Any
// other err gives ok false.
func (d *Decoder) skipLargeLiteral(err error) (size int64, ok bool) {
	var le *wire.LimitError
	if err == nil || !errors.As(err, &le) || !errors.Is(le, wire.ErrStringTooLarge) {
		return 0, false
	}
	info, lerr := d.t.Literal()
	if lerr != nil {
		return 0, false // err stands
	}
	if _, rerr := d.t.LiteralReader(); rerr != nil {
		return 0, false
	}
	return info.Size, true // the next read skips the body
}

// idResp decodes "ID" SP ( "(" *(string SP nstring) ")" / NIL ).
func (d *Decoder) idResp() (Response, error) {
	t := d.t
	r := &d.fw.id
	params := r.Params[:0]
	*r = ID{}
	if err := t.SP(); err != nil {
		return nil, err
	}
	if ok, err := t.AcceptNIL(); err != nil || ok {
		return r, err
	}
	r.Params = params
	if r.Params == nil {
		r.Params = []Param{}
	}
	err := d.list(false, func() error {
		var p Param
		var err error
		if p.Name, err = d.idString(); err != nil {
			return err
		}
		if err := t.SP(); err != nil {
			return err
		}
		p.Value, err = d.idString()
		r.Params = append(r.Params, p)
		return err
	})
	return r, err
}

// idString reads an nstring of an ID response. Some servers send a
// number or an atom instead ("* ID ("v1" 333 "v2" 666x333)"): its bytes
// are the string.
func (d *Decoder) idString() (Bytes, error) {
	c, err := d.t.Peek()
	if err != nil {
		return nil, err
	}
	if c == '"' || c == '{' || c == '~' {
		return d.nstring()
	}
	if ok, err := d.t.AcceptNIL(); err != nil || ok {
		return nil, err
	}
	b, err := d.t.Atom()
	return Bytes(b), err
}

// pairList decodes "(" *(name SP nstring) ")" into dst, reading each name
// with name.
func (d *Decoder) pairList(dst []Param, name func() (Bytes, error)) ([]Param, error) {
	err := d.list(false, func() error {
		var p Param
		var err error
		if p.Name, err = name(); err != nil {
			return err
		}
		if err := d.t.SP(); err != nil {
			return err
		}
		p.Value, err = d.nstring()
		dst = append(dst, p)
		return err
	})
	return dst, err
}

// vanishedResp decodes "VANISHED" [SP "(EARLIER)"] SP known-uids.
func (d *Decoder) vanishedResp() (Response, error) {
	t := d.t
	r := &d.fw.vanished
	uids := r.UIDs
	uids.Reset()
	*r = Vanished{UIDs: uids}
	if err := t.SP(); err != nil {
		return nil, err
	}
	if ok, err := t.Accept('('); err != nil {
		return nil, err
	} else if ok {
		name, err := t.Atom()
		if err != nil {
			return nil, err
		}
		if !eqFold(name, "EARLIER") {
			return nil, d.wordErr(name, "EARLIER")
		}
		r.Earlier = true
		if err := t.Expect(')'); err != nil {
			return nil, err
		}
		if err := t.SP(); err != nil {
			return nil, err
		}
	}
	err := d.seqSet(&r.UIDs)
	if errors.Is(err, wire.ErrLineTooLong) {
		// Scattered expunges (every other message of a large
		// mailbox) past the line bound: read the set in pieces.
		err = d.seqSetLong(&r.UIDs)
	} else if err == nil {
		d.giveUpLong() // a long set that fit
	}
	if err == nil {
		// known-uids: "*" is not allowed (RFC 7162 section 7).
		err = noStar(&r.UIDs, "VANISHED")
	}
	return r, err
}

// node counts one more node of a THREAD response against the bound of an
// eighth of MaxNumbers.
func (d *Decoder) node() error {
	if d.nodes == d.maxNumbers/8 {
		return d.tooMany(d.maxNumbers / 8)
	}
	d.nodes++
	return nil
}

// seqSetLong reads a sequence set too long for the line bound, range by
// range, giving up the bytes it has read (wire.Tokenizer.Drop): the ranges
// are bounded by half of MaxNumbers instead (a range takes the 8 bytes of
// two numbers). It is seqSet's slow path, taken
// after t.SeqSet failed with wire.ErrLineTooLong having consumed nothing.
func (d *Decoder) seqSetLong(s *SeqSet) error {
	t := d.t
	t.Drop()
	s.r, s.unsorted = s.r[:0], false
	if cap(s.r) > d.maxNumbers/2 {
		s.r = nil // grow checks the bound only when the slice is full
	}
	for {
		start, err := d.seqNumber()
		if err != nil {
			return err
		}
		stop := start
		if ok, err := t.Accept(':'); err != nil {
			return err
		} else if ok {
			if stop, err = d.seqNumber(); err != nil {
				return err
			}
		}
		r := normRange(start, stop)
		s.noteOrder(r)
		if len(s.r) == cap(s.r) {
			var ok bool
			if s.r, ok = grow(s.r, d.maxNumbers/2); !ok {
				return d.tooMany(d.maxNumbers / 2)
			}
		}
		s.r = append(s.r, r)
		if ok, err := t.Accept(','); err != nil || !ok {
			return err
		}
	}
}

// seqNumber reads a seq-number: an nz-number, or "*" (0).
func (d *Decoder) seqNumber() (uint32, error) {
	if ok, err := d.t.Accept('*'); err != nil || ok {
		return 0, err
	}
	return d.nzNum32()
}

// noStar refuses a set of a server answer that names messages (ESEARCH's
// ALL, VANISHED, MODIFIED) when it holds "*": the server knows its
// numbers, and "*" is none it matched, expunged or left unmodified. Taken
// as sent it was the mailbox's last message (and, from UID n on, every
// message after it) in a Set a caller acts on, while the set's count and
// bounds could not be known.
func noStar(s *SeqSet, what string) error {
	if s.Dynamic() {
		return errSyntax(what + ` holds "*", which names no message`)
	}
	return nil
}

// nzNum32 reads an nz-number (RFC 9051 section 9), a message number or
// UID: 0 is a syntax error. A 0 taken as a number is "*" in a SeqSet (and
// in commands.Set): the mailbox's last message, which the response did
// not name.
func (d *Decoder) nzNum32() (uint32, error) {
	n, err := d.num32()
	if err == nil && n == 0 {
		err = errSyntax("message number or UID 0 (numbers start at 1)")
	}
	return n, err
}
