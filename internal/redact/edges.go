package redact

import "bytes"

// A server may echo a credential across a line's end: as sent, when the
// credential holds a line break (a password literal with CR LF in it:
// the line ends at its LF), or broken into pieces (a server that folds a
// long line). Each line then holds only a part of it, which no whole form
// in the line shows: Edges finds those parts at a line's two edges, from
// what the lines before carry (a Carry) and from the line's own end.

// minEdge is the fewest bytes of a credential's part at an edge, where the
// rest of it would be past the edge, that are taken for a part of it: at
// the end or the start of an excerpt (RedactExcerpt), at the end of a line
// that may go on without the line end between (a server breaking an echo
// in two; at a text's end, minTextEdge), at the start of a line's first
// word (RedactLineStart), at the start of a line after a cut one (Edges).
// A part of one byte is let through: one byte is any byte. So is the
// first piece of an echo broken after its first byte ("* NO h", then
// "unter2..."; the pieces after it are redacted): taken from 1 byte at a
// line's end, over the 1,410 server lines of the codec's, session's and
// commands' transcripts as streams, with five passwords each with its
// PLAIN response, 0 to 2.3% of the lines (0, 2, 12, 31 and 33 of them)
// would have their last byte redacted though they hold no credential
// ("* 0 RECENT" read "* 0 RECEN***" for "Tr0ub4dor&3"), against none at
// 2 (measured in stop 61, for one byte of a credential shown). At 2 a hostile
// server can show a credential's first byte and its last, no more; at 4
// (before stop 59) it showed its first 3 and last 3 bytes, 6 of an 8-byte
// password. What 2 costs: over the 47,911 excerpts of the codec's and
// session's transcripts, 0.30 to 0.36% of them are redacted in part though
// they hold no credential (a 12-byte random password, a word and digits, 8
// lower-case letters, each with its PLAIN response), against none at 4 and
// 4.4 to 5.9% at 1; of their lines, 0.06 to 0.1% have an end redacted. A
// part that holds the line end itself (a credential with a line break,
// echoed as sent) is taken whatever its length: no other line ends with
// it. So is a line that lies inside a form's start with the lines before
// joined (an echo broken into three pieces or more, Edges): over the
// 1,425 server lines of the codec's, session's and commands'
// transcripts, as streams, with five passwords and their PLAIN responses,
// that redacts none. A line taken alone for a piece of a credential
// whatever its length (no line before leading into it) was measured and
// left: it redacted "hi" for "sunshine2024" (1 of the 7,125), would
// redact a bare "+" continuation for a PLAIN response whose base64 holds
// a '+', and costs each form's length a line, not the line's.
const minEdge = 2

// Carry is what a stream of lines carries from one line to the next for
// Set.Edges: the line before's end that starts a form (at most the
// longest form less one byte, most often none) and its line end, as the
// server sent them, and when all of that line lies inside a form's start,
// the lines before's part of it (bounded: carryBack) and that start
// whole (a view of the form); or, after a line cut short, that its end
// was not seen. The zero Carry is a stream's start. It holds the server's bytes
// (maybe part of an echoed credential): Zero zeroes them.
type Carry struct {
	// b is the line's last bytes, then its line end; when all of the
	// line and its end are inside a form's start, the lines before's
	// part of that start before them (carryBack).
	b    []byte
	end  int // how many of b's last bytes are the line end
	last int // how many bytes before the line end are the line's own
	// joined, when all of the line lies inside a form's start with the
	// lines before joined without their line ends (a server that broke
	// its echo into three pieces or more), is that start's end (its
	// last carryBack bytes before the line's and the line's): a view of
	// the Set's own form, which those bytes of the stream are, not a
	// copy of the server's (Zero lets it go; the Set zeroes it with the
	// credential). Without it, the line's own part of b is the lines
	// joined's end.
	joined []byte
	// fullJoined and fullSep: where the stream's end, its lines joined
	// without their line ends (fullJoined) or with them (fullSep), is a
	// start of a form that holds all of the last line, that start whole:
	// a view of the Set's form, as joined, however long (carryBack
	// bounds the bytes searched again, not these): the next line is
	// compared with the form's next bytes (edgesForm's follow), at a cost
	// of its length, so that a credential carried over more lines than
	// carryBack bytes hold has its every piece redacted. Before, the
	// start was lost past those bytes, and the pieces after it shown.
	fullJoined, fullSep []byte
	// unseen: the line before was cut short (Edges' end nil), its end
	// not seen: the next line's start is taken for a credential's rest
	// where it may be one (startHead).
	unseen bool
}

// Zero zeroes and lets go what c holds: the stream's start again.
func (c *Carry) Zero() {
	clear(c.b[:cap(c.b)])
	c.b, c.joined, c.end, c.last, c.unseen = nil, nil, 0, 0, false
	c.fullJoined, c.fullSep = nil, nil
}

// View returns what c holds, a view of its own array: for tests that
// check it is zeroed. The caller must not change it.
func (c *Carry) View() []byte { return c.b }

// Clear zeroes what c holds, as Zero does, and keeps its array for the
// lines after: the stream's start again, for a line whose start is known
// not to follow the line before (CarryCut, before Edges of a cut line's
// kept end; Edges after a cut line, before it sets the mark).
func (c *Carry) Clear() {
	clear(c.b[:cap(c.b)])
	c.b, c.joined, c.end, c.last, c.unseen = c.b[:0], nil, 0, 0, false
	c.fullJoined, c.fullSep = nil, nil
}

// CarryCut sets c, after a line cut short (Edges with end nil), from
// last, that line's end as the caller kept it, and end, its line end:
// Edges of them as a line of their own, so that a credential whose
// first part is there is found at the next line's start; the mark that
// the line was cut, set by its Edges, stays (the next line's start is
// checked for a credential's rest that began before last, too). After a
// line that was not cut but whose end the caller showed otherwise (the
// proxy's line printed as SASL data: Edges with its line end), there is
// no mark to keep: only the carry is replaced.
func (x *Set) CarryCut(c *Carry, last, end []byte) {
	unseen := c.unseen
	c.Clear()
	x.Edges(c, last, end)
	c.unseen = c.unseen || unseen
}

// CarryPart is CarryCut where last may be only the end of what the line
// ended with (the caller keeps a line's last bytes, and the line was
// longer): the next line's start is also taken for a credential's rest
// that began before last, as after a cut line, whether or not the line
// was cut. The session's tracer calls it after a line that ends in a
// literal's body the trace shows as "<N bytes>", of which it keeps the
// last 32 bytes as received: a credential's first part longer than
// that, sent back as such a literal, had its rest shown at the next
// line's start. It calls it too with the text after a line's last such
// body, when over 32 bytes (which may lie wholly inside a credential
// begun in the body), as the proxy's printer does.
func (x *Set) CarryPart(c *Carry, last, end []byte) {
	x.CarryCut(c, last, end)
	if x.Any() {
		c.unseen = true
	}
}

// keep sets c to older, then the last n bytes of b, then the last n of
// end, zeroing what it held, and joined to joined: the window without
// the line end needs b's last bytes, the joined one the last of b and
// end together (a suffix of c.b either way); older is the lines
// before's part of a form's start that holds all of b and end
// (carryBack; not a view of c.b).
func (c *Carry) keep(older, joined, b, end []byte, n int) {
	end = end[max(0, len(end)-n):]
	b = b[max(0, len(b)-n):]
	if need := len(older) + len(b) + len(end); cap(c.b) < need || cap(c.b) > 4*need+64 {
		// Grown to twice, not a line at a time; let go when four times
		// too long (the line that grew it was at least that long).
		grown := min(max(need, 2*cap(c.b)), 2*need+64)
		c.Zero()
		c.b = make([]byte, 0, grown)
	}
	clear(c.b[:cap(c.b)])
	c.b = append(append(append(c.b[:0], older...), b...), end...)
	c.end, c.last, c.joined, c.unseen = len(end), len(b), joined, false
	c.fullJoined, c.fullSep = nil, nil
}

// carryBack bounds how many bytes of the lines before a line of n bytes
// (its line end with them) its carry keeps, where the line and its end
// lie inside a form's start that began before it (a credential with two
// line breaks or more, echoed as sent), or the line alone with the lines
// before joined (an echo broken into three pieces or more): 64, and 16 a
// byte of the line.
// Each line's search looks at the carry again, so that a line of one
// byte after a carry of a whole long credential would cost the
// credential's length; bounded so, a line costs at most 16 times the
// line before's bytes, and 64 more. A form's start longer than that
// across lines that short (a credential over 64 bytes broken into
// lines of a byte or two) is searched again only in its last part; the
// line after it is compared with the form's next bytes too
// (Carry.fullJoined, fullSep), at its own length's cost.
func carryBack(n int) int { return 64 + 16*n }

// Edges reports how many of b's first bytes (head) and of its last bytes
// (tail) are a part of a credential that b holds only in part: one that
// began on the line before (c) and goes on in b, or one b ends with the
// start of (a form whose start, b's end and end, b's line end as the
// server sent it, are; or, without the line end between, whose first
// minEdge bytes or more b ends with), as a line with no whole form in it
// shows it. end is nil for a line cut short (its end is RedactCut's).
// Edges then sets c to b's end (emptied after a cut line, whose end was
// not seen: a caller that kept the cut line's last bytes and its line end
// calls CarryCut with them, as the session's tracer and the proxy's
// printer do). The line after a cut one, which may open with the rest of a
// credential that began past the cut, has its start taken for that rest
// where it is an end of a form, minEdge bytes or more (as
// RedactLineStart's, at a cost of at most its length a form).
//
// A line that lies wholly inside a form's start with its line end (a
// credential with two line breaks or more, echoed as sent) is carried
// with the lines before's part of that start, so that the part after
// the last break is found on the line after, however many lines the
// credential is over; and so is a line that lies wholly inside a form's
// start with the lines before joined without their line ends (a server
// that broke its echo into three pieces or more: each piece after the
// first is redacted whatever its length, the last as a crossing, the
// first from minEdge bytes). At most carryBack(len(b)+len(end)) bytes of
// the lines before are carried so, to be searched again; a longer start
// (a long credential broken into lines of a byte or two) is followed
// whole, the next line compared with the form's next bytes (a view of
// the form, at b's length's cost). The cost is linear in
// the stream: each form is looked for in a window of at most its length
// less one byte on either side of each edge (occurrences,
// partialSuffix), never in more than the carry and b hold, and the
// carry is at most 64 bytes more than 17 times the line before's
// length.
func (x *Set) Edges(c *Carry, b, end []byte) (head, tail int) {
	if !x.Any() {
		c.Zero()
		return 0, 0
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	defer x.letGoWin()
	n := x.longest - 1
	cut := end == nil
	if c.unseen {
		head = x.startHeadLocked(b, false)
	}
	h, t, keep, back, nback, jform, sform := x.edgesLocked(c, b, end, cut, false, minEdge)
	head, tail = max(head, h), t
	switch {
	case n <= 0:
		c.Zero()
	case cut:
		c.Clear() // its array kept for the lines after
		c.unseen = true
	case back > 0 || nback > 0:
		// All of b (and its end) inside a form's start that began on
		// the lines before: those lines' part of it is kept too (a
		// credential with a line break after b's, or an echo the
		// server broke there again).
		// Whole, the starts (of the stream's bytes: views of the forms)
		// that the next line follows (edgesForm's follow).
		var fullJoined, fullSep []byte
		if back > 0 {
			fullSep = sform[:back+len(b)+len(end)]
		}
		var joined []byte
		if nback > 0 {
			// The form's start is those bytes of the stream.
			k := nback + len(b)
			fullJoined = jform[:k]
			joined = jform[k-min(k, len(b)+carryBack(len(b))) : k]
		}
		back = min(back, carryBack(len(b)+len(end)), len(c.b))
		c.keep(x.window(c.b[len(c.b)-back:], nil, nil), joined, b, end, n)
		c.fullJoined, c.fullSep = fullJoined, fullSep
	default:
		// Of b, only its end that starts a form: a form across the
		// next line end starts there.
		c.keep(nil, nil, b[len(b)-min(keep, len(b)):], end, n)
	}
	return min(head, len(b)), min(tail, len(b))
}

// edgesLocked is Edges' search for every form (under mu; the table is
// let go, the window is the caller's to zero): c is the lines before's
// carry (nil: none), b the line, end its line end (nil when cut),
// minTail edgesForm's; orLF: the line end may be end's last byte alone
// (RedactLineEnd's CR LF or LF), for the tail alone. back and nback are
// how many of the carry's last bytes, with their line ends (c.b) and
// without (the lines joined), a form's start that holds all of b holds
// (edgesForm); jform and sform are the forms whose starts nback and
// back are of (their starts, whole, are what the next line follows).
func (x *Set) edgesLocked(c *Carry, b, end []byte, cut, orLF bool, minTail int) (head, tail, keep, back, nback int, jform, sform []byte) {
	var prev, nosep []byte
	var full carryFull
	if c != nil {
		prev, nosep = c.b, c.joined
		if nosep == nil {
			nosep = c.b[len(c.b)-c.end-c.last : len(c.b)-c.end]
		}
		full = carryFull{c.fullJoined, c.fullSep}
	}
	for _, sec := range x.list {
		for i, s := range sec.forms {
			h, t, k, bk, nk := x.edgesForm(prev, nosep, full, b, end, s, sec.in[i], cut, sec.open, minTail)
			head, tail, keep = max(head, h), max(tail, t), max(keep, k)
			if bk > back {
				back, sform = bk, s
			}
			if nk > nback {
				nback, jform = nk, s
			}
			if orLF && holds(sec.in[i], '\n') {
				// The line end a bare LF: its part only a form
				// with an LF has.
				_, t, _, _, _ = x.edgesForm(prev, nosep, full, b, end[len(end)-1:], s, sec.in[i], cut, sec.open, minTail)
				tail = max(tail, t)
			}
		}
	}
	x.letGoTable()
	return head, tail, keep, back, nback, jform, sform
}

// carryFull is a Carry's fullJoined and fullSep, for edgesForm.
type carryFull struct{ joined, sep []byte }

// follow is edgesForm's search for s after full (a start of s, a view of
// s itself, or nil), the stream's end: a crossing, b's first bytes the
// rest of s (head); or all of b inside s after full: s going on past b
// (in: how many of s's first bytes then, with sep, b's line end, nil
// for the stream joined without line ends), or ending in sep (all,
// with in 0). It costs b's length.
func follow(full, b, sep, s []byte) (head int, all bool, in int) {
	k := len(full)
	if k == 0 || k >= len(s) || &full[0] != &s[0] {
		return 0, false, 0
	}
	rest := s[k:]
	if len(b) >= len(rest) {
		if bytes.Equal(b[:len(rest)], rest) {
			return len(rest), false, 0
		}
		return 0, false, 0
	}
	if !bytes.Equal(b, rest[:len(b)]) {
		return 0, false, 0
	}
	rest = rest[len(b):]
	if len(sep) >= len(rest) {
		// s ends in the line end, or goes another way there.
		return 0, bytes.HasPrefix(sep, rest), 0
	}
	if !bytes.Equal(sep, rest[:len(sep)]) {
		return 0, false, 0
	}
	return 0, true, k + len(b) + len(sep)
}

// letGoWin zeroes Edges' window, and lets it go when long (under mu).
func (x *Set) letGoWin() {
	clear(x.win[:cap(x.win)])
	if cap(x.win) > keepWin {
		x.win = nil
	}
}

// keepWin is the most bytes of window Edges keeps from one line to the
// next (zeroed): a longer one, made for a long credential, is let go.
const keepWin = 4 << 10

// edgesForm is Edges for one form s (under mu), which holds the bytes in
// in: prev is the carry, the lines before's end with their line ends,
// nosep the same lines joined without them (Carry.joined, or the line
// before's own part of prev). keep is how many of b's last bytes start
// s, with b's line end or without it: where an occurrence across that
// line end would start; back and nback, how many of prev's and nosep's
// last bytes a start of s holds with all of b (and end, for back): b
// lies inside it.
// Across a line end, only a form that holds the line end's byte it would
// cross (the LF that ends the line before, the first of b's) is looked
// for. cut: b was cut short (no tail, no keep); open: s is an open
// credential's (AddOpen), whose part at b's start covers all of b;
// minTail: the fewest bytes of a start of s that b ends with, without
// the line end, that count for tail (minEdge; minTextEdge for
// RedactLineEnd).
func (x *Set) edgesForm(prev, nosep []byte, full carryFull, b, end, s []byte, in [4]uint64, cut, open bool, minTail int) (head, tail, keep, back, nback int) {
	m := len(s)
	if m < 2 {
		return 0, 0, 0, 0, 0
	}
	// The stream's end a start of s longer than the carry holds: b
	// compared with s's next bytes.
	for i, f := range [2][]byte{full.joined, full.sep} {
		sep := end
		if i == 0 {
			sep = nil
		}
		h, all, k := follow(f, b, sep, s)
		if len(f) > 0 && &f[0] == &s[0] {
			x.work += min(len(b), m) // follow's comparison
		}
		if h > 0 {
			head = max(head, h)
			if open {
				head = len(b)
			}
		}
		if all && !cut {
			tail = max(tail, len(b))
		}
		if k > 0 && !cut {
			keep = max(keep, len(b))
			if i == 0 {
				nback = max(nback, k-len(b))
			} else {
				back = max(back, k-len(b)-len(end))
			}
		}
	}
	// An occurrence across the line before's end: its start in the
	// window's carry part, its end in b's first m-1 bytes.
	crossing := func(carry []byte) {
		if len(carry) == 0 {
			return
		}
		carry = carry[max(0, len(carry)-(m-1)):]
		w := x.window(carry, b[:min(len(b), m-1)], nil)
		x.occurrences(w, s, func(i, e int) bool {
			if i >= len(carry) {
				return false
			}
			if e > len(carry) {
				head = max(head, e-len(carry))
				if open {
					head = len(b)
				}
			}
			return true
		})
	}
	if len(prev) > 0 && holds(in, prev[len(prev)-1]) {
		crossing(prev)
	}
	if m >= minEdge {
		crossing(nosep)
	}
	if cut {
		return head, tail, 0, 0, 0
	}
	// An occurrence across b's own end, into its line end, and the
	// start of one at the end of b and its line end: the window holds
	// b's last m-1 bytes (the line before's too, when b is shorter:
	// a credential with two line breaks, b wholly inside its start).
	bt := b[max(0, len(b)-(m-1)):]
	pt := prev[max(0, len(prev)-(m-1-len(bt))):]
	partial := len(end) < m-1 // else no start of s holds all of end and a byte of b
	end = end[:min(len(end), m-1)]
	if len(end) > 0 && holds(in, end[0]) {
		w := x.window(pt, bt, end)
		from := len(pt)
		x.occurrences(w, s, func(i, e int) bool {
			if e > from+len(bt) && i < from+len(bt) {
				tail = max(tail, from+len(bt)-max(i, from))
			}
			return true
		})
		if k := x.partialSuffixLocked(w, s) - len(end); partial && k > 0 {
			tail = max(tail, min(k, len(bt)))
			keep = max(keep, min(k, len(bt)))
			if k > len(b) {
				// It began on the lines before (b, shorter than
				// s, is bt): their part of it is carried too.
				back = k - len(b)
			}
		}
	}
	pt = nosep[max(0, len(nosep)-(m-1-len(bt))):]
	w := bt
	if len(pt) > 0 {
		w = x.window(pt, bt, nil)
	}
	if k := x.partialSuffixLocked(w, s); k > 0 {
		keep = max(keep, min(k, len(bt)))
		if k >= minTail {
			tail = max(tail, min(k, len(bt)))
		}
		if k > len(b) {
			nback = k - len(b) // as back, the lines joined
		}
	}
	return head, tail, keep, back, nback
}

// window returns a, b and c joined in x.win (under mu; zeroed by Edges).
func (x *Set) window(a, b, c []byte) []byte {
	n := len(a) + len(b) + len(c)
	if cap(x.win) < n {
		clear(x.win[:cap(x.win)])
		x.win = make([]byte, 0, n)
	}
	return append(append(append(x.win[:0], a...), b...), c...)
}

// RedactEdges is Redact (RedactCut when cut) of b with also its first
// head bytes and its last tail bytes (Edges) covered, as one cover: a
// whole form that overlaps them is replaced with them by one "***". It
// returns b itself when there is nothing to cut or replace.
func (x *Set) RedactEdges(b []byte, head, tail int, cut bool) []byte {
	head, tail = min(max(head, 0), len(b)), min(max(tail, 0), len(b))
	if head == 0 && tail == 0 {
		if cut {
			return x.RedactCut(b)
		}
		return x.Redact(b)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.redactEdgesLocked(b, head, tail, cut, nil)
}

// redactEdgesLocked is RedactEdges (under mu), with also the parts of a
// credential at the sides of gaps covered (markGapsLocked).
func (x *Set) redactEdgesLocked(b []byte, head, tail int, cut bool, gaps []Gap) []byte {
	n := len(b)
	if cut {
		n = x.cutStartLocked(b)
	}
	if !x.coverLocked(b, cut) {
		x.clearCover(len(b), cut)
	}
	defer x.letGoCover()
	setBits(x.covered, 0, head)
	setBits(x.covered, len(b)-tail, len(b))
	if len(gaps) > 0 {
		x.markGapsLocked(b, gaps)
		x.letGoTable()
		x.letGoWin()
	}
	return x.replaceCovered(b[:x.pullBackLocked(n, len(b))])
}

// Gap is a place in a line where the caller shows text of its own,
// b[From:To], in place of bytes of the server's that it relays unshown
// (the proxy prints a literal's body as "{N bytes}"): a server may echo
// a credential across it, its first part before the gap and its rest in
// the bytes unshown, or its first part there and its rest after the gap.
type Gap struct{ From, To int }

// RedactEdgesGaps is RedactEdges with also the parts of a credential at
// each gap's two sides covered, as at the end of a line cut short and the
// start of the line after it: before the gap (b[:From], from the gap
// before's To), an end that is a start of a form, with or without the
// spaces that end it (the separator before a literal's header, up to
// maxGapSep, itself left shown); after the gap (to the next gap), a start
// that is an end of a form; each minEdge bytes or more. gaps are in order
// and do not overlap; the caller's own text in them is left as it is. Text
// with a gap on one side or both (between two gaps, or between a gap and
// the line's start or end) that lies wholly inside a form, minMiddle bytes
// or more, is covered too (a credential echoed with literals inside it:
// its middle pieces; less the spaces before a header, as at a side). The
// cost is each side's length a form (partialSuffix, endPiece), as Edges',
// and for the pieces inside a form the form's length each, within a budget
// of 4 bytes looked at a byte of the line, twice the form's length and 256
// (past it a piece of the form's bytes is covered unsearched: a hostile
// line has more redacted, not less). It allocates only the line it returns
// when that differs from b (and the cover and table it keeps, when a
// longer line than before grows them): the sides are marked in the cover
// as they are found, not gathered first (a hostile line of 64 KiB of gaps
// made 0.3 to 2.3 MB of garbage a line until stop 62).
func (x *Set) RedactEdgesGaps(b []byte, head, tail int, cut bool, gaps []Gap) []byte {
	if len(gaps) == 0 || !x.Any() {
		return x.RedactEdges(b, head, tail, cut)
	}
	head, tail = min(max(head, 0), len(b)), min(max(tail, 0), len(b))
	x.mu.Lock()
	defer x.mu.Unlock()
	// With nothing at a gap's side, head or tail, this is Redact
	// (RedactCut when cut): nothing is covered but the whole forms, and
	// b itself is returned when there are none.
	return x.redactEdgesLocked(b, head, tail, cut, gaps)
}

// markGapsLocked marks in the cover (set for b) the parts of a credential
// at the sides of gaps, RedactEdgesGaps' (under mu; the table is the
// caller's to let go).
func (x *Set) markGapsLocked(b []byte, gaps []Gap) {
	for _, sec := range x.list {
		for fi, s := range sec.forms {
			x.markGapsForm(b, gaps, s, sec.in[fi], sec.grams[fi])
		}
	}
}

// markGapsForm is markGapsLocked for one form s, which holds the bytes
// in in: at each gap, the sides (gapTail, endPiece), each piece of text
// with a gap on one side or both that lies wholly inside s (middle), and
// the pieces too short for that between two parts of s that they join
// (run, markAligned).
func (x *Set) markGapsForm(b []byte, gaps []Gap, s []byte, in [4]uint64, grams *gramSet) {
	if len(s) < 2 {
		return
	}
	m := middle{budget: 4*len(b) + 2*len(s) + 256, grams: grams}
	if testMiddleBudget >= 0 {
		m.budget = testMiddleBudget
	}
	var r run
	lo, start := 0, 0 // start: the end of s the segment opens with
	for i, g := range gaps {
		from := min(max(g.From, lo), len(b))
		to := min(max(g.To, from), len(b))
		hi := len(b)
		if i+1 < len(gaps) {
			hi = min(max(gaps[i+1].From, to), len(b))
		}
		seg := b[lo:from]
		f, t := x.gapTail(seg, s)
		if t > f {
			setBits(x.covered, lo+f, lo+t)
		}
		ml := x.markMiddle(&m, seg, lo, s, in, true)
		r.segment(x, &m, b, gaps, s, in, i, lo, max(start, ml), ml, f, t, to == from)
		start = 0
		if after := b[to:hi]; len(after) >= minEdge {
			if k := x.endPiece(after, s); k >= minEdge {
				setBits(x.covered, to, to+k)
				start = k
			}
		}
		lo = to
	}
	ml := x.markMiddle(&m, b[lo:], lo, s, in, false)
	r.segment(x, &m, b, gaps, s, in, len(gaps), lo, max(start, ml), 0, 0, 0, false)
}

// run is markGapsForm's run of segments (the text between two gaps; the
// first from the line's start, the last to its end) too short to be
// found alone, after an anchor, a segment that ends with a part of s: a
// piece shorter than minMiddle, or a traced body (a segment from a gap
// to one of no width, tracedBodyEnd's), which nothing of s was found in
// (a junk body, or a short one of the credential's). Where the segment
// after the run opens with a part of s (an end of it, or all of it
// inside s), the anchor's part, the run's pieces and that part joined
// are looked for in s (markAligned): 5 bytes or more of the credential
// in a row (the anchor's part and the next's 2 or more each), each
// piece where the credential has it, the bodies' unshown bytes taken for
// junk. A server that echoed a credential with literals inside it had
// its pieces of 1 and 2 bytes between them shown until stop 63
// ("hunter2-co{3 bytes}rr{2 bytes}ect-horse"); taken alone, a piece that
// short lies inside a credential 9 to 23% of the time (1 byte) on the
// transcripts, and so is not redacted for its length. Failing both, a
// traced body that is junk then a piece of s, or a piece then junk, has
// its longest end (or start) that joins them redacted (markBodyPart).
type run struct {
	ok     bool // an anchor before the run
	lf, lt int  // the anchor's part of s, b[lf:lt]
	first  int  // the run's first segment
	lo     int  // where that segment begins in b
}

// segment is the run's step at segment i (b[lo:] up to gap i, or to
// the line's end when i is len(gaps)): open is how many of its first
// bytes are a part of s (an end of it, or all of the segment inside
// it: ml), f and t its part at its end (gapTail), zero the gap after it
// of no width.
func (r *run) segment(x *Set, m *middle, b []byte, gaps []Gap, s []byte, in [4]uint64, i, lo, open, ml, f, t int, zero bool) {
	if r.ok && open > 0 && i > r.first {
		x.markAligned(m, b, gaps, s, in, r, i, lo, open)
	}
	if i == len(gaps) {
		return
	}
	end := min(max(gaps[i].From, lo), len(b))
	next := min(max(gaps[i].To, end), len(b))
	switch {
	case ml > 0:
		*r = run{ok: true, lf: lo, lt: lo + ml, first: i + 1, lo: next}
	case t > f:
		*r = run{ok: true, lf: lo + f, lt: lo + t, first: i + 1, lo: next}
	case open > 0:
		r.ok = false
	case zero && i > 0 && gaps[i-1].To > gaps[i-1].From:
		// A traced body, nothing of s found in it: in the run.
	case end-lo-sepLen(b[lo:end]) >= minMiddle:
		r.ok = false
	}
}

// runPiece is the piece of the run's segment j (at b[lo:], up to gap j):
// its end (its text less the separator's spaces before a header; a
// traced body whole), whether it is a traced body, and where the next
// segment begins. It counts a byte of work: a run is walked once for
// markAligned, and once a body for markBodyPart, within the budget.
func (x *Set) runPiece(b []byte, gaps []Gap, j, lo int) (end int, body bool, next int) {
	x.work++
	from := min(max(gaps[j].From, lo), len(b))
	next = min(max(gaps[j].To, from), len(b))
	body = next == from && j > 0 && gaps[j-1].To > gaps[j-1].From
	end = from
	if !body {
		end -= sepLen(b[lo:from])
	}
	return end, body, next
}

// markAligned marks the run r's pieces (its segments up to segment i,
// which begins at lo and opens with open bytes of s) where the anchor's
// part, the pieces and the next segment's part joined lie in s: with
// the traced bodies, or failing that without them (their bytes junk),
// each looked for in s at its length's cost within m's budget; past it,
// taken for the credential's unsearched when every byte is one of s's
// (middle). The joined bytes are put in the window (x.win, zeroed by the
// caller), at most s's length.
func (x *Set) markAligned(m *middle, b []byte, gaps []Gap, s []byte, in [4]uint64, r *run, i, lo, open int) {
	if cap(x.win) < len(s) {
		clear(x.win[:cap(x.win)])
		x.win = make([]byte, 0, len(s))
	}
	for _, bodies := range [2]bool{true, false} {
		w := append(x.win[:0], b[r.lf:r.lt]...)
		fits, pieces, anyBody := true, 0, false
		for j, p := r.first, r.lo; j < i && fits; j++ {
			end, body, next := x.runPiece(b, gaps, j, p)
			anyBody = anyBody || body
			if bodies || !body {
				fits = len(w)+end-p+open <= len(s)
				if fits {
					w = append(w, b[p:end]...)
					pieces += end - p
				}
			}
			p = next
		}
		if !bodies && !anyBody {
			return // tried with them: the same bytes
		}
		x.work += len(w)
		if !fits || pieces == 0 {
			continue
		}
		w = append(w, b[lo:lo+open]...)
		if !x.joinedInside(m, w, s, in) {
			continue
		}
		for j, p := r.first, r.lo; j < i; j++ {
			end, body, next := x.runPiece(b, gaps, j, p)
			if bodies || !body {
				setBits(x.covered, p, end)
			}
			p = next
		}
		return
	}
	// A body part junk, part the credential's: its end after junk, or
	// its start before junk, the other bodies junk.
	for j, p := r.first, r.lo; j < i; j++ {
		end, body, next := x.runPiece(b, gaps, j, p)
		if body && end > p && (x.markBodyPart(m, b, gaps, s, r, i, lo, open, j, false) || x.markBodyPart(m, b, gaps, s, r, i, lo, open, j, true)) {
			return
		}
		p = next
	}
}

// markBodyPart marks, for the run r closed at segment i (markAligned's),
// the longest end (or, with start, start) of its traced body j that
// joins the anchor's part and the pieces before it (P1) to the pieces
// after it and the next segment's part (P2) in s, the rest of the body
// and the run's other bodies taken for junk; and the pieces with it.
// Within m's budget only (past it, not looked for). P1 and P2 are put in
// the window, at most s's length.
func (x *Set) markBodyPart(m *middle, b []byte, gaps []Gap, s []byte, r *run, i, lo, open, jb int, start bool) bool {
	if m.spent > m.budget {
		return false
	}
	// The run walked (a segment each) and P1 and P2 put together are
	// charged to the budget too: a run of thousands of bodies walked
	// once a body took a hostile line of 64 KiB 33 s until stop 63.
	k0 := x.work
	w := append(x.win[:0], b[r.lf:r.lt]...)
	split, from, to := 0, 0, 0 // P1 is w[:split]; the body b[from:to]
	fits := true
	for j, p := r.first, r.lo; j < i && fits; j++ {
		end, body, next := x.runPiece(b, gaps, j, p)
		if j == jb {
			split, from, to = len(w), p, end
		} else if !body {
			if fits = len(w)+end-p+open < len(s); fits {
				w = append(w, b[p:end]...)
			}
		}
		p = next
	}
	x.work += len(w)
	if !fits || len(w)+open >= len(s) {
		m.spent += x.work - k0
		return false
	}
	w = append(w, b[lo:lo+open]...)
	x.win = w
	p1, p2, body := w[:split], w[split:], b[from:to]
	best := 0
	if !start {
		// Each place of P2 in s: the body's end that s has before it,
		// longest first, with P1 before that.
		for f := 0; f+len(p2) <= len(s) && x.work-k0+m.spent <= m.budget; f++ {
			at := bytes.Index(s[f:], p2)
			if at < 0 {
				x.work += len(s) - f // looked at all of it
				break
			}
			x.work += at + len(p2)
			f += at
			k := 0
			for k < len(body) && k < f-len(p1) && body[len(body)-1-k] == s[f-1-k] {
				k++
			}
			x.work += k
			for q := k; q > best && x.work-k0+m.spent <= m.budget; q-- {
				x.work += len(p1)
				if bytes.Equal(s[f-q-len(p1):f-q], p1) {
					best = q
					break
				}
			}
		}
	} else {
		// Each place of P1 in s: the body's start that s has after it,
		// longest first, with P2 after that.
		for e := 0; e+len(p1) <= len(s) && x.work-k0+m.spent <= m.budget; e++ {
			at := bytes.Index(s[e:], p1)
			if at < 0 {
				x.work += len(s) - e // looked at all of it
				break
			}
			x.work += at + len(p1)
			e += at
			c := e + len(p1)
			k := 0
			for k < len(body) && c+k < len(s)-len(p2) && body[k] == s[c+k] {
				k++
			}
			x.work += k
			for q := k; q > best && x.work-k0+m.spent <= m.budget; q-- {
				x.work += len(p2)
				if bytes.Equal(s[c+q:c+q+len(p2)], p2) {
					best = q
					break
				}
			}
		}
	}
	m.spent += x.work - k0
	if best == 0 {
		return false
	}
	for j, p := r.first, r.lo; j < i; j++ {
		end, isBody, next := x.runPiece(b, gaps, j, p)
		switch {
		case j == jb && start:
			setBits(x.covered, p, p+best)
		case j == jb:
			setBits(x.covered, end-best, end)
		case !isBody:
			setBits(x.covered, p, end)
		}
		p = next
	}
	return true
}

// joinedInside reports whether w lies in s (under mu), within m's
// budget; past it, unsearched, when each of its bytes is one of s's.
func (x *Set) joinedInside(m *middle, w, s []byte, in [4]uint64) bool {
	x.work += len(w)
	if !m.grams.mayHold(w) {
		return false
	}
	if m.spent > m.budget {
		for _, c := range w {
			if !holds(in, c) {
				return false
			}
		}
		return true
	}
	return x.searchForm(m, w, s)
}

// searchForm reports whether p lies in s, looked for (occurrences) at
// its cost, charged to m's budget: joinedInside's and insideForm's
// search within the budget.
func (x *Set) searchForm(m *middle, p, s []byte) bool {
	k := x.work
	found := false
	x.occurrences(s, p, func(int, int) bool {
		found = true
		return false
	})
	m.spent += x.work - k
	return found
}

// minMiddle is the fewest bytes of text beside a gap that lies wholly
// inside a credential, neither a start nor an end of it, that are taken
// for a piece of it (RedactEdgesGaps' middle): a server that echoes a
// credential with literals inside it ("hunter2-co {3}", "XXXrrect-h {2}",
// "YYorse") had its middle piece shown until stop 62, its first and last
// redacted. Measured as minEdge was (stop 62): over the 1,414 server
// lines of the codec's, session's and commands' transcripts, with five
// passwords each with its PLAIN response, no line holds two literals;
// taken as the text between two literals, of their runs of one to three
// words (with the space before them or not, 25,000 to 28,000 of them
// a password), those of 2 bytes lie inside a credential for one password
// in five ("hi" and "in" for "sunshine2024", 24 of 2,910: a greeting's
// "hi"), of 3 bytes or more for none; of every 2 bytes of those lines,
// 0.5 to 2.3% lie inside one, of every 3, 0 to 0.17%, of every 5 or more,
// none. At 3 a hostile server can show 2 bytes of a credential a piece
// (it can show it anyway, a byte at a time, between gaps or lines); the
// trace shows "hi" between two literals as it is. A shorter piece is
// redacted where it joins two parts of the credential found beside it
// (run: since stop 63).
const minMiddle = 3

// middle is markGapsForm's budget for the middle pieces' searches of a
// form: each costs the form's length (occurrences of the piece in it),
// and a hostile line of many gaps would have them cost the line's length
// times the form's. Past budget bytes looked at, a piece whose bytes
// are all bytes of the form is taken for a piece of it unsearched: a
// line that hostile has more redacted, never less.
// grams (a long form's, or nil) tells a piece that lies nowhere in the
// form at the piece's cost, searched or past the budget.
type middle struct {
	budget, spent int
	grams         *gramSet
}

// testMiddleBudget, set by tests (0 or more), replaces middle's budget.
var testMiddleBudget = -1

// markMiddle marks seg (at b[lo:]) in the cover where it lies wholly
// inside s, minMiddle bytes or more and shorter than s, less the spaces
// it ends with when sep (the separator before a literal's header, as
// gapTail's; its own spaces too when s holds a space and seg lies inside
// it with them).
func (x *Set) markMiddle(m *middle, seg []byte, lo int, s []byte, in [4]uint64, sep bool) int {
	r := 0
	if sep {
		r = sepLen(seg)
	}
	w := seg[:len(seg)-r]
	if !x.insideForm(m, w, s, in) {
		return 0
	}
	if r > 0 && holds(in, ' ') && x.insideForm(m, seg, s, in) {
		w = seg
	}
	setBits(x.covered, lo, lo+len(w))
	return len(w)
}

// insideForm reports whether p lies wholly inside s, minMiddle bytes or
// more and shorter than s (under mu): every byte of p one of s's (in),
// then p looked for in s, at the cost of s's length, within m's budget; past
// it, unsearched (middle).
func (x *Set) insideForm(m *middle, p, s []byte, in [4]uint64) bool {
	if len(p) < minMiddle || len(p) >= len(s) {
		return false
	}
	x.work += 2 * len(p)
	for _, c := range p {
		if !holds(in, c) {
			return false
		}
	}
	if !m.grams.mayHold(p) {
		return false
	}
	if m.spent > m.budget {
		return true
	}
	return x.searchForm(m, p, s)
}

// gapTail returns seg[from:to], the longest start of s that seg ends
// with less the spaces it ends with (the separator before a literal's
// header, at most maxGapSep of them: sepLen), with as many of those
// spaces as s goes on with after it (the credential's own spaces that
// end its part, before the separator's); minEdge bytes or more (under
// mu); from == to for none. It costs one search (partialSuffix), as for
// one space. A shorter start at the same place that s would go on from
// with more of the spaces is not looked for (a credential whose start
// repeats in it, and spaces in it there): at most those spaces of it
// show, never its other bytes.
func (x *Set) gapTail(seg, s []byte) (from, to int) {
	r := sepLen(seg)
	w := seg[:len(seg)-r]
	if k := x.partialSuffixLocked(w, s); k > 0 {
		t := 0
		for t < r && k+t < len(s)-1 && s[k+t] == ' ' {
			t++
		}
		if k+t >= minEdge {
			from, to = len(w)-k, len(w)+t
		}
	}
	return from, to
}

// maxGapSep is the most spaces before a gap taken for the separator
// before a literal's header (RedactEdgesGaps): IMAP puts one SP there; a
// server that pads its lines may put a few. A longer run is not trimmed
// past its last maxGapSep: a start of a credential before more spaces
// than that is not looked for but in a form that holds spaces (a server
// that wants to show a credential can, whatever the rule; this one is
// for an echo a literal happens to cut). Until stop 62 the separator was
// one space, and a first part before two ("hunter2-co  {21}") showed.
const maxGapSep = 8

// sepLen is how many spaces seg ends with, at most maxGapSep.
func sepLen(seg []byte) int {
	r := 0
	for r < min(len(seg), maxGapSep) && seg[len(seg)-1-r] == ' ' {
		r++
	}
	return r
}

// minTextEdge is minEdge for the end of a text RedactLineEnd redacts
// where no line end is in the part: a status's text is what its caller
// reads (a command's Result), and at minEdge (2) a password beginning
// with "ed" had every "NOOP completed" read "NOOP complet***". At 4 (as
// stop 59 first had it), a server that breaks its echo of a password in
// two at a text's end can show its first 3 bytes there (the trace, whose
// lines are nobody's data, redacts from minEdge).
const minTextEdge = 4

// RedactLineEnd is Redact for b, a text that runs to its line's end (a
// status response's text), its end redacted too where it is the start of
// a credential that goes on past the line end (Edges' tail, the line end
// CR LF or LF): a password with a line break in it, echoed as sent, ends
// the text with its part before the break; or, without the line end
// between (a server that breaks its echo in two), a start of
// minTextEdge bytes or more.
func (x *Set) RedactLineEnd(b []byte) []byte {
	if !x.Any() {
		return b
	}
	x.mu.Lock()
	_, tail, _, _, _, _, _ := x.edgesLocked(nil, b, crlf, false, true, minTextEdge)
	x.letGoWin()
	x.mu.Unlock()
	return x.RedactEdges(b, 0, tail, false)
}

// crlf is the line end RedactLineEnd supposes, or its LF alone.
var crlf = []byte("\r\n")

// RedactLineStart is Redact for b, the first word of a line (a tag), its
// start redacted too where it is the end of a credential (minEdge bytes
// or more) or all of b lies inside one: the line after the break of a
// password echoed across it opens with the password's rest. It costs
// the length of b and of each form (inside's search, endPiece): it is
// for errors, not for every line.
func (x *Set) RedactLineStart(b []byte) []byte {
	if !x.Any() || len(b) < minEdge {
		return x.Redact(b)
	}
	x.mu.Lock()
	head := x.startHeadLocked(b, true)
	x.letGoTable()
	x.mu.Unlock()
	return x.RedactEdges(b, head, 0, false)
}

// startHeadLocked is how many of b's first bytes are the end of a form
// (minEdge bytes or more), or, with inside, all of b where it lies inside
// one (under mu; none when b is shorter than minEdge): RedactLineStart's
// head, and Edges' after a cut line. The end's search costs at most b's
// length a form; inside's costs each form's length, whatever b's (for
// errors, not for lines: Edges finds a line inside a form from the lines
// before it, carried).
func (x *Set) startHeadLocked(b []byte, inside bool) int {
	head := 0
	if len(b) < minEdge {
		return 0
	}
	for s := range x.forms {
		if inside && len(b) < len(s) {
			x.occurrences(s, b, func(int, int) bool {
				head = len(b)
				return false
			})
		}
		if k := x.endPiece(b, s); k >= minEdge {
			head = max(head, k)
		}
	}
	return head
}

// endPiece returns the length of the longest start of b that is an end
// of s but not all of it (under mu): its candidates compared one by one
// within a budget linear in b's part, then the automaton of partialSuffix
// run on the two read backwards (endPieceKMP).
func (x *Set) endPiece(b, s []byte) int {
	if len(s) < 2 {
		return 0
	}
	n := min(len(b), len(s)-1)
	// The places of s's last n bytes where b's first byte is, each the
	// start of a candidate, longest first, compared one by one within a
	// budget of 16 byte-comparisons a byte of b's part; past it (a
	// hostile line of near matches), the two reversed, as partialSuffix.
	budget := partialSuffixQuick + 16*n
	tail := s[len(s)-n:]
	for j := 0; j < len(tail); j++ {
		i := bytes.IndexByte(tail[j:], b[0])
		if i < 0 {
			x.work += len(tail) - j
			return 0
		}
		j += i
		k := len(tail) - j
		if budget -= k + i; budget < 0 {
			break
		}
		x.work += k + i
		if bytes.Equal(b[:k], tail[j:]) {
			return k
		}
	}
	if budget >= 0 {
		return 0
	}
	return x.endPieceKMP(b[:n], s)
}

// endPieceKMP is endPiece's automaton: partialSuffix of b and s, each
// read from its end (b's first bytes backwards, s's last len(b)+1), in
// time linear in len(b), with x's table and no copy of either (the two
// reversed were copied, a line's part and a credential's, and zeroed:
// two arrays a gap and a form on a hostile line, 2 MB a line of 64 KiB).
func (x *Set) endPieceKMP(b, s []byte) int {
	n, last := len(b), len(s)-1
	// The pattern is s's last n+1 bytes reversed (r[i] = s[last-i]),
	// the text b's n bytes reversed (b[n-1-i]).
	if cap(x.fail) < n+1 {
		clear(x.fail[:cap(x.fail)])
		x.fail = make([]int32, n+1)
	}
	fail := x.fail[:n+1]
	fail[0] = 0
	for i, k := 1, int32(0); i <= n; i++ {
		c := s[last-i]
		for k > 0 && c != s[last-int(k)] {
			k = fail[k-1]
		}
		if c == s[last-int(k)] {
			k++
		}
		fail[i] = k
	}
	q := int32(0)
	for i := n - 1; i >= 0; i-- { // q <= n-1-i < n+1: never all of r
		c := b[i]
		for q > 0 && c != s[last-int(q)] {
			q = fail[q-1]
		}
		if c == s[last-int(q)] {
			q++
		}
	}
	x.work += 4*n + 2
	return int(q)
}
