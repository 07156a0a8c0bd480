// The selected mailbox's message count: EXISTS sets it, EXPUNGE and
// VANISHED take from it, and a FETCH for a message above it is a protocol
// anomaly (RFC 9051 section 7.4.1 and 7.5.2: a server must not refer to a
// message it has not announced), counted and reported to the command it
// was delivered to.

package session

import (
	"math"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/codec"
)

// msgCount is the session's knowledge of the selected mailbox's message
// count (guarded by Session.mu).
type msgCount struct {
	n uint32 // the count, when known
	// unannounced counts the responses that named a message above the
	// count since the session opened (it stops at 2^32-1; a uint32, so
	// that validities fits in Session's size class).
	unannounced uint32
	// validities counts the changes of the selected mailbox's UIDVALIDITY
	// after its SELECT (see UIDValidityChanges).
	validities uint32
	known      bool // an EXISTS was read since the mailbox was selected
	// track: a mailbox is selected, or a SELECT or EXAMINE has started;
	// EXISTS outside that (a broken server, a session that never selected)
	// is not tracked.
	track bool
	// hasModSeq: modseq is the selected mailbox's HIGHESTMODSEQ, as the
	// server last gave it in a response code; see HighestModSeq. (Here,
	// beside the other flags, to keep Session in its size class.)
	hasModSeq bool
	// nameGone: a RENAME or DELETE answered OK took the selected
	// mailbox's name away during this selection (nameGoneLocked); the
	// name may now be another mailbox's. In the byte the flags leave
	// before modseq (Session's size class).
	nameGone bool
	modseq   uint64
}

// unannouncedLocked counts a response that named a message above the
// count (under mu), up to 2^32-1.
func (c *msgCount) unannouncedLocked() {
	if c.unannounced < math.MaxUint32 {
		c.unannounced++
	}
}

// selectingLocked forgets the count when a SELECT or EXAMINE starts: the
// new mailbox's EXISTS sets it again (under mu).
func (s *Session) selectingLocked() {
	s.count.n, s.count.known, s.count.track = 0, false, true
	s.count.modseq, s.count.hasModSeq = 0, false
	s.uidValidity = 0
	s.renumberedLocked(0)
	s.reselectedLocked()
}

// unselectedLocked forgets the count when no mailbox is selected any more
// (under mu).
func (s *Session) unselectedLocked() {
	s.count.n, s.count.known, s.count.track = 0, false, false
	s.count.modseq, s.count.hasModSeq = 0, false
	s.uidValidity = 0
	s.renumberedLocked(0)
	s.reselectedLocked()
}

// countLocked updates the count with r, and charges a FETCH for a message
// above it to target, the command it is delivered to (nil when it is
// unsolicited). Under mu, on the reading coroutine.
func (s *Session) countLocked(r codec.Response, target *Pending) {
	c := &s.count
	switch r := r.(type) {
	case *codec.Fetch:
		if c.known && r.Seq > c.n {
			c.unannouncedLocked()
			if target != nil {
				if target.unannounced == 0 {
					target.unannouncedSeq = r.Seq
				}
				if target.unannounced < math.MaxUint32 {
					target.unannounced++
				}
				target.unannouncedMax = max(target.unannouncedMax, r.Seq)
			}
		}
	case *codec.Exists:
		if c.track {
			c.n, c.known = r.Count, true
		}
	case *codec.Expunge:
		s.renumberedLocked(r.Seq)
		if !c.known {
			return
		}
		if r.Seq == 0 || r.Seq > c.n {
			// An expunge of a message never announced: counted; the
			// count stays as it is (the server's view is unknown).
			c.unannouncedLocked()
			return
		}
		c.n--
	case *codec.Vanished:
		if !r.Earlier {
			s.renumberedLocked(0) // UIDs: which numbers, unknown
		}
		if !c.known || r.Earlier {
			return
		}
		if s.enabled&enabledQResync == 0 {
			// Without QRESYNC a server must not send VANISHED (RFC 7162
			// section 3.2.10): delivered, not applied to the count.
			return
		}
		k, ok := r.UIDs.Len()
		if !ok || k > uint64(c.n) {
			// "*" in VANISHED, or more messages gone than there were:
			// the count is lost until the next EXISTS.
			c.unannouncedLocked()
			c.n, c.known = 0, false
			return
		}
		c.n -= uint32(k)
	}
}

// Exists returns the number of messages in the selected mailbox as the
// session has followed it: set by the last EXISTS, less one for each
// EXPUNGE and the number of messages of each VANISHED (not EARLIER) since,
// while QRESYNC is enabled (a VANISHED without it, which a server must
// not send, RFC 7162 section 3.2.10, changes Renumbered, not the count).
// known is false outside the SELECTED state and while a SELECT or EXAMINE
// has not yet had its EXISTS (one read before the answer's [CLOSED] is
// the closed mailbox's, forgotten there: closedBoundaryLocked); the
// count is then not checked.
func (s *Session) Exists() (n uint32, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count.n, s.count.known
}

// Renumbered returns a counter that changes whenever sequence numbers
// read before may have come to name other messages: at every EXPUNGE
// response, every VANISHED response (not VANISHED (EARLIER), which
// reports UIDs gone before), and whenever a mailbox is selected or
// closed (it wraps at 2^32). A caller that splits work on sequence
// numbers across several commands compares it before each: a change
// means that the numbers it holds may be stale.
//
// It takes no lock (one atomic load): it may be read for every message.
func (s *Session) Renumbered() uint32 { return s.renumbered.Load() }

// reselectedLocked counts a change of the selected mailbox (under mu). The
// count wraps at 2^32, skipping 0 (a Command.Selection of 0 checks
// nothing).
func (s *Session) reselectedLocked() {
	s.count.nameGone = false
	// Another mailbox's delimiter may differ (listDelim), and so may
	// whether its hierarchy is flat: another namespace's may not be.
	s.rl.listDelim, s.rl.listFlat = 0, false
	if s.selections++; s.selections == 0 {
		s.selections = 1
	}
	if c := s.catch; c != nil {
		// The FETCHes the running Catches hold name messages of the
		// mailbox selected before: Stop leaves them out.
		c.xl.reselected()
	}
}

// HighestModSeq returns the selected mailbox's HIGHESTMODSEQ as the
// server last gave it (CONDSTORE, RFC 7162): in the SELECT's
// [HIGHESTMODSEQ], and in the [HIGHESTMODSEQ] of a later untagged OK or
// of a later command's tagged OK (RFC 7162 section 3.1.2.1 and errata
// 1810: a FETCH, STORE or EXPUNGE may say it); a NO's or BAD's is not
// taken. The first [CLOSED] of a SELECT's or EXAMINE's answer (RFC 7162
// section 3.2.11) forgets the one read before it, the mailbox closed's;
// any other [CLOSED] changes nothing (closedBoundaryLocked). ok is false
// without one (no mailbox selected, NOMODSEQ, a server without
// CONDSTORE). A client that keeps a copy of the mailbox
// stores this value for its next SELECT (QRESYNC) or FETCH CHANGEDSINCE,
// never the largest MODSEQ its FETCH responses showed: a server can send
// a message's new MODSEQ before the expunge of a lower one, and resyncing
// from the higher value would lose that expunge
// (TestHighestModSeqFromTaggedOK).
func (s *Session) HighestModSeq() (modseq uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count.modseq, s.count.hasModSeq
}

// modSeqCodeLocked records a [HIGHESTMODSEQ] or [NOMODSEQ] code of the
// selected mailbox (under mu).
func (s *Session) modSeqCodeLocked(c *codec.Code) {
	if c == nil || !s.count.track {
		return
	}
	switch c.Kind {
	case codec.CodeHighestModSeq:
		s.count.modseq, s.count.hasModSeq = c.Num, true
	case codec.CodeNoModSeq:
		s.count.modseq, s.count.hasModSeq = 0, false
	}
}

// Unauthentications counts the tagged OKs that took the session back to
// NONAUTH (UNAUTHENTICATE, however it was sent: Run, Do, a caller whose
// context ended after it went), from 0, wrapping at 2^32. What a layer
// above keeps of the user logged in (the commands package's listed
// names) is theirs while the count stays what it was when kept.
func (s *Session) Unauthentications() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unauths
}

// Selections counts the changes of the selected mailbox: it grows when a
// SELECT or EXAMINE starts (is given its turn) and when the mailbox is
// closed (CLOSE, UNSELECT, a failed SELECT, the session's end), from 0
// (none yet), and wraps at 2^32 to 1. A command that must reach the
// mailbox another one reached carries the count in Command.Selection.
// The count of the mailbox a SELECT or EXAMINE selected is its
// Pending.Selection: read here after the command, it may already be that
// of a SELECT another goroutine started since.
func (s *Session) Selections() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selections
}

// Unannounced returns how many responses since the session opened named
// a message above the selected mailbox's count (Exists): FETCH responses
// (each also reported to the command it went to, by an *UnannouncedError)
// and EXPUNGE or VANISHED responses for messages the server never
// announced. It is 0 with a correct server (it stops at 2^32-1).
func (s *Session) Unannounced() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(s.count.unannounced)
}

// UIDValidityChanges returns a counter that changes whenever the selected
// mailbox's UIDVALIDITY changes after its SELECT or EXAMINE (RFC 9051
// section 2.3.1.1: the UIDs read before may name other messages, or
// none): at every untagged OK [UIDVALIDITY] read while a mailbox is
// selected and no SELECT or EXAMINE is in flight whose value differs from
// the last one the session read for the mailbox (its SELECT's answer's,
// or the last change's). A server that repeats the same value changes
// nothing; when the SELECT's answer gave none, the first one read after it
// counts. It wraps at 2^32. A caller that acts on UIDs over several
// commands compares it before each, or gives it to them
// (Command.UIDValidity).
func (s *Session) UIDValidityChanges() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count.validities
}

// SelectedUIDValidity returns the selected mailbox (its name as given to
// the SELECT or EXAMINE), its UIDVALIDITY, as the SELECT's answer gave it
// or as changed since (UIDValidityChanges), and the Selections count of
// that selection. ok is false outside the SELECTED state, when no
// UIDVALIDITY was read for the mailbox, and while a SELECT or EXAMINE is
// in flight (the value read then may be the next mailbox's). It is false
// too once a RENAME or DELETE answered OK took the mailbox's name during
// this selection, however it was sent (a package's command, Do, any
// goroutine): one naming it (ExactMailbox; a leading INBOX followed by
// the delimiter in any case too, "inbox/Sent" for "INBOX/Sent"), or a
// RENAME of a parent of it: the name, then the mailbox's hierarchy
// delimiter, as given by a LIST or LSUB response read during this
// selection that named the mailbox or one of its parents (LIST "" name
// after the SELECT). Before such a response, no name is a parent, and
// INBOX's children are compared byte for byte (a RENAME of "Work" run
// on the session with "Work/Inbox" selected and never listed leaves the
// name held: commands' Client.Rename, and its Client.Do of a RENAME,
// send that LIST first for this); responses naming other
// mailboxes (another namespace's delimiter) do not count. A RENAME of
// INBOX takes no name: it moves INBOX's messages to a new mailbox and
// leaves INBOX, and the mailboxes under it, where they are (RFC 9051
// section 6.3.6). The name may then be a new mailbox's (CREATE), with a
// UIDVALIDITY of its own. Another client's RENAME or DELETE is not seen.
// A caller that checks a UIDVALIDITY the server gave for the mailbox (an
// APPENDUID's) reads Selections before its command and compares.
func (s *Session) SelectedUIDValidity() (mailbox string, v, selection uint32, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateSelected || s.uidValidity == 0 || s.count.nameGone {
		return "", 0, 0, false
	}
	for _, p := range s.inflight {
		if p.info.transition == ToSelected {
			return "", 0, 0, false
		}
	}
	return s.selected, s.uidValidity, s.selections, true
}

// nameGoneLocked takes the OK of p, a RENAME or DELETE whose first
// argument (its mailbox) the session read (under mu, on the reading
// coroutine): when it named the selected mailbox, or a RENAME its parent
// (the mailbox's name begins with it and the selected mailbox's
// delimiter, rl.listDelim: see listDelim), the name is gone
// (SelectedUIDValidity). A leading INBOX followed by that delimiter is
// compared in any case, as INBOX alone is. A RENAME of INBOX leaves INBOX
// and its children.
func (s *Session) nameGoneLocked(p *Pending) {
	from, sel := p.mailbox, s.selected
	if s.state != StateSelected || !p.hasMailbox || p.name != "RENAME" && p.name != "DELETE" {
		return
	}
	d := s.rl.listDelim
	gone := len(sel) == len(from) && hasMailboxPrefix(sel, from, d)
	if p.name == "RENAME" {
		if codec.ExactMailbox(from, "INBOX") {
			return
		}
		gone = gone || isParentOf(from, sel, d)
	}
	if gone {
		s.count.nameGone = true
	}
}

// isParentOf reports whether parent is a parent of name in a hierarchy
// of delimiter d (0: unknown, never): name begins with parent and d, a
// leading INBOX of either in any case (hasMailboxPrefix).
func isParentOf(parent, name string, d byte) bool {
	return d != 0 && len(name) > len(parent) && name[len(parent)] == d && hasMailboxPrefix(name, parent, d)
}

// hasMailboxPrefix reports whether name begins with prefix, comparing a
// leading INBOX of both, alone or followed by d, in any case (INBOX is
// case insensitive, RFC 9051 section 5.1, and so is the INBOX that leads
// the names of the mailboxes under it, as codec.SameMailbox takes it);
// the rest byte for byte.
func hasMailboxPrefix(name, prefix string, d byte) bool {
	if len(name) < len(prefix) {
		return false
	}
	if inboxLead(prefix, d) && inboxLead(name, d) {
		return name[5:len(prefix)] == prefix[5:]
	}
	return name[:len(prefix)] == prefix
}

// inboxLead reports whether name is INBOX, in any case, alone or followed
// by d (not 0).
func inboxLead(name string, d byte) bool {
	return len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || d != 0 && name[5] == d)
}

// listDelim keeps the hierarchy delimiter of a LIST or LSUB response that
// names the selected mailbox or one of its parents (its name and that
// response's delimiter begin the selected mailbox's name), under mu on
// the reading coroutine: the delimiter nameGoneLocked takes a parent's
// name by. Another mailbox's response does not change it (a LIST "" "*"
// on a server whose namespaces have other delimiters, RFC 2342, may end
// with any of them). One that names the selected mailbox itself with a
// NIL delimiter says its hierarchy is flat (rl.listFlat: no parent, and
// SelectedDelimiter known), unless a delimiter was learnt already. Nor
// does one read while no mailbox is selected or
// a SELECT or EXAMINE is in flight (the next mailbox's name is not yet
// s.selected). A new selection forgets it (reselectedLocked). Names are
// compared as the session keeps them (mailboxNameLocked): in UTF-8 mode
// as sent, so "R&-D" and "R&D" are two mailboxes, as they are to the
// server, and decoded from modified UTF-7 only when the name as sent
// names neither the selected mailbox nor a parent of it (a server that
// still writes names so: "W&APY-rk/Inbox" for "Wörk/Inbox"; a LIST of
// "R&-D" then gives a selected "R&D" the delimiter of its sibling, of
// the same level and namespace); else decoded from modified UTF-7, where another mailbox whose
// name decodes alike ("R&-D" and a raw "R&D", which a server writing
// names in modified UTF-7 never lists) counts as the selected one, and a
// RENAME or DELETE of it as taking the selected name (nameGoneLocked):
// SelectedUIDValidity then reports no value, and the caller's check (an
// APPENDUID's) is off until the next selection.
func (s *Session) listDelim(r codec.Response) {
	l, ok := r.(*codec.List)
	if !ok || s.state != StateSelected || l.Delim == 0 && s.rl.listDelim != 0 {
		return
	}
	// The selected name is kept as noteTarget keeps it
	// (mailboxNameLocked), as STATUS routing compares: take the
	// response's the same way, or a non-ASCII mailbox ("Entw&APw-rfe")
	// never matched and never had a delimiter.
	name, sel := s.mailboxNameLocked(l.Mailbox), s.selected
	names := func(name string) bool {
		return len(name) == len(sel) && hasMailboxPrefix(sel, name, l.Delim) || isParentOf(name, sel, l.Delim)
	}
	if !names(name) {
		// In UTF-8 mode names are kept as sent, yet a server may still
		// list them in modified UTF-7 ("W&APY-rk/Inbox" for the
		// selected "Wörk/Inbox"): the decoded name is taken second,
		// as STATUS routing does (statusByNameLocked), or the
		// delimiter a RENAME of the parent is known by was never
		// learnt (TestUTF8RenameParentOfSelectedListedInUTF7).
		dec := name
		if s.utf8Locked() {
			dec = codec.DecodeMailboxLenient(l.Mailbox)
		}
		if dec == name || !names(dec) {
			return
		}
	}
	for _, p := range s.inflight {
		if p.info.transition == ToSelected {
			return
		}
	}
	// A NIL delimiter names no parent (isParentOf with 0): names took
	// the selected mailbox itself, whose hierarchy is flat. Rename asked
	// LIST again for every RENAME of a prefix of the name while the
	// answer was not kept (TestRenamePrefixOfSelectedFlatListsOnce).
	s.rl.listDelim, s.rl.listFlat = l.Delim, l.Delim == 0
}

// mailboxNameLocked returns b, a mailbox name as a command sent it or a
// response gave it, as the session keeps and compares names (a command's
// mailbox, the selected one, a STATUS's or LIST's): in UTF-8 mode
// (UTF8=ACCEPT enabled, or an IMAP4rev2-only server: utf8Locked) as it
// is, since RFC 6855 names are UTF-8 there and "&" is a character ("R&-D"
// and "R&D" are two mailboxes, as commands' Client names them); else
// decoded from modified UTF-7, leniently (a name that does not decode is
// kept as sent). Decoding in UTF-8 mode too made the two one: an APPEND
// to "R&-D" while "R&D" was selected had its APPENDUID checked against
// "R&D"'s UIDVALIDITY and dropped, and a DELETE of "R&-D" took the
// selected name (TestUTF8NamesDecodingAlikeTwoMailboxes). Under mu.
func (s *Session) mailboxNameLocked(b []byte) string {
	if s.utf8Locked() {
		return string(b)
	}
	return codec.DecodeMailboxLenient(b)
}

// SelectedDelimiter returns the selected mailbox (as SelectedUIDValidity
// names it) and its hierarchy delimiter as a LIST or LSUB response read
// during this selection gave it, one naming the mailbox or one of its
// parents (listDelim). ok is false outside the SELECTED state, while a
// SELECT or EXAMINE is in flight, and before such a response. A mailbox
// that such a response named itself with a NIL delimiter (a flat
// hierarchy) has none: ok is true and delim 0, until the next selection
// (another mailbox, maybe of another namespace, may have one). A later
// response of this selection that gives a delimiter takes its place; a
// NIL one after a delimiter changes nothing. A RENAME of a parent of the
// selected mailbox takes its name (SelectedUIDValidity) only once its
// delimiter is known: a caller about to rename what may be a parent sends
// LIST "" with the mailbox's name first when ok is false (commands'
// Client.Rename does so).
func (s *Session) SelectedDelimiter() (mailbox string, delim byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateSelected {
		return "", 0, false
	}
	for _, p := range s.inflight {
		if p.info.transition == ToSelected {
			return "", 0, false
		}
	}
	return s.selected, s.rl.listDelim, s.rl.listDelim != 0 || s.rl.listFlat
}

// uidValidityCodeLocked takes an untagged OK [UIDVALIDITY v] (under mu):
// in the answer of a SELECT or EXAMINE it is the mailbox's value; read
// while a mailbox is selected, outside such an answer, it counts a change
// when v differs from the last value read.
func (s *Session) uidValidityCodeLocked(v uint32) {
	for _, p := range s.inflight {
		if p.info.transition == ToSelected {
			s.uidValidity = v // the SELECT's own (or the next mailbox's)
			return
		}
	}
	if s.state == StateSelected && v != s.uidValidity {
		s.uidValidity = v
		s.count.validities++
	}
}

// ErrUnannounced matches an *UnannouncedError.
var ErrUnannounced = sentinel("session: FETCH for a message the server did not announce")

// UnannouncedError: the server sent a command FETCH responses for
// messages above the mailbox's count (Session.Exists), which a server must
// not do (RFC 9051 section 7.5.2; RFC 3501 section 7.4.2). Nothing was
// lost: the responses were delivered to the command as any others (in its
// Result, to OnData, or by Pending.Next); the command ran, and its Result
// is returned with this error. A broken or hostile server, or a session
// that has lost track of the mailbox; the sequence numbers of that answer
// cannot be trusted.
//
// A command by UID (UID FETCH, UID STORE, ...) does not end with it: its
// answer is read by UID, and Cyrus names a message delivered while it
// answers before it announces it (the EXISTS comes with a later command).
// Nor does a command whose own answer announces every such message with
// an EXISTS before its tagged response: Cyrus answers a FETCH by sequence
// number so for a message delivered as it starts. Session.Unannounced
// still counts those responses.
type UnannouncedError struct {
	Command string
	Count   int    // FETCH responses above the count
	Seq     uint32 // the sequence number of the first of them
	Exists  uint32 // the count when the command ended
}

// Error implements error.
func (e *UnannouncedError) Error() string {
	return "session: " + e.Command + ": " + strconv.Itoa(e.Count) +
		" FETCH responses for messages the server did not announce (the first for message " +
		strconv.FormatUint(uint64(e.Seq), 10) + "; the mailbox has " +
		strconv.FormatUint(uint64(e.Exists), 10) + ")"
}

// announcedLate reports whether the count now reaches every message p
// was sent above it: an EXISTS in p's own answer, read before its tagged
// response, announced them after naming them. Cyrus answers a FETCH so
// for mail delivered since its last EXISTS (it reads the mailbox afresh,
// answers, then sends what changed); the numbers are the ones it then
// announced, with no EXPUNGE between (none may come while a command by
// sequence number runs).
func (s *Session) announcedLate(p *Pending) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count.known && p.unannouncedMax <= s.count.n
}

// Is makes errors.Is(err, ErrUnannounced) true.
func (e *UnannouncedError) Is(target error) bool { return target == ErrUnannounced }
