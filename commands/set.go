package commands

import (
	"context"
	"math"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/seqrange"
	"github.com/imapkit/imapkit/internal/workhook"
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

// vanishedCut cuts the VANISHED (EARLIER) responses of one answer to a
// set of UIDs (the known UIDs of a QRESYNC select, the set of a UID
// FETCH): what each names of the set (codec.SeqSet.Intersect's model: a
// range x:* of the set holds every n >= x), but a range of the set that
// an earlier response of the answer covered whole is not given again.
// Cut at each response with Intersect, a server's wide line
// ("1:4294967295", sent again and again: a hostile server) cost, and
// gave, every range of the set a line: the set's ranges times the lines
// (3,999,800 range comparisons for 100 such lines against 10,000 ranges,
// 10^11 for a million against 100,000). Here each range of the set is
// given whole at most once an answer, and a response costs two searches
// in the set for each of its ranges (O(log q) for a set of q ranges)
// and what it gives: O(n log q + q) for n ranges in all. The parts of
// the set's ranges a response covers only partly (at most two for each
// of its ranges) are given each time, as it names them.
//
// Its memory: the set's ranges (a sorted copy when the set is not
// canonical, made once) and, from the first range covered whole, 4 bytes
// a range of the set. The zero value cuts to nothing: init it first.
type vanishedCut struct {
	set []wire.SeqRange // canonical
	// given[i] is 0 while range i was not given whole, else an index
	// j > i such that every range from i up to j was (path-halved as
	// it is followed); len(set)+1 entries, the last never given.
	given []int32
}

// init makes s the set to cut to (not modified; copied when not
// canonical) and forgets what was given. A canonical s is not copied:
// its ranges must not change while v cuts (Fetch gives it a copy of its
// own, fetchPart; a Select cuts to QResync.KnownUIDs during the call).
func (v *vanishedCut) init(s codec.SeqSet) {
	c, _ := s.Canonical()
	v.set = c.Ranges()
	v.given = nil
}

// forget forgets the ranges given whole: the answer's [CLOSED] starts
// another mailbox's responses. It clears 4 bytes a range of the set:
// called once an answer (the session gives selectReader an answer's first
// [CLOSED] only).
func (v *vanishedCut) forget() { clear(v.given) }

// cut calls give with each range of uids ∩ the set (in the order of
// uids' ranges, ascending for each) but those given whole before, and
// reports its steps to workhook.RangesCompared (the ranges of the set
// compared, followed or given).
func (v *vanishedCut) cut(uids codec.SeqSet, give func(wire.SeqRange)) {
	set := v.set
	steps := 0
	for _, r := range uids.Ranges() {
		lo, hi := seqrange.Key(r.Start), seqrange.Key(r.Stop) // lo <= hi: codec.SeqSet keeps Start <= Stop
		// set[i:j] are the ranges that meet lo:hi.
		i, c := seqrange.SearchStop(set, lo)
		steps += c
		if i == len(set) || seqrange.Key(set[i].Start) > hi {
			continue
		}
		// The first range from i+1 on not ending before hi, and the
		// one after it if it meets hi.
		j, c := seqrange.Gallop(set, i+1, hi)
		steps += c
		if j < len(set) && seqrange.Key(set[j].Start) <= hi {
			j++
			steps++
		}
		if lo > seqrange.Key(set[i].Start) {
			// Covered partly (or both ends in one range).
			give(cutRange(set[i], lo, hi))
			i++
		}
		if i < j && hi < seqrange.Key(set[j-1].Stop) {
			give(cutRange(set[j-1], lo, hi))
			j--
		}
		if i < j {
			steps += v.giveWhole(i, j, give)
		}
	}
	workhook.RangesCompared.Report(len(set), len(uids.Ranges()), steps)
}

// giveWhole gives the ranges set[i:j] not given before, marks them given,
// and returns its steps.
func (v *vanishedCut) giveWhole(i, j int, give func(wire.SeqRange)) (steps int) {
	if len(v.set) >= math.MaxInt32 {
		// Past what given can index (16 GiB of ranges): given each time.
		for _, r := range v.set[i:j] {
			give(r)
		}
		return j - i
	}
	if v.given == nil {
		v.given = make([]int32, len(v.set)+1)
	}
	k := v.find(i, &steps)
	for k < j {
		give(v.set[k])
		steps++
		v.given[k] = int32(k + 1)
		k = v.find(k+1, &steps)
	}
	if k > i {
		v.given[i] = int32(k)
	}
	return steps
}

// find returns the first range at or after i not given whole, halving the
// path it follows.
func (v *vanishedCut) find(i int, steps *int) int {
	for v.given[i] != 0 {
		*steps++
		n := v.given[i]
		if m := v.given[n]; m != 0 {
			v.given[i] = m
		}
		i = int(n)
	}
	return i
}

// cutRange returns the part of r within the keys lo:hi (seqrange.Key), which
// meet it.
func cutRange(r wire.SeqRange, lo, hi uint64) wire.SeqRange {
	return wire.SeqRange{Start: seqrange.Unkey(max(lo, seqrange.Key(r.Start))), Stop: seqrange.Unkey(min(hi, seqrange.Key(r.Stop)))}
}
