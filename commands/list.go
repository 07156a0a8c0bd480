package commands

import (
	"context"
	"errors"
	"io"
	"iter"
	"unsafe"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// ListOptions are the options of List. A nil *ListOptions lists with the
// empty reference and no extension.
type ListOptions struct {
	// Reference is the reference name (imaplib's directory); "" by default.
	Reference string
	// Patterns adds further patterns (LIST-EXTENDED, RFC 5258).
	Patterns []string
	// Selection options (LIST-EXTENDED): SUBSCRIBED, REMOTE,
	// RECURSIVEMATCH, SPECIAL-USE (RFC 6154).
	Subscribed, Remote, RecursiveMatch, SpecialUse bool
	// Return options: SUBSCRIBED, CHILDREN, SPECIAL-USE, MYRIGHTS.
	ReturnSubscribed, ReturnChildren, ReturnSpecialUse, ReturnMyRights bool
	// ReturnStatus asks for the STATUS of every mailbox listed
	// (LIST-STATUS, RFC 5819); 0 for none. Items the server refuses are
	// dropped and reported as Status does it (see ListIter).
	ReturnStatus StatusItem
}

// MailboxInfo is one mailbox of a LIST or LSUB answer.
type MailboxInfo struct {
	// Name is the mailbox's name, decoded: UTF-8. Pass it to the Client's
	// commands (Select, Status, ...) as it is. A server that does not write
	// names in modified UTF-7 ("R&D", raw UTF-8 without UTF8=ACCEPT) lists
	// names that are decoded leniently (codec.DecodeMailboxLenient) and
	// would not encode back to what it sent ("R&-D"), or that are not
	// valid UTF-8 (raw Latin-1 "Caf\xe9", passed through, in UTF-8 mode
	// too) or hold a NUL ("&AAA-"), which the commands refuse from a
	// caller (ErrMailboxName):
	// the Client that listed them remembers (up to 4,096 of them and
	// 1 MiB, names up to 1 KiB) and sends such a Name as the server listed
	// it. A name whose bytes as the server sent them hold a C0 control
	// (CR, LF, tab: in a literal or a quoted string) is never sent: the
	// commands refuse it with ErrMailboxName, as they refuse such a name
	// from a caller. One that only decodes to a control ("a&AAo-b", sent
	// without one) goes as listed while remembered, and is refused once
	// it is not (past those bounds), or when only an OLDNAME, STATUS,
	// NAMESPACE or NOTIFY response gave it. Two names the server lists that
	// decode alike ("R&D" and "R&-D") have the same Name, which reaches
	// the one listed last; Raw tells them apart.
	Name string
	// Delim is the hierarchy delimiter, "" for none (NIL): the one byte
	// the server sent, as it is in Name. A byte past ASCII (0xE9 from a
	// Latin-1 server) is kept as that byte, not valid UTF-8 on its own,
	// as Name keeps such bytes (raw 8-bit bytes pass through decoding, in
	// modified UTF-7 and UTF-8 mode): strings.Split(Name, Delim) splits
	// the name where the server does. Before, it was the rune of that
	// value in UTF-8 ("é", two bytes the name does not hold).
	Delim string
	Attrs []string
	// ChildInfo is the CHILDINFO extended data (e.g. SUBSCRIBED).
	ChildInfo []string
	// OldName is the OLDNAME extended data (RFC 9051); "" when absent.
	OldName string
	// Status is the mailbox's STATUS with ListOptions.ReturnStatus.
	Status *MailboxStatus
	// MyRights is the user's rights on the mailbox (MYRIGHTS, RFC 8440)
	// with ListOptions.ReturnMyRights; "" when the server sent none.
	MyRights string
	// Raw is the name as sent.
	Raw []byte
}

// HasAttr reports whether the mailbox has the attribute (case
// insensitive), e.g. HasAttr(`\Noselect`).
func (m *MailboxInfo) HasAttr(attr string) bool {
	for _, a := range m.Attrs {
		if equalFold(a, attr) {
			return true
		}
	}
	return false
}

// List sends LIST with the pattern ("*" for every mailbox, "%" for one
// level) and returns the mailboxes. Past the session's MaxResultBytes
// (session.Options), it reads on to the end of the answer, dropping the
// rest, and returns the mailboxes it kept with a
// *session.ResultTooLargeError; ListIter keeps nothing and has no bound.
// Any other error also comes with the mailboxes decoded before it, as
// FetchAll's messages do: a LIST line the codec cannot decode (a
// delimiter sent as the quoted string "NIL", as Courier and SmarterMail
// have been reported to do) costs its own mailbox, and the answer's
// other mailboxes come with the error. A pattern or reference that is
// not valid UTF-8 or holds a NUL or another C0 control character is
// ErrMailboxName, before anything is sent.
func (c *Client) List(ctx context.Context, pattern string, opts *ListOptions) ([]*MailboxInfo, error) {
	var out []*MailboxInfo
	for m, err := range c.listIter(ctx, pattern, opts, c.newBound("LIST")) {
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ListIter is List as an iterator: mailboxes come as the server sends
// them, read on the iterating goroutine (session.Command.Pull), for
// accounts with very many. With ReturnStatus, a mailbox is handed out once
// its STATUS (which follows its LIST) has arrived. The STATUS is the
// LIST's by name; in UTF-8 mode, where names are kept as sent, one whose
// name only decodes from modified UTF-7 alike is taken too (a server that
// writes one of the two in UTF-8 and the other in modified UTF-7) until
// one of the exact name comes, which replaces it. The loop body may run
// other commands; after an UNAUTHENTICATE among them, the mailboxes still
// handed out are the previous user's, and their names are not remembered
// to be sent back as listed (a name that does not encode back is then
// ErrMailboxName, as for any name the next user makes up). Breaking out of the loop drops the rest of the answer
// (read in the background).
//
// A server that refuses a STATUS item refuses the whole LIST with BAD
// (Cyrus 3.6: "BAD Invalid Status attributes appendlimit", and the same
// for DELETED). With ReturnStatus, ListIter then does what Status does:
// it asks again without the item the BAD names (without APPENDLIMIT when
// it names none), until the server answers or no such item is left (the
// BAD is then returned as it is). The items dropped are in the Refused of
// every mailbox's Status; a refused APPENDLIMIT is filled from the
// APPENDLIMIT=n capability. When the refused item was the only one, the
// error is a *StatusItemError, unless APPENDLIMIT=n answers it: then the
// LIST asks for STATUS MESSAGES. A LIST is asked again only when none of
// its mailboxes was handed out yet, so that none comes twice.
func (c *Client) ListIter(ctx context.Context, pattern string, opts *ListOptions) iter.Seq2[*MailboxInfo, error] {
	return c.listIter(ctx, pattern, opts, nil)
}

// listIter is ListIter, whose responses count against b (nil for none):
// those past it are dropped, and its error ends the iteration.
func (c *Client) listIter(ctx context.Context, pattern string, opts *ListOptions, b *collectBound) iter.Seq2[*MailboxInfo, error] {
	return func(yield func(*MailboxInfo, error) bool) {
		var o ListOptions
		if opts != nil {
			o = *opts
		}
		var refused StatusItem
		for {
			err := c.listOnce(ctx, pattern, &o, refused, b, yield)
			if err == nil {
				return
			}
			item, name := refusedStatusItem(err, o.ReturnStatus)
			if item == 0 {
				yield(nil, err)
				return
			}
			refused |= item
			o.ReturnStatus &^= item
			if o.ReturnStatus == 0 {
				if _, ok := c.capAppendLimit(); ok && item == StatusAppendLimit {
					o.ReturnStatus = StatusMessages
					continue
				}
				yield(nil, &StatusItemError{Item: item, Name: name, Err: err})
				return
			}
		}
	}
}

// listOnce sends one LIST and hands its mailboxes to yield. It returns the
// server's BAD, having yielded nothing, when the LIST asked for STATUS
// items and was refused before any mailbox was handed out (ListIter asks
// again); otherwise nil, any error having gone to yield. refused is set in
// the Refused of every mailbox's Status.
func (c *Client) listOnce(ctx context.Context, pattern string, o *ListOptions, refused StatusItem, b *collectBound, yield func(*MailboxInfo, error) bool) error {
	p, err := c.s.Start(ctx, c.bound(ctx, c.listCommand(pattern, o)))
	if err != nil {
		yield(nil, err)
		return nil
	}
	// The user the LIST is answered for: UNAUTHENTICATE runs alone, so
	// the count cannot change before the LIST ends, but the loop body
	// may run one while the answer is still handed out (listInfo).
	gen := c.s.Unauthentications()
	waited := false
	defer func() {
		if !waited {
			abandon(p)
		}
	}()
	utf8 := c.utf8()
	var held *MailboxInfo // waits for its STATUS
	heldLoose := false    // held.Status paired by decoded names only (listedSameDecoded)
	yielded := false
	for {
		if err := ctx.Err(); err != nil {
			yield(nil, err) // Next would hand out what is queued first
			return nil
		}
		item, err := p.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			yield(nil, err)
			return nil
		}
		if !b.keep(max(item.Size, listInfoSize(item.Response))) {
			continue
		}
		switch r := item.Response.(type) {
		case *codec.List:
			m := c.listInfo(r, utf8, gen)
			if held != nil {
				yielded = true
				if !yield(held, nil) {
					return nil
				}
			}
			held, heldLoose = m, false
		case *codec.MyRights:
			if held != nil && listedSame(held, decodeMailbox(r.Mailbox, utf8)) {
				held.MyRights = string(r.Rights)
			}
		case *codec.MailboxStatus:
			if held == nil {
				break
			}
			exact := listedSame(held, decodeMailbox(r.Mailbox, utf8))
			// In UTF-8 mode names are kept as sent, yet a server may
			// write the LIST in UTF-8 and its STATUS in modified UTF-7
			// ("aé", "a&AOk-"), or the other way: the STATUS is the
			// LIST's by their decoded names, but only while no STATUS
			// of the exact name came, and it gives way to one that
			// does ("R&-D" after the LIST of "R&D" may be another
			// mailbox's notification; TestListStatusUTF8MixedEncodings).
			loose := !exact && utf8 && (held.Status == nil || heldLoose) && listedSameDecoded(held, r.Mailbox)
			if !exact && !loose {
				break
			}
			st := codec.CloneResponse(r).(*codec.MailboxStatus)
			if held.Status == nil || exact && heldLoose {
				held.Status = c.listStatus(held.Name, st, refused)
				heldLoose = loose
			} else {
				c.mergeStatus(held.Status, st) // a NOTIFY notification's besides
			}
		}
	}
	waited = true
	// List's bound takes in the session's own on the answer's queue.
	if _, err := p.Wait(ctx); b.absorb(err) != nil { // err unchanged
		if o.ReturnStatus != 0 && !yielded && errors.Is(err, session.ErrBad) {
			return err
		}
		if held != nil && !yield(held, nil) {
			return nil
		}
		yield(nil, err)
		return nil
	}
	if held != nil && !yield(held, nil) {
		return nil
	}
	if err := b.err(); err != nil {
		yield(nil, err)
	}
	return nil
}

// listedSameDecoded reports whether raw, a STATUS's mailbox name as
// sent, names m, the mailbox of a LIST, once both names are decoded from
// modified UTF-7 (leniently; a name in UTF-8 is unchanged): in UTF-8 mode
// a server may write one in UTF-8 and the other in modified UTF-7. False
// when neither name changes by decoding (the names as sent said it all).
func listedSameDecoded(m *MailboxInfo, raw []byte) bool {
	a, b := codec.DecodeMailboxLenient(m.Raw), codec.DecodeMailboxLenient(raw)
	if a == string(m.Raw) && b == string(raw) {
		return false
	}
	d := &MailboxInfo{Name: a, Delim: m.Delim}
	return listedSame(d, b)
}

// listStatus is a mailbox's STATUS from a LIST-STATUS answer, with the
// items ListIter dropped and a refused APPENDLIMIT filled from the
// APPENDLIMIT=n capability.
func (c *Client) listStatus(name string, st *codec.MailboxStatus, refused StatusItem) *MailboxStatus {
	ms := &MailboxStatus{Name: name, MailboxStatus: *st, Refused: refused}
	if refused&StatusAppendLimit != 0 {
		if n, ok := c.capAppendLimit(); ok {
			ms.AppendLimit = n
			ms.Items |= StatusAppendLimit
		}
	}
	return ms
}

// abandon ends a pulled command whose caller stops before its answer
// does: what is left is read and dropped in the background (Wait with a
// done context).
func abandon(p *session.Pending) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Wait(ctx)
}

func (c *Client) listCommand(pattern string, opts *ListOptions) *session.Command {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	var sel, ret []string
	add := func(l *[]string, ok bool, name string) {
		if ok {
			*l = append(*l, name)
		}
	}
	add(&sel, o.Subscribed, "SUBSCRIBED")
	add(&sel, o.Remote, "REMOTE")
	add(&sel, o.RecursiveMatch, "RECURSIVEMATCH")
	add(&sel, o.SpecialUse, "SPECIAL-USE")
	add(&ret, o.ReturnSubscribed, "SUBSCRIBED")
	add(&ret, o.ReturnChildren, "CHILDREN")
	add(&ret, o.ReturnSpecialUse, "SPECIAL-USE")
	add(&ret, o.ReturnMyRights, "MYRIGHTS")
	return &session.Command{Name: "LIST", Pull: true, Args: func(e *wire.Encoder) {
		if len(sel) > 0 {
			e.SP().List(func(e *wire.Encoder) { atoms(e, sel) })
		}
		e.SP()
		c.listName(e, o.Reference, true).SP()
		if len(o.Patterns) > 0 {
			e.List(func(e *wire.Encoder) {
				c.listName(e, pattern, false)
				for _, p := range o.Patterns {
					c.listName(e.SP(), p, false)
				}
			})
		} else {
			c.listName(e, pattern, false)
		}
		if len(ret) > 0 || o.ReturnStatus != 0 {
			e.SP().Atom("RETURN").SP().List(func(e *wire.Encoder) {
				atoms(e, ret)
				if o.ReturnStatus != 0 {
					if len(ret) > 0 {
						e.SP()
					}
					e.Atom("STATUS").SP()
					encodeStatusItems(e, o.ReturnStatus)
				}
			})
		}
	}}
}

// listName writes a LIST or LSUB reference (an astring) or pattern (a
// string, which may hold the wildcards); a name that is not valid UTF-8
// or holds a NUL or another C0 control character fails the command
// (ErrMailboxName), as a mailbox
// argument does (encodeMailbox): converted, "Old\xff*" would have listed
// "Old\uFFFD*".
func (c *Client) listName(e *wire.Encoder, name string, reference bool) *wire.Encoder {
	enc, err := c.encodeMailbox(name)
	if err != nil {
		return e.Fail("Mailbox", err)
	}
	if reference {
		return e.AString(enc)
	}
	return e.String(enc)
}

// LSub sends LSUB (IMAP4rev1; imaplib's lsub): the subscribed mailboxes.
// IMAP4rev2 servers may not have it; use List with Subscribed there. As
// with List, the mailboxes decoded come with an error that ends an answer
// the server completed (a line that could not be decoded, say).
func (c *Client) LSub(ctx context.Context, reference, pattern string) ([]*MailboxInfo, error) {
	gen := c.s.Unauthentications() // changed by the end of the LSUB: its names not kept
	r, err := c.run(ctx, &session.Command{Name: "LSUB", Args: func(e *wire.Encoder) {
		c.listName(e.SP(), reference, true).SP()
		c.listName(e, pattern, false)
	}})
	if err != nil {
		if r == nil {
			return nil, err
		}
		return c.mailboxInfos(r.Data, gen), err
	}
	return c.mailboxInfos(r.Data, gen), nil
}

// mailboxInfos copies an LSUB's answer, data, read while the session's
// Unauthentications count was gen (listInfo).
func (c *Client) mailboxInfos(data []codec.Response, gen uint32) []*MailboxInfo {
	var out []*MailboxInfo
	byName := map[string]*MailboxInfo{}
	var statuses []*codec.MailboxStatus
	for _, d := range data {
		switch d := d.(type) {
		case *codec.List:
			m := c.listInfo(d, c.utf8(), gen)
			out = append(out, m)
			byName[m.Name] = m
		case *codec.MailboxStatus:
			statuses = append(statuses, d)
		}
	}
	for _, st := range statuses {
		if m := byName[c.decodeMailbox(st.Mailbox)]; m != nil {
			m.Status = c.mergeStatus(m.Status, st)
		}
	}
	return out
}

// listInfoSize returns about what listInfo allocates for r, a LIST (0 for
// any other response): a copy can take eight times its bytes on the wire
// (a LIST of many one-letter attributes).
func listInfoSize(r codec.Response) int64 {
	d, ok := r.(*codec.List)
	if !ok {
		return 0
	}
	n := int64(unsafe.Sizeof(MailboxInfo{})) + 16*int64(len(d.Attrs)+len(d.ChildInfo)) +
		3*int64(len(d.Mailbox)) + 2*int64(len(d.OldName)) // Name (UTF-8 may take more bytes) and Raw
	// A string takes a block of 16 bytes at least (the race detector
	// turns off the allocator's packing of small ones).
	for _, a := range d.Attrs {
		n += max(16, block(len(a)))
	}
	for _, a := range d.ChildInfo {
		n += max(16, block(len(a)))
	}
	return n + n/8 // the allocator's rounding
}

// listInfo is the package's listInfo for c: a name that does not go back
// as what the server sent, or that a command would refuse from a caller,
// is remembered (rawNames), in UTF-8 mode too. gen is the session's
// Unauthentications count when the LIST (or LSUB) was answered: a name
// handed out after an UNAUTHENTICATE ran since (a ListIter loop body
// may run one) is the previous user's, and is not remembered for the
// next one.
func (c *Client) listInfo(d *codec.List, utf8 bool, gen uint32) *MailboxInfo {
	m := listInfo(d, utf8)
	if now := c.s.Unauthentications(); now == gen {
		c.names.note(m.Name, d.Mailbox, utf8, now)
	}
	return m
}

// listInfo copies a LIST response.
func listInfo(d *codec.List, utf8 bool) *MailboxInfo {
	m := &MailboxInfo{Name: decodeMailbox(d.Mailbox, utf8), Attrs: strs(d.Attrs),
		ChildInfo: strs(d.ChildInfo), Raw: d.Mailbox.Clone()}
	if d.Delim != 0 {
		m.Delim = string([]byte{d.Delim}) // the byte as sent: see MailboxInfo.Delim
	}
	if d.OldName != nil {
		m.OldName = decodeMailbox(d.OldName, utf8)
	}
	return m
}

func atoms(e *wire.Encoder, l []string) {
	for i, a := range l {
		if i > 0 {
			e.SP()
		}
		e.Atom(a)
	}
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
