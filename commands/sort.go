package commands

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// SortKey is one SORT criterion (RFC 5256, RFC 5957 DISPLAY): ARRIVAL,
// CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM, DISPLAYTO.
type SortKey struct {
	Key     string
	Reverse bool
}

// Sort sends SORT (UID SORT with opts.UID) and returns the matching
// numbers in order. The charset is opts.Charset, or UTF-8 (SORT requires
// one); once UTF-8 is enabled it is UTF-8, and another opts.Charset is an
// error wrapping ErrCharsetUTF8, nothing sent; under UTF-8 a string of
// the criteria that is not valid UTF-8 is an error wrapping
// ErrSearchNotUTF8, nothing sent. opts.Return is ignored:
// see ESort. It collects SortIter: the one list it returns is the only
// copy of the numbers.
//
// Past the session's MaxResultBytes (session.Options), it reads on to the
// end of the answer, dropping the rest, and returns the numbers it kept
// with a *session.ResultTooLargeError.
//
// A SORT cannot be sent in parts, as Search is (the orders would not
// join): a Criteria.Set too long for the command line
// (Client.SetMaxSetLength) that numbers messages as the answer does (UIDs
// with opts.UID) is left out of the command, and the answer restricted to
// it; one of the other kind is sent whole.
//
// The answer is one line with every number. A line longer than the
// session's MaxLineLength (1 MiB, about 140,000 numbers of six digits) is
// read without keeping its bytes; what bounds it is the session's
// MaxNumbers (session.Options: 2,097,152 numbers by default), past which
// the answer fails with an error matching codec.ErrTooManyNumbers.
//
// Sort drops the answer's MODSEQ (RFC 7162: with a Criteria.ModSeq, the
// highest mod-sequence of the messages found); SortResult keeps it. An
// answer without a SORT ("* SORT" when nothing matches, RFC 5256 section
// 4), none at all or an ESEARCH (ESORT's form: the order is lost), is a
// *MissingError, not "nothing matches"; SortIter ends with it.
func (c *Client) Sort(ctx context.Context, keys []SortKey, criteria *Criteria, opts *SearchOptions) ([]uint32, error) {
	res, err := c.SortResult(ctx, keys, criteria, opts)
	if res == nil {
		return nil, err
	}
	return res.Nums, err
}

// SortResult is the answer to a SORT (Client.SortResult). The numbers are
// UIDs when UID is set.
type SortResult struct {
	UID bool
	// Nums are the matching numbers in sort order.
	Nums []uint32
	// ModSeq is the answer's MODSEQ (RFC 7162 section 3.1.5, "* SORT 2
	// 5 (MODSEQ 917)"): with a Criteria.ModSeq (or a MODSEQ key in
	// Criteria.Raw), the highest mod-sequence of the messages found, as
	// SearchResult.ModSeq; 0 when the server sent none, and when a long
	// Criteria.Set was left out of the command (see Sort: the server's
	// MODSEQ is then that of the whole answer, not of the set's part).
	ModSeq uint64
}

// SortResult is Sort returning a SortResult: the numbers in sort order
// and the answer's MODSEQ, which Sort drops. Past the session's
// MaxResultBytes it returns the numbers it kept with a
// *session.ResultTooLargeError, as Sort does.
func (c *Client) SortResult(ctx context.Context, keys []SortKey, criteria *Criteria, opts *SearchOptions) (*SortResult, error) {
	res := &SortResult{UID: opts != nil && opts.UID}
	b := c.newBound("SORT")
	for n, err := range c.sortIter(ctx, keys, criteria, opts, b, &res.ModSeq) {
		if err != nil {
			if tooLarge(err) || renumberedAnswered(err) {
				return res, err
			}
			return nil, err
		}
		res.Nums = append(res.Nums, n)
	}
	return res, nil
}

// SortIter is Sort as an iterator over the numbers in sort order, read on
// the iterating goroutine from the session's pull delivery
// (session.Command.Pull) and yielded from the decoder's own SORT response:
// nothing is collected (see SearchIter for the bound on one response
// line). Breaking out of the loop drops the rest of the answer. An error
// ends the iteration, yielded with 0.
func (c *Client) SortIter(ctx context.Context, keys []SortKey, criteria *Criteria, opts *SearchOptions) iter.Seq2[uint32, error] {
	return c.sortIter(ctx, keys, criteria, opts, nil, nil)
}

// sortIter is SortIter, whose SORT responses count against b (nil for
// none): those past it are dropped, and its error ends the iteration.
// The highest MODSEQ of the kept responses goes to *modseq (nil: none),
// unless the answer is restricted to a long set left out of the command
// (longSet), whose MODSEQ the server's is not.
func (c *Client) sortIter(ctx context.Context, keys []SortKey, criteria *Criteria, opts *SearchOptions, b *collectBound, modseq *uint64) iter.Seq2[uint32, error] {
	return func(yield func(uint32, error) bool) {
		var o SearchOptions
		if opts != nil {
			o = *opts
		}
		o.Return = nil
		criteria, only := c.longSet(criteria, o.UID)
		cmd, err := c.sortCommand(keys, criteria, &o)
		if err != nil {
			yield(0, err)
			return
		}
		cmd.Pull = true
		done, cut := ctx.Done(), false
		sorted := false // a SORT came
		var mark numbersMark
		p, stopped, err := c.pullPending(ctx, cmd, func(_ string, it session.Item) bool {
			s, ok := it.Response.(*codec.Sort)
			sorted = sorted || ok
			// Sort keeps 4 bytes a number, and 4 more while its slice grows.
			if ok && b.keep(max(it.Size, 8*int64(len(s.Nums)))) {
				if len(s.Nums) > 0 {
					mark.note(it)
				}
				if modseq != nil && only == nil && s.ModSeq > *modseq {
					*modseq = s.ModSeq
				}
				for _, n := range s.Nums {
					if only != nil && !only.Contains(n) {
						continue
					}
					if cut = ended(done); cut || !yield(n, nil) {
						return false
					}
				}
			}
			return true
		})
		err = b.absorb(err) // the session's queue bound, as b's
		berr := b.err()     // nil for a nil b
		if err == nil {
			err = berr
		}
		if err == nil && !stopped && !sorted {
			// SORT is always answered with a SORT, "* SORT" when
			// nothing matches (RFC 5256 section 4). Without one (none
			// at all, or an ESEARCH of its tag as ESORT answers: the
			// order is lost), no numbers is not "nothing matches".
			err = &MissingError{Command: cmd.Name, Response: "SORT"}
		}
		if !stopped && (err == nil || tooLarge(err)) {
			// After the numbers: those yielded may name other
			// messages now (an EXPUNGE inside the answer), also
			// when the answer went past the bound, b's or the
			// session's own (SortIter's) on its queue (joined, as
			// Search does).
			if rerr := renumberedAfter(p, o.UID, &mark, cmd.Name); rerr != nil {
				err = joinBound(rerr, err)
			}
		}
		if cut {
			yield(0, ctx.Err())
		} else if err != nil && !stopped {
			yield(0, err)
		}
	}
}

// ESort sends SORT RETURN (RFC 5267 ESORT) with opts.Return (MIN, MAX,
// COUNT, ALL; nil asks for ALL) and returns the ESEARCH answer. MIN and
// MAX are the first and last messages in sort order; ALL is a set (the
// order is lost). Cyrus 3.6 is known to get MIN and MAX wrong. A long
// Criteria.Set is handled as Sort does; MIN, MAX, COUNT and ALL are then
// computed from the restricted answer. An answer without an ESEARCH of
// its own (one whose UID indicator says the other kind of numbers is not)
// is a *MissingError, as in Search.
func (c *Client) ESort(ctx context.Context, keys []SortKey, criteria *Criteria, opts *SearchOptions) (*SearchResult, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	if o.Return == nil {
		o.Return = &SearchReturn{All: true}
	}
	if !c.hasCap("ESORT") {
		return nil, fmt.Errorf("%w: ESORT", ErrUnsupported)
	}
	if _, only := c.longSet(criteria, o.UID); only != nil && !o.Return.Save {
		return c.esortLong(ctx, keys, criteria, &o)
	}
	cmd, err := c.sortCommand(keys, criteria, &o)
	if err != nil {
		return nil, err
	}
	data, rerr := c.runNumbered(ctx, cmd, o.UID, func(d codec.Response) bool {
		e, ok := d.(*codec.ESearch)
		return ok && e.UID == o.UID && e.NamesMessages()
	})
	if data == nil {
		return nil, rerr
	}
	res := &SearchResult{UID: o.UID}
	var all []wire.SeqRange
	for _, d := range data {
		// An ESEARCH of the other kind of numbers (its UID indicator)
		// is not this command's; one naming no messages is (see Search).
		if e, ok := d.(*codec.ESearch); ok && (e.UID == o.UID || !e.NamesMessages()) {
			res.addESearch(e, &all)
		}
	}
	if !res.FromESearch && *o.Return != (SearchReturn{Save: true}) {
		// ESORT answers with an ESEARCH, as SEARCH RETURN does (RFC
		// 5267 section 3.2, RFC 4731 section 3.1).
		return nil, &MissingError{Command: cmd.Name, Response: "ESEARCH"}
	}
	res.All.AddRanges(all...)
	res.All.Compact()
	return res, rerr
}

// longSet returns criteria without its Set, and that set, when the set is
// too long for one command line (Client.SetMaxSetLength) and numbers
// messages as the answer does (UIDs for uid): a SORT answer cannot be
// joined from parts (the orders would not join), but the order of a
// subset is the order of the whole restricted to it, so the SORT is sent
// without the set and its answer restricted to it. Otherwise it returns
// criteria and nil: the set goes whole (a set of the other kind, or $).
func (c *Client) longSet(criteria *Criteria, uid bool) (*Criteria, *codec.SeqSet) {
	if criteria == nil || criteria.Set == nil || criteria.Set.Saved || criteria.Set.UID != uid {
		return criteria, nil
	}
	rs := criteria.Set.Nums.Ranges()
	if c.fits(setLength(rs)) {
		return criteria, nil
	}
	cr := *criteria
	cr.Set = nil
	only := codec.SeqSetOf(rs...) // canonical: Contains in O(log r)
	return &cr, &only
}

// esortLong is ESort for a Criteria.Set too long for the command line
// (see longSet): the numbers come from a plain SORT restricted to the
// set, and MIN, MAX (the first and last in sort order), COUNT and ALL are
// computed from them as the server would (but for MODSEQ: the plain
// SORT's is that of the whole answer, not of the set's part; ModSeq stays
// 0).
func (c *Client) esortLong(ctx context.Context, keys []SortKey, criteria *Criteria, o *SearchOptions) (*SearchResult, error) {
	res := &SearchResult{UID: o.UID, FromESearch: true}
	var first, last, count uint32
	var all []wire.SeqRange
	b := c.newBound("SORT")
	var rerr error
	for n, err := range c.sortIter(ctx, keys, criteria, o, b, nil) {
		if renumberedAnswered(err) {
			rerr = err // at the end: the numbers are kept
			break
		}
		if err != nil {
			return nil, err
		}
		if count == 0 {
			first = n
		}
		last = n
		count++
		if o.Return.All {
			all = append(all, wire.SeqRange{Start: n, Stop: n})
		}
	}
	r := o.Return
	if r.Min && count > 0 {
		res.Min, res.HasMin = first, true
	}
	if r.Max && count > 0 {
		res.Max, res.HasMax = last, true
	}
	if r.Count {
		res.Count, res.HasCount = count, true
	}
	if r.All {
		res.All = codec.SeqSetOf(all...)
	}
	return res, rerr
}

// sortCommand builds the command of ESort and SortIter.
func (c *Client) sortCommand(keys []SortKey, criteria *Criteria, opts *SearchOptions) (*session.Command, error) {
	o := *opts
	if !c.hasCap("SORT") && !c.hasCap("SORT=DISPLAY") {
		return nil, fmt.Errorf("%w: SORT", ErrUnsupported)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("commands: SORT needs at least one key")
	}
	var cr Criteria
	if criteria != nil {
		cr = *criteria
	}
	if err := cr.check(); err != nil {
		return nil, err
	}
	cs, err := c.mandatoryCharset(&cr, &o)
	if err != nil {
		return nil, err
	}
	name := "SORT"
	if o.UID {
		name = "UID SORT"
	}
	return c.criteriaChecked(&session.Command{Name: name, Args: func(e *wire.Encoder) {
		if o.Return != nil {
			e.SP().Atom("RETURN").SP().List(func(e *wire.Encoder) { atoms(e, o.Return.names()) })
		}
		e.SP().List(func(e *wire.Encoder) {
			for i, k := range keys {
				if i > 0 {
					e.SP()
				}
				if k.Reverse {
					e.Atom("REVERSE").SP()
				}
				atom(e, upperASCII(k.Key))
			}
		})
		e.SP().AString(cs)
		cr.encode(e)
	}}, &cr), nil
}

// Thread sends THREAD (UID THREAD with opts.UID) with an algorithm
// (REFERENCES, ORDEREDSUBJECT, REFS) and returns the threads as trees.
// Its charset is chosen as Sort's: opts.Charset or UTF-8, only UTF-8 once
// UTF-8 is enabled (another is an error wrapping ErrCharsetUTF8, nothing
// sent), and a string not valid UTF-8 under UTF-8 is an error wrapping
// ErrSearchNotUTF8, nothing sent. An answer without a THREAD ("* THREAD"
// when nothing matches, RFC 5256 section 4) is a *MissingError, not "no
// threads".
func (c *Client) Thread(ctx context.Context, algorithm string, criteria *Criteria, opts *SearchOptions) ([]*codec.ThreadNode, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	if !c.hasCap("THREAD=" + upperASCII(algorithm)) {
		return nil, fmt.Errorf("%w: THREAD=%s", ErrUnsupported, upperASCII(algorithm))
	}
	var cr Criteria
	if criteria != nil {
		cr = *criteria
	}
	if err := cr.check(); err != nil {
		return nil, err
	}
	cs, err := c.mandatoryCharset(&cr, &o)
	if err != nil {
		return nil, err
	}
	name := "THREAD"
	if o.UID {
		name = "UID THREAD"
	}
	data, rerr := c.runNumbered(ctx, c.criteriaChecked(&session.Command{Name: name, Args: func(e *wire.Encoder) {
		atom(e.SP(), upperASCII(algorithm)).SP().AString(cs)
		cr.encode(e)
	}}, &cr), o.UID, func(d codec.Response) bool {
		t, ok := d.(*codec.Thread)
		return ok && len(t.Threads) > 0
	})
	if data == nil {
		return nil, rerr
	}
	var out []*codec.ThreadNode
	answered := false
	for _, d := range data {
		if t, ok := d.(*codec.Thread); ok {
			answered = true
			out = append(out, t.Threads...)
		}
	}
	if !answered {
		// THREAD is always answered with a THREAD, "* THREAD" when
		// nothing matches (RFC 5256 section 4).
		return nil, &MissingError{Command: name, Response: "THREAD"}
	}
	return out, rerr
}

// runNumbered runs cmd (SORT RETURN, THREAD, or their UID forms: uid),
// read from the session's pull delivery, and returns copies of its
// responses (non-nil), as a collected Run keeps them, within the
// session's MaxResultBytes (past it: nil and the
// *session.ResultTooLargeError); nil and the error when it failed. By
// sequence numbers, an EXPUNGE read after a response that returns
// numbers (held) makes it an error wrapping ErrRenumbered returned with
// the answer (renumberedAfter): RFC 9051 section 7.5.1 does not forbid
// one during SORT and THREAD, and the numbers of the responses after it
// are current, but those before it may name other messages now.
func (c *Client) runNumbered(ctx context.Context, cmd *session.Command, uid bool, held func(codec.Response) bool) ([]codec.Response, error) {
	cmd.Pull = true
	b := c.newBound(cmd.Name)
	data := []codec.Response{}
	var mark numbersMark
	p, _, err := c.pullPending(ctx, cmd, func(_ string, it session.Item) bool {
		if !b.keep(max(it.Size, codec.CloneSize(it.Response))) {
			return true
		}
		d := codec.CloneResponse(it.Response) // it is borrowed
		data = append(data, d)
		if held(d) {
			mark.note(it)
		}
		return true
	})
	if err = b.absorb(err); err == nil {
		err = b.err()
	}
	if err != nil {
		return nil, err
	}
	return data, renumberedAfter(p, uid, &mark, cmd.Name)
}

// numbersMark is the first response of an answer that returns numbers
// (a SORT, THREAD, SEARCH or ESEARCH holding some), for renumberedAfter.
type numbersMark struct {
	it  session.Item // its Response, Section and Body dropped
	set bool
}

// note records it, unless a response was recorded before.
func (m *numbersMark) note(it session.Item) {
	if m.set {
		return
	}
	m.it, m.set = it, true
	m.it.Response, m.it.Section, m.it.Body = nil, nil, nil
}

// renumberedAfter returns an error wrapping ErrRenumbered when p, a
// command by sequence numbers (not uid: SEARCH, SORT, THREAD), had an
// EXPUNGE read after the first response of its answer that returns
// numbers (m; none: nil) and before its end
// (session.Pending.RenumberedAfter): those numbers may name other
// messages now. One read before its numbers leaves them current (each
// response is in the numbering of its time). nil otherwise.
func renumberedAfter(p *session.Pending, uid bool, m *numbersMark, cmd string) error {
	if uid || p == nil || !m.set || !p.RenumberedAfter(m.it) {
		return nil
	}
	return fmt.Errorf("%w: an EXPUNGE read after numbers of the answer to %s, which may name other messages now", ErrRenumbered, cmd)
}

// renumberedAnswered reports whether err is renumberedAfter's: an
// EXPUNGE during an answer that came (the result is kept), not a command
// refused before it was sent for an EXPUNGE before it
// (session.ErrNotSent).
func renumberedAnswered(err error) bool {
	return errors.Is(err, ErrRenumbered) && !errors.Is(err, session.ErrNotSent)
}
