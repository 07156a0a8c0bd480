package commands

import (
	"context"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// Set is a set of messages: sequence numbers or UIDs. Its kind chooses the
// command: Fetch with a UID set sends UID FETCH, and so on. The number 0
// stands for "*", the largest number in use. Make one with SeqNums,
// SeqRange, UIDs, UIDRange or SetOf.
//
// An empty set (a search that found nothing, say) holds no message: Fetch
// yields nothing, Store, Copy, Move and Expunge return an empty result,
// and none of them sends anything (IMAP has no empty set to send). So
// does a set of sequence numbers with "*" (SeqRange(1, 0), all messages)
// while the selected mailbox is known to be empty (Client.Exists): "*"
// names no message there, and servers answer such a set with BAD.
type Set struct {
	// UID is true for a set of UIDs, false for sequence numbers.
	UID bool
	// Nums holds the numbers.
	Nums codec.SeqSet
	// Saved stands for the result of the last search saved with
	// SearchReturn.Save (SEARCHRES, RFC 5182): "$". Nums is then unused.
	Saved bool
}

// SavedSeqNums is "$" (SEARCHRES) used as a set of sequence numbers.
func SavedSeqNums() Set { return Set{Saved: true} }

// SavedUIDs is "$" (SEARCHRES) used as a set of UIDs.
func SavedUIDs() Set { return Set{UID: true, Saved: true} }

// SeqNums returns a set of message sequence numbers (0 means "*").
func SeqNums(n ...uint32) Set {
	var s Set
	s.Nums.AddNum(n...)
	return s
}

// SeqRange returns the sequence numbers start:stop (0 means "*": SeqRange(1,
// 0) is every message).
func SeqRange(start, stop uint32) Set {
	var s Set
	s.Nums.AddRange(start, stop)
	return s
}

// UIDs returns a set of UIDs (0 means "*", the last message: mind a
// Message.UID of 0, which means the server did not send one).
func UIDs(n ...uint32) Set {
	s := Set{UID: true}
	s.Nums.AddNum(n...)
	return s
}

// UIDRange returns the UIDs start:stop (0 means "*").
func UIDRange(start, stop uint32) Set {
	s := Set{UID: true}
	s.Nums.AddRange(start, stop)
	return s
}

// SetOf returns a set of UIDs (uid true) or sequence numbers holding the
// numbers of nums, e.g. the result of a search.
func SetOf(uid bool, nums codec.SeqSet) Set { return Set{UID: uid, Nums: nums.Clone()} }

// String returns the wire form, e.g. "1:5,7" (prefixed "UID " for UIDs).
func (s Set) String() string {
	if s.Saved {
		if s.UID {
			return "UID $"
		}
		return "$"
	}
	if s.UID {
		return "UID " + s.Nums.String()
	}
	return s.Nums.String()
}

// holdsNone reports whether set names no message, so that nothing is
// sent: it is empty, or it holds sequence numbers with "*" while the
// selected mailbox is known to hold none. Under a ctx bound to a
// selection that no longer holds, the count is another mailbox's and is
// not trusted (exists): the method goes on, and its bound commands are
// refused (session.ErrReselected). session.Command.NotIfEmpty checks the
// "*" case again at each command's turn (splitRun.command); it does not
// replace this check at the call: without it, Store of "1:*" in an empty
// mailbox returns a nil *StoreResult (TestStarInEmptyMailboxSendsNothing),
// and Copy or Move of a set too long for one line sends the UID SEARCH of
// uidsOf before any command that NotIfEmpty would stop.
func (c *Client) holdsNone(ctx context.Context, set Set) bool {
	if set.IsEmpty() {
		return true
	}
	if set.UID || set.Saved || !set.Nums.Dynamic() {
		return false
	}
	n, known := c.exists(ctx)
	return known && n == 0
}

// renumberable reports whether set holds sequence numbers that an EXPUNGE
// can make name other messages: not UIDs, not "$" (the server keeps track
// of its messages), and not a set holding "1:*", which names every
// message of the mailbox whatever their numbers.
func (s Set) renumberable() bool {
	if s.UID || s.Saved {
		return false
	}
	for _, r := range s.Nums.Ranges() {
		if r.Start == 1 && r.Stop == 0 || r.Start == 0 && r.Stop == 1 {
			return false
		}
	}
	return true
}

// IsEmpty reports whether the set holds no number.
func (s Set) IsEmpty() bool { return !s.Saved && s.Nums.IsEmpty() }

// name prefixes a command name with "UID " for a UID set.
func (s Set) name(cmd string) string {
	if s.UID {
		return "UID " + cmd
	}
	return cmd
}

// encode writes the set (after a space).
func (s Set) encode(e *wire.Encoder) *wire.Encoder {
	if s.Saved {
		return e.SP().Raw("$")
	}
	return e.SP().SeqSet(s.Nums.Ranges())
}

// within returns the numbers of s that t holds (s ∩ t, by
// codec.SeqSet.Intersect: a range x:* of t holds every n >= x): a
// server's VANISHED (EARLIER) cut to the UIDs the command asked about.
// O(r+q) for canonical sets of r and q ranges, O(r log q + m) for few
// against many and m ranges in the result (see Intersect; a set not
// canonical is first sorted into a copy, at each call); s and t are not
// modified.
func within(s, t codec.SeqSet) codec.SeqSet { return s.Intersect(t) }
