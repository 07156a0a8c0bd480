package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// The system flags (RFC 9051 section 2.3.2) and the keywords registered
// with IANA that mail clients use most, for Store, AppendOptions.Flags and
// Criteria.Flags: a constant cannot be mistyped (`\Seeen` goes as a flag
// of its own in a STORE).
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	// FlagRecent is IMAP4rev1's: read only, and gone in IMAP4rev2.
	FlagRecent = `\Recent`

	FlagForwarded = "$Forwarded" // RFC 5550
	FlagMDNSent   = "$MDNSent"   // RFC 3503
	FlagJunk      = "$Junk"      // RFC 9051 section 2.3.2
	FlagNotJunk   = "$NotJunk"   // RFC 9051 section 2.3.2
	FlagPhishing  = "$Phishing"  // RFC 9051 section 2.3.2
)

// StoreOp is how Store changes flags.
type StoreOp uint8

// The STORE operations.
const (
	AddFlags     StoreOp = iota + 1 // +FLAGS
	RemoveFlags                     // -FLAGS
	ReplaceFlags                    // FLAGS
)

// StoreOptions are the options of Store.
type StoreOptions struct {
	// Silent sends .SILENT: the server does not answer with the new
	// flags.
	Silent bool
	// UnchangedSince is the UNCHANGEDSINCE modifier (RFC 7162): messages
	// changed since are not stored and come back in StoreResult.Modified.
	// 0 sends no modifier, unless HasUnchangedSince is set. At most
	// 2^63-1: past it Store returns an error wrapping ErrModSeq, nothing
	// sent.
	UnchangedSince uint64
	// HasUnchangedSince sends UNCHANGEDSINCE even when UnchangedSince is
	// 0: "UNCHANGEDSINCE 0" (RFC 7162 section 3.1.3) always fails for a
	// message whose flags have a mod-sequence, so nothing is stored in a
	// mailbox with mod-sequences and every message comes back in
	// StoreResult.Modified. With UnchangedSince above 0 it changes
	// nothing.
	HasUnchangedSince bool
}

// StoreResult is the answer to Store.
type StoreResult struct {
	// Messages are the FETCH responses with the new flags (none with
	// Silent, except those the server sends anyway).
	Messages []*Message
	// Dropped counts the FETCH responses left out of Messages, past the
	// session's bound on what one command collects
	// (session.Options.MaxResultBytes; with the default, 64 MiB, past
	// about 200,000 of them), which bounds the Messages of all the parts
	// of a long set together too. The flags were stored all the same: the
	// server said OK, and Store succeeds. Use Silent when the new flags
	// are not needed, or Fetch them.
	Dropped int
	// Modified holds the messages not stored because they changed since
	// UnchangedSince ([MODIFIED]); its kind is that of the set. It never
	// holds "*": a MODIFIED with one (or with a 0) fails the Store with a
	// *codec.DecodeError rather than be dropped. It holds only numbers of
	// the set (of the part the MODIFIED answered, for a set sent in
	// parts): a server naming others is at fault, and they are left out
	// (a caller would apply its change again to messages it never
	// meant to touch). For a part holding "*", one number outside the
	// numbers written is kept too, as "*" may stand for it (x:* names
	// the last message when it is below x), unless more are outside or
	// the MODIFIED names one above it (the last message has no other
	// above it);
	// for "$" (SEARCHRES), whose numbers the client does not know, the
	// MODIFIED is kept whole.
	Modified Set
}

// Store changes the flags of the messages in set (STORE, or UID STORE for
// a UID set). An empty set sends nothing and returns an empty result. A
// set too long for one command line is sent in parts
// (Client.SetMaxSetLength), whose answers are joined. An answer past the
// session's MaxResultBytes is not an error here, as it is for the
// commands whose answer is their result: the store was done, and the
// responses left out are counted in StoreResult.Dropped. In a mailbox open
// read-only it returns ErrMailboxReadOnly and sends nothing. By sequence
// numbers, an EXPUNGE read during the answer (RFC 9051 section 5.5 allows
// the server none) makes Store return its result with an error wrapping
// ErrRenumbered: the store was done, but the numbers of the Messages
// after the EXPUNGE name other messages than those stored. So it does
// when the answer passed MaxResultBytes too (the error then also wraps
// the *session.ResultTooLargeError, and Dropped counts). In a set sent in
// parts, such a part was done: the *SplitError has it in Done, and the
// rest is not sent. A Silent store whose answer held no FETCH and no
// [MODIFIED] (UnchangedSince) returns no numbers: an EXPUNGE during it is
// no error. A [MODIFIED] holds sequence numbers (StoreResult.Modified),
// which such an EXPUNGE makes stale: an error wrapping ErrRenumbered.
func (c *Client) Store(ctx context.Context, set Set, op StoreOp, flags []string, opts *StoreOptions) (*StoreResult, error) {
	if op < AddFlags || op > ReplaceFlags {
		// The zero StoreOp went as FLAGS, replacing every flag of the
		// messages.
		return nil, fmt.Errorf("commands: Store: no such StoreOp %d (AddFlags, RemoveFlags or ReplaceFlags)", op)
	}
	if err := checkSettableFlags(flags); err != nil {
		return nil, err
	}
	if opts != nil {
		if err := checkModSeq("StoreOptions.UnchangedSince", opts.UnchangedSince); err != nil {
			return nil, err
		}
	}
	if err := c.writable(ctx); err != nil {
		return nil, err
	}
	if c.holdsNone(ctx, set) {
		return &StoreResult{Modified: Set{UID: set.UID}}, nil // nothing to send
	}
	var o StoreOptions
	if opts != nil {
		o = *opts
	}
	item := "FLAGS"
	switch op {
	case AddFlags:
		item = "+FLAGS"
	case RemoveFlags:
		item = "-FLAGS"
	}
	if o.Silent {
		item += ".SILENT"
	}
	res := &StoreResult{Modified: Set{UID: set.UID}}
	b := c.newBound("STORE")
	answered := false
	run := c.newSplitRun(ctx, set, set.name("STORE"))
	run.noExpunge, run.quiet = !set.UID, o.Silent
	run.done = func(err error) bool {
		// A cut answer that was also renumbered (runPart) fails, its
		// dropped responses counted all the same.
		var tl *session.ResultTooLargeError
		if errors.As(err, &tl) {
			res.Dropped += tl.Dropped
		}
		return err == error(tl) && tl != nil
	}
	err := run.run(ctx, func(set Set) *session.Command {
		return c.target(&session.Command{Name: set.name("STORE"), Args: func(e *wire.Encoder) {
			set.encode(e)
			if o.UnchangedSince > 0 || o.HasUnchangedSince {
				e.SP().List(func(e *wire.Encoder) { e.Atom("UNCHANGEDSINCE").SP().Number(o.UnchangedSince) })
			}
			e.SP().Atom(item).SP()
			encodeFlags(e, flags)
		}}, &set, "")
	}, func(i int, r *session.Result) {
		answered = true
		for _, d := range r.Data {
			if f, ok := d.(*codec.Fetch); ok {
				// Each part's answer is bounded by the session; the
				// parts' copies together by b.
				if m := newMessage(f); b.keep(int64(m.size)) {
					res.Messages = append(res.Messages, m)
				} else {
					res.Dropped++
				}
			}
		}
		if st := r.Status; st != nil && st.Code != nil && st.Code.Kind == codec.CodeModified {
			res.Modified.Nums.AddRanges(modifiedOf(st.Code.Set, run.parts[i]).Ranges()...)
		}
	})
	if !answered {
		return nil, err
	}
	return res, err
}

// modifiedOf returns what of a [MODIFIED] set mod, answering a STORE of
// the part sent, Store keeps: the numbers of sent (a server naming
// others is at fault, and a caller would apply its change again to
// messages it never meant to touch). When sent holds "*", one number
// outside the numbers written is kept too, as "*" may stand for it (x:*
// is *:x when the mailbox's last message is below x; a lone "*" is the
// last message, which the client may not know), when mod names none
// above it (withinSet); otherwise none outside is kept; "$" is not checked: all of mod is kept.
// It costs O(r log q) for sets of r and q ranges when mod is within sent
// (O(r+q) when not: the Intersect).
func modifiedOf(mod codec.SeqSet, sent Set) codec.SeqSet {
	if sent.Saved || withinSet(mod, sent.Nums) {
		return mod
	}
	return mod.Intersect(sent.Nums)
}
