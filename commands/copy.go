package commands

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/seqrange"
	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// CopyResult is the COPYUID of a copy or move (UIDPLUS, RFC 4315): the
// destination's UIDVALIDITY and the source UIDs with the UIDs they got,
// in the same order: the n-th UID of Src (in the order of its Ranges, the
// server's) went to the n-th of Dst. Pairs and DstOf pair them. It is nil
// when the server sent no COPYUID, or none that could be read: the codec
// drops a COPYUID whose UIDVALIDITY is 0 or whose sets hold "*" (RFC
// 4315), so UIDValidity is never 0 and a part of a split copy whose
// COPYUID was dropped leaves the other parts' UIDs as they were. The UIDs
// of a part that succeeded without a COPYUID (none sent, one dropped, or
// one past MaxResultBytes) are not in Src: the result claims no mapping
// for them, though they were copied; Unmapped holds them. Nor are those
// of a part whose COPYUID named UIDs the part did not send (Copy and Move
// then return a *CopyUIDError with the result): such a COPYUID is not
// kept, and its part's UIDs are in Unmapped too.
type CopyResult struct {
	UIDValidity uint32
	Src, Dst    codec.SeqSet
	// Unmapped holds the source UIDs copied (or moved) without a
	// mapping, in ascending order: those of the parts of a copy sent in
	// parts (Client.SetMaxSetLength) that succeeded without a usable
	// COPYUID (none sent, [UIDNOTSTICKY], one the codec drops, one past
	// MaxResultBytes, one naming UIDs not sent: *CopyUIDError; the part's whole set, as RFC 4315 gives a server
	// that sends none no way to say it copied less), and those of the
	// parts whose COPYUID a later part's new UIDVALIDITY made stale. They
	// are never in Src: Pairs and DstOf do not name them. It only ever
	// holds UIDs, for a Copy or Move of sequence numbers too: a set of
	// sequence numbers too long for one command is first turned into
	// UIDs (UID SEARCH) and sent in parts by UID, and one sent whole is a
	// single part, whose result is nil without a COPYUID. Empty means
	// that every message copied is in Src (every part's COPYUID was
	// kept). A Copy's result is nil when no part had one (a server
	// without UIDPLUS sends none): then every message copied is
	// unmapped. Move's fallback removes them from the source with those
	// of Src. A MOVE's part answered OK with neither a COPYUID nor an
	// EXPUNGE or VANISHED moved nothing the server told of (its UIDs
	// not there) and is not in Unmapped; a Move so answered for every
	// part returns an empty result, as for an empty set. A Move's
	// result is nil when no part had a COPYUID and every part moved
	// (a server without UIDPLUS: every message of the set moved, with
	// no mapping); when some parts moved nothing, it is a result with
	// an empty Src whose Unmapped holds the UIDs of the parts that
	// moved (Client.Move lists each case).
	Unmapped codec.SeqSet
}

// Valid reports whether Src and Dst can be paired: they hold the same
// number of UIDs, none twice, and no "*". A server that sends other sets
// is at fault; Pairs then yields nothing and DstOf finds nothing.
func (r *CopyResult) Valid() bool {
	if r == nil {
		return false
	}
	ns, oks := distinctLen(r.Src)
	nd, okd := distinctLen(r.Dst)
	return oks && okd && ns == nd
}

// distinctLen returns how many UIDs s holds, and whether it holds each
// once and no "*".
func distinctLen(s codec.SeqSet) (uint64, bool) {
	n, ok := s.Len()
	if !ok {
		return 0, false
	}
	var all uint64
	for _, r := range s.Ranges() {
		all += uint64(r.Stop) - uint64(r.Start) + 1
	}
	return n, all == n
}

// Pairs yields each copied message's source UID with its UID in the
// destination, in the order the server paired them (Src's ranges, not
// sorted). It allocates nothing, whatever the sets' size; it yields
// nothing unless Valid.
func (r *CopyResult) Pairs() iter.Seq2[uint32, uint32] {
	return func(yield func(src, dst uint32) bool) {
		if !r.Valid() {
			return
		}
		dst := r.Dst.Ranges()
		j, d := 0, uint64(0) // the next destination UID: dst[j].Start+d
		for _, sr := range r.Src.Ranges() {
			for v := uint64(sr.Start); v <= uint64(sr.Stop); v++ {
				if !yield(uint32(v), uint32(uint64(dst[j].Start)+d)) {
					return
				}
				if d++; uint64(dst[j].Start)+d > uint64(dst[j].Stop) {
					j, d = j+1, 0
				}
			}
		}
	}
}

// DstOf returns the destination UID of the message whose source UID was
// src, and whether the COPYUID names it (false unless Valid). It walks the
// ranges: O(r) for r ranges, without allocating, when the server listed
// each set in ascending or descending order (as servers do: Valid counts
// the UIDs as they come); a set in any other order makes Valid sort a
// copy of it, O(r log r) each call. For every pair, Pairs costs one walk.
func (r *CopyResult) DstOf(src uint32) (uint32, bool) {
	if src == 0 || !r.Valid() {
		return 0, false
	}
	var off uint64 // how many UIDs of Src come before the range holding src
	found := false
	for _, sr := range r.Src.Ranges() {
		if src >= sr.Start && src <= sr.Stop {
			off += uint64(src - sr.Start)
			found = true
			break
		}
		off += uint64(sr.Stop-sr.Start) + 1
	}
	if !found {
		return 0, false
	}
	for _, dr := range r.Dst.Ranges() {
		if n := uint64(dr.Stop-dr.Start) + 1; off >= n {
			off -= n
			continue
		}
		return uint32(uint64(dr.Start) + off), true
	}
	return 0, false
}

// ErrMoveUnsupported is returned by Move when the server has neither MOVE
// nor UIDPLUS: the fallback could expunge messages it did not copy, so it
// is refused and nothing is sent.
var ErrMoveUnsupported = errors.New("commands: the server has neither MOVE nor UIDPLUS; refusing to move by COPY and EXPUNGE")

// ErrNotAllCopied is wrapped by the Err of the *MoveIncompleteError of a
// fallback move (UIDPLUS without MOVE) whose COPY succeeded with a COPYUID
// naming fewer of the messages than it was to move (a message expunged by
// another client between the UID SEARCH and the COPY, or a server at
// fault): those named were removed from the source, the others are left
// there (MoveIncompleteError.Left), if they still exist.
var ErrNotAllCopied = errors.New("commands: move: the COPYUID names fewer messages than were to be moved; the others were not removed from the source")

// MoveIncompleteError reports a fallback move whose COPY succeeded but
// whose removal from the source failed: the messages are in both
// mailboxes, but those of Removed, and unless Unknown. Copy holds the
// COPYUID. It also reports a removal that succeeded but left messages in
// the source that the COPY does not show copied (Left; Removed then
// holds every UID removed): Err wraps ErrNotAllCopied, and the
// *CopyUIDError of a COPYUID naming UIDs not sent when there was one. Deleted holds the source UIDs that the fallback flagged
// \Deleted (all those it tried to, when its STORE
// failed part-way): the next EXPUNGE or CLOSE of the mailbox, by any
// client, removes them, and a Move tried again copies them twice. Take
// the flag off (Store with RemoveFlags) to keep them, or expunge them
// (Expunge of Deleted) to finish the move.
//
// Unknown says that the failing command's answer was not had (the
// connection lost, the context ended): it may have run, and the messages
// of Deleted may carry \Deleted (STORE) or be gone from the source (UID
// EXPUNGE, Expunged). Look at the source before acting on them.
//
// Removed holds the source UIDs a UID EXPUNGE sent in parts did remove
// (the parts that succeeded, SplitError.Done): those are in the
// destination only, and not in Deleted.
//
// When the source's UIDVALIDITY changed after Move's call (an untagged
// OK [UIDVALIDITY] in the answer to its COPY or STORE, or to another
// goroutine's command), the STORE or UID EXPUNGE that came next was not
// sent, and the error matches ErrUIDValidity: the UIDs of Deleted and
// Copy.Src are of the old validity, and may now name other messages (or
// none): select the mailbox again and find the messages anew before
// acting on them.
type MoveIncompleteError struct {
	Copy    *CopyResult
	Deleted Set
	Unknown bool
	// Expunged says that the failing command was the UID EXPUNGE (with
	// Unknown: the messages may have been removed).
	Expunged bool
	Removed  Set
	// Left holds the source UIDs the move was to move (the UIDs its
	// UID SEARCH found, or those of the copy's parts sent, when it
	// stopped part-way) that it did not remove because the COPY does
	// not show them copied: not named by a COPYUID (ErrNotAllCopied), or
	// those of a part whose COPYUID named UIDs not sent (*CopyUIDError:
	// copied, the server said, maybe in both mailboxes now). They are in
	// the source if they still exist, unflagged.
	Left Set
	Err  error
	// removed says that the removal succeeded (or had nothing to
	// remove): the error is of Left.
	removed bool
}

// Error implements error. The sets it names are cut past a few ranges
// (the fields hold them whole): a hostile server's answer cannot make the
// message megabytes long.
func (e *MoveIncompleteError) Error() string {
	if e.Unknown {
		what := "flagged \\Deleted in the source"
		if e.Expunged {
			what = "removed from the source"
		}
		msg := "commands: move: messages copied; they may or may not have been " + what + " (no answer): " + e.Err.Error()
		if !e.Deleted.IsEmpty() {
			msg += " (UIDs " + setTextOf(e.Deleted) + ")"
		}
		return msg
	}
	msg := "commands: move: messages copied but not removed from the source: " + e.Err.Error()
	switch {
	case e.removed:
		msg = "commands: move: messages of UIDs " + setText(e.Left.Nums) + " not shown copied, left in the source"
		if !e.Removed.IsEmpty() {
			msg += ", those of UIDs " + setText(e.Removed.Nums) + " moved"
		}
		return msg + ": " + e.Err.Error()
	case !e.Removed.IsEmpty():
		msg = "commands: move: messages copied, those of UIDs " + setTextOf(e.Removed) + " removed from the source, the rest not: " + e.Err.Error()
	}
	if !e.Deleted.IsEmpty() {
		msg += " (left flagged \\Deleted in the source: " + setTextOf(e.Deleted) + ")"
	}
	return msg
}

// Unwrap returns the cause. It never matches session.ErrNotSent, whatever
// the failing command: the messages were copied, and a Move tried again
// would copy them twice (partlyDone).
func (e *MoveIncompleteError) Unwrap() error { return partlyDone(e.Err) }

// PartlyMovedError reports a MOVE (or UID MOVE) that the server refused
// (NO, BAD) or left unanswered after it had moved some of its messages:
// their COPYUID (untagged, RFC 6851 section 4.3) or, from a server without
// UIDPLUS, their EXPUNGE or VANISHED responses came before (RFC 6851
// section 3.3 lets a move fail part-way, each message moved or
// untouched). Move returns it with Copy,
// the mapping of the messages the COPYUID names as moved (nil without
// one). Only the first part of a set sent in parts can end so; a later
// part's failure is a *SplitError, the result holding every COPYUID.
type PartlyMovedError struct {
	// Copy maps the messages moved, as the COPYUIDs before the answer
	// name them (nil without one: a server without UIDPLUS).
	Copy *CopyResult
	// Removed is how many messages the EXPUNGE and VANISHED responses
	// said left the source (those of VANISHED sets with "*" not
	// counted).
	Removed uint64
	// Err is the command's error (a *session.StatusError for a NO).
	Err error
}

// Error implements error.
func (e *PartlyMovedError) Error() string {
	msg := "commands: move: refused after moving some messages"
	if e.Copy != nil && !e.Copy.Src.IsEmpty() {
		msg += " (UIDs " + setText(e.Copy.Src) + " moved, per its COPYUID)"
	} else if e.Removed > 0 {
		msg += " (" + strconv.FormatUint(e.Removed, 10) + " removed from the source, which ones unknown: no COPYUID)"
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap returns the cause. It never matches session.ErrNotSent: some
// messages moved, and the move tried again would act on what is left.
func (e *PartlyMovedError) Unwrap() error { return partlyDone(e.Err) }

// Copy copies the messages in set to mailbox (COPY, or UID COPY). An
// empty set sends nothing and returns an empty result. A set too long for
// one command line is sent in parts (Client.SetMaxSetLength), whose
// COPYUIDs are joined; the UIDs of a part that succeeded without a
// usable COPYUID are copied but have no mapping in the result
// (CopyResult.Unmapped holds them). A set of sequence numbers too long
// for one command is first turned into UIDs (UID SEARCH of the set, in
// the mailbox selected when Copy began), as Move does, and its parts go
// by UID (a *SplitError's Done then holds UIDs): the UIDs of a part
// without a COPYUID would be unknown otherwise. COPYUIDs
// past the session's MaxResultBytes (8 bytes a range: only a hostile
// server gets there) are dropped, and the result comes with a
// *session.ResultTooLargeError: everything was copied. A COPYUID whose
// source set names UIDs its part did not send (UID COPY 1:2 answered
// [COPYUID 7 5:6 10:11]; with "*" in the set, one UID outside the numbers
// written is allowed, as "*" may name it, when the COPYUID names none
// above it; for sequence numbers, no more
// UIDs than the set numbers; "$" is not checked) is not kept: the part's
// UIDs go to Unmapped, and the result comes with a *CopyUIDError (joined
// with a *SplitError or *session.ResultTooLargeError when there is one):
// everything was copied, the server said, with no mapping to trust.
func (c *Client) Copy(ctx context.Context, set Set, mailbox string) (*CopyResult, error) {
	if c.holdsNone(ctx, set) {
		return &CopyResult{}, nil // nothing to send
	}
	if !set.UID && !set.Saved && !c.fits(setLength(set.Nums.Ranges())) {
		// Parts of sequence numbers: a part answered without a
		// COPYUID would leave its UIDs unknown (CopyResult.Unmapped
		// holds UIDs only). The parts go by UID, in the mailbox whose
		// numbers they were.
		ctx = c.bindSelection(ctx)
		uids, err := c.uidsOf(ctx, set)
		if err != nil {
			return nil, err
		}
		if uids.IsEmpty() {
			return &CopyResult{}, nil
		}
		set = uids
	}
	return c.copyOrMove(ctx, set, mailbox, set.name("COPY"), false)
}

// copyOrMove sends COPY or MOVE (name, with its UID prefix) of set to
// mailbox, in parts when set is long, and joins their COPYUIDs. A MOVE
// (move) takes its EXPUNGE and VANISHED responses and an untagged
// COPYUID (RFC 6851 section 4.3) as they come (session.Command.OnData),
// keeping the COPYUID alone: a MOVE of 300,000 messages is not a
// *session.ResultTooLargeError. The COPYUIDs kept are bounded by
// MaxResultBytes all the same (8 bytes a range): RFC 6851 has one per
// MOVE, but a hostile server could send them without end (120 MB of them
// held 180 MiB), or a tagged one of a megabyte for each part; past the
// bound the rest are dropped and the result comes with a
// *session.ResultTooLargeError, every part having succeeded (Move's
// fallback then removes every UID it copied).
func (c *Client) copyOrMove(ctx context.Context, set Set, mailbox, name string, move bool) (*CopyResult, error) {
	var (
		mu       sync.Mutex
		res      *CopyResult
		unmapped codec.SeqSet // CopyResult.Unmapped
		// mapped[i] says that part i (of a MOVE) had a COPYUID
		// kept, untagged (OnData) or tagged.
		mapped   []bool
		answered bool
		// Of a MOVE: told[i], part i brought a COPYUID (kept or not);
		// removed[i], an EXPUNGE or VANISHED; removedN counts the
		// messages those said left the source.
		told     []bool
		removed  []bool
		removedN uint64
		// nothing counts a MOVE's parts answered OK that moved
		// nothing (neither a COPYUID nor an EXPUNGE or VANISHED).
		nothing int
	)
	var bad *CopyUIDError // the parts whose COPYUID named UIDs not sent
	b := c.newBound(name)
	// join adds the COPYUID of st, if any, to res and reports whether it
	// kept one. One whose source set is not within the part's set (sent)
	// is not kept, and noted in bad: the part's UIDs then go to Unmapped
	// as for a part answered without one.
	join := func(st *codec.Status, sent Set, i int) bool {
		if st == nil || st.Code == nil || st.Code.Kind != codec.CodeCopyUID {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if !copyUIDWithin(st.Code.Src, sent) {
			bad = bad.note(st.Code.Src, sent, i)
			return false
		}
		if !b.keep(8 * int64(len(st.Code.Src.Ranges())+len(st.Code.Dst.Ranges()))) {
			return false
		}
		part := copyUIDOf(st)
		if res != nil && res.UIDValidity != part.UIDValidity {
			// The earlier parts' mapping is stale (joinCopyUID), but
			// they did copy those UIDs.
			unmapped.AddRanges(res.Src.Ranges()...)
		}
		res = joinCopyUID(res, part)
		return true
	}
	run := c.newSplitRun(ctx, set, name)
	mapped = make([]bool, len(run.parts))
	told = make([]bool, len(run.parts))
	removed = make([]bool, len(run.parts))
	built := 0 // run builds the parts' commands in order, each once
	err := run.run(ctx, func(set Set) *session.Command {
		cmd := &session.Command{
			Name: name,
			Args: func(e *wire.Encoder) { c.mailbox(set.encode(e), mailbox) },
		}
		if move {
			i := built
			// sent is the part's set for the checks of its untagged
			// COPYUIDs (join), canonical: a set the caller gave in
			// no order, sent whole as the one part, was sorted into a
			// copy again by each check (withinSet), and a MOVE takes
			// COPYUIDs without end. codec.SeqSet.Canonical sorts
			// such a set into a copy once; a canonical one is
			// cloned, so that sent is the MOVE's own: join may still
			// read it on the reader goroutine after a cancelled Move
			// has returned and the caller reuses its set (one copy a
			// part, never one a COPYUID).
			sent := set
			if !set.Saved {
				nums, copied := set.Nums.Canonical()
				if !copied {
					nums = nums.Clone()
				}
				sent.Nums = nums
			}
			cmd.Want = moveWants
			cmd.OnData = func(r codec.Response) {
				if h := testHookResultData; h != nil {
					h()
				}
				// COPYUID untagged before the tagged OK (RFC 6851
				// section 4.3); the EXPUNGE and VANISHED are
				// counted, not kept: they say the messages left
				// the source (PartlyMovedError, NotRemovedError).
				switch r := r.(type) {
				case *codec.Status:
					kept := join(r, sent, i)
					mu.Lock()
					mapped[i] = mapped[i] || kept
					told[i] = told[i] || r.Code != nil && r.Code.Kind == codec.CodeCopyUID
					mu.Unlock()
				case *codec.Expunge:
					mu.Lock()
					removed[i] = true
					removedN++
					mu.Unlock()
				case *codec.Vanished:
					if !r.Earlier {
						n, _ := r.UIDs.Len()
						mu.Lock()
						removed[i] = true
						removedN += n
						mu.Unlock()
					}
				}
			}
		}
		built++
		return c.target(cmd, &set, mailbox)
	}, func(i int, r *session.Result) {
		if r.Status != nil && r.Status.Kind == codec.StatusOK {
			answered = true
			if !join(r.Status, run.parts[i], i) {
				// The part copied (or moved) its set, its OK says so,
				// with no COPYUID kept to name the UIDs (a MOVE's may
				// have come untagged): record them (Unmapped), so that
				// Move's fallback removes what was copied.
				// A set sent in parts is one of UIDs (Copy and
				// Move turn sequence numbers into UIDs first); a
				// set of sequence numbers is one part, whose
				// result is nil without a COPYUID: Unmapped never
				// holds a sequence number.
				// A MOVE's part that brought neither a COPYUID
				// nor an EXPUNGE or VANISHED moved nothing the
				// server told of (its UIDs not there: UID MOVE
				// passes over them): not recorded. Before, they
				// were, and taken for moved.
				mu.Lock()
				moved := !move || told[i] || removed[i] || r.Status.Code != nil && r.Status.Code.Kind == codec.CodeCopyUID
				if !mapped[i] && set.UID && moved {
					unmapped.AddRanges(run.parts[i].Nums.Ranges()...)
				}
				if move && moved {
					told[i] = true
				}
				if move && !moved {
					nothing++
				}
				mu.Unlock()
			}
		}
	})
	// No OnData of the MOVE runs once its Wait (or a failed Start) has
	// returned (session.Command.OnData): what is returned no longer
	// changes (TestMoveCancelledResultUnchangedAfterReturn).
	mu.Lock()
	defer mu.Unlock()
	if !answered {
		if move && (res != nil || slices.Contains(told, true) || removedN > 0 && !c.hasCap("UIDPLUS")) {
			// Refused (or unanswered) after it moved some: their
			// COPYUID, or, from a server without UIDPLUS, their
			// EXPUNGEs came first (RFC 6851 section 3.3 lets a
			// MOVE fail part-way; a server with UIDPLUS sends the
			// COPYUID of what moved, and an EXPUNGE without one is
			// another client's). Before, only the NO came back,
			// as if nothing had moved.
			return res, &PartlyMovedError{Copy: res, Removed: removedN, Err: err}
		}
		return nil, err
	}
	if err == nil {
		err = b.err()
	}
	switch {
	case bad != nil && err == nil:
		err = bad
	case bad != nil:
		// With a *SplitError or a *session.ResultTooLargeError:
		// errors.As finds each (Move's fallback must not remove the
		// UIDs of bad).
		err = errors.Join(err, bad)
	}
	if move && err == nil && bad == nil && res == nil && !slices.Contains(told, true) && !slices.Contains(removed, true) {
		// Answered OK with neither a COPYUID nor an EXPUNGE or
		// VANISHED: nothing moved that the server told of (UIDs no
		// longer there; Dovecot's "OK No messages found."). An empty
		// result says so, as for an empty set; nil (every message
		// unmapped) read as all of them moved.
		return &CopyResult{}, nil
	}
	var split *SplitError
	if move && res == nil && nothing > 0 && (err == nil || bad == nil && !tooLarge(err) && errors.As(err, &split)) {
		// In parts, none with a COPYUID kept, some answered OK with
		// neither a COPYUID nor an EXPUNGE or VANISHED (moved
		// nothing) and the others moving theirs: those moved are
		// Unmapped, the rest in no field, with the *SplitError of a
		// move stopped part-way (whose Done names the parts answered
		// OK, those that moved nothing too). Before, nil, read as
		// every message of the set (or of Done) moved.
		return &CopyResult{Unmapped: unmapped}, err
	}
	if res != nil {
		// Ascending, and never in Src: a part's UIDs that a later
		// part's COPYUID of the same UIDVALIDITY names again (a server
		// that answers twice for one UID) keep the mapping.
		unmapped.Remove(res.Src)
		res.Unmapped = unmapped
	}
	return res, err
}

// testHookResultData, when set (tests only), is called as a response
// reaches the OnData of a MOVE (copyOrMove) or an EXPUNGE (Expunge), on
// the session's reader goroutine, before it is taken.
var testHookResultData func()

// CopyUIDError reports a COPYUID (UIDPLUS, RFC 4315) whose source set
// names UIDs the command did not send: a UID COPY (or UID MOVE) of 1:2
// answered [COPYUID 7 5:6 10:11]. The server said OK, so the messages
// were copied (moved), but its mapping contradicts the command: it is not
// kept. Copy and Move return it with their *CopyResult, which does not map
// those UIDs: they are in CopyResult.Unmapped (nil when no part had a
// COPYUID kept), as for a part answered without a COPYUID. A copy in parts
// that also stopped part-way, or whose COPYUIDs passed MaxResultBytes,
// returns both errors joined (errors.As finds each). Move's fallback
// (UIDPLUS without MOVE) does not remove the UIDs of UIDs from the source:
// it returns a *MoveIncompleteError whose Left holds them.
type CopyUIDError struct {
	// UIDs holds the UIDs sent by the parts whose COPYUID was refused
	// (those Unmapped holds for them). It is empty for a COPY or MOVE of
	// sequence numbers (one part: the UIDs are not known) and of "$".
	UIDs Set
	// Src is the source set of the first COPYUID refused.
	Src codec.SeqSet
	// noted holds the indexes of the parts whose UIDs are in UIDs
	// (note): a part's refused COPYUID repeated costs nothing.
	noted map[int]struct{}
}

// Error implements error.
func (e *CopyUIDError) Error() string {
	msg := "commands: COPYUID names source UIDs " + setText(e.Src) + " not among those sent"
	if !e.UIDs.IsEmpty() {
		msg += " (" + setText(e.UIDs.Nums) + ")"
	}
	return msg + ": no mapping kept; the server said the messages were copied"
}

// setTextRanges is how many ranges of a set an error message shows.
const setTextRanges = 8

// setText is s as text, or, past setTextRanges ranges (a hostile server's
// set may hold millions), its first ranges, how many more, and its highest
// number: an error message stays short. The set itself stays whole in
// the error's fields.
func setText(s codec.SeqSet) string {
	rs := s.Ranges()
	if len(rs) <= setTextRanges {
		return s.String()
	}
	return fmt.Sprintf("%s,... (%d more ranges, up to %s)", codec.SeqSetOf(rs[:setTextRanges]...).String(),
		len(rs)-setTextRanges, highestText(rs))
}

// highestText is the highest number of the ranges rs, in any order (a
// COPYUID's source set keeps the server's): "*" when one holds it (0).
func highestText(rs []wire.SeqRange) string {
	var top uint32
	for _, r := range rs {
		if r.Start == 0 || r.Stop == 0 {
			return "*"
		}
		top = max(top, r.Start, r.Stop)
	}
	return strconv.FormatUint(uint64(top), 10)
}

// setTextOf is setText for a Set: "$", or its numbers after "UID " for
// UIDs, as Set.String writes it.
func setTextOf(s Set) string {
	if s.Saved {
		return s.String()
	}
	if s.UID {
		return "UID " + setText(s.Nums)
	}
	return setText(s.Nums)
}

// note returns e (a new one when nil) with a refused COPYUID of source
// set src, answering part i, which sent sent. A part's UIDs are added
// once: a hostile server's repeated refused COPYUIDs for one part (a MOVE
// takes untagged ones without end) cost a map lookup each, not the
// part's ranges added and sorted again.
func (e *CopyUIDError) note(src codec.SeqSet, sent Set, i int) *CopyUIDError {
	if e == nil {
		e = &CopyUIDError{UIDs: Set{UID: true}, Src: src.Clone(), noted: map[int]struct{}{}}
	}
	if _, ok := e.noted[i]; ok {
		return e
	}
	e.noted[i] = struct{}{}
	if sent.UID && !sent.Saved {
		e.UIDs.Nums.AddRanges(sent.Nums.Ranges()...)
	}
	return e
}

// copyUIDWithin reports whether a COPYUID whose source set is src can
// answer a part that sent sent. For a set of UIDs, src must lie within
// it: all of it, or all but one UID when sent holds "*" (x:* names the
// mailbox's last UID when it is below x, and a lone "*" names it: the
// client does not know which UID that is), src naming none above that
// one (withinSet). For a set of sequence numbers
// without "*", src may hold no more UIDs than the set numbers (which
// messages they are is not known here); one with "*", and "$", are not
// checked. It costs O(r log q) for sets of r and q ranges, and allocates
// nothing when sent's set is canonical (as copyOrMove makes a MOVE's).
func copyUIDWithin(src codec.SeqSet, sent Set) bool {
	switch {
	case sent.Saved:
		return true
	case !sent.UID:
		want, ok := sent.Nums.Len()
		got, _ := src.Len() // never "*": the codec drops such a COPYUID
		return !ok || got <= want
	}
	return withinSet(src, sent.Nums)
}

// withinSet reports whether the numbers of got lie within set: all of them,
// or all but one when set holds "*", which may stand for a number below
// every other of its range (x:* is *:x when the mailbox's last number is
// below x), unknown to the client: then that number is the mailbox's
// last, and got holds none above it.
//
// got is a server's (a COPYUID's source set, a [MODIFIED] set), checked
// for each response, of which a MOVE takes COPYUIDs without end: it is
// walked in place, each of its ranges by a search in set, stopping at
// the second number outside, O(r log q) for r ranges of got and q of
// set, without allocating when set is canonical (a MOVE makes the sets
// its checks use so, copyOrMove; one that is not is sorted into a copy,
// codec.SeqSet.Canonical). got minus set, a copy of got, cost the size
// of what the server sent, for each response. Its steps (the ranges of
// set compared) are reported to workhook.RangesCompared.
func withinSet(got, set codec.SeqSet) bool {
	cs, _ := set.Canonical()
	ok, steps := within(got, cs)
	workhook.RangesCompared.Report(len(got.Ranges()), len(set.Ranges()), steps)
	return ok
}

// within is withinSet for a canonical set; steps is the number of ranges
// of set it compared.
func within(got, set codec.SeqSet) (ok bool, steps int) {
	rs := set.Ranges()
	// out is the key (seqrange.Key) of the one number of got not in
	// set, 0 while none is found.
	var out uint64
	for _, r := range got.Ranges() {
		lo, hi := seqrange.Key(r.Start), seqrange.Key(r.Stop) // lo <= hi
		i, c := seqrange.SearchStop(rs, lo)
		steps += c
		for lo <= hi {
			steps++
			// rs[i] is the first range of set not ending before lo.
			if i < len(rs) && seqrange.Key(rs[i].Start) <= lo {
				lo = seqrange.Key(rs[i].Stop) + 1 // lo..its end is in set
				i++
				continue
			}
			end := hi // lo..end is not in set
			if i < len(rs) {
				end = min(hi, seqrange.Key(rs[i].Start)-1)
			}
			// The key 2^32, between 4294967295 and "*", is no
			// number.
			a, b := lo, end
			if a == 1<<32 {
				a++
			}
			if b == 1<<32 {
				b--
			}
			switch {
			case a > b:
			case b == seqrange.Key(0):
				return false, steps // "*" outside set: never within
			case a != b || out != 0 && out != a:
				return false, steps // two numbers outside set
			default:
				out = a
			}
			lo = end + 1
		}
	}
	if out == 0 {
		return true, steps
	}
	if !set.Dynamic() {
		return false, steps
	}
	last := seqrange.Unkey(out)
	for _, r := range got.Ranges() {
		steps++
		if r.Stop > last {
			return false, steps
		}
	}
	return true, steps
}

// joinCopyUID adds the COPYUID of a part (nil when the server sent none)
// to that of the parts before it, each set after the other in the order
// the server gave (codec.SeqSet.Append), so that the n-th source UID
// still pairs with the n-th destination UID whatever order a server gives
// them in (sorting each set on its own, as it did, paired them wrongly
// then). Should the destination's UIDVALIDITY change between two parts,
// the UIDs of the earlier parts are stale: the later part's replace them.
func joinCopyUID(all, part *CopyResult) *CopyResult {
	switch {
	case part == nil:
		return all
	case all == nil || all.UIDValidity != part.UIDValidity:
		return part
	}
	all.Src.Append(part.Src.Ranges()...)
	all.Dst.Append(part.Dst.Ranges()...)
	return all
}

// copyUIDOf returns the COPYUID of a status response (copied), or nil.
func copyUIDOf(st *codec.Status) *CopyResult {
	if st == nil || st.Code == nil || st.Code.Kind != codec.CodeCopyUID {
		return nil
	}
	return &CopyResult{UIDValidity: st.Code.UIDValidity, Src: st.Code.Src.Clone(), Dst: st.Code.Dst.Clone()}
}

// Move moves the messages in set to mailbox (an empty set sends nothing
// and returns an empty result): MOVE (RFC 6851) when the
// server offers it; otherwise, with UIDPLUS only, UID SEARCH of the set
// (the UIDs there now: a range reaching past the last UID, such as 1:*,
// must not take in a message that arrives meanwhile), UID COPY of them,
// then STORE +FLAGS.SILENT (\Deleted) and UID EXPUNGE of exactly those
// the COPYUID names as copied (all of them without a COPYUID; with a set
// sent in parts, all those of each part that succeeded without a usable
// COPYUID, which the result does not map), the last two only after the
// COPY succeeded (a *MoveIncompleteError when they fail, which keeps the
// copy's *SplitError when it stopped part-way). The fallback removes no
// UID its COPYUIDs do not show copied: those of a part whose COPYUID named
// UIDs not sent (a *CopyUIDError, as Copy returns), and those a COPYUID
// leaves out (a message expunged meanwhile by another client, or a server
// at fault); when it leaves any so, it removes the others and returns a
// *MoveIncompleteError whose Left holds them (matching ErrNotAllCopied,
// and the *CopyUIDError when there was one), never success. Without either it returns
// ErrMoveUnsupported and sends nothing.
// Its commands go to the mailbox selected when it began, or not at all: a
// SELECT that another goroutine runs meanwhile stops the rest with an
// error matching session.ErrReselected (a *MoveIncompleteError once the
// COPY is done), never a STORE or EXPUNGE in another mailbox. So does a
// change of the mailbox's UIDVALIDITY after the call (an untagged OK
// [UIDVALIDITY], in the COPY's answer or any other): the UIDs would name
// other messages, and the rest stops, not sent, with an error matching
// ErrUIDValidity (a *MoveIncompleteError once the COPY is done; no UID
// EXPUNGE after a STORE whose answer brought the change).
// A set too long for one command line is moved in parts
// (Client.SetMaxSetLength); sequence numbers, which each part's MOVE
// changes, are first turned into UIDs (UID SEARCH), as the fallback does.
// From a mailbox open read-only it returns ErrMailboxReadOnly and sends
// nothing (use Copy). A move done whose COPYUIDs passed the session's
// MaxResultBytes (only a hostile server's do) returns what it kept of them
// with a *session.ResultTooLargeError. A MOVE whose COPYUID names UIDs not
// sent returns a *CopyUIDError with the result, as Copy does (the server
// moved the messages, it said; their UIDs are in Unmapped). A MOVE
// answered OK with neither a COPYUID nor an EXPUNGE or VANISHED moved
// nothing (its UIDs were not there, which a UID MOVE passes over): Move
// returns an empty result (a part of a long set so answered is left out
// of Unmapped). Every EXPUNGE and VANISHED read while the MOVE is in
// flight is the MOVE's: the session pipelines no other command that takes
// EXPUNGE by its rules beside it, and gives a command's own Want (an Idle
// poll's NOOP, Do) only what no such command takes; so without UIDPLUS a
// Move that moved does not return the empty result, unless the server
// sends its EXPUNGEs after its tagged OK (RFC 6851 has them before). A
// COPYUID with no EXPUNGE counts as moved too: the COPYUID says what
// moved. A MOVE refused (NO, BAD) or left
// unanswered after it moved some messages (their COPYUID or EXPUNGEs
// came first; EXPUNGEs count only from a server without UIDPLUS, whose
// moves send no COPYUID) returns a *PartlyMovedError, with the COPYUID's
// mapping as the result; before, the NO alone.
//
// What Move returns, case by case:
//   - nothing to move (an empty set, or no UID of it in the mailbox):
//     an empty result (Src and Unmapped empty), nil;
//   - neither MOVE nor UIDPLUS: nil, ErrMoveUnsupported (nothing sent);
//     a mailbox open read-only: nil, ErrMailboxReadOnly;
//   - MOVE, every part with a COPYUID kept: the mapping (Src, Dst),
//     Unmapped empty; some parts with one and others moved without one:
//     the mapping, the others' UIDs in Unmapped;
//   - MOVE, no COPYUID kept (a server without UIDPLUS sends none) and
//     every part moved (an EXPUNGE or VANISHED): nil, nil; every message
//     of the set moved, with no mapping (Unmapped is not filled in);
//   - MOVE in parts, no COPYUID kept, some parts moved and others
//     answered OK with nothing: a result with Src empty whose Unmapped
//     holds the UIDs of the parts that moved, nil;
//   - MOVE answered OK with nothing for every part: an empty result, nil;
//   - MOVE refused: nil and the error, or, after some moved, their
//     mapping (or nil) with a *PartlyMovedError; a COPYUID naming UIDs
//     not sent: the result with a *CopyUIDError; stopped part-way: what
//     the parts answered gave, as above (nil when every part answered
//     OK moved without a COPYUID kept), with a *SplitError;
//   - the fallback (UIDPLUS, no MOVE): Copy's result for the UID COPY
//     (nil when the server sent no COPYUID: all were copied, and removed,
//     with no mapping), with the removal's error, if any (a
//     *MoveIncompleteError).
func (c *Client) Move(ctx context.Context, set Set, mailbox string) (*CopyResult, error) {
	// Every command of the move (the UIDs asked for, the parts, the
	// fallback's STORE and UID EXPUNGE) goes to this mailbox or not at
	// all (session.ErrReselected), and what decides to send nothing is
	// read of it.
	ctx = c.bindSelection(ctx)
	if err := c.writable(ctx); err != nil {
		return nil, err
	}
	if c.holdsNone(ctx, set) {
		return &CopyResult{}, nil // nothing to send
	}
	if c.hasCap("MOVE") {
		uids := set
		if !set.UID && !c.fits(setLength(set.Nums.Ranges())) {
			// Each MOVE renumbers: the parts go by UID.
			var err error
			if uids, err = c.uidsOf(ctx, set); err != nil {
				return nil, err
			}
			if uids.IsEmpty() {
				return &CopyResult{}, nil
			}
		}
		return c.copyOrMove(ctx, uids, mailbox, uids.name("MOVE"), true)
	}
	if !c.hasCap("UIDPLUS") {
		return nil, ErrMoveUnsupported
	}
	// UID EXPUNGE needs the UIDs, and the removal must take in only what
	// was there to copy: a set of sequence numbers, and a UID set that
	// reaches past the mailbox's last UID (1:*, 3:500) or $, would take in
	// messages that arrive between the COPY and the STORE, never copied.
	// So the UIDs are asked for first (UID SEARCH), as they are.
	uids, err := c.uidsOf(ctx, set)
	if err != nil {
		return nil, err
	}
	if uids.IsEmpty() {
		return &CopyResult{}, nil
	}
	cp, err := c.Copy(ctx, uids, mailbox)
	asked, done, ok := movedByCopy(uids, cp, err)
	if !ok {
		return nil, err
	}
	// What was asked and is not shown copied stays in the source (Left).
	left := Set{UID: true, Nums: asked.Nums.Clone()}
	left.Nums.Remove(done.Nums)
	return cp, c.removeMoved(ctx, cp, done, left, err)
}

// movedByCopy returns, for Move's fallback, the UIDs its copy was to copy
// (asked: uids, or those of the parts sent when it stopped part-way, the
// *SplitError saying the rest was not) and those shown copied (done), to
// remove from the source; ok is false when the copy failed and nothing
// is to be removed. Shown copied are the UIDs the COPYUID names and those
// of the parts answered without one (cp.Unmapped: all of them without a
// COPYUID; all of them, too, when the COPYUIDs passed the bound, every
// part having succeeded), never those of a part whose COPYUID named UIDs
// not sent (*CopyUIDError): the server's OK and its mapping disagree.
func movedByCopy(uids Set, cp *CopyResult, err error) (asked, done Set, ok bool) {
	var split *SplitError
	var bad *CopyUIDError
	errors.As(err, &bad)
	asked, done = uids, copied(uids, cp)
	switch {
	case err == nil:
	case errors.As(err, &split):
		// Some parts were copied: remove those from the source.
		asked, done = split.Done, copied(split.Done, cp)
	case tooLarge(err):
		// Every part was copied; only COPYUIDs past the bound were
		// dropped, so cp does not name them all: every UID. The move
		// is done, its result incomplete (err).
		done = Set{UID: true, Nums: uids.Nums.Clone()}
	case bad == nil:
		return uids, Set{UID: true}, false
	}
	if bad != nil {
		done = Set{UID: true, Nums: done.Nums.Clone()}
		done.Nums.Remove(bad.UIDs.Nums)
	}
	return asked, done, true
}

// copied returns the UIDs of uids that the COPYUID of cp names as copied,
// with those of the parts that succeeded without one (cp.Unmapped), or
// uids when the server sent no COPYUID: what Move's fallback removes.
func copied(uids Set, cp *CopyResult) Set {
	if cp == nil || cp.Src.IsEmpty() {
		return uids
	}
	// uids that the COPYUID or Unmapped name: by ranges, in
	// O((r+q) log(r+q)). It went number by number, and a hostile answer
	// of a few bytes (UID SEARCH ALL 1:4294967295, COPYUID of the same)
	// spun for over a minute, deaf to the caller's context.
	named := cp.Src.Clone()
	named.AddRanges(cp.Unmapped.Ranges()...)
	return Set{UID: true, Nums: uids.Nums.Intersect(named)}
}

// moveWants is MOVE's Want: its EXPUNGE and VANISHED responses, and
// COPYUID in an untagged OK (RFC 6851 section 4.3).
func moveWants(r codec.Response) bool {
	switch r := r.(type) {
	case *codec.Expunge, *codec.Vanished:
		return true
	case *codec.Status:
		return r.Code != nil && r.Code.Kind == codec.CodeCopyUID
	}
	return false
}

// uidsOf returns the UIDs of the messages of a set of sequence numbers:
// UID SEARCH of the set, whose answer is as compact as the UIDs are (one
// FETCH response per message would take about a hundred bytes each, and
// FetchAll's bound past half a million messages).
func (c *Client) uidsOf(ctx context.Context, set Set) (Set, error) {
	res, err := c.Search(ctx, &Criteria{Set: &set}, &SearchOptions{UID: true})
	if err != nil {
		return Set{UID: true}, err
	}
	return Set{UID: true, Nums: res.All}, nil
}

// removeMoved ends the fallback of Move: it flags the copied messages uids
// \Deleted and expunges them. copyErr is the error of a copy that did not
// copy every message (a *SplitError), of one that did but whose COPYUIDs
// passed the bound (a *session.ResultTooLargeError), or whose COPYUID
// named UIDs not sent (*CopyUIDError), returned after the removal; a
// failure of the removal is a *MoveIncompleteError, and so is a removal
// that leaves UIDs asked for in the source (left: not shown copied).
func (c *Client) removeMoved(ctx context.Context, cp *CopyResult, uids, left Set, copyErr error) error {
	var deleted, removed Set // flagged \Deleted by the STORE below; expunged
	var unknown, expunged bool
	incomplete := func(err error) *MoveIncompleteError {
		if copyErr != nil {
			// The copy's *SplitError says what was copied: kept.
			err = fmt.Errorf("%w (after a copy %s: %w)", err, copyFault(copyErr), copyErr)
		}
		return &MoveIncompleteError{Copy: cp, Deleted: deleted, Unknown: unknown, Expunged: expunged, Removed: removed, Left: left, Err: err}
	}
	// finish is the end of a removal that succeeded (or had nothing to
	// remove): an error when some UIDs were left.
	finish := func() error {
		if left.IsEmpty() {
			return copyErr
		}
		deleted, removed = Set{UID: true}, uids
		e := incomplete(ErrNotAllCopied) // with the copy's error, if any
		e.removed = true
		return e
	}
	if uids.IsEmpty() {
		return finish()
	}
	if _, err := c.Store(ctx, uids, AddFlags, []string{`\Deleted`}, &StoreOptions{Silent: true}); err != nil {
		var split *SplitError
		var refused *session.StatusError
		cause := err // a part's own error, for a split STORE
		if errors.As(err, &split) {
			cause = split.Err
		}
		switch {
		case split != nil && split.Unknown:
			// A part's answer lost: every UID may carry it.
			deleted, unknown = uids, true
		case errors.As(cause, &refused), errors.Is(cause, session.ErrNotSent):
			// Refused or not sent: nothing stored (but by the parts
			// that succeeded before, when the set went in parts).
			if errors.As(err, &split) {
				deleted = split.Done
			}
		default:
			// The answer was not had (the connection lost): every UID
			// may carry it, those of parts sent ahead unanswered too.
			deleted, unknown = uids, true
		}
		return incomplete(err)
	}
	deleted = uids
	if _, err := c.Expunge(ctx, &uids); err != nil {
		// An answer lost: the messages may be gone already (a caller
		// that took them for left in both and expunged the copies
		// lost the mail).
		var split *SplitError
		cause := err
		if errors.As(err, &split) {
			cause = split.Err
		}
		unknown, expunged = answerLost(cause) || split != nil && split.Unknown, true
		if split != nil && split.Sent > 0 {
			// The parts that succeeded removed their messages: they
			// are in the destination only (a caller rolling back by
			// expunging the copies would lose them).
			removed = split.Done
			deleted = Set{UID: true, Nums: uids.Nums.Clone()}
			deleted.Nums.Remove(split.Done.Nums)
		}
		return incomplete(fmt.Errorf("UID EXPUNGE: %w", err))
	}
	return finish()
}

// copyFault says what was wrong with the copy whose error copyErr is, for
// a *MoveIncompleteError's message.
func copyFault(copyErr error) string {
	var split *SplitError
	switch {
	case tooLarge(copyErr):
		return "whose COPYUIDs passed the bound"
	case errors.As(copyErr, &split):
		return "that stopped part-way"
	}
	return "whose COPYUID named UIDs not sent"
}
