package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// FetchItems says what Fetch asks for; set the attributes wanted. The
// zero value (or nil) asks for UID alone: FETCH needs at least one item.
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
	SaveDate      bool // RFC 8514 SAVEDATE
	// GmailMsgID, GmailThreadID and GmailLabels ask for Gmail's
	// X-GM-MSGID, X-GM-THRID and X-GM-LABELS (X-GM-EXT-1). They and
	// SaveDate come in Message.Extra.
	GmailMsgID, GmailThreadID, GmailLabels bool
	// Sections are the body sections to fetch, streamed in order.
	Sections []FetchSection
	// Raw is appended to the items as written, e.g. "X-GUID" (Dovecot) or,
	// alone, a macro such as "FAST" or a whole list "(FLAGS RFC822)". The
	// attributes the codec knows come in their Message fields (those of
	// X-GM-LABELS in Message.Extra); the others in Message.Unknown.
	Raw string
	// ChangedSince adds the CHANGEDSINCE modifier (RFC 7162): only
	// messages whose mod-sequence is higher. At most 2^63-1: past it
	// Fetch yields an error wrapping ErrModSeq, nothing sent.
	ChangedSince uint64
	// Vanished adds the VANISHED modifier (RFC 7162 QRESYNC, UID sets
	// only, with ChangedSince): expunged UIDs come to OnVanished, as
	// VANISHED (EARLIER).
	Vanished bool
	// OnVanished receives the UIDs of the VANISHED responses the FETCH
	// gets, on the iterating goroutine, in order with the messages.
	// earlier tells the two kinds apart: true for VANISHED (EARLIER),
	// history (messages expunged before, the answer to the Vanished
	// modifier), which changes no message count; false for a live
	// VANISHED, messages expunged now, during a UID FETCH, which
	// renumbers the mailbox and lowers its count (session.Exists) as
	// EXPUNGE does. The session's unsolicited stream
	// (session.Options.OnUnsolicited) gets a live one too. uids never
	// holds "*": a VANISHED with one is a *codec.DecodeError. Of a
	// VANISHED (EARLIER), uids holds only UIDs of the command's set
	// (RFC 7162 section 3.2.6): what a server names past it is left
	// out (with the set "$", SEARCHRES, it is handed on whole): the
	// set as Fetch was called, which Fetch copies (the loop body may
	// reuse the caller's Set, whose memory the copy passed to Fetch
	// shares, for other UIDs). A
	// range of the set that an earlier VANISHED (EARLIER) of the same
	// command covered whole is not handed on again, and one left with
	// nothing is not handed on: a server's "1:4294967295" sent again
	// and again hands the set on once. A part of a range of the set
	// that a VANISHED (EARLIER) covers only partly is handed on each
	// time one names it, whatever came before ("3:5" after "1:10", of a
	// set 1:10, is handed on again).
	OnVanished func(uids codec.SeqSet, earlier bool)
	// BufferMax is the size up to which a body section is kept whole in
	// memory of its own (copied, or read whole from the connection when
	// it is streamed), so that it can still be read after the next section
	// was asked for or the iteration moved on. Larger sections are read in
	// place, without a copy: from the FETCH response (up to the tokenizer's
	// string limit) or streamed from the connection, and only until then
	// (ErrSectionGone). 0 means BufferedSectionMax, a negative value keeps
	// no section. Under Borrow it applies to streamed sections only. A
	// streamed section kept is read into memory that grows as its bytes
	// arrive (at most 1 MiB before any), not at the size the server
	// announced.
	BufferMax int
	// Borrow lends each Message instead of handing out a copy of its
	// values: nothing is copied. The Message is valid only until the
	// iteration moves on (the loop body returns or breaks, or the
	// iteration ends); the same *Message is then reused for the next
	// message. Until then its Envelope, BodyStructure, BinarySizes and
	// Unknown are the decoder's own values (their codec.Bytes point into
	// the connection's buffer); after, they are overwritten, and so are
	// the Flags slice, the Extra and its GmailLabels slice, the Sections
	// handed out and their Part. The strings (the elements of Flags and
	// of GmailLabels, EmailID, ThreadID, Preview, a Section's Spec and
	// Specifier) are copies or interned: they stay valid. Message.Clone returns a copy that stays valid. A body section
	// that came whole with its FETCH response is read in place, whatever
	// its size, until the iteration moves on; a streamed section is read
	// as without Borrow. The loop body may still run other commands: the
	// session keeps the held response valid meanwhile. FetchAll ignores
	// Borrow.
	Borrow bool

	// bound is FetchAll's bound, which takes in the session's own on the
	// answer's queue (collectBound.absorb); nil for Fetch.
	bound *collectBound
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
		if p <= 0 || int64(p) > math.MaxUint32 {
			return fmt.Errorf("commands: part number %d (1 to 4294967295)", p)
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
	add(it.SaveDate, "SAVEDATE")
	add(it.GmailMsgID, "X-GM-MSGID")
	add(it.GmailThreadID, "X-GM-THRID")
	add(it.GmailLabels, "X-GM-LABELS")
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

// BufferedSectionMax is the default size up to which a body section is
// copied and kept whole, so that it can still be read after the iteration
// moves on; larger sections are read from the connection's memory or
// streamed, and are gone once the next section is asked for (see
// FetchItems.BufferMax).
const BufferedSectionMax = 4096

// Fetch fetches the items of the messages in set (FETCH, or UID FETCH for
// a UID set) and returns an iterator of the messages as they arrive, read
// on the iterating goroutine (session.Command.Pull). An empty set yields
// nothing and sends nothing.
//
// Each FETCH response is one Message, holding the items it carried: a
// server may split a message's items over several responses, and may send
// a change another client makes meanwhile (new flags) as a response of its
// own, for a message the loop has seen or will see; such a Message has
// only those items (a nil Envelope, UID 0 unless the server sent it).
//
// Body sections come from Message.NextSection, in the order the server
// sent them: those up to the tokenizer's string limit
// (wire.TokenizerOptions.MaxStringLiteral, 64 KiB by default) arrive whole with
// their FETCH response, larger ones are streamed from the connection. They
// are the sections the server sent, not only those asked for: a broken or
// hostile server may send another (BODY[HEADER] for BODY[]) or one twice;
// Section.Answers tells whether a section is the one asked for. What
// the loop body does not read is skipped when it moves on. Breaking out of
// the loop drops the rest of the answer (read in the background). An error
// ends the iteration with a nil message; a tagged NO or BAD is a
// *session.StatusError. When ctx ends, the iteration ends with its error,
// and a streamed section's Read returns it too (see Section.Read).
//
// The loop body may run other commands on the Client, even while it holds
// a section: the session then reads what is left of the section into
// memory (within session.Options.MaxResultBytes) and goes on, and the
// messages that follow are queued. Servers answer in order (Dovecot and
// Cyrus do, for a STORE too), so such a command returns only once the
// whole rest of the FETCH has arrived, queued: past MaxResultBytes the
// loop then ends with a *session.ResultTooLargeError whose Queued is set.
// To change the messages a long loop sees, collect their UIDs and run one
// Store after it (one command, not one per message). While a FETCH by
// sequence numbers runs, a command during which the server may send
// EXPUNGE (anything but FETCH, STORE and SEARCH by sequence numbers, RFC
// 9051 section 5.5) cannot start: it waits until the rest of the answer
// has been read, queued in memory within the same bound. Use a UID set
// for long fetches that run other commands on the side.
//
// A set too long for one command line is fetched in parts
// (Client.SetMaxSetLength), four of them sent ahead of the one read: a
// command the loop body runs then waits for their answers too, each
// queued within the same bound. On sequence numbers, a message expunged
// before a part is answered (by a command another goroutine ran in
// between) ends the iteration with an error wrapping ErrRenumbered before
// anything of that part is yielded; a fetch that may set \Seen (a
// FetchSection with SetSeen, or FetchItems.Raw) sends such parts one after
// the other instead, so that none is answered for other messages. An
// EXPUNGE read during the answer to a FETCH by sequence numbers (RFC 9051
// section 5.5 forbids it: the numbers after it would name other
// messages, one number yielded twice) ends the iteration with an error
// wrapping ErrRenumbered, before the first message read after it or at
// the end: the messages read before it are yielded, however far the
// session has read on while the loop body ran.
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
		if err := checkModSeq("FetchItems.ChangedSince", it.ChangedSince); err != nil {
			yield(nil, err)
			return
		}
		if it.Vanished && it.ChangedSince == 0 {
			// Sent as CHANGEDSINCE 0, which RFC 7162 has no room for.
			yield(nil, errors.New("commands: FetchItems.Vanished needs ChangedSince (a mod-sequence, from 1)"))
			return
		}
		if it.Vanished {
			if err := c.needEnabled("QRESYNC", "FetchItems.Vanished"); err != nil {
				yield(nil, err)
				return
			}
		}
		if c.holdsNone(ctx, set) {
			return // no message: nothing to send
		}
		run := c.newSplitRun(ctx, set, set.name("FETCH"))
		if len(run.parts) > 1 && (set.UID || !it.setsSeen()) {
			c.fetchParts(ctx, run, &it, yield)
			return
		}
		for i, part := range run.parts {
			if err := run.check(i); err != nil {
				yield(nil, err)
				return
			}
			// Started through run.command: on sequence numbers, a
			// command that waited for its turn after an EXPUNGE the
			// session read since the call is not sent (ErrRenumbered).
			p, err := c.s.Start(ctx, run.command(ctx, c.fetchCommand(part, &it)))
			if errors.Is(err, session.ErrNoMessages) {
				return // "*" named no message at the command's turn: nothing sent
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !c.fetchPart(ctx, part, &it, p, nil, yield) {
				return
			}
		}
	}
}

// A started is the outcome of starting a part of a Fetch ahead.
type started struct {
	p   *session.Pending
	err error
}

// errPartStopped is the outcome of a part of a Fetch not started because
// the iteration ended first; no caller sees it.
var errPartStopped = errors.New("commands: part not started")

// fetchAhead is how many parts of a long set Fetch sends ahead of the one
// it reads.
const fetchAhead = 4

// setsSeen tells whether fetching it may set \Seen: a section without
// PEEK, or raw items (RFC822 and RFC822.TEXT do). Fetch sends the parts
// of a long set of sequence numbers one after the other when it does.
func (it *FetchItems) setsSeen() bool {
	if it.Raw != "" {
		return true
	}
	for _, s := range it.Sections {
		if s.SetSeen {
			return true
		}
	}
	return false
}

// fetchParts is Fetch of a long set, in the parts of run: fetchAhead
// parts are sent ahead of the one read, so that the server has the next
// ones as soon as it is done with one (BenchmarkFetchLongSetLatency: 15
// parts over a link with a 10 ms round trip took 182 ms one after the
// other, 50 ms so). Each part is started from a goroutine of its own: the
// session may make it wait (behind a command that runs alone, queued by
// another goroutine), and the loop must go on reading meanwhile. The parts
// ahead bound what can be queued when the loop body runs a command
// (Fetch's doc): the answers of fetchAhead+1 commands.
//
// A part of sequence numbers sent ahead may reach the server after a
// message was expunged (by a command another goroutine ran in between:
// servers send no EXPUNGE during a FETCH by sequence numbers, RFC 9051
// section 5.5), and then fetch other messages than those meant. Its
// answer is checked before anything of it is yielded: once the session
// has seen a message expunged since the first part was started
// (run.check), the iteration ends with ErrRenumbered instead. Fetch sends
// such parts ahead only when fetching does not set \Seen (setsSeen),
// so that a part answered for the wrong messages has changed nothing.
func (c *Client) fetchParts(ctx context.Context, run *splitRun, it *FetchItems, yield func(*Message, error) bool) {
	parts := run.parts
	// queue holds the parts started and not read yet, in order; each is
	// started once the one before it has been sent, so that they go in
	// order.
	var queue []chan started
	var last chan struct{} // closed once the part started last is sent (or failed)
	var stop atomic.Bool   // the iteration ended: start no more parts
	start := func(part Set) {
		ch, prev, sent := make(chan started, 1), last, make(chan struct{})
		queue, last = append(queue, ch), sent
		go func() {
			defer close(sent)
			if prev != nil {
				<-prev
			}
			if stop.Load() {
				ch <- started{nil, errPartStopped}
				return
			}
			p, err := c.s.Start(ctx, run.command(ctx, c.fetchCommand(part, it)))
			ch <- started{p, err}
		}()
	}
	defer func() {
		// The parts started ahead and not read: not sent, when their turn
		// had not come, or dropped (their answers read in the
		// background). A part the session is sending is not stopped by
		// a context of its own: cancelled in the middle of its write, it
		// would abort the session (TestFetchPartsBreak); it waits for its
		// turn within ctx, as it would have had the loop gone on.
		stop.Store(true)
		for _, ch := range queue {
			if st := <-ch; st.err == nil {
				abandon(st.p)
			}
		}
	}()
	next := 0
	for ; next < len(parts) && next < fetchAhead; next++ {
		start(parts[next])
	}
	for i := range parts {
		if len(queue) == 0 {
			// Part i was not started: the numbers changed while an
			// earlier part was read (its answer came before the change,
			// and was yielded whole).
			if err := run.check(i); err != nil {
				yield(nil, err)
				return
			}
			start(parts[next])
			next++
		}
		st := <-queue[0]
		queue = queue[1:]
		if errors.Is(st.err, session.ErrNoMessages) {
			return // "*" named no message at the part's turn: nothing sent
		}
		if st.err != nil {
			yield(nil, st.err)
			return
		}
		// A part is read even when the numbers are known to have changed
		// already: its check (at its first response, its end, or with its
		// NO or BAD) tells, whenever the session read the EXPUNGE. No
		// more parts are started then.
		if next < len(parts) && run.check(i) == nil {
			start(parts[next])
			next++
		}
		// At the part's first response, as the session read it
		// (Item.Renumbered): an EXPUNGE read after it, while the loop
		// body ran, does not end the part (it did, and whether it had
		// been read yet depended on the scheduling). A part is put in
		// flight only while the count is the call's (run.command), so
		// RenumberedAt differs from the mark only for a part the
		// session let through, which the check refuses as before.
		// A part with no message to check (an empty answer, a NO) is
		// checked at its end, called after its Wait: whether anything
		// was renumbered while it was in flight, up to its tagged
		// response (RenumberedInFlight), not by now.
		p := st.p
		check := func(read, renumbered bool) error {
			if p.RenumberedAt() == run.mark && (read && !renumbered || !read && !p.RenumberedInFlight()) {
				return nil
			}
			return run.check(i)
		}
		if !c.fetchPart(ctx, parts[i], it, p, check, yield) {
			return
		}
	}
}

// fetchCommand is the FETCH command of Fetch for set (the whole set, or
// a part of a long one).
func (c *Client) fetchCommand(set Set, it *FetchItems) *session.Command {
	return c.target(&session.Command{
		Name: set.name("FETCH"),
		Args: func(e *wire.Encoder) { set.encode(e); it.encode(e, set.UID) },
		Pull: true,
		// A body that comes before its UID is not this command's
		// (session.Command.NoBodies): with Raw items, who knows.
		NoBodies: len(it.Sections) == 0 && it.Raw == "",
	}, &set, "")
}

// fetchPart runs one FETCH command of Fetch (the whole set, or a part of a
// long one; p is the command, started already) and yields
// its messages; it returns false when the iteration ended (the loop broke
// out, or an error was yielded). check, when not nil, runs once the first
// response of the answer has been read, before anything is yielded (read
// set, and that response's Item.Renumbered), or at the end of an answer
// that had none (read false): its error ends the iteration instead. Flags,
// not the item's address: a pointer to the loop's item makes it escape,
// one allocation a message (BenchmarkFetchMetadataVsCodec: 3 a message
// owned, 1 borrowed, where 2 and 0 are the measure).
func (c *Client) fetchPart(ctx context.Context, set Set, it *FetchItems, p *session.Pending, check func(read, renumbered bool) error, yield func(*Message, error) bool) bool {
	fi := &fetchIter{ctx: ctx, onVanished: it.OnVanished, bufferMax: int64(it.BufferMax), borrow: it.Borrow}
	if it.BufferMax == 0 {
		fi.bufferMax = BufferedSectionMax
	}
	fi.p = p
	// A set holding "*" is not cut to: "*" is the largest UID in use,
	// so "101:*" is 94:101 when that is 94, which codec.SeqSet's
	// "every n >= 101" does not hold.
	// Copied (and sorted, once): a Set shares its memory when copied,
	// and the loop body may reuse the caller's for other UIDs before a
	// VANISHED (EARLIER) comes (TestFetchVanishedCutToTheSetAsCalled).
	// One copy a command, only for an OnVanished, which alone reads it:
	// the sorted copy of a set not canonical, else a Clone.
	if set.UID && !set.Saved && !set.Nums.Dynamic() && fi.onVanished != nil {
		asked, copied := set.Nums.Canonical()
		if !copied {
			asked = asked.Clone()
		}
		fi.asked, fi.cut = asked, true
	}
	// By sequence numbers, an EXPUNGE read during the answer (RFC 9051
	// section 5.5 forbids it) makes the numbers after it name other
	// messages: ended with ErrRenumbered, checked for each message as the
	// session read it (Item.Renumbered: a message read before the
	// EXPUNGE is yielded, however far the reader has gone on since) and,
	// after the last, for the whole answer.
	renumbered := func() error {
		if set.UID {
			return nil
		}
		return c.renumberedDuring(p, "FETCH")
	}
	defer fi.close()
	var cur *Message
	// A loop body that panics leaves cur handed out: its sections end
	// here too (ErrSectionGone), or a kept one read in place would read
	// whatever the decoder's memory holds next.
	defer func() {
		if cur != nil {
			cur.drop()
		}
	}()
	for {
		if cur != nil {
			if err := cur.skip(); err != nil {
				yield(nil, err)
				return false
			}
			cur = nil
		}
		item, f, err := fi.next()
		if err == io.EOF {
			break
		}
		if err == nil && check != nil {
			err, check = check(true, item.Renumbered), nil
		}
		if err == nil && item.Renumbered && !set.UID {
			err = errRenumbered("FETCH")
		}
		if err != nil {
			yield(nil, err)
			return false
		}
		cur = fi.message(item, f)
		if !yield(cur, nil) {
			cur.drop()
			cur = nil
			return false
		}
	}
	fi.waited = true
	_, err := p.Wait(ctx)
	if err = it.bound.absorb(err); err != nil {
		if check != nil {
			// A part refused for numbers past the end, say: the
			// renumbering is the cause.
			if cerr := check(false, false); cerr != nil {
				err = fmt.Errorf("%w: %w", cerr, err)
			}
		}
		if tooLarge(err) && !errors.Is(err, ErrRenumbered) {
			// Past the session's bound on the answer's queue (the
			// reader ahead of the loop): the messages yielded may
			// name other messages now too.
			if rerr := renumbered(); rerr != nil {
				err = joinBound(rerr, err)
			}
		}
		yield(nil, err)
		return false
	}
	if check != nil {
		// No response came to this part: the session may have taken its
		// answer for other messages than the part's (renumbered) as
		// unsolicited.
		if err := check(false, false); err != nil {
			yield(nil, err)
			return false
		}
	}
	if err := renumbered(); err != nil {
		// After the last message: the numbers yielded name other
		// messages now.
		yield(nil, err)
		return false
	}
	return true
}

// renumberedDuring returns an error wrapping ErrRenumbered when the
// session read an EXPUNGE (or a VANISHED) while p, a command by sequence
// numbers, was in flight: none may come then (RFC 9051 section 5.5; the
// session runs no command that may see one beside it), and the numbers of
// its responses after it name other messages than those before it (a
// "* 1 EXPUNGE" between two "* 1 FETCH": two messages numbered 1).
func (c *Client) renumberedDuring(p *session.Pending, cmd string) error {
	if !p.RenumberedInFlight() {
		return nil
	}
	return errRenumbered(cmd)
}

// errRenumbered is renumberedDuring's error, for cmd.
func errRenumbered(cmd string) error {
	return fmt.Errorf("%w: an EXPUNGE during the answer to %s (RFC 9051 section 5.5)", ErrRenumbered, cmd)
}

// FetchAll is Fetch collecting the messages, for small answers without
// body sections (the sections of the messages are skipped). It ignores
// FetchItems.Borrow: the messages are copies. Past the session's
// MaxResultBytes (session.Options), counted for each message as the larger
// of the bytes received (session.Item.Size) and the memory its copy takes,
// it reads on to the end of the answer, dropping the rest, and returns the
// messages it kept with a *session.ResultTooLargeError; Fetch keeps nothing
// and has no bound.
func (c *Client) FetchAll(ctx context.Context, set Set, items *FetchItems) ([]*Message, error) {
	var it FetchItems
	if items != nil {
		it = *items
	}
	it.Borrow = false
	b := c.newBound("FETCH")
	it.bound = b
	var out []*Message
	// A message is complete (its size known) once the iteration has
	// moved past it: each counts when the next arrives, and the last at
	// the end, or before the session's own bound is taken in (the
	// responses it dropped came after it): counted is how many were.
	counted := 0
	count := func() {
		if n := len(out); n > counted {
			counted = n
			if !b.keep(int64(out[n-1].size)) {
				out, counted = out[:n-1], n-1
			}
		}
	}
	b.before = count
	for m, err := range c.Fetch(ctx, set, &it) {
		if err != nil {
			// ErrRenumbered, say: what was kept past the bound is
			// incomplete too.
			count()
			return out, joinBound(err, b.err())
		}
		count()
		out = append(out, m)
	}
	count()
	return out, b.err()
}

// fetchIter is one Fetch iteration: it pulls the command's responses
// (session.Pending.Next) on the iterating goroutine. A response, and the
// sections in it, are valid until the next call to next.
type fetchIter struct {
	ctx        context.Context
	p          *session.Pending
	onVanished func(codec.SeqSet, bool)
	asked      codec.SeqSet // the UIDs of the command's set, when cut: VANISHED (EARLIER) is cut to them (a canonical copy)
	cut        bool         // asked holds the set (UIDs, not "$", no "*"), for an OnVanished
	vcut       vanishedCut  // cuts to asked, from the first VANISHED (EARLIER)
	vready     bool         // vcut was made
	pieces     []wire.SeqRange
	bufferMax  int64
	err        error  // the error that ended the iteration
	waited     bool   // Wait was called
	spec       string // the Spec of the last section handed out
	keywords   flagCache

	// Under FetchItems.Borrow: the Message lent for every message, and
	// what it reuses.
	borrow  bool
	lent    *Message
	sec0    Section    // the first Section of every message
	flagBuf []string   // the Flags of a message with more than Message.flags holds
	secs    []*Section // the Sections after a message's first
	extra   messageExtra
	labels  []string // the GmailLabels of a message with more than extra holds
}

// next returns the next FETCH response of the command, with the item that
// carries it (a streamed section or the complete response), handing
// VANISHED responses to onVanished on the way; io.EOF at the end.
func (fi *fetchIter) next() (session.Item, *codec.Fetch, error) {
	for fi.err == nil {
		if err := fi.ctx.Err(); err != nil {
			// Next would hand out what is queued first.
			fi.err = err
			break
		}
		item, err := fi.p.Next(fi.ctx)
		if err != nil {
			fi.err = err
			break
		}
		switch r := item.Response.(type) {
		case *codec.Fetch:
			return item, r, nil
		case *codec.Vanished:
			fi.vanished(r)
		}
	}
	return session.Item{}, nil, fi.err
}

// vanished hands a VANISHED response to onVanished. One EARLIER, the
// answer to the VANISHED modifier, names only UIDs of the command's set
// (RFC 7162 section 3.2.6): the session gives it to the UID FETCH whose
// set it overlaps, and what it names past the set (a server's "1:100" to
// a UID FETCH 5:6) is cut, not handed on as expunged: a cache that drops
// the UIDs it is given would forget messages still on the server. A
// range of the set an earlier one covered whole is not handed on again
// (vanishedCut): a hostile server's wide lines ("1:4294967295" again and
// again) against a set of many ranges cost, and handed on, every range
// of the set a line; a line left with nothing is not handed on. (A part
// of a range of the set a line covers only partly is handed on each
// time, as vanishedCut gives it.)
func (fi *fetchIter) vanished(r *codec.Vanished) {
	if fi.onVanished == nil {
		return
	}
	if !r.Earlier || !fi.cut {
		fi.onVanished(r.UIDs.Clone(), r.Earlier)
		return
	}
	if !fi.vready {
		fi.vcut.init(fi.asked)
		fi.vready = true
	}
	fi.pieces = fi.pieces[:0]
	fi.vcut.cut(r.UIDs, func(x wire.SeqRange) { fi.pieces = append(fi.pieces, x) })
	if len(fi.pieces) == 0 {
		return
	}
	fi.onVanished(codec.SeqSetOf(fi.pieces...), true)
}

// close ends the command when the iteration ended before its answer did:
// what is left is read and dropped in the background.
func (fi *fetchIter) close() {
	fi.retireLent()
	if !fi.waited {
		abandon(fi.p)
	}
}

// retireLent ends, under Borrow, the Sections handed out for the lent
// Message: read after the iteration ended they gave ErrSectionGone's
// promise no heed and read the decoder's recycled memory, another
// message's bytes, with no error.
func (fi *fetchIter) retireLent() {
	if !fi.borrow || fi.lent == nil {
		return
	}
	// Only those read in place: a streamed one was copied or is read
	// as without Borrow.
	if fi.sec0.lent {
		fi.sec0.end()
	}
	for _, s := range fi.secs[:fi.lent.nsec] {
		if s.lent {
			s.end()
		}
	}
}

// message makes the Message of a FETCH response or of the snapshot a
// streamed section comes with: its attributes are copied (or, under
// Borrow, taken in place into the lent Message), its sections are handed
// out by NextSection.
func (fi *fetchIter) message(item session.Item, f *codec.Fetch) *Message {
	var m *Message
	if fi.borrow {
		if fi.lent == nil {
			fi.lent = new(Message)
		}
		m = fi.lent
		fi.retireLent() // the last message's, reused from here
		*m = Message{SeqNum: f.Seq, it: fi, f: f, sec0: &fi.sec0}
		fi.sec0 = Section{}
		m.borrowValues(f, f.Has)
	} else {
		extra := keptBytes(f, fi.bufferMax)
		n := valueCounts(f, f.Has, extra)
		var c copier
		m = allocMessage(&n, &c, len(f.Sections) > 0)
		m.SeqNum, m.it, m.f = f.Seq, fi, f
		m.copyValues(f, f.Has, &c, extra)
		m.size = addSize(0, int64(m.size)+valuesHeap(m, f, f.Has))
	}
	// The copy's size (allocMessage, valuesHeap) or the response's, if
	// larger.
	m.size = addSize(0, max(item.Size, int64(m.size)))
	if item.Section != nil {
		m.body = item.Body
	} else {
		m.complete = true
	}
	return m
}
