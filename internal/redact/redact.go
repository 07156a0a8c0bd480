// Package redact keeps the credentials a client sent and takes them out of
// what a server sends back, before a line of it is traced, logged or kept
// in an error: the session's trace, its errors and history, and the
// proxy's trace (cmd/imapkit) all redact with a Set.
//
// A Set keeps at most MaxSecrets credentials, the newest (a credential
// sent again becomes the newest), each in every form a server may echo it
// in: as sent (raw, or a literal's body), inside an IMAP quoted string as
// a client quotes it ('"' and '\\' escaped), and as strconv.Quote writes
// it (a server that escapes as Go does); with a printer (New), each of
// these also as the printer shows it, for a line that is redacted after
// it was printed. It owns its copies and zeroes each as it lets it go.
//
// Redact replaces every run of bytes that a whole form of a credential
// covers by one "***", so that credentials that overlap or hold one
// another are replaced whole whatever the order they were sent in.
// RedactCut does so for the start of a longer line (cut at a capture or a
// window): it first cuts the start before its longest end that begins a
// form (a credential that went on past the cut), then back to the start
// of any whole form that cut would split, so that no part of a credential
// shows. A credential kept only in part (AddOpen: a capture cut at its
// bound) is redacted with the rest of the line after it. Edges finds the
// parts of a credential echoed across a line end, from the end of the
// line before (a Carry) and the line's own end; RedactEdges redacts them
// with the rest, RedactEdgesGaps also the parts at the sides of each
// place the line shows text of the caller's in place of bytes relayed
// unshown (a Gap: a literal's body) and the pieces between two such
// places that lie wholly inside a credential, RedactLineEnd and
// RedactLineStart a status's text and a line's first word.
//
// Cost: a line is searched once for each form (at most MaxSecrets times
// six), each search linear in the line's length whatever its bytes, so a
// hostile server cannot make the search quadratic. A form's first 16
// bytes are looked for with bytes.Index (whose cost is linear for a
// needle that short), and each place found is compared whole within a
// budget of twice the line's length; past the budget, a hostile line
// full of near matches (or of a periodic credential's repeats), the
// two-way search of the form (Crochemore and Perrin, no table) takes over
// from there. RedactCut's search for a form's start at the line's end runs
// the form's Knuth-Morris-Pratt automaton past a budget of its own. The
// cover of a line is two bits a byte for a line cut at its end (RedactCut),
// one otherwise, in one array kept for the next line unless it is longer
// than a cut 64 KiB line's (keepCover): a line of up to 128 KiB not cut
// fits it.
package redact

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// MaxSecrets bounds the credentials a Set keeps: the newest.
const MaxSecrets = 16

// Set holds the credentials sent on one connection, to redact them from
// whatever the server sends back. The zero Set is ready for use, with no
// printer; it is safe for concurrent use.
type Set struct {
	mu      sync.Mutex
	printed func([]byte) []byte
	list    []secret // oldest first
	n       atomic.Int32
	closed  bool // Forget was called: Add keeps nothing
	longest int  // the longest form's length

	// covered and inside are a line's cover (coverLocked), kept for the
	// next line: bit i of covered is set when byte i is in a whole form,
	// bit q of inside when a whole form starts before q and ends after
	// it (a cut at q would split it; nil for a line not cut, whose cut
	// is not pulled back). They hold where credentials are, none of
	// their bytes, and are parts of cover, the array kept (keepCover).
	covered, inside []uint64
	cover           []uint64
	// fail is a Knuth-Morris-Pratt table, kept for the next line when
	// it is short (keepFail); it holds how a form repeats in itself,
	// none of its bytes, and is zeroed by Forget all the same.
	fail []int32
	// win is Edges' window, the server's bytes about a line's edge,
	// zeroed after each line and let go when long (keepWin).
	win []byte
	// work counts the bytes the searches and the cut looked at, for
	// tests that bound it.
	work int
}

// keepFail is the longest Knuth-Morris-Pratt table a Set keeps from one
// line to the next (4 KiB): a longer one, made only for a hostile line or
// a long credential at a cut, is let go.
const keepFail = 1024

// secret is one credential in its forms: forms[0] as sent, then those of
// its other forms that differ from every one before (its strconv.Quote
// form, its wire-quoted form, each as printed). open: the start of a
// credential that goes on (AddOpen).
type secret struct {
	forms [][]byte
	open  bool
	// in holds, for each form, the bytes it holds (a bit a byte value):
	// Edges looks across a line end only for a form that holds the line
	// end's byte it would cross (edgesForm).
	in [][4]uint64
	// grams holds, for each form of minGramForm bytes or more, the
	// hashes of its runs of 3 bytes (nil for a shorter form): a piece
	// with one run the form has not lies nowhere in it, told at the
	// piece's length's cost, not the form's (RedactEdgesGaps' middle
	// pieces). Zeroed with the forms.
	grams []*gramSet
}

// gramSet is a set of hashes of 3-byte runs, a bit each (gramBits bits).
type gramSet [1 << gramBits / 64]uint64

// gramBits is the log2 of a gramSet's bits: 8,192, a KiB, for a form of
// minGramForm bytes or more (at most twice the form's own memory); a
// 2 KB form sets about a fifth of them, and a run a piece has that the
// form has not is told about four times in five.
const gramBits = 13

// minGramForm is the shortest form a gramSet is made for: a shorter one
// is searched at its length's cost, which the middle pieces' budget
// (twice the form's length, and 4 bytes a byte of the line) covers for
// the pieces of an ordinary line; a 2 KB XOAUTH2 token had it used up
// after two or three pieces, and every piece of its bytes after them
// redacted unsearched (on ENVELOPEs with literals traced, "text",
// "plain", "charset" and the like: 18 of 21 such lines, until stop 63).
const minGramForm = 512

// gram returns the hash of b's 3 bytes at i, a bit's index in a gramSet.
func gram(b []byte, i int) uint32 {
	return (uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16) * 0x9E3779B1 >> (32 - gramBits)
}

// makeGrams returns f's gramSet, or nil for a form shorter than
// minGramForm.
func makeGrams(f []byte) *gramSet {
	if len(f) < minGramForm {
		return nil
	}
	g := new(gramSet)
	for i := 0; i+3 <= len(f); i++ {
		h := gram(f, i)
		g[h>>6] |= 1 << (h & 63)
	}
	return g
}

// mayHold reports whether every 3-byte run of p is one g has (a nil g:
// yes): false when p lies nowhere in g's form; it looks at p's bytes.
func (g *gramSet) mayHold(p []byte) bool {
	if g == nil {
		return true
	}
	for i := 0; i+3 <= len(p); i++ {
		if h := gram(p, i); g[h>>6]&(1<<(h&63)) == 0 {
			return false
		}
	}
	return true
}

// byteSet returns the set of the bytes in f.
func byteSet(f []byte) (set [4]uint64) {
	for _, c := range f {
		set[c>>6] |= 1 << (c & 63)
	}
	return set
}

// holds reports whether c is in set.
func holds(set [4]uint64, c byte) bool { return set[c>>6]&(1<<(c&63)) != 0 }

// New returns a Set that looks for every form of a credential also as
// printed shows it: printed(b) is b as the caller's printer writes it (the
// proxy's trace redacts a line after printing it, control bytes escaped).
func New(printed func([]byte) []byte) *Set { return &Set{printed: printed} }

// Any reports whether a credential is kept. It may be called on a nil Set.
func (x *Set) Any() bool { return x != nil && x.n.Load() > 0 }

// Add keeps a copy of s (the caller's slice is left as it is); an empty s
// is not kept (it would match everywhere). A credential kept already
// becomes the newest; past MaxSecrets, the oldest is zeroed and dropped.
func (x *Set) Add(s []byte) { addSecret(x, s, false) }

// AddString is Add for a string, copied once (no []byte conversion left
// to the garbage collector unzeroed).
func (x *Set) AddString(s string) { addSecret(x, s, false) }

// AddOpen is Add for s, the start of a credential that went on (a capture
// cut at its bound: the rest was not kept): where a form of s is found
// in a line, the rest of the line is redacted with it, as it may be the
// credential's rest.
func (x *Set) AddOpen(s []byte) { addSecret(x, s, true) }

func addSecret[T ~string | ~[]byte](x *Set, s T, open bool) {
	if len(s) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	for i, o := range x.list {
		if sameBytes(o.forms[0], s) {
			// The newest again (the proxy's rule: a credential in use
			// is not the one to drop).
			o.open = o.open || open
			copy(x.list[i:], x.list[i+1:])
			x.list[len(x.list)-1] = o
			return
		}
	}
	if len(x.list) == MaxSecrets {
		x.dropOldest()
	}
	own := append([]byte(nil), s...)
	sec := x.makeForms(own)
	sec.open = open
	x.list = append(x.list, sec)
	x.setLongest()
	x.n.Store(int32(len(x.list)))
}

// makeForms returns own's forms, each in memory the Set owns.
func (x *Set) makeForms(own []byte) secret {
	sec := secret{forms: [][]byte{own}}
	keep := func(f []byte) []byte {
		for _, o := range sec.forms {
			if bytes.Equal(o, f) {
				return o
			}
		}
		sec.forms = append(sec.forms, f)
		return f
	}
	if q := quotedForm(own); q != nil {
		keep(q) // differs from own (longer): kept, not a copy
	}
	if w := wireQuotedForm(own); w != nil {
		if k := keep(w); &k[0] != &w[0] {
			clear(w)
		}
	}
	if x.printed != nil {
		for _, f := range sec.forms[:len(sec.forms):len(sec.forms)] {
			p := x.printed(f)
			c := append(make([]byte, 0, len(p)), p...)
			clear(p[:cap(p)])
			if k := keep(c); len(k) > 0 && &k[0] != &c[0] {
				clear(c)
			}
		}
	}
	for _, f := range sec.forms {
		sec.in = append(sec.in, byteSet(f))
		sec.grams = append(sec.grams, makeGrams(f))
	}
	return sec
}

func (x *Set) setLongest() {
	x.longest = 0
	for _, s := range x.list {
		for _, f := range s.forms {
			x.longest = max(x.longest, len(f))
		}
	}
}

// dropOldest zeroes and drops the oldest credential and its forms.
func (x *Set) dropOldest() {
	zero(x.list[0])
	copy(x.list, x.list[1:])
	x.list[len(x.list)-1] = secret{}
	x.list = x.list[:len(x.list)-1]
}

// zero zeroes every form of s, whole arrays.
func zero(s secret) {
	for _, f := range s.forms {
		clear(f[:cap(f)])
	}
	for _, g := range s.grams {
		if g != nil {
			clear(g[:])
		}
	}
}

// Forget zeroes and drops every credential kept, once nothing more is to
// be redacted (the connection has ended), and keeps Add from keeping
// another. It may be called on a nil Set.
func (x *Set) Forget() {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, s := range x.list {
		zero(s)
	}
	clear(x.list)
	clear(x.fail[:cap(x.fail)])
	clear(x.win[:cap(x.win)])
	x.list, x.fail, x.covered, x.inside, x.cover, x.win = nil, nil, nil, nil, nil, nil
	x.closed, x.longest = true, 0
	x.n.Store(0)
}

// Longest returns the length of the longest form of a credential kept (0:
// none): a line cut that many bytes past where it is printed to has every
// credential across the print's end whole.
func (x *Set) Longest() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.longest
}

// Forms calls fn with every form of every credential kept, a view of the
// Set's own copy, oldest first, first telling a credential's first form
// (as sent): for tests that check the copies are zeroed. fn must not
// change it, nor keep it but to check that it was zeroed.
func (x *Set) Forms(fn func(form []byte, first bool)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, s := range x.list {
		for i, f := range s.forms {
			fn(f, i == 0)
		}
	}
}

// quotedForm returns sec as strconv.Quote writes it, without the quotes,
// or nil when that is sec itself. It is written into an array made large
// enough at once (an escape is at most 4 bytes a byte: \xNN; \uXXXX for
// a rune of 2 bytes or more, \UXXXXXXXX for one of 4), so that no append
// outgrows it and leaves part of a secret behind, and one that is not
// kept is zeroed. sec is viewed as a string, not converted: the view does
// not outlive the call.
func quotedForm(sec []byte) []byte {
	q := strconv.AppendQuote(make([]byte, 0, 4*len(sec)+2), unsafe.String(unsafe.SliceData(sec), len(sec)))
	if len(q) == len(sec)+2 {
		clear(q) // no escape: the same bytes as sec
		return nil
	}
	return q[1 : len(q)-1]
}

// wireQuotedForm returns sec inside an IMAP quoted string, '"' and '\\'
// escaped (wire.Encoder's quoted form; other bytes, control bytes too,
// as they are), or nil when that is sec itself, in an array of its exact
// size.
func wireQuotedForm(sec []byte) []byte {
	n := 0
	for _, c := range sec {
		if c == '"' || c == '\\' {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	w := make([]byte, 0, len(sec)+n)
	for _, c := range sec {
		if c == '"' || c == '\\' {
			w = append(w, '\\')
		}
		w = append(w, c)
	}
	return w
}

// forms yields every form of every credential kept (under mu).
func (x *Set) forms(yield func([]byte) bool) {
	for _, s := range x.list {
		for _, f := range s.forms {
			if !yield(f) {
				return
			}
		}
	}
}

// sameBytes reports whether o and s hold the same bytes, without the
// conversion of either (a copy of a secret the collector would get).
func sameBytes[T ~string | ~[]byte](o []byte, s T) bool {
	if len(o) != len(s) {
		return false
	}
	for i := range len(o) {
		if o[i] != s[i] {
			return false
		}
	}
	return true
}

// Redact returns b with every run of bytes that a whole form of a kept
// credential covers replaced by one "***"; b itself when there is nothing
// to replace.
func (x *Set) Redact(b []byte) []byte {
	if !x.Any() {
		return b
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.redactLocked(b, false)
}

// redactLocked is Redact of b, RedactCut when cut (under mu).
func (x *Set) redactLocked(b []byte, cut bool) []byte {
	n := len(b)
	if cut {
		n = x.cutStartLocked(b)
	}
	if !x.coverLocked(b, cut) {
		return b[:n]
	}
	defer x.letGoCover()
	return x.replaceCovered(b[:x.pullBackLocked(n, len(b))])
}

// keepCover is the most words of cover a Set keeps from one line to the
// next: those of a line of 64 KiB, the session trace's capture, cut at
// its end (covered and inside, 16 KiB in all), which hold the cover of a
// line of up to 128 KiB not cut (covered alone). A longer line's (a
// status text of up to the tokenizer's 1 MiB, redacted whole) is let go:
// it was kept for the session's life, 256 KiB (TestKeptMemoryLongLine).
// Until stop 62 covered and inside were kept apart, each within a 64 KiB
// line's, and every line just over 64 KiB (a status text or an unknown
// response's rest past the capture) let go of both and made them again,
// 16 KiB a line (TestCoverReusedLinesJustOverCapture).
const keepCover = 2 * ((64<<10)/64 + 1)

// letGoCover lets go a cover longer than keepCover (it holds where
// credentials were, none of their bytes).
func (x *Set) letGoCover() {
	if cap(x.cover) > keepCover {
		x.cover, x.covered, x.inside = nil, nil, nil
	}
}

// RedactCut is Redact for b, the start of a longer line (cut at a capture
// or a window): b is first cut before the longest end of it that is the
// start of a form (a credential that went on past the cut, which Redact
// would not find), then back to the start of every whole form that cut
// would split (one ending at b's end whose last bytes start a form would
// otherwise lose them to the cut and be printed but for them); what is
// left is then redacted. It returns b itself when there is nothing to cut
// or replace, b[:n] when there is only a cut.
func (x *Set) RedactCut(b []byte) []byte {
	if !x.Any() {
		return b
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.redactLocked(b, true)
}

// cutStartLocked returns how much of b is left once it is cut before its
// longest end that is the start of a form (RedactCut; under mu).
func (x *Set) cutStartLocked(b []byte) int {
	n := len(b)
	for s := range x.forms {
		if k := x.partialSuffixLocked(b, s); k > 0 {
			n = min(n, len(b)-k)
		}
	}
	x.letGoTable() // one table for the line's forms, let go when long
	return n
}

// pullBackLocked returns n, a cut of a line of length bytes, pulled back
// to the start of every whole form the cover (inside) has it split
// (RedactCut; under mu).
func (x *Set) pullBackLocked(n, length int) int {
	for n > 0 && n < length && bit(x.inside, n) {
		n--
		x.work++
	}
	return n
}

// KeptBytes returns the bytes of the buffers the Set keeps from one line
// to the next (its cover and its table), for tests and measures.
func (x *Set) KeptBytes() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return 8*cap(x.cover) + 4*cap(x.fail) + cap(x.win)
}

// bit reports whether bit i of s is set.
func bit(s []uint64, i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }

// setBits sets bits [from, to) of s.
func setBits(s []uint64, from, to int) {
	for i := from; i < to; {
		if i&63 == 0 && to-i >= 64 {
			s[i>>6] = ^uint64(0)
			i += 64
			continue
		}
		s[i>>6] |= 1 << (i & 63)
		i++
	}
}

// coverLocked marks in covered (and inside, when b is cut at its end)
// every whole form in b (an open credential's from its start to b's end:
// AddOpen), and reports whether it found one (under mu; the cover is
// good until the next call). Each form's places are found once, in time
// linear in b's length (occurrences), and each byte is marked at most
// once a form.
func (x *Set) coverLocked(b []byte, cut bool) bool {
	found := false
	for _, sec := range x.list {
		for _, s := range sec.forms {
			found = x.coverForm(b, s, sec.open, found, cut)
		}
	}
	return found
}

// coverForm marks the occurrences of s in b (coverLocked); when open,
// from the first one's start to b's end. found: the cover was cleared
// for b already; it reports whether it was.
func (x *Set) coverForm(b, s []byte, open, found, cut bool) bool {
	hiC, hiI := 0, 0 // what is marked already, for s
	x.occurrences(b, s, func(i, end int) bool {
		if open {
			end = len(b)
		}
		if !found {
			found = true
			x.clearCover(len(b), cut)
		}
		setBits(x.covered, max(i, hiC), end)
		if x.inside != nil {
			setBits(x.inside, max(i+1, hiI), end)
		}
		x.work += max(0, end-max(i, hiC))
		hiC, hiI = max(hiC, end), max(hiI, end)
		return !open // the first of an open one is enough
	})
	return found
}

// clearCover makes covered the cover of a line of n bytes, none of it
// marked, and inside too when the line is cut at its end (nil when not:
// only a cut is pulled back), in cover (under mu).
func (x *Set) clearCover(n int, cut bool) {
	w := (n + 64) / 64
	need := w
	if cut {
		need = 2 * w
	}
	if cap(x.cover) < need {
		x.cover = make([]uint64, need)
	}
	x.covered, x.inside = x.cover[:w:w], nil
	clear(x.covered)
	if cut {
		x.inside = x.cover[w : 2*w : 2*w]
		clear(x.inside)
	}
}

// replaceCovered returns b with each run of bytes covered marks replaced
// by "***", b itself when none is marked. covered may reach past b (the
// cover of the line b was cut from, where no whole form straddles b's
// end).
func (x *Set) replaceCovered(b []byte) []byte {
	any := false
	for i := 0; i < len(b); i += 64 {
		w := x.covered[i>>6]
		if len(b)-i < 64 {
			w &= 1<<(len(b)-i) - 1
		}
		if w != 0 {
			any = true
			break
		}
	}
	if !any {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if !bit(x.covered, i) {
			out = append(out, b[i])
			continue
		}
		out = append(out, "***"...)
		for i+1 < len(b) && bit(x.covered, i+1) {
			i++
		}
	}
	return out
}

// headLen is how many of a form's first bytes bytes.Index looks for: its
// cost is linear in the line for a needle this short (a SIMD brute force,
// or Rabin-Karp whose collisions cost at most headLen bytes each), where
// for a longer one a collided hash or a near match costs the whole form.
const headLen = 16

// occurrences calls fn with the start and end of every occurrence of s
// in b (or of a run of them that overlap, as one), in order of start,
// until fn returns false (under mu; it counts its work in x.work). The
// places where s's first headLen bytes are come from bytes.Index; each is
// compared whole, at a cost of len(s) counted against a budget of twice
// b's length. Past it (a hostile line of near matches, or a periodic form
// repeated), the two-way search of s runs over the rest (twoWay): the
// search costs O(len(b)) in all, and no table.
func (x *Set) occurrences(b, s []byte, fn func(start, end int) bool) {
	m := len(s)
	if m == 0 || m > len(b) {
		return
	}
	k := min(m, headLen)
	budget := 2*len(b) + 256
	if testBudget >= 0 {
		budget = testBudget
	}
	for j := 0; j+m <= len(b); {
		i := bytes.Index(b[j:], s[:k])
		if i < 0 {
			x.work += len(b) - j
			return
		}
		x.work += i + k
		i += j
		if i+m > len(b) {
			return
		}
		if k < m || testBudget >= 0 {
			if budget -= m - k; budget < 0 {
				x.twoWay(b, s, i, fn)
				return
			}
			x.work += m - k
			if !bytes.Equal(b[i+k:i+m], s[k:]) {
				j = i + 1
				continue
			}
		}
		if !fn(i, i+m) {
			return
		}
		j = i + 1
	}
}

// testBudget, set by tests (0 or more), replaces occurrences' budget, so
// that the two-way search takes over at any place.
var testBudget = -1

// twoWay calls fn for every occurrence of s in b that starts at from or
// later, until fn returns false (a run of occurrences that overlap, s
// repeated with its period, as one: the first's start, the last's end):
// the two-way string matching of Crochemore and Perrin, in time linear
// in len(b)+len(s) with no table (s's critical factorization, a place
// and a period, is all it keeps).
func (x *Set) twoWay(b, s []byte, from int, fn func(start, end int) bool) {
	m, n := len(s), len(b)
	suffix, period := criticalFactorization(s)
	x.work += 2 * m
	steps := 0
	defer func() { x.work += steps }()
	if bytes.Equal(s[:suffix], s[period:period+suffix]) {
		// s is periodic: a shift by its period keeps m-period bytes
		// known to match (memory).
		memory := 0
		for j := from; j <= n-m; {
			i := max(suffix, memory)
			for i < m && s[i] == b[i+j] {
				i++
				steps++
			}
			if i < m {
				j += i - suffix + 1
				memory = 0
				steps++
				continue
			}
			i = suffix - 1
			for i >= memory && s[i] == b[i+j] {
				i--
				steps++
			}
			if i >= memory {
				j += period
				memory = m - period
				steps++
				continue
			}
			if period == m {
				// Occurrences a period apart only touch: one at a
				// time (a cut between them splits neither).
				if !fn(j, j+m) {
					return
				}
				j += period
				memory = m - period
				steps++
				continue
			}
			// A run of occurrences, each a period after the one
			// before and overlapping it, as far as b goes on with
			// s's period (blocks compared at once): given as one,
			// from the first's start to the last's end.
			k := j + m
			for k+256 <= n && bytes.Equal(b[k:k+256], b[k-period:k-period+256]) {
				k += 256
			}
			for k < n && b[k] == b[k-period] {
				k++
			}
			steps += k - (j + m) + 1
			last := j + (k-m-j)/period*period
			if !fn(j, last+m) {
				return
			}
			j = last + period
			memory = m - period
		}
		return
	}
	period = max(suffix, m-suffix) + 1
	for j := from; j <= n-m; {
		i := suffix
		for i < m && s[i] == b[i+j] {
			i++
			steps++
		}
		if i < m {
			j += i - suffix + 1
			steps++
			continue
		}
		i = suffix - 1
		for i >= 0 && s[i] == b[i+j] {
			i--
			steps++
		}
		if i < 0 && !fn(j, j+m) {
			return
		}
		j += period
		steps++
	}
}

// criticalFactorization returns a critical factorization of s: the start
// of its right part, and the period of the maximal suffix it comes from
// (the larger of the maximal suffixes for either order of the bytes).
func criticalFactorization(s []byte) (suffix, period int) {
	ms1, p1 := maximalSuffix(s, false)
	ms2, p2 := maximalSuffix(s, true)
	if ms1 > ms2 {
		return ms1 + 1, p1
	}
	return ms2 + 1, p2
}

// maximalSuffix returns the start minus one of s's maximal suffix for the
// order of the bytes (reversed: the opposite order), and its period.
func maximalSuffix(s []byte, reversed bool) (ms, p int) {
	ms, j, k, p := -1, 0, 1, 1
	for j+k < len(s) {
		a, c := s[j+k], s[ms+k]
		if reversed {
			a, c = c, a
		}
		switch {
		case a < c:
			j += k
			k = 1
			p = j - ms
		case a == c:
			if k != p {
				k++
			} else {
				j += p
				k = 1
			}
		default:
			ms = j
			j = ms + 1
			k, p = 1, 1
		}
	}
	return ms, p
}

// table returns the Knuth-Morris-Pratt table of s in x.fail (grown when
// short): fail[i] is the length of the longest proper start of s[:i+1]
// that is also its end.
func (x *Set) table(s []byte) []int32 {
	if cap(x.fail) < len(s) {
		clear(x.fail[:cap(x.fail)])
		x.fail = make([]int32, len(s))
	}
	fail := x.fail[:len(s)]
	if len(s) > 0 {
		fail[0] = 0
	}
	for i, k := 1, int32(0); i < len(s); i++ {
		for k > 0 && s[i] != s[k] {
			k = fail[k-1]
		}
		if s[i] == s[k] {
			k++
		}
		fail[i] = k
	}
	x.work += 2 * len(s)
	return fail
}

// letGoTable zeroes and lets go a table longer than keepFail.
func (x *Set) letGoTable() {
	if cap(x.fail) > keepFail {
		clear(x.fail[:cap(x.fail)])
		x.fail = nil
	}
}

// partialSuffixLocked is partialSuffix with x's table (under mu).
func (x *Set) partialSuffixLocked(b, s []byte) int {
	if len(s) < 2 {
		return 0
	}
	tail := b[max(0, len(b)-(len(s)-1)):]
	if len(tail) == 0 {
		return 0
	}
	budget := partialSuffixQuick + 16*len(tail)
	k, left := partialSuffixScan(tail, s, budget)
	q := min(len(tail), 15) // the places compared one by one, each at most q bytes
	x.work += budget - max(left, 0) + len(tail) + q*q
	if left >= 0 {
		return k
	}
	return x.partialSuffixKMP(tail, s)
}

// partialSuffixQuick bounds the work partialSuffix spends on candidate
// ends of b compared one by one, past which it runs the automaton.
const partialSuffixQuick = 256

// partialSuffix returns the length of the longest end of b that is the
// start of s but not all of it (s going on past b's end), 0 when none.
// Only b's last len(s)-1 bytes can be such an end. Its candidates, the
// places where s's first bytes are, are compared one by one, longest
// first, within a budget of 16 byte-comparisons a byte of tail; past it,
// the Knuth-Morris-Pratt automaton of s runs over them, in time linear in
// the shorter of b and s however long either is. The Set's own searches
// call partialSuffixLocked; this is the tests' entry.
func partialSuffix(b, s []byte) int {
	var x Set
	return x.partialSuffixLocked(b, s)
}

// partialSuffixScan is partialSuffix comparing candidates one by one; left
// is what is left of budget, negative when that would take more than
// budget byte-comparisons (k is then not the answer). The
// candidates with 16 bytes or more after them are where s's first 16
// bytes are (bytes.Index: no call per place s's first byte is, 32,768 in
// a line of "abab..."), each compared whole; the last 15 places are
// compared one by one.
func partialSuffixScan(tail, s []byte, budget int) (k, left int) {
	const p = 16
	j := 0
	for p <= len(s) && j+p <= len(tail) {
		i := bytes.Index(tail[j:], s[:p])
		if i < 0 {
			break
		}
		j += i
		m := len(tail) - j // < len(s)
		if budget -= m; budget < 0 {
			return 0, budget
		}
		if bytes.Equal(tail[j:], s[:m]) {
			return m, budget
		}
		j++
	}
	for j = max(j, len(tail)-p+1); j < len(tail); j++ {
		if m := len(tail) - j; tail[j] == s[0] && bytes.Equal(tail[j:], s[:m]) {
			return m, budget
		}
	}
	return 0, budget
}

// partialSuffixKMP is partialSuffix running the automaton of s over tail
// (shorter than s).
func (x *Set) partialSuffixKMP(tail, s []byte) int {
	// The automaton reads len(tail) bytes: it never gets past s's first
	// len(tail)+1, nor needs the table of more.
	s = s[:len(tail)+1]
	fail := x.table(s)
	q := int32(0)
	for _, c := range tail { // q < len(s): tail is shorter than s
		for q > 0 && c != s[q] {
			q = fail[q-1]
		}
		if c == s[q] {
			q++
		}
	}
	x.work += 2 * len(tail)
	return int(q)
}

// RedactExcerpt returns got, a quoted excerpt of a server's bytes (a
// *wire.SyntaxError's Got: strconv.Quote of at most 16 bytes, "..." after
// a cut one), with every whole form of a kept credential in it replaced
// by "***", and a part of one (minEdge bytes, 2, or more) that the
// excerpt stops with or opens with too, or that is all of it (the
// excerpt inside a credential), and the same at the edges of the lines
// the excerpt holds (markLineEdges). A quoted excerpt is compared as the
// bytes it quotes (redactExcerptRaw); another (EOF, one character) as
// text.
func (x *Set) RedactExcerpt(got string) string {
	if !x.Any() {
		return got
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.redactExcerptLocked(got, nil)
}

// redactExcerptLocked is RedactExcerpt (under mu), with also the bytes
// that held reports covered (RedactExcerptHeld; nil for none).
func (x *Set) redactExcerptLocked(got string, held func(raw string) uint64) string {
	if red, ok := x.redactExcerptRaw(got, held); ok {
		return red
	}
	// Not a quoted excerpt: EOF, or one character (a credential's part
	// that short is not looked for).
	for f := range x.forms {
		got = replaceBytes(got, f)
	}
	return got
}

// redactExcerptRaw is RedactExcerpt for an excerpt strconv.Quote wrote
// (wire's excerpt: "...", the 16 bytes quoted, "..." after a cut one),
// compared as the server's bytes it quotes, not as quoted text: a form is
// looked for in those bytes as the server sent it, so that one echoed
// with escapes of its own (the wire-quoted form, "pa\\ss", which the
// excerpt quotes again as "pa\\\\ss") or with a rune the excerpt cut
// (\xc3 for the first byte of "é") is found as any other
// (TestRedactExcerptQuotedEcho). The bytes covered by a whole form, by a
// start of one (minEdge bytes or more) that the excerpt ends with, an end
// of one it opens with, or by all of it when it lies inside one, and the
// like at the edges of the lines inside it (markLineEdges) and of the
// literals inside it (markLiteralGaps), and those held reports (bit i for
// the excerpt's byte i; nil for none), are replaced by "***", what is
// left quoted again. ok is false when got is
// not such an excerpt (EOF, one quoted character).
func (x *Set) redactExcerptRaw(got string, held func(raw string) uint64) (red string, ok bool) {
	body, dots := strings.CutSuffix(got, "...")
	if len(body) < 2 || body[0] != '"' {
		return "", false
	}
	raw, err := strconv.Unquote(body)
	if err != nil || len(raw) > 64 {
		return "", false
	}
	var cover uint64 // bit i: raw[i] is a credential's
	mark := func(from, to int) {
		for i := from; i < to; i++ {
			cover |= 1 << i
		}
	}
	n := len(raw)
	if held != nil {
		cover = held(raw)
	}
	for f := range x.forms {
		fs := unsafe.String(unsafe.SliceData(f), len(f))
		for i := 0; i+len(f) <= n; i++ {
			if raw[i:i+len(f)] == fs {
				mark(i, i+len(f))
			}
		}
		if n >= minEdge && len(f) > n && strings.Contains(fs, raw) {
			mark(0, n)
		}
		for k := min(len(f)-1, n); k >= minEdge; k-- {
			if raw[n-k:] == fs[:k] {
				mark(n-k, n)
				break
			}
		}
		for k := min(len(f)-1, n); k >= minEdge; k-- {
			if raw[:k] == fs[len(f)-k:] {
				mark(0, k)
				break
			}
		}
		markLineEdges(raw, fs, mark)
		markLiteralGaps(raw, fs, mark)
	}
	if cover == 0 {
		return got, true
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < n; {
		j := i
		for j < n && cover&(1<<j) != 0 == (cover&(1<<i) != 0) {
			j++
		}
		if cover&(1<<i) != 0 {
			b.WriteString("***")
		} else {
			q := strconv.Quote(raw[i:j])
			b.WriteString(q[1 : len(q)-1])
		}
		i = j
	}
	b.WriteByte('"')
	if dots {
		b.WriteString("...")
	}
	return b.String(), true
}

// markLineEdges marks, for form f, the parts of a credential at the
// edges of the lines an excerpt (raw) holds, split at its LFs, as
// redactExcerptRaw does at the excerpt's own edges: a line's start (after
// an LF) that is an end of f (minEdge bytes or more), a line's end
// (before its CR LF or LF) that is a start of f, and a line that lies
// inside f. A server that breaks its echo of a credential across a line
// end has the line after open with the credential's rest, and an excerpt
// about that line end ("\r\nse-battery-sta", a syntax error at the CR)
// showed it: the excerpt's own edges were the only ones looked at.
func markLineEdges(raw, f string, mark func(from, to int)) {
	if strings.IndexByte(raw, '\n') < 0 && !strings.HasSuffix(raw, "\r") {
		return
	}
	for a := 0; a < len(raw); {
		e := strings.IndexByte(raw[a:], '\n')
		last := e < 0
		if last {
			e = len(raw)
		} else {
			e += a
		}
		b := e // the line's end, before its CR LF or LF
		if b > a && raw[b-1] == '\r' {
			// (At the excerpt's end, a CR the cut parted from its
			// LF: the line ends there too.)
			b--
			last = false
		}
		line := raw[a:b]
		if len(line) >= minEdge && len(f) > len(line) && strings.Contains(f, line) {
			mark(a, b)
		}
		if a > 0 { // a line's start: f's rest
			for k := min(len(f)-1, len(line)); k >= minEdge; k-- {
				if line[:k] == f[len(f)-k:] {
					mark(a, a+k)
					break
				}
			}
		}
		if !last { // a line's end: f's start
			for k := min(len(f)-1, len(line)); k >= minEdge; k-- {
				if line[len(line)-k:] == f[:k] {
					mark(b-k, b)
					break
				}
			}
		}
		a = e + 1
	}
}

// markLiteralGaps marks, for form f, the parts of a credential beside the
// literals an excerpt (raw) holds, as RedactEdgesGaps does beside the gaps
// of a traced line: each literal's header ("{N}" or "{N+}" and its CR LF;
// one the excerpt's end cuts, or its start: "7}" CR LF) is a gap, and so
// is the header with its body (the N bytes after it, as far as the excerpt
// goes), the trace's "{N} <N bytes>"; so is a line end (a line inside a
// response follows a literal's header, its body opening it; a CR that ends
// the excerpt, its LF cut off) and the excerpt's end (the server's bytes
// after it unseen: a header may follow; wire's excerpt of 16 bytes that
// ends a line is not marked cut). Beside each gap: a start of f (minEdge
// bytes or more) that the text before it ends with, less the spaces that
// end it (at most maxGapSep); an end of f that the text after it opens
// with; and a piece of text between two gaps, or between one and the
// excerpt's start (the excerpt inside f whole, as redactExcerptRaw's own
// rule), that lies wholly inside f, minMiddle bytes or more, less those
// spaces. A server that echoed a credential with literals inside it had
// the trace's line redacted and a syntax error's excerpt of it show the
// middle piece (`"{3}\r\nXXXrrect-h "`) until stop 62. A body's bounds are
// known only from its header: an excerpt that opens inside a body
// ("YYorse)") shows what it shows. The excerpt is at most 64 bytes: its
// cost is a few times its length a form.
func markLiteralGaps(raw, f string, mark func(from, to int)) {
	for _, withBody := range [2]bool{false, true} {
		lo := 0 // the end of the gap before
		if end, size, ok := literalHeaderTail(raw); ok {
			lo = end
			if withBody {
				lo = min(len(raw), end+size)
			}
		}
		for i := lo; i <= len(raw); {
			// The next gap, from to to; the excerpt's end for none.
			from, to := len(raw), len(raw)
			for j := i; j < len(raw); j++ {
				if raw[j] == '\n' {
					from, to = j, j+1
					if j > 0 && raw[j-1] == '\r' && j-1 >= i {
						from = j - 1
					}
					break
				}
				if raw[j] == '\r' && j == len(raw)-1 {
					// A line end the excerpt's end cuts after its CR.
					from = j
					break
				}
				if raw[j] != '{' {
					continue
				}
				if end, size, ok := literalHeader(raw, j); ok {
					from, to = j, end
					if withBody {
						to = min(len(raw), end+size)
					}
					break
				}
			}
			piece := raw[lo:from]
			r := 0
			for r < min(len(piece), maxGapSep) && piece[len(piece)-1-r] == ' ' {
				r++
			}
			w := piece[:len(piece)-r]
			if len(w) >= minMiddle && len(w) < len(f) && strings.Contains(f, w) {
				mark(lo, lo+len(w))
			}
			for k := min(len(f)-1, len(w)); k >= minEdge; k-- {
				if w[len(w)-k:] == f[:k] {
					mark(lo+len(w)-k, lo+len(w))
					break
				}
			}
			if lo > 0 {
				for k := min(len(f)-1, len(piece)); k >= minEdge; k-- {
					if piece[:k] == f[len(f)-k:] {
						mark(lo, lo+k)
						break
					}
				}
			}
			if from == len(raw) {
				break
			}
			lo, i = to, max(to, from+1)
		}
	}
}

// literalHeaderTail reports whether raw opens with the end of a literal's
// header the excerpt's start cut ("7}" or "+}", CR LF): end is where it
// ends, size its N as far as it shows (its last digits).
func literalHeaderTail(raw string) (end, size int, ok bool) {
	k := 0
	for k < len(raw) && k < 8 && raw[k] >= '0' && raw[k] <= '9' {
		size = size*10 + int(raw[k]-'0')
		k++
	}
	if k < len(raw) && raw[k] == '+' {
		k++
	}
	if k == 0 || !strings.HasPrefix(raw[k:], "}\r\n") {
		return 0, 0, false
	}
	return k + 3, size, true
}

// literalHeader reports whether raw holds a literal's header at j ("{",
// digits, an optional "+", "}", CR LF), or the start of one that the
// excerpt's end cuts: end is where it ends (its CR LF's end), size its
// N (0 when cut).
func literalHeader(raw string, j int) (end, size int, ok bool) {
	k := j + 1
	for k < len(raw) && raw[k] >= '0' && raw[k] <= '9' {
		if size < 1<<20 {
			size = size*10 + int(raw[k]-'0')
		}
		k++
	}
	if k < len(raw) && raw[k] == '+' {
		k++
	}
	if k == len(raw) {
		return len(raw), 0, true
	}
	if k == j+1 || raw[k] != '}' {
		return 0, 0, false
	}
	k++
	switch {
	case k == len(raw) || k+1 == len(raw) && raw[k] == '\r':
		return len(raw), 0, true
	case strings.HasPrefix(raw[k:], "\r\n"):
		return k + 2, size, true
	}
	return 0, 0, false
}

// replaceBytes returns s with every occurrence of form replaced by "***",
// s itself when there is none. What it builds holds s's bytes around each
// occurrence, never form's.
func replaceBytes(s string, form []byte) string {
	i := indexBytes(s, form)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		b.WriteString(s[:i])
		b.WriteString("***")
		s = s[i+len(form):]
		i = indexBytes(s, form)
	}
	b.WriteString(s)
	return b.String()
}

// indexBytes is strings.Index for a []byte needle, without converting it
// (a copy of a secret). The excerpts it searches are short (16 bytes,
// quoted).
func indexBytes(s string, form []byte) int {
	if len(form) == 0 {
		return -1
	}
	for i := 0; i+len(form) <= len(s); i++ {
		if sameBytes(form, s[i:i+len(form)]) {
			return i
		}
	}
	return -1
}
