package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// The journalled appending that import and copy share. Each group of
// messages is one APPEND (MULTIAPPEND when offered: all or none are added,
// LITERAL+ when offered, which commands.Append and AppendMany use by
// themselves). Before a group is sent, the state records it as pending with
// the destination's UIDNEXT; after the server said OK, the state moves past
// it. A run that was stopped in between finds the pending group at its start
// and asks the server whether it landed (UIDNEXT moved and its messages
// found after the UIDNEXT recorded, or, without a UIDNEXT, a UID floor or
// the message count: see appender.landed, confirm, confirmOpen and
// confirmSeq): so no message is lost, and none is
// appended twice (but in the rare cases landed and docs/cli.md,
// Resuming, describe).

// Group limits of a MULTIAPPEND.
const (
	groupMessages = 50
	groupBytes    = 16 << 20
)

// pendingAppend is a group of messages sent in an APPEND whose answer was
// not recorded.
type pendingAppend struct {
	DstUIDValidity uint32 `json:"dst_uidvalidity"`
	DstUIDNext     uint32 `json:"dst_uidnext"`
	Count          int    `json:"count"`
	// DstUIDNext is the mailbox's UIDNEXT before the group was sent;
	// when the STATUS gives none, a UID floor (appender.uidFloor: every
	// message that arrives later has a UID from it on); 0 when neither
	// is known.
	//
	// DstMessages is the mailbox's message count just before the group
	// was sent, from the STATUS asked right before it (appender.prepare;
	// EXAMINE's EXISTS when the STATUS gives no MESSAGES):
	// it decides when UIDNEXT cannot tell whether the group landed
	// (DstUIDNext 0, unknown; or a group reaching 4294967295, past
	// which UIDNEXT cannot move): see
	// appender.landed. nil in a state an older imapkit wrote (which
	// recorded it only after a STATUS).
	DstMessages *uint32 `json:"dst_messages,omitempty"`
	// Messages are the group's messages as the destination will show
	// them (pendingMsg), in order, one per message: when UIDNEXT says
	// the group landed, the next run looks for them after the UIDNEXT
	// recorded (appender.confirm), since mail another client delivered
	// meanwhile moves UIDNEXT as the group would have. nil in a state an
	// older imapkit wrote.
	Messages []pendingMsg `json:"messages,omitempty"`
	// Undated is how many of the group's messages go without the
	// internal date they had (appendDate), for the run's note
	// (undatedNote) when the next run finds the group landed: left
	// out, the note undercounted them, or was not given at all. 0 in a
	// state an older imapkit wrote.
	Undated int `json:"undated,omitempty"`
}

// pendingMsg is what the next run knows of one message of a pending
// group, to find it on the destination: its RFC822.SIZE and INTERNALDATE
// there. Each is 0 when it cannot be told (a message holding a NUL, sent
// as literal8, which a server may rewrite; a message appended without an
// internal date, which the server then dates on arrival).
type pendingMsg struct {
	// Size is the message's size as sent; CRLFSize, when not 0, is its
	// size with every bare LF made CRLF (a Maildir file with LF line
	// ends, or a body a copy source sends with them: bareLFsEnded;
	// Dovecot's RFC822.SIZE counts CRLF): either is taken.
	Size     int64 `json:"size,omitempty"`
	CRLFSize int64 `json:"crlf_size,omitempty"`
	// Date is the INTERNALDATE the APPEND sets, in Unix seconds.
	Date int64 `json:"date,omitempty"`
}

// known reports whether m tells anything of its message.
func (m pendingMsg) known() bool { return m.Size > 0 || m.Date != 0 }

// matches reports whether a destination message of RFC822.SIZE size and
// INTERNALDATE date may be m's.
func (m pendingMsg) matches(size int64, date time.Time) bool {
	if m.Date != 0 && (date.IsZero() || date.Unix() != m.Date) {
		return false
	}
	return m.Size <= 0 || size == m.Size || m.CRLFSize > 0 && size == m.CRLFSize
}

// appendDate returns the internal date an APPEND gives a message whose
// date is t: t, or none (the zero time: the server dates it on arrival)
// for a date before 1970 or after 2106 (Unix seconds past 2^32-1), which
// servers do not keep (measured): Cyrus 3.6 refuses a date before 1970
// with BAD "Invalid date-time" (the message failed at every run) and
// wraps one after 2106 modulo 2^32; Dovecot 2.3 stores one before 1970 as
// an unsigned 32-bit time (1960 reads back as 2096), though not always.
// Cyrus judges the year as written, not the instant: a date from 1970 on
// written in a zone west of UTC that reads 1969 (Unix 0 as New York
// writes it, 31-Dec-1969 19:00:00 -0500) is refused as well, so such a
// date goes in UTC, the same instant.
func appendDate(t time.Time) time.Time {
	if t.IsZero() || t.Unix() < 0 || t.Unix() > math.MaxUint32 {
		return time.Time{}
	}
	if t.Year() < 1970 {
		return t.UTC()
	}
	return t
}

// dateKeptAhead is how far after the time it is recorded a date is
// recorded for a pending message (recordedDate). Dovecot replaces an
// APPEND's date more than 2 hours ahead of its clock by the arrival time
// (INTERNALDATE_MAX_FUTURE_SECS); an hour leaves one for the clocks'
// difference.
const dateKeptAhead = time.Hour

// recordedDate returns the internal date recorded for a pending message
// whose APPEND gives it t (pendingMsg.Date), in Unix seconds, or 0 (not
// recorded: the message is looked for by its size alone) when a server
// may not keep it: none given (appendDate), 1970-01-01T00:00:00Z itself
// (0 is "unknown"), or more than dateKeptAhead ahead of now. Recorded and
// not kept, a group that landed was not found and sent again: a
// duplicate.
func recordedDate(t time.Time, now time.Time) int64 {
	t = appendDate(t)
	if t.IsZero() || t.Unix() <= 0 || t.After(now.Add(dateKeptAhead)) {
		return 0
	}
	return t.Unix()
}

// confirmable reports whether p records its messages well enough for
// confirm to look for them: one record per message, one at least telling
// something (a message of which nothing is told, neither size nor date,
// matches any in its place: a MULTIAPPEND lands whole, and a group of
// one that tells nothing is not confirmable).
func (p *pendingAppend) confirmable() bool {
	if p.Count <= 0 || len(p.Messages) != p.Count {
		return false
	}
	for _, m := range p.Messages {
		if m.known() {
			return true
		}
	}
	return false
}

// confirmSlack is how many UIDs other than a pending group's confirm
// looks at after the UIDNEXT recorded with it: those of mail another
// client delivered to the mailbox between the group's record and the next
// run, expunged since or not (docs/limits.md). UIDNEXT moved further, a
// group not found among them cannot be told missing (errPendingUnknown).
const confirmSlack = 200

// appendItem is one message to append: size bytes read from r, or what
// open returns when it is set (called when the message's turn comes).
type appendItem struct {
	r     io.Reader
	size  int64
	open  func() (io.Reader, int64, error)
	flags []string
	date  time.Time
	// binary: the message holds a NUL (import looks): sent as literal8
	// when the destination has BINARY. Not for every message: Dovecot and
	// Cyrus rewrite a part labelled "Content-Transfer-Encoding: binary"
	// as base64 when it comes in literal8.
	binary bool
}

// appender appends to one mailbox of the destination.
type appender struct {
	c       *commands.Client
	mailbox string
	multi   bool   // MULTIAPPEND offered
	binary  bool   // BINARY offered: a message holding a NUL goes as literal8
	next    uint32 // the mailbox's UIDNEXT as known; 0 when unknown
	uidv    uint32
	// messages is the mailbox's message count at the last STATUS. It is
	// not counted on by the groups appended since: a message another
	// client delivers (into INBOX, during a migration) would not be in
	// it, and a group recorded with such a count, stale, is taken for
	// landed when the next run finds one more message
	// (TestCountStaleAfterDelivery, found by review).
	messages uint32
	closed   bool              // the destination's session ended with an APPEND (dstEnded): one abandoned mid-way
	busy     []<-chan struct{} // Reads and Opens left running by a cancelled APPEND (settle)
	// limit is the destination's APPENDLIMIT=n, when hasLimit.
	limit    uint64
	hasLimit bool
	// confirmed: the UIDs of the pending group that landed found by
	// confirm (landed), nil when they were not looked for.
	confirmed []uint32
	// full: an APPEND was given the UID 4294967295, the last there is:
	// the mailbox's UIDNEXT cannot be told (it wrapped to 0, "unknown"),
	// and no message can be appended to it with a greater UID (a server
	// must give the mailbox a new UIDVALIDITY first, RFC 3501 2.3.1.1).
	full bool
	// undated, when set, counts the messages appended without the
	// internal date they had (before 1970 or after 2106: appendDate),
	// for the run's note at its end (undatedNote).
	undated *int
}

// countUndated counts, in a.undated, the items of a group that landed
// whose date the APPEND left out (appendDate).
func (a *appender) countUndated(items []appendItem) {
	if a.undated == nil {
		return
	}
	for _, it := range items {
		if undatedAppend(it.date) {
			*a.undated++
		}
	}
}

// undatedAppend reports whether a message dated t (the zero time: none)
// goes without it (appendDate).
func undatedAppend(t time.Time) bool { return !t.IsZero() && appendDate(t).IsZero() }

// undatedNote writes to w, when n messages were appended without the
// internal date they had, the one line that says so at the end of a run
// of cmd ("copy", "import"): the destination dated them on arrival.
func undatedNote(w io.Writer, cmd string, n int) {
	if n == 0 {
		return
	}
	their := "their"
	if n == 1 {
		their = "its"
	}
	fmt.Fprintf(w, "imapkit %s: note: %s appended without %s internal date (before 1970 or after 2106, which servers do not keep), dated by the destination on arrival: see the internal dates under %s in docs/cli.md\n", cmd, plural(n, "message"), their, cmd)
}

// newAppender appends to mailbox; noMulti turns MULTIAPPEND off.
func newAppender(c *commands.Client, mailbox string, noMulti bool) *appender {
	s := c.Session()
	a := &appender{c: c, mailbox: mailbox, multi: !noMulti && s.HasCap("MULTIAPPEND"),
		binary: s.HasCap("BINARY") || s.HasCap("IMAP4rev2")}
	for _, cp := range s.Caps() {
		if v, ok := strings.CutPrefix(strings.ToUpper(cp), "APPENDLIMIT="); ok {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				a.limit, a.hasLimit = n, true
			}
		}
	}
	return a
}

// tooBig reports whether a message of size bytes is over the
// destination's APPENDLIMIT (as commands reads it: a limit of 0 takes
// nothing).
func (a *appender) tooBig(size int64) bool {
	return a.hasLimit && uint64(max(size, 2)) > a.limit // 0 bytes go as a blank line
}

// errNeedsBinary is the error of a message holding a NUL byte, which
// only a literal8 (BINARY, RFC 3516) may carry, for a server without
// BINARY: it can never be appended there (exit status 1, as a refusal).
var errNeedsBinary = errors.New("it holds a NUL byte, which the server cannot take without BINARY")

// unsendable reports why the server cannot take m, an import's message
// (measured, looked at for a NUL): over its APPENDLIMIT, or holding a NUL
// byte without BINARY. why is for the warning of --skip-unsendable, err
// (nil when m can be sent) for the error without it.
func (a *appender) unsendable(m *importMsg) (why string, err error) {
	switch {
	case a.tooBig(m.size):
		return fmt.Sprintf("is %d bytes, over the server's APPENDLIMIT of %d", m.size, a.limit),
			fmt.Errorf("%w: %d bytes, the limit is %d (--skip-unsendable skips it)", commands.ErrTooBig, m.size, a.limit)
	case m.nul && !a.binary:
		return "holds a NUL byte, which the server (without BINARY) cannot take",
			fmt.Errorf("%w (--skip-unsendable skips it)", errNeedsBinary)
	}
	return "", nil
}

// tooBigError is the error of a message over the destination's
// APPENDLIMIT, found by its RFC822.SIZE before its group is sent: the
// messages before it are copied, it and those after it in its mailbox are
// not. It wraps commands.ErrTooBig.
type tooBigError struct {
	uid   uint32
	size  int64
	limit uint64
}

func (e *tooBigError) Error() string {
	return fmt.Sprintf("UID %d: %d bytes (RFC822.SIZE), over the destination's APPENDLIMIT of %d: not copied, nor the mail after it in this mailbox (--skip-unsendable skips it)", e.uid, e.size, e.limit)
}

func (e *tooBigError) Unwrap() error { return commands.ErrTooBig }

// groupFull reports whether a group of n messages of total bytes is as
// large as one APPEND should be.
func (a *appender) groupFull(n int, bytes int64) bool {
	if !a.multi {
		return n >= 1
	}
	return n >= groupMessages || bytes >= groupBytes
}

// status learns the destination's UIDNEXT, UIDVALIDITY and message count.
func (a *appender) status(ctx context.Context) error {
	st, err := a.c.Status(ctx, a.mailbox, commands.StatusUIDNext|commands.StatusUIDValidity|commands.StatusMessages)
	if err != nil {
		return err
	}
	a.next, a.uidv, a.messages = st.UIDNext, st.UIDValidity, st.Messages
	if !st.Has(commands.StatusUIDNext) {
		a.next = 0 // unknown
	}
	if st.Has(commands.StatusMessages) && st.Has(commands.StatusUIDValidity) {
		return nil
	}
	// A STATUS without MESSAGES (or UIDVALIDITY), though asked for
	// both: the codec leaves them 0. A count of 0 recorded with a
	// pending group made the next run look for it from message 1, among
	// the mailbox's own messages, and take an older twin (the same size
	// and date) for a group never sent (lost:
	// TestImportPendingCountStatusWithoutMessages, found by review); and
	// checkDst took a mailbox of unknown count for empty. EXAMINE tells
	// both (EXISTS, [UIDVALIDITY]); none of status's callers has the
	// mailbox selected.
	ms, err := a.c.Examine(ctx, a.mailbox)
	if err != nil {
		return fmt.Errorf("STATUS of %s gave no message count or UIDVALIDITY, and EXAMINE failed: %w", printable(a.mailbox), err)
	}
	if !st.Has(commands.StatusMessages) {
		a.messages = ms.Exists
	}
	if !st.Has(commands.StatusUIDValidity) {
		a.uidv = ms.UIDValidity
	}
	return deselect(ctx, a.c, a.mailbox, true)
}

// uidFloor returns a UID that every message given a UID from now on is
// given at least: the mailbox's UIDNEXT, when a STATUS gave none, one past
// the UID of its last message (1 when it is empty), from EXAMINE and a
// FETCH of the last message's UID. Recorded with a pending group
// (pendingAppend.DstUIDNext), it lets the next run look for the group by
// UID (confirmOpen), which another client's expunges do not move, as they
// move sequence numbers: a group that landed, moved below the window of
// sequence numbers past the count recorded by an expunge, was sent again
// (TestImportPendingCountLandedExpungeDelivery, found by review). 0 when
// it cannot be told (the last UID is 4294967295), or when the server
// refuses the EXAMINE or the FETCH (NO, BAD) or answers the FETCH without
// the UID: the group is then recorded by the message count alone, and
// sent, as before there was a floor; a refusal stopped the run before
// anything was sent (TestImportUIDFloorExamineRefused, found by review),
// as the UID left out did (TestImportLastUIDUntold).
func (a *appender) uidFloor(ctx context.Context) (floor uint32, err error) {
	ms, err := a.c.Examine(ctx, a.mailbox)
	if refused(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("learning the last UID of %s (its STATUS gave no UIDNEXT): %w", printable(a.mailbox), err)
	}
	defer func() {
		if derr := deselect(ctx, a.c, a.mailbox, true); derr != nil && err == nil {
			floor, err = 0, derr
		}
	}()
	if ms.UIDValidity != a.uidv {
		return 0, nil
	}
	if ms.UIDNext != 0 {
		return ms.UIDNext, nil
	}
	if ms.Exists == 0 {
		return 1, nil
	}
	last, err := a.lastUID(ctx, ms.Exists)
	if refused(err) || errors.Is(err, errLastUIDUntold) {
		// A FETCH answered without the UID is a refusal too: no floor,
		// the group recorded by the message count alone, as an older
		// imapkit's record (landed: confirmSeq, which asks no UID to
		// look by, and cannot tell rather than send the group again
		// when the count moved). It stopped the run before anything
		// was sent, at every run (TestImportLastUIDUntold, found by
		// review).
		return 0, nil
	}
	if err != nil {
		// Nothing is pending yet: errPendingUnknown's "cannot tell
		// whether the pending APPEND landed" named none.
		return 0, fmt.Errorf("the STATUS of %s gives no UIDNEXT, and the UID to record the next group at (one past its last message's) cannot be learnt: %w; nothing of the group was sent, run the command again", printable(a.mailbox), err)
	}
	if last == math.MaxUint32 {
		return 0, nil
	}
	return last + 1, nil
}

// errLastUIDUntold is the error of lastUID when the server tells no UID
// of the last message.
var errLastUIDUntold = errors.New("the server told no UID of the last message")

// lastUID returns the UID of message exists, the selected mailbox's last,
// by a FETCH of it; an error wrapping errLastUIDUntold when the server
// tells none.
func (a *appender) lastUID(ctx context.Context, exists uint32) (uint32, error) {
	var last uint32
	for m, err := range a.c.Fetch(ctx, commands.SeqRange(exists, exists), &commands.FetchItems{UID: true}) {
		if err != nil {
			// Numbers of our own (exitCode: a retry works them out anew).
			return 0, ownSeq(fmt.Errorf("fetching the last UID of %s: %w", printable(a.mailbox), err))
		}
		if m.SeqNum == exists && m.UID != 0 {
			last = m.UID
		}
	}
	if last == 0 {
		return 0, fmt.Errorf("%w of %s", errLastUIDUntold, printable(a.mailbox))
	}
	return last, nil
}

// errDstChanged is the error of a destination mailbox that is not the one
// earlier runs appended to and holds messages (checkDst).
var errDstChanged = errors.New("the destination mailbox is not the one earlier runs appended to")

// checkDst checks, before anything is appended, that the destination
// mailbox is the one earlier runs appended to: recorded is the
// UIDVALIDITY they recorded (0: none recorded), appended whether they
// appended anything (or have a pending group), created whether this run
// had to create the mailbox. The state's count of what was done says
// what the destination holds; a mailbox deleted (and created again, by
// this run or another client) since holds none of it, and a run that
// trusted the count would skip it all for ever (it did: "copied 0
// messages", exit 0). When the mailbox is another (a UIDVALIDITY other
// than the one recorded, or created by this run though something was
// appended before, whatever UIDVALIDITY is recorded), startOver is true if it is empty: the caller appends
// everything again, as to a new mailbox. When it holds messages, whose
// they are cannot be told (copying everything again could duplicate
// them, copying only what is new would leave out the rest): an error
// wrapping errDstChanged, which hint ends. Either way a.uidv is the
// mailbox's UIDVALIDITY, for the caller to record.
func (a *appender) checkDst(ctx context.Context, recorded uint32, appended, created bool, hint string) (startOver bool, err error) {
	if err := a.status(ctx); err != nil {
		return false, err
	}
	// Created though something was appended before is another mailbox
	// whatever UIDVALIDITY is recorded: a server may give a mailbox
	// created again the UIDVALIDITY it had (a constant one, or one
	// derived from the name), and comparing UIDVALIDITYs alone then took
	// it for the one appended to.
	switch {
	case appended && created:
	case recorded != 0 && recorded != a.uidv:
	default:
		return false, nil
	}
	if a.messages == 0 {
		return true, nil
	}
	was := "recorded none"
	switch {
	case recorded != 0 && recorded != a.uidv:
		was = fmt.Sprintf("UIDVALIDITY %d, now %d", recorded, a.uidv)
	case recorded != 0:
		was = fmt.Sprintf("created by this run, UIDVALIDITY %d as recorded", recorded)
	}
	return false, fmt.Errorf("%w (%s; it holds %d messages): what was appended before may or may not be in it, so neither the rest nor everything is appended; %s", errDstChanged, was, a.messages, hint)
}

// stateKeyPath is the JSON path, in jq's syntax, of the entry key of the
// object top of a state file: .mailboxes["INBOX"] (copy's entries are
// under "mailboxes", import's under "destinations"). The advice of an
// error names it: "the entry of INBOX" named no key a user could find.
// The key is quoted as JSON (a control character escaped), and every rune
// printable would hide (C1 controls; bidirectional controls such as
// U+200F, which a Hebrew or Arabic name may hold) is written \uXXXX inside
// the JSON string (escapeUnsafe), which JSON and jq read back as the key.
// Shown as '?' it named a key the state file does not hold
// (TestStateKeyPathUnsafeRunes, found by review).
func stateKeyPath(top, key string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(key); err != nil {
		return "." + top + "[" + strconv.Quote(key) + "]"
	}
	return "." + top + "[" + string(escapeUnsafe([]byte(strings.TrimSuffix(b.String(), "\n")))) + "]"
}

// prepare returns the pending record of a group of n messages about to be
// sent.
func (a *appender) prepare(ctx context.Context, n int) (*pendingAppend, error) {
	if a.full {
		return nil, fmt.Errorf("%w: %s gave the UID %d to a message appended, and has none after it for another until the server gives the mailbox a new UIDVALIDITY: nothing more is appended to it", errUIDsExhausted, printable(a.mailbox), uint32(math.MaxUint32))
	}
	// A STATUS right before every group (one per mailbox more than
	// when only groups whose UIDNEXT cannot tell asked one): the group
	// is recorded with the mailbox's UIDNEXT and message count as they
	// are now, not as the last group's APPENDUID left them. A message
	// another client delivered since (into INBOX, during a migration)
	// moved UIDNEXT past the one an APPENDUID gave: a group recorded at
	// that stale UIDNEXT, and stopped before it was sent, was taken for
	// landed by the next run (UIDNEXT moved) and never sent
	// (TestUIDNextStaleAfterDeliveryDovecot, found by review),
	// as a count kept across groups was (c983c96,
	// TestCountStaleAfterDelivery). A delivery after this
	// STATUS while the group is not sent (a run stopped between the
	// record and the APPEND, or an APPEND that never reached the
	// server), before the next run's STATUS, moves UIDNEXT as the group
	// would have: the next run looks for the group's messages
	// (pendingAppend.Messages, which the caller sets; confirm) rather
	// than taking it for landed. When the STATUS gives no UIDNEXT, a
	// UID floor is recorded in its place (uidFloor). The message count
	// is recorded with it, for a group recorded without either, or one
	// that would take the last UID (4294967295), past which UIDNEXT
	// cannot move (landed).
	known, uidv := a.next, a.uidv
	if err := a.status(ctx); err != nil {
		return nil, err
	}
	if a.uidv == uidv && known > a.next {
		// From an APPENDUID: a STATUS that gives none (0), or one
		// behind it, is not to be trusted over it.
		a.next = known
	}
	next := a.next
	if next == 0 {
		// No UIDNEXT told: the group is recorded at a UID floor, which
		// the next run looks for it from (uidFloor). Not kept as
		// a.next: the next group's floor is asked anew (one kept
		// would be below this group's own messages, and a later
		// group of the same size and date would be taken for them).
		floor, err := a.uidFloor(ctx)
		if err != nil {
			return nil, err
		}
		next = floor
	}
	m := a.messages
	return &pendingAppend{DstUIDValidity: a.uidv, DstUIDNext: next, Count: n, DstMessages: &m}, nil
}

// reachesLastUID reports whether n messages appended at UIDNEXT next take
// the last UID there is, 4294967295: the mailbox's UIDNEXT cannot move
// past it.
func reachesLastUID(next uint32, n int) bool {
	return n > 0 && uint64(next)+uint64(n) > math.MaxUint32
}

// errUIDsExhausted is the error of a destination mailbox that has given
// the last UID there is, 4294967295 (appender.full).
var errUIDsExhausted = errors.New("the destination mailbox has no UID left")

// afterUID records that the server gave the UID last to an appended
// message: the mailbox's UIDNEXT is the one after it, unless it was the
// last UID there is (appender.full): then UIDNEXT is unknown (0), not the
// wrapped 0 of last + 1 taken for it.
func (a *appender) afterUID(last uint32) {
	if last == math.MaxUint32 {
		a.next, a.full = 0, true
		return
	}
	a.next = last + 1
}

// savePending records a group about to be sent as pending (set) and saves
// the state (save). When the save fails the record is dropped again (unset)
// before the error is returned: the group's APPEND is then not sent, and a
// pending record of an APPEND never sent, kept in memory and written by a
// later save of the run (copy goes on with the next mailbox, and compacts
// the state at its end), made the next run take the group for landed as
// soon as anything else moved the destination mailbox's UIDNEXT: its
// messages were never copied, and the run said nothing.
func savePending(set, unset func(), save func() error) error {
	set()
	if err := save(); err != nil {
		unset()
		return err
	}
	return nil
}

// notAppendedError is the error of a group that certainly did not land:
// the server answered its APPEND NO or BAD (a MULTIAPPEND lands whole or
// not at all), or it failed before its APPEND was sent. Its pending record
// is then dropped at once: left in the state, a later run would take the
// group for landed as soon as anything else moved the mailbox's UIDNEXT.
type notAppendedError struct{ err error }

func (e *notAppendedError) Error() string { return e.err.Error() }
func (e *notAppendedError) Unwrap() error { return e.err }

// openFailedError is the error of a MULTIAPPEND not sent because its
// first message's Open failed: open is that Open's error (the source's,
// its text and chain: what the one-at-a-time path returns for the same
// failure), notSent the library's *session.NotSentError, which wraps it
// in a *session.OpenError that hides the source session's sentinels and
// types (so that it alone would not match the source's session.ErrNo).
type openFailedError struct{ open, notSent error }

func (e *openFailedError) Error() string   { return e.open.Error() }
func (e *openFailedError) Unwrap() []error { return []error{e.open, e.notSent} }

// notAppended reports whether err says that its group did not land.
func notAppended(err error) bool {
	var e *notAppendedError
	return errors.As(err, &e)
}

// refusedAppend reports whether err is the server's tagged NO or BAD to
// an APPEND: the command was answered, and nothing of it was appended. An
// error of anything else (the connection lost before the answer, a
// message that could not be read mid-command) leaves it unknown.
func refusedAppend(err error) bool {
	var se *session.StatusError
	return errors.As(err, &se) && strings.EqualFold(se.Command, "APPEND") &&
		(errors.Is(se, session.ErrNo) || errors.Is(se, session.ErrBad))
}

// groupRefusal reports whether err is the server's tagged NO to an
// APPEND, whatever its response code or none: the mailbox full
// ([OVERQUOTA], RFC 9208; Cyrus 3.6 answers "NO Over quota" with no
// code), a message too big ([LIMIT], RFC 5530; [TOOBIG], RFC 4469), a
// message the server will not take (Cyrus: "NO Message contains NUL
// characters" for a literal8 with a NUL in a header), or the mailbox gone
// ([TRYCREATE]). A MULTIAPPEND group lands whole or not at all, and the
// answer does not say which message was refused, so such a group of
// several messages is sent again one message at a time (retrySingly):
// those the server takes are appended, and the run stops at the first it
// refuses, naming it. Sent as a group again, it was refused at every run,
// and nothing of the mailbox was appended though some of it fitted; only
// the three codes above were retried so, and on Cyrus, which sends none,
// the group was refused at every run with no message named. When the
// refusal is not about a message ([TRYCREATE]), the first message sent
// alone is refused as the group was, and the run stops there, naming it.
// A BAD (a command the server could not parse) is not retried.
func groupRefusal(err error) bool {
	var se *session.StatusError
	return refusedAppend(err) && errors.As(err, &se) && errors.Is(se, session.ErrNo)
}

// binaryRefusal reports whether err is the destination's refusal of a
// message holding a NUL byte sent alone as literal8 (BINARY) that says
// the message itself can never be taken: a tagged NO coded [PARSE] or
// [CANNOT] (RFC 5530: the message cannot be parsed; the command can never
// succeed), or with no response code and a text naming a NUL: the word
// "NUL" (any case, a word of its own: not "NULL", not "annul"). Cyrus 3.6
// refuses a NUL in a header so, even in literal8: "NO Message contains
// NUL characters". A text that speaks of a quota is not taken so, coded
// or not. Such a message is unsendable as one over APPENDLIMIT is:
// --skip-unsendable skips it, and no later run sends it.
//
// Any other refusal stops the mailbox (copy) or the import, naming the
// message, as without the option, and the next run sends it again: one
// with another code ([OVERQUOTA], [TRYCREATE], [LIMIT], [UNAVAILABLE],
// [SERVERBUG]...), and one with no code whose text does not name a NUL:
// about the mailbox (Cyrus 3.6: "NO Over quota") or the server's passing
// state ("NO Server shutting down, try again later"; Cyrus's I/O error,
// "NO System I/O error", has no code). Before, every uncoded NO but one
// about a quota was taken for the message's: a passing refusal had the
// message skipped for ever.
func binaryRefusal(err error) bool {
	var se *session.StatusError
	if !refusedAppend(err) || !errors.As(err, &se) || !errors.Is(se, session.ErrNo) {
		return false
	}
	text := string(se.Status.Text)
	if strings.Contains(strings.ToLower(text), "quota") {
		return false
	}
	if c := se.Status.Code; c != nil {
		return strings.EqualFold(string(c.Name), "PARSE") || strings.EqualFold(string(c.Name), "CANNOT")
	}
	return namesNUL(text)
}

// namesNUL reports whether text holds the word "NUL", in any case, with
// no letter or digit on either side.
func namesNUL(text string) bool {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if strings.EqualFold(w, "NUL") {
			return true
		}
	}
	return false
}

// binaryRefusedError is the error of a message holding a NUL byte that
// the destination refused even as literal8 (binaryRefusal), without
// --skip-unsendable: what names it (a source UID, a file, an mbox
// offset), and the hint names the option.
func binaryRefusedError(what string, err error) error {
	return &refusedMessageError{what: what, err: fmt.Errorf("it holds a NUL byte, refused even as literal8 (--skip-unsendable skips it): %w", err)}
}

// retrySingly reports whether a group of n messages whose APPEND failed
// with err is to be sent again one message at a time: a group of several
// that certainly did not land, refused by a tagged NO (groupRefusal), over
// a connection still open. The messages then go in groups of one, which
// this never retries: a refusal is not sent again for ever.
func (a *appender) retrySingly(n int, err error) bool {
	return n > 1 && !a.closed && notAppended(err) && groupRefusal(err)
}

// refusedMessageError is the error of an APPEND of one message that did
// not land (the server refused it, or the library did before or while
// sending it): it names the message (what: a source UID for copy, a file
// or an mbox offset for import). The state stops before it, and the run
// stops there in its mailbox.
type refusedMessageError struct {
	what string
	err  error
}

func (e *refusedMessageError) Error() string {
	return fmt.Sprintf("%s: not appended (nor the messages after it): %v", e.what, e.err)
}

func (e *refusedMessageError) Unwrap() error { return e.err }

// nameRefused returns err naming the message what when err says that the
// APPEND of that one message (a group of one) did not land, else err.
func nameRefused(n int, what func() string, err error) error {
	if n != 1 || !notAppended(err) {
		return err
	}
	var gone *vanishedError
	if errors.As(err, &gone) {
		return err // names its UID
	}
	return &refusedMessageError{what: what(), err: err}
}

// cutAppend reports whether err is the library's refusal of an APPEND,
// before it was sent or in the middle of its literal (which aborts the
// session: the server appends nothing): a NUL a plain literal may not
// carry, a message whose size or reader the library refused, one over
// APPENDLIMIT, an argument it refused, a command not sent. Such a group
// certainly did not land: left pending, a later run took it for landed
// once anything else moved the mailbox's UIDNEXT.
func cutAppend(err error) bool {
	for _, e := range []error{wire.ErrNUL, commands.ErrSizeMismatch, commands.ErrTooBig, wire.ErrInvalidAtom, commands.ErrMailboxName, session.ErrNotSent} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// send appends the group and returns the destination UIDs of its
// messages in order (APPENDUID, UIDPLUS), or nil when the server gave none
// for the mailbox's UIDVALIDITY as known (a.uidv). The UIDNEXT after it is
// taken from APPENDUID, else asked for again before the next group. An
// error for a group that certainly did not land is a *notAppendedError.
// The items' readers that are io.Closers (import's files) are closed when
// it returns, whatever the outcome, or, when the APPEND's context ended
// while one was read, once that Read returns (heldReader): the session
// leaves such a Read running on a goroutine of its own. So too an
// AppendMany message's Open (openGuard): settle waits for such Reads and
// Opens.
//
// A group whose APPEND was cut off while it was written (the error
// matches session.ErrWriteCut: a message could not be read whole, or not
// opened, once its APPEND had begun, its context ended past the write's
// grace, the connection failed) certainly did not land: the session was
// aborted with the command unfinished, which appends nothing (the server
// is in the middle of the literal when the connection closes). Taken for
// "answer not known", such a group stayed pending, and a later run took it
// for landed once anything else moved the mailbox's UIDNEXT: lost. That
// is told from the error alone: a flag set by the message's reader came
// too late when the context's end left the Read running after Append had
// returned.
func (a *appender) send(ctx context.Context, items []appendItem) ([]uint32, error) {
	// g holds held: an Open of AppendMany's runs on a goroutine of its
	// own when ctx can end (the CLI's always can), and may still run when
	// AppendMany has returned (ctx ended while it blocked, in the source
	// FETCH's next, and the grace passed).
	g := &openGuard{held: make([]*heldReader, 0, len(items))}
	for _, it := range items {
		if it.r != nil {
			g.held = append(g.held, &heldReader{r: it.r})
		}
	}
	defer func() { a.busy = append(a.busy, g.finish()...) }()
	a.next = 0
	var uids []uint32
	k := 0 // the next of held
	next := func() io.Reader { k++; return g.held[k-1] }
	if len(items) == 1 || !a.multi {
		for i, it := range items {
			var r io.Reader
			size := it.size
			if it.open != nil {
				var err error
				if r, size, err = it.open(); err != nil {
					if i == 0 {
						err = &notAppendedError{err} // no APPEND sent
					}
					return nil, err
				}
				h := &heldReader{r: r}
				g.add(h)
				r = h
			} else {
				r = next()
			}
			res, err := a.c.Append(ctx, a.mailbox, r, size, &commands.AppendOptions{Flags: it.flags, Date: appendDate(it.date), Binary: it.binary && a.binary})
			if err != nil {
				a.closed = a.dstEnded()
				switch {
				case i == 0 && (refusedAppend(err) || cutAppend(err)):
					err = &notAppendedError{err}
				case i == 0 && errors.Is(err, session.ErrWriteCut):
					err = &notAppendedError{fmt.Errorf("%w (the APPEND was abandoned mid-way, with nothing of it appended, and the connection to the destination closed: run again)", err)}
				}
				return nil, err
			}
			a.countUndated(items[i : i+1])
			if res.UID != 0 && res.UIDValidity == a.uidv {
				a.afterUID(res.UID)
				uids = append(uids, res.UID)
			}
		}
		if len(uids) != len(items) {
			uids = nil
		}
		return uids, nil
	}
	msgs := make([]commands.AppendMessage, len(items))
	for i, it := range items {
		m := commands.AppendMessage{Options: &commands.AppendOptions{Flags: it.flags, Date: appendDate(it.date), Binary: it.binary && a.binary}}
		if it.open == nil {
			m.R, m.Size = next(), it.size
		} else {
			m.Open = func() (io.Reader, int64, error) {
				// On the Open's own goroutine (the session's
				// runOpen), which may outlive AppendMany: g
				// tells settle to wait for it.
				return g.open(it.open)
			}
		}
		msgs[i] = m
	}
	res, err := a.c.AppendMany(ctx, a.mailbox, msgs)
	if err != nil {
		// Closed by the destination's state, not by the error's chain,
		// which may hold the source's errors (a body's Open or Read
		// failed by the source session's abort, ErrAborted too).
		a.closed = a.dstEnded()
		var gone *vanishedError
		switch {
		case errors.Is(err, session.ErrNotSent):
			// Not a byte of it sent, nothing appended.
			var oe *session.OpenError
			if errors.As(err, &oe) {
				// The first message's Open failed (a message
				// expunged on the source, a *vanishedError
				// that copy skips once the source confirms it
				// gone; the source's NO or abort), and the
				// destination's session goes on. The Open's
				// error, whole, as the one-at-a-time path
				// gives it: its exit code and --json text are
				// the source's, whether the destination has
				// MULTIAPPEND or not (OpenError hides the
				// source session's sentinels and types).
				err = &notAppendedError{&openFailedError{open: oe.Err, notSent: err}}
			} else if a.closed {
				// The destination's session had ended
				// (aborted, closed: by an earlier command's
				// failure, a message's Open or Read that cut
				// it, say) before this APPEND's turn.
				err = &notAppendedError{fmt.Errorf("%w (the APPEND was not sent: the connection to the destination had ended before it: run again)", err)}
			} else {
				// Its context ended (the run interrupted)
				// before its turn, the destination's session
				// going on.
				err = &notAppendedError{err}
			}
		case errors.As(err, &gone) || errors.Is(err, session.ErrWriteCut) && !refusedAppend(err) && !cutAppend(err):
			// A message that vanished mid-group stopped the
			// command before its end, and the connection was
			// closed: a MULTIAPPEND left unfinished adds nothing.
			err = &notAppendedError{fmt.Errorf("%w (the APPEND of its group was abandoned mid-way, with nothing of it appended, and the connection to the destination closed: run again)", err)}
		case refusedAppend(err) || cutAppend(err):
			err = &notAppendedError{err}
		}
		return nil, err
	}
	a.countUndated(items)
	if res.UIDValidity == a.uidv {
		var last uint32
		for _, r := range res.UIDs.Ranges() {
			last = max(last, r.Start, r.Stop)
		}
		if last != 0 {
			a.afterUID(last)
		}
		// Counted before they are listed: a hostile APPENDUID of a few
		// bytes (1:4294967295) was listed whole, 16 GiB, before its
		// count was found wrong.
		if n, ok := res.UIDs.Len(); ok && n == uint64(len(items)) {
			uids = make([]uint32, 0, len(items))
			for u := range res.UIDs.All {
				uids = append(uids, u)
			}
		}
	}
	if len(uids) != len(items) {
		uids = nil
	}
	return uids, nil
}

// dstEnded reports whether the destination's session has ended (an
// APPEND abandoned mid-way aborts it): its state, not an error's chain.
func (a *appender) dstEnded() bool {
	return a.c.Session().Err() != nil
}

// openGuard holds the heldReaders of one send, and runs its items' opens
// for AppendMany, whose Opens run on a goroutine of the session's own
// when the context can end, and may still run once AppendMany has
// returned (the context ended while one blocked, in the source FETCH's
// next, and the grace passed). finish then hands settle a channel closed
// when that Open returns, so that copyBatch's stop of the FETCH's iterator
// (iter.Pull2: not while its next runs) comes after it; what it opened
// then is closed, never read. An Open called after finish is refused.
type openGuard struct {
	mu      sync.Mutex
	held    []*heldReader
	running bool          // an open is running
	over    bool          // finish was called
	wait    chan struct{} // made by finish during an open, closed when it returns
}

// add adds h to held.
func (g *openGuard) add(h *heldReader) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = append(g.held, h)
}

// open runs open and holds what it returns in a heldReader.
func (g *openGuard) open(open func() (io.Reader, int64, error)) (io.Reader, int64, error) {
	g.mu.Lock()
	if g.over {
		g.mu.Unlock()
		return nil, 0, errors.New("open after the APPEND ended")
	}
	g.running = true
	g.mu.Unlock()
	r, n, err := open()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running = false
	if g.over {
		if err == nil {
			closeReader(r)
		}
		if g.wait != nil {
			close(g.wait)
		}
		return nil, 0, errors.New("opened after the APPEND ended")
	}
	if err != nil {
		return nil, 0, err
	}
	h := &heldReader{r: r}
	g.held = append(g.held, h)
	return h, n, nil
}

// finish ends the readers held (heldReader.finish) and refuses later
// opens; it returns the channels settle waits on: an open running, and
// the Reads left running.
func (g *openGuard) finish() []<-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.over = true
	var busy []<-chan struct{}
	if g.running {
		g.wait = make(chan struct{})
		busy = append(busy, g.wait)
	}
	for _, h := range g.held {
		if wait := h.finish(); wait != nil {
			busy = append(busy, wait)
		}
	}
	return busy
}

// heldReader passes an item's reader to its APPEND, and closes it (when
// it is an io.Closer) when send is over (finish), but never under a Read
// still running: once the APPEND's context has ended, the session may
// return with the Read left running on its own goroutine (as net/http
// leaves a request body's), and the reader's own state (lazyReader's) is
// not safe for a Close during a Read. That Read closes it when it returns.
type heldReader struct {
	r       io.Reader
	mu      sync.Mutex
	reading bool          // a Read is running
	over    bool          // finish was called: closed, or closed by the Read running
	wait    chan struct{} // made by finish during a Read, closed when it returns
}

func (h *heldReader) Read(p []byte) (int, error) {
	h.mu.Lock()
	if h.over {
		h.mu.Unlock()
		return 0, errors.New("read after the APPEND ended")
	}
	h.reading = true
	h.mu.Unlock()
	n, err := h.r.Read(p)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reading = false
	if h.over {
		closeReader(h.r)
		if h.wait != nil {
			close(h.wait)
		}
	}
	return n, err
}

// finish closes the reader, or leaves that to the Read running, whose end
// the channel returned then tells.
func (h *heldReader) finish() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.over {
		return nil
	}
	h.over = true
	if h.reading {
		h.wait = make(chan struct{})
		return h.wait
	}
	closeReader(h.r)
	return nil
}

// closeReader closes r when it is an io.Closer.
func closeReader(r io.Reader) {
	if c, ok := r.(io.Closer); ok {
		c.Close()
	}
}

// settle waits for the Reads and Opens of messages that the APPENDs sent so far left
// running (their context ended while they waited), so that what they read
// from (copy's source session) may be used again. Such a Read is one of the
// session's (copy's FETCH body, which ends with the same context) or of a
// file.
func (a *appender) settle() {
	for _, w := range a.busy {
		<-w
	}
	a.busy = nil
}

// landed reports whether a pending group reached the mailbox: its UIDNEXT
// moved past the one recorded before the group was sent, and, when the
// group's messages are recorded (pendingAppend.confirmable), they are
// found from that UIDNEXT on (confirm; a.confirmed their UIDs): UIDNEXT
// moved by another client's mail alone is not landed, and the group is
// sent again. A record without them (an older imapkit's) is landed by
// UIDNEXT alone; one with them that tells nothing to look for (no
// message with a size or a date: confirmable) is an error wrapping
// errPendingUnknown when UIDNEXT moved. A group that
// took the last UID there is, 4294967295 (numbered from the UIDNEXT
// recorded), leaves the appender full, however it is told landed.
//
// When the server gives no UIDNEXT now, the one recorded (or the UID
// floor recorded in its place, uidFloor) still tells the messages that
// arrived after the record: those of a UID from it on, which another
// client's expunges do not move; the group is looked for among them
// (confirmOpen): found, landed; not found among all, not; not found
// among the first of more, an error wrapping errPendingUnknown.
//
// UIDNEXT cannot tell at all when none was recorded (0: an older
// imapkit's record, or a floor past the last UID) or it did not move
// from 4294967295 (a message appended then takes that UID, the last
// there is, and the server says 4294967295 again): such a group was
// taken for not landed and sent again, a duplicate where the server took
// it. Then the message count recorded with the group
// (pendingAppend.DstMessages) and, when the group's messages are
// recorded, the messages themselves decide: the group found among the
// messages past that count, at most p.Count+confirmSlack of them
// (confirmSeq), landed; not found and the count unchanged, not landed
// (unless it landed and exactly as many messages before it were
// expunged, none delivered: a duplicate then); not found and the count
// moved, it cannot tell: a group that landed and was moved below that
// count by another client's expunge is not found there either, and was
// sent again, a duplicate said nowhere
// (TestImportPendingCountLandedExpungeDelivery, found by review; an
// expunge moves sequence numbers, not UIDs).
// The count alone, which another client's mail moves as the group would,
// took a group never sent for landed when as many messages were
// delivered meanwhile (lost: TestImportPendingCountDeliveryConfirmed),
// and could not tell a group that landed with other mail delivered after
// it (TestImportPendingCountLandedDeliveryConfirmed). A record an older imapkit
// wrote, without its messages, is still told by the count alone: up by
// the group's count exactly, landed; unchanged, not. Anything else (a
// count moved otherwise, or up by the group's and the group not found
// among the last messages of more, or none recorded) is an error wrapping
// errPendingUnknown, which hint ends (what the user may do): sending the
// group again could duplicate it, and taking it for landed could lose
// it.
func (a *appender) landed(ctx context.Context, p *pendingAppend, hint string) (bool, error) {
	ok, err := a.landedAt(ctx, p, hint)
	if ok && err == nil && a.undated != nil && p.Undated > 0 {
		*a.undated += p.Undated // undatedNote
	}
	return ok, err
}

// landedAt is landed, but for the count of the messages undated.
func (a *appender) landedAt(ctx context.Context, p *pendingAppend, hint string) (bool, error) {
	if err := a.status(ctx); err != nil {
		return false, err
	}
	if a.uidv != p.DstUIDValidity {
		// Not "remove the state file": the next run would copy (or
		// import) everything again, duplicates of all that landed.
		return false, fmt.Errorf("%w: the UIDVALIDITY of %s changed (%d, now %d) while an APPEND of %s was pending; it is not sent again, which could duplicate it: %s", errPendingUnknown, printable(a.mailbox), p.DstUIDValidity, a.uidv, plural(p.Count, "message"), hint)
	}
	// tookLast: the group landed, and took the last UID: nothing more
	// can be appended. Not marked when UIDNEXT told it landed (the
	// server's repeated 4294967295), a later group was sent to a
	// mailbox with no UID left, rather than stopped by errUIDsExhausted.
	tookLast := func() {
		if reachesLastUID(p.DstUIDNext, p.Count) {
			a.next, a.full = 0, true
		}
	}
	a.confirmed = nil
	if p.DstUIDNext != 0 && a.next == 0 && p.confirmable() {
		// The STATUS gives no UIDNEXT now, but one was recorded (or
		// a UID floor: uidFloor): the messages that arrived after the
		// record are those of a UID from it on, which another
		// client's expunges do not move. It was ignored for the
		// sequence numbers past the count recorded, which an expunge
		// moves: a group that landed, moved below them, was sent
		// again (TestImportPendingRecordedUIDNextIgnored, found by
		// review).
		ok, err := a.lookByUID(ctx, p, a.confirmOpen, hint, func() string {
			return fmt.Sprintf("the STATUS of %s gives no UIDNEXT, and the messages of the APPEND of %s, pending at UIDNEXT %d,", printable(a.mailbox), plural(p.Count, "message"), p.DstUIDNext)
		}, func() string {
			return fmt.Sprintf("the APPEND of %s to %s was pending at UIDNEXT %d, the STATUS gives no UIDNEXT now, and the group is not among the first %d of the messages that arrived after it was recorded (of a UID from it; more did)",
				plural(p.Count, "message"), printable(a.mailbox), p.DstUIDNext, p.Count+confirmSlack)
		})
		if ok {
			tookLast()
		}
		return ok, err
	}
	if p.DstUIDNext != 0 && a.next != 0 && (a.next > p.DstUIDNext || p.DstUIDNext != math.MaxUint32) {
		ok := a.next > p.DstUIDNext
		if ok && !p.confirmable() && len(p.Messages) > 0 {
			// A record of this imapkit's whose messages tell nothing
			// to look for (no size: literal8; no date: none kept,
			// recordedDate): UIDNEXT alone would take another
			// client's mail for the group, and lose it.
			return false, fmt.Errorf("%w: UIDNEXT of %s moved from %d to %d, which the APPEND of %s or another client's mail may have done, and none of its messages has a size or an internal date recorded to look for it by; it is not sent again, which could duplicate it: %s",
				errPendingUnknown, printable(a.mailbox), p.DstUIDNext, a.next, plural(p.Count, "message"), hint)
		}
		if ok && p.confirmable() {
			// UIDNEXT moved as the group would have, and as mail
			// another client delivered meanwhile would have: a
			// group recorded and never sent (the run stopped before
			// its APPEND, or the command never reached the server)
			// was taken for landed and lost. The messages themselves
			// decide.
			found, err := a.lookByUID(ctx, p, a.confirm, hint, func() string {
				return fmt.Sprintf("UIDNEXT of %s moved from %d to %d, which another client's mail may have done, and its messages", printable(a.mailbox), p.DstUIDNext, a.next)
			}, func() string {
				return fmt.Sprintf("the APPEND of %s to %s was pending at UIDNEXT %d, and UIDNEXT is now %d: it moved by more than the group and %d UIDs (confirmSlack), and the group is not among the messages of the first %d UIDs",
					plural(p.Count, "message"), printable(a.mailbox), p.DstUIDNext, a.next, confirmSlack, p.Count+confirmSlack)
			})
			if !found {
				return false, err
			}
		}
		if ok {
			tookLast()
		}
		return ok, nil
	}
	// The count alone: up by the group's, landed; unchanged, not.
	// verdict: 1 landed, 0 not, -1 cannot tell.
	verdict := -1
	seqFound := confirmUnknown // confirmSeq's
	if m := p.DstMessages; m != nil && p.Count > 0 {
		switch uint64(a.messages) {
		case uint64(*m) + uint64(p.Count):
			verdict = 1
		case uint64(*m):
			verdict = 0
		}
	}
	if p.confirmable() && p.DstMessages != nil {
		// Another client's mail moves the count as it moves
		// UIDNEXT: a group never sent, as many messages delivered
		// meanwhile, was taken for landed and lost; a group that
		// landed, as many expunged, was sent again. The messages
		// themselves decide, among the mailbox's last
		// (confirmSeq).
		found, uids, err := a.lookPending(ctx, p, a.confirmSeq, hint, func() string {
			return fmt.Sprintf("UIDNEXT of %s cannot tell whether the APPEND of %s landed, and its messages", printable(a.mailbox), plural(p.Count, "message"))
		})
		if err != nil {
			return false, err
		}
		seqFound = found
		switch {
		case found == confirmFound:
			a.confirmed = uids
			tookLast()
			return true, nil
		case found == confirmMissing && verdict == 0:
			// Nothing arrived past the count recorded, and the
			// count is unchanged: not landed, unless it did and
			// another client expunged exactly as many messages
			// before it, and delivered none (a duplicate then).
			return false, nil
		}
		// Not found past the count recorded, which moved: a group that
		// landed and was moved below by another client's expunge is
		// not there either, and sending it again duplicated it
		// silently (TestImportPendingCountLandedExpungeDelivery,
		// found by review: sequence numbers are not UIDs, which an
		// expunge does not move). A record of this imapkit's has a
		// UID floor (confirmOpen); this is an older one's.
		verdict = -1
	} else if verdict == 1 && len(p.Messages) > 0 {
		// This imapkit's record that tells nothing to look for (as
		// for UIDNEXT, above): the count alone would take another
		// client's mail for the group, and lose it.
		verdict = -1
	}
	switch verdict {
	case 1:
		tookLast()
		return true, nil
	case 0:
		return false, nil
	}
	count := "nor was the message count recorded with it"
	if m := p.DstMessages; m != nil {
		count = fmt.Sprintf("nor does the message count: it went from %d to %d, neither unchanged (not landed) nor up by %d (landed)", *m, a.messages, p.Count)
		if uint64(a.messages) == uint64(*m)+uint64(p.Count) {
			count = fmt.Sprintf("nor does the message count (%d, now %d: up by the group's, as another client's mail would move it too)", *m, a.messages)
		}
		switch {
		case p.confirmable() && seqFound == confirmMissing:
			count += fmt.Sprintf(", and the group is not among the messages past the %d recorded, but another client's expunge would have moved it below them (the record has no UIDNEXT to look for it by UID: an older imapkit's)", *m)
		case p.confirmable():
			count += fmt.Sprintf(", and the group is not among the first %d of the messages that arrived after it was recorded (more did)", p.Count+confirmSlack)
		case len(p.Messages) > 0:
			count += ", and none of its messages has a size or an internal date recorded to look for it by"
		}
	}
	return false, fmt.Errorf("%w: the APPEND of %s to %s was pending at UIDNEXT %d, and UIDNEXT (now %d) cannot tell whether it landed (it cannot move past %d; 0 is unknown); %s; it is not sent again, which could duplicate it: %s",
		errPendingUnknown, plural(p.Count, "message"), printable(a.mailbox), p.DstUIDNext, a.next, uint32(math.MaxUint32), count, hint)
}

// lookPending is landed's look for the messages of p, by look (confirm,
// confirmOpen or confirmSeq): what it found, or landed's error. The
// server's refusal of the EXAMINE or the FETCH (NO, BAD) leaves what to
// do to the user, as when UIDNEXT cannot tell: an error wrapping
// errPendingUnknown, which says what (why the messages were looked for,
// ending with what could not be looked for), the refusal and hint;
// another error is returned with the advice when it wraps
// errPendingUnknown (cannotTell).
func (a *appender) lookPending(ctx context.Context, p *pendingAppend, look func(context.Context, *pendingAppend) (confirmResult, []uint32, error), hint string, what func() string) (confirmResult, []uint32, error) {
	found, uids, err := look(ctx, p)
	if err != nil && !errors.Is(err, errPendingUnknown) && (errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrBad)) {
		return found, uids, fmt.Errorf("%w: %s could not be looked for (%w); it is not sent again, which could duplicate it: %s", errPendingUnknown, what(), err, hint)
	}
	if err != nil {
		return found, uids, cannotTell(err, hint)
	}
	return found, uids, nil
}

// lookByUID is lookPending by UID (look: confirm or confirmOpen), and
// what landed makes of it: found, landed (a.confirmed the group's UIDs);
// not among all that arrived, not landed; not among the first of more,
// an error wrapping errPendingUnknown that says so (beyond), and hint.
func (a *appender) lookByUID(ctx context.Context, p *pendingAppend, look func(context.Context, *pendingAppend) (confirmResult, []uint32, error), hint string, what, beyond func() string) (bool, error) {
	found, uids, err := a.lookPending(ctx, p, look, hint, what)
	if err != nil {
		return false, err
	}
	switch found {
	case confirmMissing:
		return false, nil
	case confirmUnknown:
		return false, fmt.Errorf("%w: %s; it is not sent again, which could duplicate it: %s", errPendingUnknown, beyond(), hint)
	}
	a.confirmed = uids
	return true, nil
}

// cannotTell returns err, of landed's look for a pending group's
// messages, with the advice of landed's other errors wrapping
// errPendingUnknown when it wraps one (the UIDVALIDITY changed amid the
// look, the server told no last UID): without it the user was told
// "cannot tell" and not which field of the state file to edit.
func cannotTell(err error, hint string) error {
	if !errors.Is(err, errPendingUnknown) {
		return err
	}
	return fmt.Errorf("%w; it is not sent again, which could duplicate it: %s", err, hint)
}

// confirmResult is what confirm found of a pending group.
type confirmResult int

const (
	confirmMissing confirmResult = iota // certainly not there: send it again
	confirmFound                        // there, in order
	confirmUnknown                      // not among the messages looked at, which are not all that arrived
)

// confirm looks for the messages of p, a pending group that UIDNEXT says
// landed (a.next, from the STATUS just asked, past p.DstUIDNext), among
// the destination's messages from p.DstUIDNext on: the group's messages
// in a row, in order, each of the RFC822.SIZE and INTERNALDATE recorded
// (pendingMsg.matches). A group found is landed, and uids are the UIDs
// its messages were given; one not found among all the messages that
// arrived since (UIDs p.DstUIDNext to a.next-1) did not land
// (confirmMissing): the UIDNEXT moved by another client's mail alone.
// The FETCH is bounded: at most p.Count+confirmSlack UIDs are asked for,
// and as many messages held at most (lookAnswer): when more arrived, a
// group not found among the first is confirmUnknown. The mailbox is
// EXAMINEd for the FETCH (read-only: nothing of it changes, \Recent
// neither), then left (deselect).
func (a *appender) confirm(ctx context.Context, p *pendingAppend) (found confirmResult, uids []uint32, err error) {
	from := p.DstUIDNext
	limit := uint64(p.Count) + confirmSlack
	to, whole := uint64(a.next)-1, true
	if a.next == math.MaxUint32 {
		// UIDNEXT cannot move past the last UID: the server says
		// 4294967295 again once it is taken. Up to it.
		to = math.MaxUint32
	}
	if to+1-uint64(from) > limit {
		to, whole = uint64(from)+limit-1, false
	}
	return a.look(ctx, p, func(uint32) (commands.Set, func(uid, seq uint32) bool, bool) {
		return commands.UIDRange(from, uint32(to)), func(uid, _ uint32) bool {
			return uid >= from && uint64(uid) <= to
		}, whole
	})
}

// confirmSeq looks for the messages of p, a pending group that UIDNEXT
// cannot tell landed or not (landed: none recorded, or the last UID),
// among the messages that arrived after its record: by sequence number,
// those past the message count recorded with it (p.DstMessages), at most
// p.Count+confirmSlack of them. A message there before the record is
// never among them (an expunge moves a message to a lower number, never
// a higher one), so one of the same size and date (a source's duplicate)
// is not taken for the group. Found there, in a row, in order, it landed
// (uids its UIDs); not found when those are all past the count, it did
// not (confirmMissing), or it landed and another client expunged
// messages before it, which moved it below: landed tells these apart
// only by the count unchanged (an expunge does not move a UID: this is
// the path of a record without one, confirmOpen's otherwise); not found
// among the first of more, confirmUnknown. The count alone took a group never sent for
// landed when another client delivered as many messages meanwhile (a
// loss).
func (a *appender) confirmSeq(ctx context.Context, p *pendingAppend) (found confirmResult, uids []uint32, err error) {
	from := uint64(*p.DstMessages) + 1
	return a.look(ctx, p, func(exists uint32) (commands.Set, func(uid, seq uint32) bool, bool) {
		to, whole := uint64(exists), true
		if limit := uint64(p.Count) + confirmSlack; to >= from && to+1-from > limit {
			to, whole = from+limit-1, false
		}
		if to < from || from > math.MaxUint32 {
			return commands.Set{}, nil, true // nothing arrived: nothing to ask
		}
		return commands.SeqRange(uint32(from), uint32(to)), func(_, seq uint32) bool {
			return uint64(seq) >= from && uint64(seq) <= to
		}, whole
	})
}

// confirmOpen looks for the messages of p, a pending group recorded at a
// UIDNEXT (or a UID floor, uidFloor) when the STATUS now gives none, among
// the messages of a UID from p.DstUIDNext on: those that arrived after
// the record, whatever another client expunged. The last message's UID
// (a FETCH of it) bounds them; at most p.Count+confirmSlack UIDs are
// asked for, as in confirm: more arrived, a group not found among the
// first is confirmUnknown.
func (a *appender) confirmOpen(ctx context.Context, p *pendingAppend) (found confirmResult, uids []uint32, err error) {
	from := uint64(p.DstUIDNext)
	limit := uint64(p.Count) + confirmSlack
	var lerr error
	found, uids, err = a.look(ctx, p, func(exists uint32) (commands.Set, func(uid, seq uint32) bool, bool) {
		if exists == 0 {
			return commands.Set{}, nil, true
		}
		last, err := a.lastUID(ctx, exists)
		if err != nil {
			lerr = err
			return commands.Set{}, nil, false
		}
		if uint64(last) < from {
			return commands.Set{}, nil, true // nothing arrived since
		}
		to, whole := uint64(last), true
		if to+1-from > limit {
			to, whole = from+limit-1, false
		}
		return commands.UIDRange(uint32(from), uint32(to)), func(uid, _ uint32) bool {
			return uint64(uid) >= from && uint64(uid) <= to
		}, whole
	})
	if lerr != nil && err == nil {
		if errors.Is(lerr, errLastUIDUntold) {
			lerr = fmt.Errorf("%w: %w", errPendingUnknown, lerr)
		}
		return confirmUnknown, nil, lerr
	}
	return found, uids, err
}

// look EXAMINEs the mailbox (read-only: nothing of it changes, \Recent
// neither), FETCHes the UID, RFC822.SIZE and INTERNALDATE of the set
// window returns for the mailbox's message count (asked keeps the
// messages of the answer asked for, by UID on the UID paths, by sequence
// number on confirmSeq's, nil when there is nothing to ask; whole: the
// set is every message that may be the group's), looks there for p's
// messages in a row, in order (pendingMsg.matches; in the order of the
// UIDs, or of the sequence numbers on confirmSeq's path), and leaves the
// mailbox (deselect). A message's items split over several responses are
// joined wherever they come in the answer (lookAnswer). The group not
// found among all that may be it (whole), but a row that matches on all
// that was told and holds a message of which the answer left out an item
// the record looks for (its size, its date, or both: lookedMsg.fits) may
// be it: an error wrapping errLookAnswer, cannot tell, rather than "not
// landed" (not whole, it is confirmUnknown, cannot tell, either way).
func (a *appender) look(ctx context.Context, p *pendingAppend, window func(exists uint32) (set commands.Set, asked func(uid, seq uint32) bool, whole bool)) (found confirmResult, uids []uint32, err error) {
	ms, err := a.c.Examine(ctx, a.mailbox)
	if err != nil {
		return confirmUnknown, nil, fmt.Errorf("looking for the pending APPEND's messages in %s: %w", printable(a.mailbox), err)
	}
	defer func() {
		if derr := deselect(ctx, a.c, a.mailbox, true); derr != nil && err == nil {
			found, uids, err = confirmUnknown, nil, derr
		}
	}()
	if ms.UIDValidity != p.DstUIDValidity {
		return confirmUnknown, nil, fmt.Errorf("%w: the UIDVALIDITY of %s changed (%d, now %d) while its pending APPEND was looked for", errPendingUnknown, printable(a.mailbox), p.DstUIDValidity, ms.UIDValidity)
	}
	set, asked, whole := window(ms.Exists)
	if ms.Exists == 0 || asked == nil {
		if whole {
			return confirmMissing, nil, nil
		}
		return confirmUnknown, nil, nil
	}
	held, err := a.lookAnswer(ctx, set, asked, uint64(p.Count)+confirmSlack)
	if err != nil {
		return confirmUnknown, nil, err
	}
	var untold *lookedMsg // of a row that may be the group's, told whole
	for i := 0; i+p.Count <= len(held); i++ {
		match := true
		var short *lookedMsg
		for k, want := range p.Messages {
			may, sure := held[i+k].fits(want)
			if !may {
				match = false
				break
			}
			if !sure && short == nil {
				short = &held[i+k]
			}
		}
		if !match {
			continue
		}
		if short != nil {
			if untold == nil {
				untold = short
			}
			continue
		}
		uids = make([]uint32, p.Count)
		for k := range uids {
			if uids[k] = held[i+k].uid; uids[k] == 0 {
				return confirmFound, nil, nil // UIDs not told
			}
		}
		return confirmFound, uids, nil
	}
	if untold != nil && whole {
		// A message whose answer left out an item looked for (or
		// told nothing of it) may be the group's: "not landed" sent
		// a group that landed again, a duplicate said nowhere
		// (TestImportPendingSplitItemNeverTold, found by review).
		return confirmUnknown, nil, fmt.Errorf("%w (%s told no %s)", errLookAnswer, untold.name(), untold.lacks())
	}
	if whole {
		return confirmMissing, nil, nil
	}
	return confirmUnknown, nil, nil
}

// lookedMsg is what look's FETCH told of one message: its items joined
// over the responses that told them.
type lookedMsg struct {
	uid, seq uint32 // uid 0 when not told
	size     int64
	date     time.Time
	// hasSize, hasDate: the items told so far.
	hasSize, hasDate bool
}

// fits reports whether want, a message of a pending group, may be m
// (may: m's items told match, pendingMsg.matches), and whether m told all
// that want looks for (sure: its size when one is recorded, its date when
// one is). An item not told may be anything: a message that matches on
// the others may be want's, and one that is not sure cannot say it is not.
func (m *lookedMsg) fits(want pendingMsg) (may, sure bool) {
	size, date, sure := m.size, m.date, true
	if want.Size > 0 && !m.hasSize {
		size, sure = want.Size, false
	}
	if want.Date != 0 && !m.hasDate {
		date, sure = time.Unix(want.Date, 0), false
	}
	return want.matches(size, date), sure
}

// name names m for an error: by UID, or by sequence number when its UID
// was not told.
func (m *lookedMsg) name() string {
	if m.uid != 0 {
		return fmt.Sprintf("UID %d", m.uid)
	}
	return fmt.Sprintf("message %d", m.seq)
}

// lacks names the items m was not told.
func (m *lookedMsg) lacks() string {
	switch {
	case !m.hasSize && !m.hasDate:
		return "RFC822.SIZE nor INTERNALDATE"
	case !m.hasSize:
		return "RFC822.SIZE"
	}
	return "INTERNALDATE"
}

// join fills in what m lacks of the items of the FETCH response r.
func (m *lookedMsg) join(r *commands.Message) {
	if m.uid == 0 {
		m.uid = r.UID
	}
	if !m.hasSize && r.Has(codec.FetchRFC822Size) {
		m.size, m.hasSize = r.Size, true
	}
	if !m.hasDate && r.Has(codec.FetchInternalDate) {
		m.date, m.hasDate = r.InternalDate, true
	}
}

// joinMsg fills in what m lacks of what o told.
func (m *lookedMsg) joinMsg(o *lookedMsg) {
	if !m.hasSize && o.hasSize {
		m.size, m.hasSize = o.size, true
	}
	if !m.hasDate && o.hasDate {
		m.date, m.hasDate = o.date, true
	}
}

// errLookAnswer is the error of look when the FETCH's answer cannot be
// tied to the messages asked for; it wraps errPendingUnknown.
var errLookAnswer = fmt.Errorf("%w: the FETCH answer cannot be tied to the messages asked for", errPendingUnknown)

// lookAnswer FETCHes the UID, RFC822.SIZE and INTERNALDATE of set and
// returns the messages asked for (asked) that the answer told, in the
// order of their UIDs (set of UIDs) or of their sequence numbers (set of
// sequence numbers): each with the items told of it (lookedMsg.hasSize,
// hasDate), none for one told only by a response of its flags, and, on
// confirmSeq's path, where every number of the set is a message, for one
// the answer told nothing of. look takes a message without an item the
// group's record looks for for one that may be the group's: kept only
// when it told a size or a date, a message half told did not match, and
// a group that landed was "not among all that arrived", sent again
// (TestImportPendingSplitItemNeverTold, found by review). On the UID
// paths a UID the answer tells nothing of is taken for one without a
// message (expunged, or never given). most bounds the messages held:
// the set names no more.
//
// A server may split a message's items over several responses (RFC 3501
// 7.4.2), and send another message's response between them: the parts
// are joined by message wherever they come, by UID on the UID paths (a
// server may announce another client's EXPUNGE amid a UID FETCH's
// answer, RFC 3501 7.4.1, and the next message then comes with the
// number the one before had: two messages joined by the number were
// taken for one, TestImportPendingExpungeAmidLookDuplicate and
// TestImportPendingExpungeAmidLookLoss, found by review), by sequence
// number on confirmSeq's, where RFC 3501 7.4.1 forbids an EXPUNGE amid
// the answer: one that comes anyway (session.Renumbered moved during
// the answer, or before it, read meanwhile) is errLookAnswer, since the
// parts joined under a number may be two messages' (one's size, the
// other's date: a group never sent was taken for landed, lost,
// TestImportPendingSeqExpungeAmid, found by review). Joined only when back to back, an interleaved answer left
// each message half told, and a group that landed was not found: sent
// again, a duplicate said nowhere (TestImportPendingSplitInterleaved,
// found by review). A response of a message's flags alone (another
// client's flag change, which a server may send amid any answer, RFC
// 3501 7.4.2) joins nothing: held as a message, it broke "in a row"
// (TestImportPendingFlagsResponseAmid, found by review).
//
// On the UID paths, a part without its UID (RFC 3501 requires it in
// every response to a UID FETCH; a server that splits items may leave it
// off one) was dropped, its size or date lost, and a group that landed
// not found (TestImportPendingSplitNoUID, found by review). It is tied to
// the UID that a response of the same sequence number told, when no
// message was renumbered during the answer (session.Renumbered: an
// EXPUNGE amid the answer, or before it, read meanwhile); one that
// cannot be tied so may be any message's, a group's own: an error
// wrapping errPendingUnknown (errLookAnswer), neither "not landed" nor
// "landed". So is a response of one sequence number telling two UIDs on
// confirmSeq's path, an EXPUNGE amid its answer, and an answer telling
// more messages than most.
func (a *appender) lookAnswer(ctx context.Context, set commands.Set, asked func(uid, seq uint32) bool, most uint64) ([]lookedMsg, error) {
	byUID := set.UID
	msgs := make(map[uint32]*lookedMsg)   // by UID (set.UID), else by sequence number
	untied := make(map[uint32]*lookedMsg) // UID paths: the parts without a UID, by sequence number
	seqUID := make(map[uint32]uint32)     // UID paths: the UID told of a sequence number; 0 when two were
	tooMany := func(m map[uint32]*lookedMsg) error {
		if uint64(len(m)) >= most {
			return fmt.Errorf("%w (more than the %d messages asked for)", errLookAnswer, most)
		}
		return nil
	}
	mark := a.c.Session().Renumbered()
	for m, ferr := range a.c.Fetch(ctx, set, &commands.FetchItems{UID: true, InternalDate: true, Size: true}) {
		if errors.Is(ferr, commands.ErrRenumbered) {
			// The library saw the EXPUNGE amid the answer (below, the
			// same case seen at the end): cannot tell, not a
			// connection's failure to retry.
			return nil, fmt.Errorf("%w (messages were renumbered, an EXPUNGE, during a FETCH by sequence numbers: %w)", errLookAnswer, ferr)
		}
		if ferr != nil {
			return nil, fmt.Errorf("looking for the pending APPEND's messages in %s: %w", printable(a.mailbox), ferr)
		}
		items := m.Has(codec.FetchRFC822Size) || m.Has(codec.FetchInternalDate)
		if byUID && m.UID == 0 {
			if !items {
				continue
			}
			u := untied[m.SeqNum]
			if u == nil {
				if err := tooMany(untied); err != nil {
					return nil, err
				}
				u = &lookedMsg{seq: m.SeqNum}
				untied[m.SeqNum] = u
			}
			u.join(m)
			continue
		}
		if byUID {
			// Every response that tells a UID ties its sequence
			// number, whichever message it is (a flag change's
			// too): bounded as the messages are, twice over.
			if u, ok := seqUID[m.SeqNum]; ok && u != m.UID {
				seqUID[m.SeqNum] = 0
			} else if !ok && uint64(len(seqUID)) < 2*most {
				seqUID[m.SeqNum] = m.UID
			}
		}
		if !asked(m.UID, m.SeqNum) {
			continue
		}
		key := m.SeqNum
		if byUID {
			key = m.UID
		}
		held := msgs[key]
		if held == nil {
			if err := tooMany(msgs); err != nil {
				return nil, err
			}
			held = &lookedMsg{seq: m.SeqNum}
			msgs[key] = held
		}
		if !byUID && held.uid != 0 && m.UID != 0 && m.UID != held.uid {
			return nil, fmt.Errorf("%w (message %d told as UID %d and UID %d)", errLookAnswer, m.SeqNum, held.uid, m.UID)
		}
		held.join(m)
	}
	if len(untied) > 0 {
		renumbered := a.c.Session().Renumbered() != mark
		for _, seq := range slices.Sorted(maps.Keys(untied)) {
			u, uid := untied[seq], seqUID[seq]
			if renumbered {
				return nil, fmt.Errorf("%w (message %d's size or date came without its UID, and messages were renumbered, an EXPUNGE, during the answer)", errLookAnswer, seq)
			}
			if uid == 0 {
				return nil, fmt.Errorf("%w (message %d's size or date came without its UID, and no other response told it)", errLookAnswer, seq)
			}
			if !asked(uid, seq) {
				continue
			}
			held := msgs[uid]
			if held == nil {
				if err := tooMany(msgs); err != nil {
					return nil, err
				}
				held = &lookedMsg{uid: uid, seq: seq}
				msgs[uid] = held
			}
			held.joinMsg(u)
		}
	}
	if !byUID && a.c.Session().Renumbered() != mark {
		// An EXPUNGE amid a FETCH by sequence numbers (RFC 3501
		// 7.4.1 forbids it; hostile input) or before it: the parts
		// joined under one number may be two messages', one's size
		// and the other's date, taken for the group's, never sent (a
		// loss: TestImportPendingSeqExpungeAmid, found by review).
		return nil, fmt.Errorf("%w (messages were renumbered, an EXPUNGE, during a FETCH by sequence numbers: the parts told under one number may be two messages')", errLookAnswer)
	}
	if !byUID {
		// Every number of the set is a message (the set is within
		// the count EXAMINE told, and none was renumbered): one the
		// answer told nothing of is held without a size or a date,
		// as one that told only its flags.
		for _, r := range set.Nums.Ranges() {
			for seq := uint64(min(r.Start, r.Stop)); r.Start != 0 && r.Stop != 0 && seq <= uint64(max(r.Start, r.Stop)); seq++ {
				if msgs[uint32(seq)] != nil {
					continue
				}
				if err := tooMany(msgs); err != nil {
					return nil, err
				}
				msgs[uint32(seq)] = &lookedMsg{seq: uint32(seq)}
			}
		}
	}
	keys := slices.Sorted(maps.Keys(msgs))
	out := make([]lookedMsg, len(keys))
	for i, k := range keys {
		out[i] = *msgs[k]
	}
	return out, nil
}

// deselect leaves the mailbox selected on c, so that the STATUS asked
// before each group (appender.prepare) is not of the selected mailbox:
// RFC 9051 6.3.11 says a client SHOULD NOT ask it so, and a server may
// answer it from a stale view. UNSELECT where offered (RFC 3691,
// IMAP4rev2); else the mailbox is EXAMINEd (unless readOnly says it is
// already: a SELECT or EXAMINE closes the selected mailbox without an
// expunge, RFC 3501 6.4.2) and CLOSEd, which expunges nothing from a
// mailbox selected read-only (RFC 3501 and 9051, CLOSE). A CLOSE of the
// read-write selection itself would expunge the messages marked
// \Deleted (the flag sync carries \Deleted from the source).
func deselect(ctx context.Context, c *commands.Client, mailbox string, readOnly bool) error {
	s := c.Session()
	if s.HasCap("UNSELECT") || s.HasCap("IMAP4rev2") {
		return c.Unselect(ctx)
	}
	if !readOnly {
		if _, err := c.Examine(ctx, mailbox); err != nil {
			return fmt.Errorf("leaving %s (EXAMINE): %w", printable(mailbox), err)
		}
	}
	if err := c.Close(ctx); err != nil {
		return fmt.Errorf("leaving %s (CLOSE, read-only): %w", printable(mailbox), err)
	}
	return nil
}

// plural returns n and word, with an "s" unless n is 1: "1 message",
// "2 messages".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// errPendingUnknown is the error of a pending group that neither the
// destination's UIDNEXT nor its message count tells landed or not
// (appender.landed): the user checks the mailbox and says so in the state
// file.
var errPendingUnknown = errors.New("cannot tell whether the pending APPEND landed")

// pendingUIDs returns the UIDs the messages of p, a group that landed,
// were given, when they can be told: the server numbers the messages of an
// APPEND from its UIDNEXT (Dovecot and Cyrus do; RFC 4315 does not say
// so), so when UIDNEXT moved from a known one to next by the count
// exactly, they are those; a group that ends at the last UID,
// 4294967295, took those up to it when UIDNEXT now is 0 (unknown) or
// 4294967295 (the server's repeated). Else nil.
func pendingUIDs(p *pendingAppend, next uint32) []uint32 {
	from, n := uint64(p.DstUIDNext), uint64(max(p.Count, 0))
	switch {
	case from == 0 || n == 0:
		return nil
	case from+n-1 == math.MaxUint32 && (next == 0 || next == math.MaxUint32):
	case next == 0 || uint64(next) != from+n:
		return nil
	}
	dst := make([]uint32, p.Count)
	for i := range dst {
		dst[i] = p.DstUIDNext + uint32(i)
	}
	return dst
}

// appendableFlags drops the flags an APPEND may not set: \Recent, and any
// other flag with a backslash that is not one of the five a client sets
// (a source's own extension, or a hostile server's): commands refuses such
// an APPEND before sending it (Dovecot answers it BAD before reading its
// message), which failed the message's whole group at every run.
func appendableFlags(flags []string) []string {
	out := flags[:0:0]
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) {
			out = append(out, f)
			continue
		}
		switch strings.ToLower(f) {
		case `\seen`, `\answered`, `\flagged`, `\deleted`, `\draft`:
			out = append(out, f)
		}
	}
	return out
}

// saveJSON writes v to path atomically and durably: a synced temporary file
// (of a name of its own, PATH.*.tmp, in path's directory) renamed over it.
// A fixed temporary name made two writers remove each other's file
// ("rename PATH.tmp PATH: no such file or directory"); the state's
// lock (lockState) keeps two runs of one job apart anyway.
func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes b to path as saveJSON does: a synced temporary
// file (mode 0600) renamed over path. The temporary file is removed when
// the write or the rename fails: left behind, every failed save of a run
// (a full disk, a directory where the file goes) added one to the state
// directory.
func writeFileAtomic(path string, b []byte) error {
	if err := makeDir("the directory of "+printable(filepath.Base(path)), filepath.Dir(path)); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("syncing the directory of %s: %w", printable(path), err)
	}
	if testSynced != nil {
		testSynced(path)
	}
	return nil
}

// syncDir syncs the directory dir, so that a rename into it (the state
// file written anew, writeFileAtomic) is on disk when it returns: a power
// loss after the rename but before the file system wrote the directory
// could bring the older state back (a group recorded as pending again:
// sent again, a duplicate, never a loss, as the older state was true when
// written). Not on Windows, where a directory is not opened for a sync
// (and NTFS journals a rename); a file system that cannot sync a
// directory (EINVAL, unsupported) is taken as done.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// testSynced, when set by a test, is called after each synced write of
// writeFileAtomic, with its path (from whatever goroutine wrote it).
var testSynced func(path string)

// loadJSON reads v from path; it reports false when there is no file.
// A file that is not a regular one is refused (readStateFile), whatever
// its size (copy's states hold UID maps, as large as the mailboxes).
func loadJSON(path string, v any) (bool, error) { return loadJSONMax(path, v, 0) }

// loadJSONMax is loadJSON refusing also a file of more than limit bytes
// (limit > 0; readStateFile).
func loadJSONMax(path string, v any, limit int64) (bool, error) {
	b, err := readStateFile(path, limit)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %v", printable(path), err)
	}
	return true, nil
}

// testHookKey is the key of the test hook (sysEnv.testHook) in a run's
// context.
type testHookKey struct{}

// hook calls the test hook ctx carries (sysEnv.testHook), if any, at the
// steps of a journalled append ("pending": the state records the group;
// "appended": the server accepted it, the state does not say so yet); an
// error stops the job there, as a kill would.
func hook(ctx context.Context, step string) error {
	h, _ := ctx.Value(testHookKey{}).(func(step string) error)
	if h == nil {
		return nil
	}
	return h(step)
}
