package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/seqrange"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// SelectOptions are the options of Select. A nil *SelectOptions selects
// read-write without extensions.
type SelectOptions struct {
	// ReadOnly sends EXAMINE instead of SELECT (imaplib's readonly=True).
	ReadOnly bool
	// CondStore adds the CONDSTORE parameter (RFC 7162), which turns on
	// mod-sequences for the session.
	CondStore bool
	// QResync adds the QRESYNC parameter (RFC 7162 section 3.2.5); the
	// session must have run Enable(ctx, "QRESYNC") first (else an error
	// wrapping ErrNotEnabled, nothing sent).
	QResync *QResync
}

// QResync is what a client remembers of a mailbox for a quick
// resynchronisation (RFC 7162 section 3.2.5).
type QResync struct {
	UIDValidity uint32
	// ModSeq is the mailbox's HIGHESTMODSEQ then, from 1 to 2^63-1 (past
	// it Select returns an error wrapping ErrModSeq, nothing sent).
	ModSeq uint64
	// KnownUIDs are the UIDs the client knows (kept with codec.SeqSet's
	// AddRange and Remove, as messages arrive and VANISHED names them);
	// empty for none. They
	// narrow what the server reports to those UIDs: the expunged
	// (VANISHED (EARLIER)) and, on Dovecot among others, the changed
	// (MailboxState.Changed) too, so that a message that arrived since
	// (a UID past all the known ones) is not reported at all: fetch
	// UIDRange(the UIDNext remembered, 0) after the SELECT for those, or
	// leave KnownUIDs empty. A set too long for the command line
	// (Client.SetMaxSetLength) is sent as the one range from its lowest
	// UID to its highest: the server may then report UIDs the client
	// never knew, which MailboxState.Vanished leaves out.
	KnownUIDs codec.SeqSet
	// SeqMatchSeqs and SeqMatchUIDs are the optional message sequence
	// match data: parallel sets of sequence numbers and their UIDs. They
	// are left out when they would not fit the command line, or when
	// KnownUIDs did not (a sample of a few numbers is what RFC 7162
	// suggests).
	SeqMatchSeqs, SeqMatchUIDs codec.SeqSet
}

// MailboxState is what SELECT or EXAMINE tells about the selected mailbox.
type MailboxState struct {
	Name     string
	ReadOnly bool     // the server opened it read-only ([READ-ONLY]), or it was examined (Examine)
	Flags    []string // FLAGS: the flags defined in the mailbox
	// PermanentFlags are the flags the client can change permanently;
	// nil when the server did not say.
	PermanentFlags []string
	// Exists is the number of messages: the EXISTS of the answer, less
	// the messages an EXPUNGE or VANISHED (not EARLIER) that came after
	// it in the answer removed (another client's expunge), as
	// Client.Exists counts them.
	Exists uint32
	// Recent is the RECENT count (IMAP4rev1 only), at most Exists: a
	// server's RECENT above the count is cut to it.
	Recent uint32
	// UIDValidity and UIDNext are 0 when not sent, or sent past 32
	// bits (Zoho's UIDNEXT): unknown, not cut.
	UIDValidity uint32
	UIDNext     uint32
	// FirstUnseen is the sequence number of the first unseen message
	// ([UNSEEN n], IMAP4rev1 only); 0 when not sent (or past 32 bits).
	FirstUnseen uint32
	// HighestModSeq (CONDSTORE/QRESYNC) is 0 when not sent; NoModSeq is
	// [NOMODSEQ]: the mailbox has no mod-sequences. A server that sends
	// both has the last one taken: they are never both set. As for
	// Client.HighestModSeq, a NO's or BAD's code is not taken, nor one
	// before the answer's [CLOSED] (the mailbox closed's). So for every
	// field taken from a response code: a NO's or BAD's (a warning)
	// gives none, the untagged OKs and the tagged OK do.
	HighestModSeq uint64
	NoModSeq      bool
	MailboxID     string // OBJECTID ([MAILBOXID (id)]); "" when not sent
	// Vanished holds the UIDs reported expunged by a QRESYNC select
	// (VANISHED (EARLIER)); a VANISHED read with QRESYNC not enabled,
	// which a server must not send, is left out. It never holds "*" (RFC 7162 forbids it): a
	// VANISHED with one fails the Select with a *codec.DecodeError. With
	// QResync.KnownUIDs, only those of them (RFC 7162 section 3.2.5.1:
	// the server reports expunges of the known UIDs; UIDs past them,
	// which the client never knew, are left out).
	//
	// Vanished is kept whole, whatever the changed messages cost (they
	// are bounded on their own: ChangedNotKept), and wherever the server
	// put it in the answer, within a bound of its own: a third of the
	// ranges of 8 bytes MaxResultBytes holds (2.8 million by default; a
	// real mailbox would need every other UID of 5.6 million expunged),
	// so that gathering them, which holds up to 3 times as many at its
	// peak, stays within MaxResultBytes. Past it, which only a broken or
	// hostile server reaches, Vanished holds the lowest ranges, exactly
	// the UIDs reported up to its highest, VanishedIncomplete is set and
	// Select returns a *session.ResultTooLargeError.
	Vanished codec.SeqSet
	// VanishedIncomplete is set when the VANISHED responses passed
	// Vanished's bound: which of the UIDs the client knows past Vanished's
	// highest were expunged is unknown. Ask which still exist (a UID
	// SEARCH of them) before trusting the copy kept.
	VanishedIncomplete bool
	// Changed holds the messages a QRESYNC select reported changed
	// (their FETCH responses: UID, FLAGS, MODSEQ); a FETCH without a UID
	// (or with UID 0), which names no message kept, is left out.
	Changed []*Message
	// ChangedNotKept names the changed messages the answer reported
	// past what Changed may keep (the session's MaxResultBytes, counted
	// as for a collected answer), by UID: Select then returns the state
	// with a *session.ResultTooLargeError. Fetch their changes again
	// (UID FETCH of ChangedNotKept (FLAGS) CHANGEDSINCE the ModSeq
	// given, or a Fetch of those UIDs' flags), in parts if need be. It
	// never names fewer than were not kept: past its own bound (that of
	// Vanished: ranges of 8 bytes, gathered within MaxResultBytes), which
	// a real mailbox does not reach (225,000 changes name a few ranges;
	// every other UID of 5.6 million would be needed), it is widened to
	// one range from the lowest of them to the highest, UIDs that did not
	// change included.
	ChangedNotKept codec.SeqSet
	// Status is the tagged status.
	Status *codec.Status
	// UIDValidityChanged is set when SelectOptions.QResync named another
	// UIDVALIDITY than the mailbox has now (it was deleted and made
	// again, or renumbered): the server ignored the QRESYNC parameter
	// (RFC 7162 section 3.2.5), Vanished, Changed and ChangedNotKept are
	// empty (what a broken server sent all the same is dropped: it
	// resyncs nothing the client kept), and every UID the client knew
	// names another message or none. Discard what is kept of the
	// mailbox and fetch it afresh.
	// It is set too, the same way, when the answer had no UIDVALIDITY
	// (UIDValidity 0: a broken server, RFC 3501 section 6.3.1 requires
	// it, or one past 32 bits): the UIDs kept cannot be known to name
	// the same messages still, so nothing of the answer resyncs them.
	UIDValidityChanged bool
	// Selection names this selection of the mailbox: the count of
	// session.Session.Selections that the SELECT or EXAMINE made
	// (session.Pending.Selection), which Bind binds commands to. It holds
	// until another SELECT or EXAMINE starts (of another mailbox or this
	// one again, successful or not: a failed one leaves no mailbox
	// selected), the mailbox is closed (Close, Unselect) or the session
	// ends.
	Selection uint32
	// session is the session of the Client whose Select returned the
	// state: Selection is a count of its own (Bind).
	session *session.Session
}

// Bind returns ctx bound to this selection of the mailbox (Selection), on
// the session of the Client whose Select or Examine returned st: every
// command a method of that Client runs with it, from the first, is sent
// only while the mailbox st describes is still selected by the SELECT or
// EXAMINE that returned st. Once another goroutine (or this one) has
// selected another mailbox, or this one again, or closed or unselected it,
// or a SELECT failed (which leaves no mailbox selected, or on some servers
// the old one; the session does not guess which), the method sends
// nothing and returns a *session.NotSentError matching
// session.ErrReselected (a job of several commands, a long set cut in
// parts, stops at the first part refused). What a method decides without
// sending anything is decided against the binding too: a Fetch, Store,
// Copy or Move of "1:*" does not take the emptiness of another mailbox
// for st's, nor Store, Move or Expunge its read-only state. So a Store
// and Expunge meant for one mailbox never reach another that a concurrent
// Select opened meanwhile:
//
//	inbox, err := c.Select(ctx, "INBOX", nil)
//	...
//	bctx := inbox.Bind(ctx)
//	_, err = c.Store(bctx, SeqNums(1, 2), AddFlags, []string{`\Deleted`}, nil)
//	...
//	_, err = c.Expunge(bctx, nil)
//
// Not checked, as they concern the connection rather than a mailbox:
// Login, Authenticate, AuthenticateFunc, LoginCRAMMD5, ProxyAuth,
// StartTLS, Compress, Capability and Logout, and the methods that send
// nothing (Exists, Caps, Response, HighestModSeq). Recent, which may
// return counts kept without sending, is checked before and after.
//
// A Select or Examine run with the bound context is bound too: it is
// refused once the selection is gone, and when sent it ends the
// selection, so that later commands under that context are refused.
// Binding a context already bound on st's session binds it to st's
// selection instead. Methods run with an unbound context are not
// checked, as before.
//
// The binding is of st's session only: the methods of a Client on
// another connection ignore it, and run as with ctx unbound (so one
// context may flow through a job on two connections, a copy between
// accounts, and be bound on each: Bind the state each Select returned).
// A MailboxState that no Select or Examine returned binds nothing: Bind
// returns ctx.
func (st *MailboxState) Bind(ctx context.Context) context.Context {
	if st.session == nil {
		return ctx
	}
	return withBinding(ctx, binding{s: st.session, sel: st.Selection})
}

// ErrMailboxReadOnly is what Store, Expunge and Move return, having sent
// nothing, when the selected mailbox is open read-only (EXAMINE, or a
// SELECT the server answered [READ-ONLY]): the server would change
// nothing, and some say OK all the same (Dovecot answers STORE "OK Store
// ignored"), which would read as done. errors.Is(err, session.ErrReadOnly)
// is true. Select the mailbox (read-write) first.
var ErrMailboxReadOnly error = mailboxReadOnly{}

type mailboxReadOnly struct{}

func (mailboxReadOnly) Error() string {
	return "commands: the selected mailbox is open read-only: nothing can be stored or removed"
}

// Is makes errors.Is(err, session.ErrReadOnly) true.
func (mailboxReadOnly) Is(target error) bool { return target == session.ErrReadOnly }

// writable returns ErrMailboxReadOnly when the selected mailbox is open
// read-only; under a ctx bound to a selection that no longer holds, the
// selected mailbox is another, and it returns the error of reselected
// instead (read after the mailbox: see reselected).
func (c *Client) writable(ctx context.Context) error {
	name, ro := c.s.Mailbox()
	if err := c.reselected(ctx); err != nil {
		return err
	}
	if name != "" && ro {
		return ErrMailboxReadOnly
	}
	return nil
}

// ReadOnlyError is imaplib's readonly error for Select: the server opened
// read-only (with [READ-ONLY]) a mailbox that Select asked to open
// read-write. The mailbox is selected, State says how it is, and the
// session goes on; Select again with ReadOnly (or elsewhere) to go on
// knowingly. errors.Is(err, session.ErrReadOnly) is true.
type ReadOnlyError struct {
	Mailbox string
	State   *MailboxState
}

// Error implements error.
func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("commands: mailbox %q was opened read-only", e.Mailbox)
}

// Is makes errors.Is(err, session.ErrReadOnly) true.
func (e *ReadOnlyError) Is(target error) bool { return target == session.ErrReadOnly }

// Select opens a mailbox (SELECT, or EXAMINE with opts.ReadOnly). A
// refusal is a *session.StatusError, and the session is then in state
// AUTH. When the server opens read-only a mailbox asked read-write, the
// state is returned with a *ReadOnlyError, as imaplib raises readonly; the
// mailbox stays selected and the next command runs normally.
//
// The answer is read as it comes, not collected whole: its state (EXISTS,
// UIDVALIDITY, HIGHESTMODSEQ and the rest) and the expunged UIDs of a
// QRESYNC select (Vanished, a set of ranges with a bound of its own) are
// kept wherever the server puts them among the changed messages, which
// alone grow with the answer. A QRESYNC select whose changed messages
// pass the session's MaxResultBytes (64 MiB by default: some 200,000
// FETCHes of flags) returns the state with those that fit in Changed, the
// UIDs of the others in ChangedNotKept (fetch their changes again, see
// there), and a *session.ResultTooLargeError: nothing the server
// reported is lost, and the mailbox is selected too. So is it
// when the answer held a FETCH for a message above its EXISTS (a broken
// or hostile server): the state is returned with the
// *session.UnannouncedError, and its sequence numbers are not to be
// trusted. Either error is joined with a *ReadOnlyError when the mailbox
// asked read-write was opened read-only.
func (c *Client) Select(ctx context.Context, mailbox string, opts *SelectOptions) (*MailboxState, error) {
	var o SelectOptions
	if opts != nil {
		o = *opts
	}
	if o.QResync != nil {
		if err := c.needEnabled("QRESYNC", "SelectOptions.QResync"); err != nil {
			return nil, err
		}
		if err := checkModSeq("SelectOptions.QResync.ModSeq", o.QResync.ModSeq); err != nil {
			return nil, err
		}
		if o.QResync.UIDValidity == 0 || o.QResync.ModSeq == 0 {
			// Sent as QRESYNC (0 0): RFC 7162 wants both from 1.
			return nil, errors.New("commands: SelectOptions.QResync needs the UIDVALIDITY and the mod-sequence of an earlier SELECT (both from 1)")
		}
	}
	name := "SELECT"
	if o.ReadOnly {
		name = "EXAMINE"
	}
	var known *codec.SeqSet
	if q := o.QResync; q != nil && !q.KnownUIDs.IsEmpty() {
		known = &q.KnownUIDs
	}
	// The answer is read as it comes (OnData), not collected whole: the
	// state and VANISHED (EARLIER) are always taken, only the changed
	// messages are bounded (selectReader).
	sr := c.newSelectReader(mailbox, name, known)
	p, err := c.s.Start(ctx, c.bound(ctx, c.target(&session.Command{Name: name, OnData: sr.take, Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox)
		switch {
		case o.QResync != nil:
			q := o.QResync
			e.SP().List(func(e *wire.Encoder) {
				e.Atom("QRESYNC").SP().List(func(e *wire.Encoder) {
					e.Number(uint64(q.UIDValidity)).SP().Number(q.ModSeq)
					if !q.KnownUIDs.IsEmpty() {
						known, whole := c.lineSet(q.KnownUIDs)
						e.SP().SeqSet(known)
						if whole && !q.SeqMatchSeqs.IsEmpty() &&
							c.fits(setLength(q.SeqMatchSeqs.Ranges())+setLength(q.SeqMatchUIDs.Ranges())) {
							e.SP().List(func(e *wire.Encoder) {
								e.SeqSet(q.SeqMatchSeqs.Ranges()).SP().SeqSet(q.SeqMatchUIDs.Ranges())
							})
						}
					}
				})
			})
		case o.CondStore:
			e.SP().List(func(e *wire.Encoder) { e.Atom("CONDSTORE") })
		}
	}}, nil, mailbox)))
	if err != nil {
		return nil, err
	}
	// The count of this SELECT, taken from its Pending: the session's
	// count read after Wait could be that of a SELECT another goroutine
	// started since (this one runs alone, but the next may start as soon
	// as its answer is read).
	sel := p.Selection()
	r, err := p.Wait(ctx)
	var ro *session.ReadOnlyError
	var un *session.UnannouncedError
	if err != nil && !(r != nil && (errors.As(err, &ro) || errors.As(err, &un))) {
		return nil, err
	}
	// The session answers a SELECT that the server opened [READ-ONLY]
	// with a *session.ReadOnlyError and its Result; the mailbox is
	// selected. So it is when the answer reported more changed messages
	// than the state may keep (MaxResultBytes): the state is returned
	// with a *session.ResultTooLargeError, the rest named in
	// ChangedNotKept.
	st, big := sr.end(r.Status)
	st.Selection, st.session = sel, c.s
	if o.ReadOnly {
		// An EXAMINE opens read-only whatever its answer says (RFC
		// 9051 requires [READ-ONLY] of it), as the session holds it.
		st.ReadOnly = true
	}
	if q := o.QResync; q != nil {
		st.resynced(q)
	}
	var errs []error
	if big != nil {
		errs = append(errs, big)
	}
	if un != nil {
		errs = append(errs, un)
	}
	if st.ReadOnly && !o.ReadOnly || ro != nil {
		// The caller that asked to write is told it cannot, whatever
		// else went wrong.
		errs = append(errs, &ReadOnlyError{Mailbox: mailbox, State: st})
	}
	switch len(errs) {
	case 0:
		return st, nil
	case 1:
		return st, errs[0]
	case 2:
		return st, fmt.Errorf("%w; %w", errs[0], errs[1])
	}
	return st, fmt.Errorf("%w; %w; %w", errs[0], errs[1], errs[2])
}

// Examine is Select with ReadOnly.
func (c *Client) Examine(ctx context.Context, mailbox string) (*MailboxState, error) {
	return c.Select(ctx, mailbox, &SelectOptions{ReadOnly: true})
}

// selectReader reads the responses of a SELECT or EXAMINE as the session
// reads them (session.Command.OnData) into its MailboxState. The state
// (FLAGS, EXISTS, the response codes) replaces or counts what came
// before, and VANISHED adds to a set of ranges: neither grows with the
// answer beyond its own bound. The changed messages (FETCH) are kept
// within the session's MaxResultBytes, as a collected answer is; past it
// their UIDs are named in ChangedNotKept instead, so that nothing the
// server reported is lost, whatever the order of the responses.
type selectReader struct {
	c     *Client
	name  string
	known bool          // the QRESYNC parameter has KnownUIDs
	cut   vanishedCut   // cuts VANISHED (EARLIER) to them
	b     *collectBound // the changed messages kept

	mu     sync.Mutex // the handler runs on the session's reader
	st     *MailboxState
	exists bool // an EXISTS was read: EXPUNGE and VANISHED take from it
	// vanished and notKept gather MailboxState.Vanished and
	// ChangedNotKept.
	vanished, notKept rangeSet
}

func (c *Client) newSelectReader(mailbox, cmd string, known *codec.SeqSet) *selectReader {
	sr := &selectReader{c: c, name: mailbox, known: known != nil, b: c.newBound(cmd)}
	if known != nil {
		sr.cut.init(*known)
	}
	sr.reset()
	return sr
}

// reset forgets what was read: at the start, and at the answer's first
// [CLOSED], before which what came was the previous mailbox's (RFC 7162
// section 3.2.11: its VANISHED and FETCH during the SELECT of another;
// what follows describes this one, TestSelectClosedCode).
func (sr *selectReader) reset() {
	sr.st = &MailboxState{Name: sr.name}
	sr.exists = false
	limit := ranges(sr.c.s.MaxResultBytes())
	sr.vanished = rangeSet{limit: limit}
	sr.notKept = rangeSet{limit: limit, widen: true}
	sr.b = sr.c.newBound(sr.b.cmd)
	sr.cut.forget()
}

// take reads one response of the answer (the session's OnData).
func (sr *selectReader) take(r codec.Response) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	st := sr.st
	switch d := r.(type) {
	case *codec.Flags:
		st.Flags = strs(d.Flags)
	case *codec.Exists:
		st.Exists, sr.exists = d.Count, true
	case *codec.Expunge:
		if sr.exists {
			st.expunged(d.Seq)
		}
	case *codec.Recent:
		st.Recent = d.Count
	case *codec.Status:
		if d.Code != nil && d.Code.Kind == codec.CodeClosed {
			// The boundary (RFC 7162 section 3.2.11): the session
			// gives an answer its first [CLOSED] only, and takes
			// any other as no command's (session.Session's
			// closedBoundaryLocked, the one rule: its HighestModSeq
			// and this state's agree). Were each taken, each reset
			// would forget what the cut of VANISHED (EARLIER) gave,
			// and a wide line after each would cost every known
			// range again.
			sr.reset()
			return
		}
		if d.Kind != codec.StatusOK {
			// A NO's or BAD's code is a warning, no state: none is
			// taken ([UIDVALIDITY], [UIDNEXT], [UNSEEN],
			// [PERMANENTFLAGS], [READ-ONLY], [READ-WRITE],
			// [MAILBOXID], [HIGHESTMODSEQ], [NOMODSEQ]), as the
			// session takes its UIDVALIDITY and HIGHESTMODSEQ from an
			// OK only: a "* NO [UIDVALIDITY 9]" after "* OK
			// [UIDVALIDITY 5]" made the state say 9 where
			// SelectedUIDValidity said 5.
			return
		}
		st.code(d.Code)
	case *codec.Vanished:
		// Without QRESYNC a server must not send VANISHED (RFC 7162
		// section 3.2.10): one read then is neither applied to Exists
		// nor reported, as the session's count does not apply it
		// (session.Session.Exists). Asked when read, as the session
		// asks for its count.
		if !sr.c.s.Enabled("QRESYNC") {
			return
		}
		if d.Earlier && sr.known {
			// RFC 7162 section 3.2.5.1: with known UIDs the server
			// reports expunges of those only. Past them (a set too
			// long for the line sent as one range, a hostile
			// "1:4294967295") it names UIDs the client never knew:
			// left out.
			// A known range given whole before is not given again
			// (vanishedCut): a flood of wide lines costs a search a
			// line, not every known range a line.
			sr.cut.cut(d.UIDs, func(r wire.SeqRange) { sr.vanished.add(r) })
		} else {
			sr.vanished.add(d.UIDs.Ranges()...)
		}
		if !d.Earlier && sr.exists {
			sr.exists = st.vanished(&d.UIDs)
		}
	case *codec.Fetch:
		// Counted as a collected copy is (the session's Result): the
		// larger of the memory of the copy and of the response's.
		// Once one is dropped, every later one is (collectBound): those
		// are not copied.
		if sr.b.dropped == 0 {
			m := newMessage(d)
			if sr.b.keep(max(int64(m.size), codec.CloneSize(d))) {
				st.Changed = append(st.Changed, m)
				return
			}
		} else {
			sr.b.dropped++
		}
		if d.Has&codec.FetchUID != 0 && d.UID != 0 {
			sr.notKept.add(wire.SeqRange{Start: d.UID, Stop: d.UID})
		}
	}
}

// end returns the state read, with the tagged status, and the
// *session.ResultTooLargeError of the changed messages not kept (or
// nil).
func (sr *selectReader) end(status *codec.Status) (*MailboxState, error) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	st := sr.st
	st.Status = status
	if status != nil && status.Kind == codec.StatusOK {
		// The tagged OK's code ([READ-ONLY], [READ-WRITE]). A NO or
		// BAD ends Select with its *session.StatusError before end
		// (no mailbox is selected): its code would describe nothing.
		st.code(status.Code)
	}
	st.Vanished, st.VanishedIncomplete = sr.vanished.done()
	st.ChangedNotKept, _ = sr.notKept.done()
	// The recent messages are some of the messages: a RECENT above the
	// count (a broken or hostile server) is cut to it.
	st.Recent = min(st.Recent, st.Exists)
	err := sr.b.err()
	if st.VanishedIncomplete {
		// Part of a VANISHED left out counts as a response dropped.
		err = &session.ResultTooLargeError{Command: sr.b.cmd, Limit: sr.b.limit, Dropped: sr.b.dropped + 1}
	}
	return st, err
}

// code takes in a response code of the answer.
func (st *MailboxState) code(cd *codec.Code) {
	if cd == nil {
		return
	}
	switch cd.Kind {
	case codec.CodeReadOnly:
		st.ReadOnly = true
	case codec.CodeReadWrite:
		st.ReadOnly = false
	case codec.CodePermanentFlags:
		st.PermanentFlags = strs(cd.Flags)
		if st.PermanentFlags == nil {
			st.PermanentFlags = []string{}
		}
	case codec.CodeUIDNext:
		st.UIDNext = code32(cd.Num)
	case codec.CodeUIDValidity:
		st.UIDValidity = code32(cd.Num)
	case codec.CodeUnseen:
		st.FirstUnseen = code32(cd.Num)
	case codec.CodeHighestModSeq:
		// The last of [HIGHESTMODSEQ] and [NOMODSEQ] holds, as for
		// session.Session.HighestModSeq: never both.
		st.HighestModSeq, st.NoModSeq = cd.Num, false
	case codec.CodeNoModSeq:
		st.HighestModSeq, st.NoModSeq = 0, true
	case codec.CodeMailboxID:
		st.MailboxID = string(cd.Sub)
	}
}

// rangeSet gathers a set of UIDs from ranges that come in any order, in
// O(n log n) for n ranges (sorted in batches, not inserted one by one),
// within limit ranges once merged. Past the limit it keeps the first
// limit ranges and says it cut, or, with widen, stands for more than it
// was given: one range from its lowest UID to its highest (a set of UIDs
// to fetch again, for which more is only more work). Once cut it holds
// exactly the UIDs given up to its highest: what comes later past the
// highest kept (ceil) is left out, as what the cut dropped was, lest a
// later range bridge a gap below one it dropped.
//
// Its memory is one buffer of at most 2*limit ranges, the set merged at
// its start and the ranges given since after it, sorted and merged in
// place when it is full: growing it (doubling) holds at most 3*limit
// ranges for a moment, as does done's copy, which ranges counts in.
type rangeSet struct {
	buf   []wire.SeqRange // buf[:n] the set, canonical; buf[n:] not yet merged
	n     int
	limit int
	widen bool
	cut   bool
	ceil  uint64 // once cut, the highest UID kept (seqrange.Key)
	// sorted counts the ranges flush sorted (a work counter for tests).
	sorted int64
}

// ranges is how many ranges a rangeSet within limit bytes may keep: its
// buffer, 8 bytes a range, holds at most 3 times as many at its peak
// (rangeSet), so a third of limit/8, at least 1.
func ranges(limit int64) int {
	return int(max(1, min(limit/24, math.MaxInt32)))
}

// add adds the ranges rs.
func (a *rangeSet) add(rs ...wire.SeqRange) {
	for _, r := range rs {
		lo, hi := seqrange.Key(r.Start), seqrange.Key(r.Stop)
		if lo > hi {
			lo, hi, r.Start, r.Stop = hi, lo, r.Stop, r.Start
		}
		if a.cut && !a.widen {
			if lo > a.ceil {
				continue
			}
			if hi > a.ceil {
				hi, r.Stop = a.ceil, uint32(a.ceil)
			}
		}
		if k := len(a.buf); k > a.n && seqrange.Key(a.buf[k-1].Start) <= lo && lo <= seqrange.Key(a.buf[k-1].Stop)+1 {
			// It goes on from the last range given (ascending UIDs,
			// the usual case): merged, not kept apart.
			if hi > seqrange.Key(a.buf[k-1].Stop) {
				a.buf[k-1].Stop = r.Stop
			}
			continue
		}
		if len(a.buf) == cap(a.buf) {
			a.flush()
			if c := cap(a.buf); c < 2*a.limit && (c == 0 || a.n >= c/2) {
				// Fuller than half after the merge: doubled, so that
				// every merge takes in at least as many ranges as the
				// set holds (O(log n) a range).
				// Never between limit and 2*limit: the old buffer
				// and the new one together hold at most 3*limit.
				nc := max(1024, 2*c)
				if nc > a.limit {
					nc = 2 * a.limit
				}
				nb := make([]wire.SeqRange, a.n, nc)
				copy(nb, a.buf[:a.n])
				a.buf = nb
			}
		}
		a.buf = append(a.buf, r)
	}
}

// flush merges the ranges given since into the set, in one sort, in
// place, and applies the limit.
func (a *rangeSet) flush() {
	if len(a.buf) == a.n {
		return
	}
	a.sorted += int64(len(a.buf))
	slices.SortFunc(a.buf, func(x, y wire.SeqRange) int {
		return cmp.Compare(seqrange.Key(x.Start), seqrange.Key(y.Start))
	})
	n := 0
	for _, r := range a.buf {
		if n > 0 && seqrange.Key(r.Start) <= seqrange.Key(a.buf[n-1].Stop)+1 {
			if seqrange.Key(r.Stop) > seqrange.Key(a.buf[n-1].Stop) {
				a.buf[n-1].Stop = r.Stop
			}
			continue
		}
		a.buf[n] = r
		n++
	}
	if n > a.limit {
		if a.widen {
			a.buf[0].Stop = a.buf[n-1].Stop
			n = 1
		} else {
			a.cut = true
			n = a.limit
			a.ceil = seqrange.Key(a.buf[n-1].Stop)
		}
	}
	a.n = n
	a.buf = a.buf[:n]
}

// done returns the set, and whether the limit cut it. The rangeSet is
// empty after it.
func (a *rangeSet) done() (codec.SeqSet, bool) {
	a.flush()
	set := codec.SeqSetOf(a.buf...)
	a.buf, a.n = nil, 0
	return set, a.cut
}

// resynced checks what a QRESYNC select's answer reported against q, what
// the client said it knew. After a UIDVALIDITY change the client's copy is
// void (RFC 7162 section 3.2.5: the server ignores the QRESYNC parameter):
// whatever VANISHED or FETCH a broken or hostile server sent with it is
// no resynchronisation of that copy, and Vanished and Changed are emptied.
// So they are when the answer had no UIDVALIDITY (0): the copy cannot be
// shown valid, and is taken as void. A changed message without a UID (or
// UID 0, which names none) can be matched with nothing kept: it is left
// out.
func (st *MailboxState) resynced(q *QResync) {
	if st.UIDValidity != q.UIDValidity {
		st.UIDValidityChanged = true
		st.Vanished, st.Changed, st.ChangedNotKept, st.VanishedIncomplete = codec.SeqSet{}, nil, codec.SeqSet{}, false
		return
	}
	st.Changed = slices.DeleteFunc(st.Changed, func(m *Message) bool { return m.UID == 0 })
}

// expunged follows an EXPUNGE of message seq read in the SELECT's answer
// after its EXISTS, as the session's count does (session.Session.Exists):
// one message less, but for a message the count never held (0, or above
// it), which leaves it as it is.
func (st *MailboxState) expunged(seq uint32) {
	if seq != 0 && seq <= st.Exists {
		st.Exists--
	}
}

// vanished follows a VANISHED (not EARLIER) of uids read in the SELECT's
// answer after its EXISTS, as the session's count does: their number
// less, and false (the count lost until the next EXISTS; Exists left as
// it is) when it is unknown ("*") or more than the count.
func (st *MailboxState) vanished(uids *codec.SeqSet) bool {
	k, ok := uids.Len()
	if !ok || k > uint64(st.Exists) {
		return false
	}
	st.Exists -= uint32(k)
	return true
}

// CreateOptions are the options of Create.
type CreateOptions struct {
	// SpecialUse asks for the mailbox's special use (RFC 6154
	// CREATE-SPECIAL-USE), e.g. []string{`\Sent`}.
	SpecialUse []string
}

// Create creates a mailbox. SpecialUse needs CREATE-SPECIAL-USE: without
// it Create returns ErrUnsupported and sends nothing (Dovecot 2.3 accepts
// the USE parameter without advertising it, and ignores it).
func (c *Client) Create(ctx context.Context, mailbox string, opts *CreateOptions) error {
	if opts != nil && len(opts.SpecialUse) > 0 && !c.hasCap("CREATE-SPECIAL-USE") {
		return fmt.Errorf("%w: CREATE-SPECIAL-USE", ErrUnsupported)
	}
	return c.simpleTo(ctx, "CREATE", mailbox, func(e *wire.Encoder) {
		c.mailbox(e, mailbox)
		if opts != nil && len(opts.SpecialUse) > 0 {
			e.SP().List(func(e *wire.Encoder) {
				e.Atom("USE").SP()
				encodeFlags(e, opts.SpecialUse)
			})
		}
	})
}

// Delete deletes a mailbox.
func (c *Client) Delete(ctx context.Context, mailbox string) error {
	return c.simpleTo(ctx, "DELETE", mailbox, func(e *wire.Encoder) { c.mailbox(e, mailbox) })
}

// Rename renames a mailbox. When from may be a parent of the selected
// mailbox (the selected name begins with it) and the session does not
// know the selected mailbox's hierarchy delimiter
// (session.Session.SelectedDelimiter: no LIST named it or a parent of it
// since its SELECT), Rename first asks LIST "" with the selected name, so
// that a RENAME of its parent is known to take its name
// (session.Session.SelectedUIDValidity, the APPENDUID check of Append);
// that LIST's failure is ignored, and the RENAME goes as before. An
// answer with a NIL delimiter (a flat hierarchy, no parents) is kept
// too: the LIST is asked once a selection, not at every Rename.
func (c *Client) Rename(ctx context.Context, from, to string) error {
	c.learnSelectedDelim(ctx, from)
	return c.simpleTo(ctx, "RENAME", from, func(e *wire.Encoder) { c.mailbox(c.mailbox(e, from), to) })
}

// learnSelectedDelim asks the server the selected mailbox's hierarchy
// delimiter (LIST "" with its name, which the session reads: listDelim)
// when from may be a parent of it and the session does not know it. A
// RENAME of "Work" while "Work/Inbox" was selected, never listed since its
// SELECT, left the session taking the name for the selected mailbox's
// still: the APPENDUID of an APPEND to a new "Work/Inbox" was checked
// against the renamed mailbox's UIDVALIDITY and dropped, and
// SelectedUIDValidity gave the renamed mailbox's UIDVALIDITY for the name
// (TestRenameParentOfSelectedNeverListed). A selected name with a wildcard
// (% or *) is not asked: its LIST could list many mailboxes.
func (c *Client) learnSelectedDelim(ctx context.Context, from string) {
	sel, _, known := c.s.SelectedDelimiter()
	if known || sel == "" || len(sel) <= len(from) || strings.ContainsAny(sel, "%*") || !mayBeParent(from, sel) {
		return
	}
	_, _ = c.List(ctx, sel, nil)
}

// mayBeParent reports whether name begins with parent, a leading INBOX in
// any case: parent may be a parent of name, whatever the delimiter. A
// name shorter than parent is no child of it.
func mayBeParent(parent, name string) bool {
	if strings.HasPrefix(name, parent) {
		return true
	}
	return len(parent) >= 5 && len(name) >= len(parent) && strings.EqualFold(parent[:5], "INBOX") && strings.EqualFold(name[:5], "INBOX") &&
		name[5:len(parent)] == parent[5:]
}

// Subscribe adds a mailbox to the subscriptions.
func (c *Client) Subscribe(ctx context.Context, mailbox string) error {
	return c.simpleTo(ctx, "SUBSCRIBE", mailbox, func(e *wire.Encoder) { c.mailbox(e, mailbox) })
}

// Unsubscribe removes a mailbox from the subscriptions.
func (c *Client) Unsubscribe(ctx context.Context, mailbox string) error {
	return c.simpleTo(ctx, "UNSUBSCRIBE", mailbox, func(e *wire.Encoder) { c.mailbox(e, mailbox) })
}

// Close expunges the selected mailbox (unless read-only) and closes it:
// the session is in state AUTH afterwards, whatever the answer.
func (c *Client) Close(ctx context.Context) error { return c.simple(ctx, "CLOSE", nil) }

// Unselect closes the selected mailbox without expunging (RFC 3691). It
// is refused with ErrUnsupported when the server does not offer UNSELECT.
func (c *Client) Unselect(ctx context.Context) error {
	if !c.hasCap("UNSELECT") {
		return fmt.Errorf("%w: UNSELECT", ErrUnsupported)
	}
	return c.simple(ctx, "UNSELECT", nil)
}

// Check asks for a checkpoint of the selected mailbox (IMAP4rev1).
func (c *Client) Check(ctx context.Context) error { return c.simple(ctx, "CHECK", nil) }

// ExpungeResult is what EXPUNGE or UID EXPUNGE removed.
type ExpungeResult struct {
	// SeqNums are the sequence numbers of the EXPUNGE responses, in the
	// order sent (each relative to the mailbox after the previous ones).
	SeqNums []uint32
	// Vanished holds the UIDs of VANISHED responses, read while QRESYNC
	// is enabled; a VANISHED read without it, which a server must not
	// send (RFC 7162 section 3.2.10), is left out, as the session's
	// count leaves it (session.Session.Exists).
	Vanished codec.SeqSet
}

// Expunge removes the messages flagged \Deleted. With a UID set it sends
// UID EXPUNGE (RFC 4315 UIDPLUS), which removes only those; a set of
// sequence numbers is refused (there is no such command). Nil means every
// message flagged \Deleted; an empty UID set means none: it sends
// nothing, and never a plain EXPUNGE. A UID set too long for one command
// line is sent in parts (Client.SetMaxSetLength), whose answers are
// joined. The EXPUNGE responses are taken as they come (4 bytes each in
// the result), not collected whole: an expunge of 300,000 messages is not
// a *session.ResultTooLargeError. In a mailbox open read-only it returns
// ErrMailboxReadOnly and sends nothing.
func (c *Client) Expunge(ctx context.Context, uids *Set) (*ExpungeResult, error) {
	if err := c.writable(ctx); err != nil {
		return nil, err
	}
	res := &ExpungeResult{}
	var (
		mu       sync.Mutex
		vanished []wire.SeqRange
	)
	b := c.newBound("EXPUNGE")
	// onData takes the command's EXPUNGE and VANISHED responses where the
	// session reads them (session.Command.OnData).
	onData := func(r codec.Response) {
		if h := testHookResultData; h != nil {
			h()
		}
		mu.Lock()
		defer mu.Unlock()
		switch d := r.(type) {
		case *codec.Expunge:
			if b.keep(4) {
				res.SeqNums = append(res.SeqNums, d.Seq)
			}
		case *codec.Vanished:
			// Asked when read, as the session asks for its count: the
			// handler runs outside the session's lock.
			if !c.s.Enabled("QRESYNC") {
				return
			}
			if rs := d.UIDs.Ranges(); b.keep(8 * int64(len(rs))) {
				vanished = append(vanished, rs...)
			}
		}
	}
	// No OnData of the command runs once its Wait has returned
	// (session.Command.OnData): res is the caller's alone after end
	// (TestExpungeCancelledResultUnchangedAfterReturn).
	end := func(err error) (*ExpungeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		res.Vanished.AddRanges(vanished...) // in one sort (codec.SeqSet.AddRanges)
		if err == nil {
			err = b.err()
		}
		return res, err
	}
	if uids == nil {
		r, err := c.run(ctx, &session.Command{Name: "EXPUNGE", OnData: onData})
		if r == nil {
			return nil, err
		}
		return end(err)
	}
	if !uids.UID {
		return nil, errors.New("commands: Expunge takes a set of UIDs (UID EXPUNGE) or nil")
	}
	if uids.IsEmpty() {
		return res, nil // no message: nothing to send, never a plain EXPUNGE
	}
	if !c.hasCap("UIDPLUS") {
		return nil, fmt.Errorf("%w: UID EXPUNGE needs UIDPLUS", ErrUnsupported)
	}
	answered := false
	err := c.newSplitRun(ctx, *uids, "UID EXPUNGE").run(ctx, func(set Set) *session.Command {
		return c.target(&session.Command{Name: "UID EXPUNGE", Args: func(e *wire.Encoder) { set.encode(e) }, OnData: onData}, &set, "")
	}, func(int, *session.Result) { answered = true })
	if !answered {
		return nil, err
	}
	return end(err)
}

// code32 is a response code's number that the grammar bounds to 32 bits
// (UIDNEXT, UIDVALIDITY, UNSEEN). The codec reads more (Zoho predicts a
// UIDNEXT past 2^32); a number past 32 bits is unknown (0), never its
// low 32 bits: a UIDVALIDITY of 2^32+1 read as 1 would have named
// another mailbox state for a cache.
func code32(n uint64) uint32 {
	if n > math.MaxUint32 {
		return 0
	}
	return uint32(n)
}
