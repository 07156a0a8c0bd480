package redact

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// bruteEdges is Edges by brute force over the stream before line: before,
// the lines before prev with their line ends (since a cut one, or the
// stream's start), joined, the same lines without their line ends, then
// prev, the line before, and its line end prevEnd (nil at a stream's
// start): the bytes of line that a form crosses into from the lines
// before, with their line ends as sent, or without any of them (the
// echo broken at each: for forms of minEdge bytes or more), or crosses
// out of into end, or that end with end a start of a form (the stream
// before with its line ends, then line); or, without end, a start of
// minTail bytes or more (the lines before and line joined: minEdge for
// Edges, minTextEdge for RedactLineEnd). It returns them as a mark a byte.
// prevEnd nil after a prev: the line before was cut (its end not seen),
// and line's start is marked where it is an end of a form (minEdge bytes
// or more); end nil: line is cut, and only its start is marked.
func bruteEdges(forms [][]byte, before, joined, prev, prevEnd, line, end []byte, minTail int) []bool {
	mark := make([]bool, len(line))
	set := func(from, to int) {
		for i := max(from, 0); i < min(to, len(line)); i++ {
			mark[i] = true
		}
	}
	cross := func(before []byte, nosep bool) {
		z := append(append([]byte(nil), before...), line...)
		for _, s := range forms {
			if len(s) < 2 || len(before) == 0 || nosep && len(s) < minEdge {
				continue
			}
			for i := 0; i+len(s) <= len(z); i++ {
				if i < len(before) && i+len(s) > len(before) && bytes.Equal(z[i:i+len(s)], s) {
					set(0, i+len(s)-len(before))
				}
			}
		}
	}
	if prev != nil && prevEnd == nil {
		for _, s := range forms {
			for k := min(len(line), len(s)-1); k >= minEdge; k-- {
				if bytes.Equal(line[:k], s[len(s)-k:]) {
					set(0, k)
					break
				}
			}
		}
		before, joined, prev = nil, nil, nil // nothing of it carried
	} else if prev != nil {
		cross(append(append(append([]byte(nil), before...), prev...), prevEnd...), false)
		cross(append(append([]byte(nil), joined...), prev...), true)
	} else {
		before, joined = nil, nil
	}
	if end == nil {
		return mark
	}
	full := append(append(append(append([]byte(nil), before...), prev...), prevEnd...), line...)
	off := len(full) - len(line)
	z := append(full, end...)
	for _, s := range forms {
		if len(s) < 2 {
			continue
		}
		for i := 0; i+len(s) <= len(z); i++ {
			if i < off+len(line) && i+len(s) > off+len(line) && bytes.Equal(z[i:i+len(s)], s) {
				set(i-off, len(line))
			}
		}
		if k := brutePartial(z, s) - len(end); k > 0 {
			set(len(line)-k, len(line))
		}
		nz := append(append(append([]byte(nil), joined...), prev...), line...)
		if k := brutePartial(nz, s); k >= minTail {
			set(len(line)-k, len(line))
		}
	}
	return mark
}

// bruteStream follows a stream of lines for bruteEdges: the lines since
// the last cut one with their line ends (before) and without (joined),
// the line before and its line end.
type bruteStream struct{ before, joined, prev, prevEnd []byte }

// marks is bruteEdges of line and end after the lines s has seen.
func (s *bruteStream) marks(forms [][]byte, line, end []byte) []bool {
	return bruteEdges(forms, s.before, s.joined, s.prev, s.prevEnd, line, end, minEdge)
}

// next takes line and end as the line before the next.
func (s *bruteStream) next(line, end []byte) {
	if s.prevEnd != nil {
		s.before = append(append(s.before, s.prev...), s.prevEnd...)
		s.joined = append(s.joined, s.prev...)
	} else {
		s.before, s.joined = nil, nil // a cut line's end was not seen; or the start
	}
	s.prev, s.prevEnd = line, end
}

// TestEdgesAgainstBrute runs Edges over streams of random lines (over
// {a, b, CR}, each with its line end CR LF or LF) with random credentials
// over {a, b, CR, LF} (many with a line break), and compares what it
// marks, head and tail, with bruteEdges line by line.
func TestEdgesAgainstBrute(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for iter := range 20000 {
		var x Set
		var list [][]byte
		for range 1 + r.IntN(3) {
			s := randWord(r, "ab\r\n", 1+r.IntN(7))
			list = append(list, s)
			x.Add(s)
		}
		var forms [][]byte
		x.Forms(func(f []byte, _ bool) { forms = append(forms, bytes.Clone(f)) })
		var c Carry
		var bs bruteStream
		for li := range 6 {
			line := randWord(r, "ab\r", r.IntN(9))
			line = bytes.TrimRight(line, "\r")
			end := []byte("\r\n")
			if r.IntN(3) == 0 {
				end = []byte("\n")
			}
			head, tail := x.Edges(&c, line, end)
			got := make([]bool, len(line))
			for i := range line {
				got[i] = i < head || i >= len(line)-tail
			}
			want := bs.marks(forms, line, end)
			// Edges gives a head and a tail: the brute force's marks
			// must be a prefix and a suffix, and the same.
			for i := range line {
				if got[i] != want[i] {
					t.Fatalf("iter %d, secrets %q, line %d: before %q, prev %q%q, line %q%q: Edges = head %d, tail %d; brute force marks %v", iter, list, li, bs.before, bs.prev, bs.prevEnd, line, end, head, tail, want)
				}
			}
			bs.next(line, end)
		}
	}
}

// TestEdgesCostLinear: many short lines after a long credential cost a
// bounded number of bytes looked at a byte of the stream: the window is
// never longer than the two lines hold, however long the credential.
func TestEdgesCostLinear(t *testing.T) {
	var x Set
	long := bytes.Repeat([]byte("a"), 64<<10)
	x.Add(long)
	x.Add(append(bytes.Repeat([]byte("ab"), 8<<10), '\r', '\n', 'z'))
	var c Carry
	total := 0
	for range 10000 {
		line := []byte("aaaa")
		total += len(line) + 2
		x.Edges(&c, line, []byte("\r\n"))
	}
	if x.work > 256*total { // 61 a byte; 20,166 with a carry of the whole stream's last 64 KiB

		t.Errorf("Edges looked at %d bytes for %d bytes of lines (%d a byte)", x.work, total, x.work/total)
	}
	if kept := cap(c.b); kept > 64 {
		t.Errorf("the carry keeps %d bytes after 6-byte lines", kept)
	}
}

// TestRedactLineEdgesAgainstBrute compares RedactLineEnd and
// RedactLineStart with brute forces over random texts and credentials:
// the end of a text that starts a form going on past a line end (CR LF or
// LF; without it, from minTextEdge bytes), and the start of a word that
// ends a form or lies inside one.
func TestRedactLineEdgesAgainstBrute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for iter := range 20000 {
		var x Set
		var list [][]byte
		for range 1 + r.IntN(3) {
			s := randWord(r, "ab\r\n", 1+r.IntN(8))
			list = append(list, s)
			x.Add(s)
		}
		var forms [][]byte
		x.Forms(func(f []byte, _ bool) { forms = append(forms, bytes.Clone(f)) })
		b := bytes.TrimRight(randWord(r, "ab\r", r.IntN(10)), "\r")
		mark := make([]bool, len(b))
		for _, end := range []string{"\r\n", "\n"} {
			for i, m := range bruteEdges(forms, nil, nil, nil, nil, b, []byte(end), minTextEdge) {
				mark[i] = mark[i] || m
			}
		}
		tail := 0
		for tail < len(b) && mark[len(b)-1-tail] {
			tail++
		}
		if got, want := x.RedactLineEnd(b), x.RedactEdges(b, 0, tail, false); !bytes.Equal(got, want) {
			t.Fatalf("iter %d, secrets %q: RedactLineEnd(%q) = %q; want %q", iter, list, b, got, want)
		}
		head := 0
		for _, s := range forms {
			if len(b) >= minEdge && len(b) < len(s) && bytes.Contains(s, b) {
				head = len(b)
			}
			for k := min(len(b), len(s)-1); k >= minEdge; k-- {
				if bytes.Equal(b[:k], s[len(s)-k:]) {
					head = max(head, k)
					break
				}
			}
		}
		if got, want := x.RedactLineStart(b), x.RedactEdges(b, head, 0, false); !bytes.Equal(got, want) {
			t.Fatalf("iter %d, secrets %q: RedactLineStart(%q) = %q; want %q", iter, list, b, got, want)
		}
	}
}

// TestEdgesCarryKeepsOnlyAStart: after a line, the carry holds its line
// end and, of the line, only its end that starts a form (where a form
// across the line end would start): not the longest form's length of
// every line. With 16 credentials of 16 KiB, a 1 MiB line kept 16 KiB
// between lines; a line ending in a credential's first 100 bytes keeps
// those.
func TestEdgesCarryKeepsOnlyAStart(t *testing.T) {
	var x Set
	var secs [][]byte
	for i := range 16 {
		s := bytes.Repeat([]byte("abcdefghijklmnop"), 1<<10)
		s[0] = byte('A' + i)
		secs = append(secs, s)
		x.Add(s)
	}
	var c Carry
	x.Edges(&c, bytes.Repeat([]byte("q"), 1<<20), []byte("\r\n"))
	if len(c.b) != 2 || cap(c.b) > 128 {
		t.Errorf("after a 1 MiB line with no credential's start at its end, the carry holds %d bytes (array of %d); want its line end", len(c.b), cap(c.b))
	}
	line := append([]byte("* OK "), secs[2][:100]...)
	x.Edges(&c, line, []byte("\r\n"))
	if want := string(secs[2][:100]) + "\r\n"; string(c.b) != want {
		t.Errorf("after a line ending in a credential's first 100 bytes, the carry holds %q; want %q", c.b, want)
	}
}

// FuzzEdges compares Edges over a stream of lines (split at each LF, the
// line end CR LF where a CR comes before it; a line that ends in 0x1f
// before it is cut, its end not seen) with bruteEdges, for
// credentials separated by 0x1e (they may hold line breaks), with the
// two-way search taking over at any place (testBudget).
func FuzzEdges(f *testing.F) {
	f.Add("hunter2-correct\r\nhorse\x1eab", "* NO you sent hunter2-correct\r\nhorse battery\r\nA1 OK\r\n", 3)
	f.Add("hunter2-correct-horse", "* NO hunter2-corr\nect-horse\r\n", 0)
	f.Add("a\nb\nc\x1eb\nc", "x a\nb\nc y\n", 8)
	f.Add("abab\r\nab", "abab\r\nabab\r\nab\r\n", 1)
	f.Add("hunter2-correct\r\nhorse", "* OK you sent hunter2-correct\x1f\nhorse is it\r\n", 3)
	f.Add("pass\r\nword\r\nmore-secret", "* NO pass\r\nword\r\nmore-secret it was\r\n", 5)
	f.Add("a\nb\nc\nd", "x a\nb\nc\nd y\n", 0)
	f.Add("hunter2-correct", "* NO h\r\nu\r\nn\r\nt\r\ner2-correct it was\r\n", 7)
	// A byte 0x1d in a line is a gap (RedactEdgesGaps).
	f.Add("hunter2-correct-horse", "* 1 FETCH (X hunter2-co \x1drrect-horse UID 7)\r\n", 1)
	f.Add("hunter2-correct-horse", "* 1 FETCH (A \x1d-horse B hunter \x1d hunter2-correct-horse \x1d)\r\n", 1)
	f.Add("hunter2-correct-horse\x1eab c", "\x1dhu\x1d\x1dse ab \x1drrect\x1d\r\n", 1)
	// Middle pieces between gaps, and beside a gap at a line's edge;
	// spaces before a gap, a credential's own among them.
	f.Add("hunter2-correct-horse", "* 1 FETCH (X hunter2-co \x1drrect-h  \x1dorse)\r\n", 1)
	f.Add("hunter2-correct-horse\x1ecorrect  horse", "ect-h\x1d* X correct    \x1dorrect \x1d\r\nrrect  \x1d hunter2-c\r\n", 2)
	// Short pieces between two parts of a credential; 0x1c a traced
	// body's end (a gap of no width): junk bodies, the credential's.
	f.Add("hunter2-correct-horse", "* 1 FETCH (X hunter2-co\x1dr\x1drect-h\x1dorse)\r\n", 1)
	f.Add("hunter2-correct-horse", "X hunter2-co \x1dXXX\x1crr \x1dYY\x1cect-horse)\r\n", 1)
	f.Add("hunter2-correct-horse", "X hunter2-co \x1drr\x1ce \x1dc\x1ct-horse)\r\n", 1)
	f.Add("hunter2-correct-horse", "X hunter2-co \x1dXXXrrect-h\x1c \x1dYY\x1corse)\r\n", 1)
	f.Add("hunter2-correct-horse", "X hunter2-co \x1drrect-hXXX\x1c \x1dYY\x1corse)\r\n", 1)
	f.Fuzz(func(t *testing.T, secrets, stream string, budget int) {
		if len(stream) > 2048 || len(secrets) > 256 {
			return
		}
		var x Set
		for s := range strings.SplitSeq(secrets, "\x1e") {
			if s != "" {
				x.AddString(s)
			}
		}
		if !x.Any() {
			return
		}
		var forms [][]byte
		x.Forms(func(f []byte, _ bool) { forms = append(forms, bytes.Clone(f)) })
		for _, f := range forms {
			if len(f) > carryBack(1) {
				// Its start may be carried only in its last part
				// over lines of a byte (carryBack), where the brute
				// force carries all of the stream.
				return
			}
		}
		defer func() { testBudget = -1 }()
		testBudget = -1
		if budget%2 == 0 {
			testBudget = max(budget/2, -budget/2) % 64
		}
		var c Carry
		var bs bruteStream
		for l := range strings.SplitAfterSeq(stream, "\n") {
			if !strings.HasSuffix(l, "\n") {
				break // no line end: not a line yet
			}
			body := strings.TrimRight(l, "\r\n")
			line, end := []byte(body), []byte(l[len(body):])
			kept, cut := strings.CutSuffix(body, "\x1f")
			if cut {
				line, end = []byte(kept), nil
			}
			if !cut && strings.ContainsAny(body, "\x1c\x1d") {
				checkGaps(t, &x, forms, body)
			}
			head, tail := x.Edges(&c, line, end)
			want := bs.marks(forms, line, end)
			for i := range line {
				if got := i < head || i >= len(line)-tail; got != want[i] {
					t.Fatalf("before %q, prev %q%q, line %q%q: Edges = head %d, tail %d; brute force marks %v", bs.before, bs.prev, bs.prevEnd, line, end, head, tail, want)
				}
			}
			bs.next(line, end)
		}
	})
}

// gapText is the text checkGaps shows for a gap (the proxy's).
const gapText = "{7 bytes}"

// checkGaps checks RedactEdgesGaps of body with each byte 0x1d in it a
// gap (gapText shown there) and each byte 0x1c a gap of no width (a
// traced body's end) against brute force: the line with each run of
// bytes replaced by "***" that a whole form covers; that is, for a
// form, the longest start of it that a gap's side before it ends with
// less the spaces it ends with (at most maxGapSep), with as many of
// those spaces as the form goes on with after it, minEdge bytes or more;
// the longest end of a form, minEdge bytes or more, that its side after
// it opens with (each side to the next gap); a piece of text with a
// gap on one side or both (to the line's start or end on the other)
// that lies wholly inside a form, minMiddle bytes or more, less those
// spaces before a gap (with them, when the form holds a space and the
// piece with them lies inside it); and a run of pieces shorter than
// minMiddle and traced bodies (text from a gap to one of no width) with
// nothing of the form in them, between a segment that ends with a part
// of the form (its start, or all of it inside) and one that opens with
// one (its end, or all of it inside), the pieces (less those spaces
// before a gap of width; a body whole) where the two parts and they
// joined lie in the form: with the bodies, or else without them. The
// middle pieces' budget is lifted (testMiddleBudget): past it,
// RedactEdgesGaps covers more than this.
func checkGaps(t *testing.T, x *Set, forms [][]byte, body string) {
	t.Helper()
	defer func() { testMiddleBudget = -1 }()
	testMiddleBudget = int(^uint(0) >> 1) // no budget
	var shown []byte
	var gaps []Gap
	for i, part := range strings.Split(body, "\x1d") {
		if i > 0 {
			gaps = append(gaps, Gap{len(shown), len(shown) + len(gapText)})
			shown = append(shown, gapText...)
		}
		for j, p := range strings.Split(part, "\x1c") {
			if j > 0 {
				gaps = append(gaps, Gap{len(shown), len(shown)})
			}
			shown = append(shown, p...)
		}
	}
	mask := make([]bool, len(shown))
	set := func(from, to int) {
		for i := from; i < to; i++ {
			mask[i] = true
		}
	}
	for _, f := range forms {
		for i := 0; i+len(f) <= len(shown); i++ {
			if bytes.Equal(shown[i:i+len(f)], f) {
				set(i, i+len(f))
			}
		}
	}
	inside := func(p, f []byte) bool {
		return len(p) >= minMiddle && len(p) < len(f) && bytes.Contains(f, p)
	}
	sepOf := func(seg []byte) int {
		r := 0
		for r < min(len(seg), maxGapSep) && seg[len(seg)-1-r] == ' ' {
			r++
		}
		return r
	}
	// Segment i: shown[lo(i):hi(i)], between gap i-1 and gap i.
	lo := func(i int) int {
		if i == 0 {
			return 0
		}
		return gaps[i-1].To
	}
	hi := func(i int) int {
		if i == len(gaps) {
			return len(shown)
		}
		return gaps[i].From
	}
	for _, f := range forms {
		// For each segment, the part of f it ends with (from lf to
		// lt; lt == lf for none) and how many of its first bytes
		// are one (open).
		n := len(gaps) + 1
		lf, lt, open := make([]int, n), make([]int, n), make([]int, n)
		for i := range n {
			a, seg := lo(i), shown[lo(i):hi(i)]
			lf[i], lt[i] = a, a
			r := 0
			if i < len(gaps) {
				r = sepOf(seg)
			}
			if w := seg[:len(seg)-r]; inside(w, f) {
				m := len(w)
				if r > 0 && bytes.IndexByte(f, ' ') >= 0 && inside(seg, f) {
					m = len(seg)
				}
				set(a, a+m)
				lt[i], open[i] = a+m, m
			}
			if i < len(gaps) {
				w := seg[:len(seg)-r]
				for k := min(len(w), len(f)-1); k >= 1; k-- {
					if bytes.HasSuffix(w, f[:k]) {
						e := 0
						for e < r && k+e < len(f)-1 && f[k+e] == ' ' {
							e++
						}
						if k+e >= minEdge {
							set(a+len(w)-k, a+len(w)+e)
							if open[i] == 0 {
								lf[i], lt[i] = a+len(w)-k, a+len(w)+e
							}
						}
						break
					}
				}
			}
			if i > 0 {
				for k := min(len(seg), len(f)-1); k >= minEdge; k-- {
					if bytes.HasPrefix(seg, f[len(f)-k:]) {
						set(a, a+k)
						open[i] = max(open[i], k)
						break
					}
				}
			}
		}
		body := func(j int) bool {
			return j > 0 && j < len(gaps) && gaps[j].From == gaps[j].To && gaps[j-1].To > gaps[j-1].From
		}
		piece := func(j int) (int, int) {
			if body(j) {
				return lo(j), hi(j)
			}
			return lo(j), hi(j) - sepOf(shown[lo(j):hi(j)])
		}
		anchor := -1 // the segment the run follows
		for i := range n {
			if anchor >= 0 && open[i] > 0 && i > anchor+1 {
				done := false
				for _, bodies := range []bool{true, false} {
					joined := bytes.Clone(shown[lf[anchor]:lt[anchor]])
					pieces, anyBody := 0, false
					for j := anchor + 1; j < i; j++ {
						anyBody = anyBody || body(j)
						if bodies || !body(j) {
							a, e := piece(j)
							joined = append(joined, shown[a:e]...)
							pieces += e - a
						}
					}
					if !bodies && !anyBody {
						break
					}
					joined = append(joined, shown[lo(i):lo(i)+open[i]]...)
					if pieces > 0 && bytes.Contains(f, joined) {
						for j := anchor + 1; j < i; j++ {
							if bodies || !body(j) {
								set(piece(j))
							}
						}
						done = true
						break
					}
				}
				// A body's longest end (or start) that joins the rest,
				// the other bodies junk.
				for jb := anchor + 1; jb < i && !done; jb++ {
					if !body(jb) || hi(jb) == lo(jb) {
						continue
					}
					p1 := bytes.Clone(shown[lf[anchor]:lt[anchor]])
					var p2 []byte
					for j := anchor + 1; j < i; j++ {
						if j == jb || body(j) {
							continue
						}
						a, e := piece(j)
						if j < jb {
							p1 = append(p1, shown[a:e]...)
						} else {
							p2 = append(p2, shown[a:e]...)
						}
					}
					p2 = append(p2, shown[lo(i):lo(i)+open[i]]...)
					bd := shown[lo(jb):hi(jb)]
					for _, start := range []bool{false, true} {
						for q := len(bd); q >= 1 && !done; q-- {
							part := bd[len(bd)-q:]
							if start {
								part = bd[:q]
							}
							if !bytes.Contains(f, append(append(bytes.Clone(p1), part...), p2...)) {
								continue
							}
							done = true
							if start {
								set(lo(jb), lo(jb)+q)
							} else {
								set(hi(jb)-q, hi(jb))
							}
							for j := anchor + 1; j < i; j++ {
								if j != jb && !body(j) {
									set(piece(j))
								}
							}
						}
					}
				}
			}
			w := hi(i) - lo(i)
			if i < len(gaps) {
				w -= sepOf(shown[lo(i):hi(i)])
			}
			switch {
			case i == len(gaps):
			case lt[i] > lf[i]:
				anchor = i
			case open[i] > 0:
				anchor = -1
			case body(i):
			case w >= minMiddle:
				anchor = -1
			}
		}
	}
	var want []byte
	for i := 0; i < len(shown); i++ {
		if !mask[i] {
			want = append(want, shown[i])
			continue
		}
		want = append(want, "***"...)
		for i+1 < len(shown) && mask[i+1] {
			i++
		}
	}
	if got := x.RedactEdgesGaps(shown, 0, 0, false, gaps); !bytes.Equal(got, want) {
		t.Fatalf("RedactEdgesGaps(%q, gaps %v) = %q; brute force %q", shown, gaps, got, want)
	}
}

// TestEdgesAfterCutLine: the line after a cut one (end nil: the cut
// line's end was not seen, so the carry has nothing of it) has its start
// taken for a credential's rest where it is an end of one (minEdge bytes
// or more), as RedactLineStart does; the line after that one is carried
// as any. A credential with a line break echoed at
// the end of a line cut at a capture (or one the proxy relays without
// printing it: not tokenized, a bare LF in it) showed its rest.
func TestEdgesAfterCutLine(t *testing.T) {
	var x Set
	x.AddString("hunter2-correct\r\nhorse-battery-staple")
	var c Carry
	x.Edges(&c, []byte("* OK you sent hunter2-correct"), nil)
	line := []byte("horse-battery-staple as your password")
	if head, _ := x.Edges(&c, line, []byte("\r\n")); head != len("horse-battery-staple") {
		t.Errorf("after a cut line, Edges(%q) = head %d; want %d, the credential's end it opens with", line, head, len("horse-battery-staple"))
	}
	if head, _ := x.Edges(&c, line, []byte("\r\n")); head != 0 {
		t.Errorf("after a whole line that ends in no credential's start, Edges(%q) = head %d; want 0", line, head)
	}
	x.Edges(&c, []byte("* OK a long line"), nil)
	x.Edges(&c, []byte("* OK another"), nil)
	if head, _ := x.Edges(&c, []byte("le"), []byte("\r\n")); head != 2 {
		t.Errorf("after two cut lines, a line of a credential's last 2 bytes has head %d; want 2", head)
	}
	x.Edges(&c, []byte("* OK a long line"), nil)
	if head, _ := x.Edges(&c, []byte("* OK fine"), []byte("\r\n")); head != 0 {
		t.Errorf("after a cut line, a line with no credential's part has head %d; want 0", head)
	}
}

// TestEdgesCredentialOverThreeLines: a credential with two line breaks or
// more (a password with CR LF twice), echoed as sent, is redacted on every
// line it is on: the line inside it (head and tail) and the line after,
// which opens with its part after the second break. Only the line before
// was carried: that part showed.
func TestEdgesCredentialOverThreeLines(t *testing.T) {
	for _, c := range []struct {
		secret string
		lines  []string // each with its line end
		want   []string // each line redacted
	}{
		{"pass\r\nword\r\nmore-secret",
			[]string{"* NO pass\r\n", "word\r\n", "more-secret it was\r\n"},
			[]string{"* NO ***", "***", "*** it was"}},
		{"a\nb\nc\nd-rest",
			[]string{"x a\n", "b\n", "c\n", "d-rest y\n"},
			[]string{"x ***", "***", "***", "*** y"}},
		{"correct\r\nhorse\r\nbattery\r\nstaple",
			[]string{"* BAD correct\r\n", "horse\r\n", "battery\r\n", "staple\r\n", "A1 OK\r\n"},
			[]string{"* BAD ***", "***", "***", "***", "A1 OK"}},
	} {
		checkEdgesStream(t, c.secret, c.lines, c.want)
	}
}

// checkEdgesStream runs Edges then RedactEdges over lines (each with its
// line end), a Set holding secret alone, and checks each line redacted
// against want.
func checkEdgesStream(t *testing.T, secret string, lines, want []string) {
	t.Helper()
	var x Set
	x.AddString(secret)
	var carry Carry
	for i, l := range lines {
		line := []byte(strings.TrimRight(l, "\r\n"))
		head, tail := x.Edges(&carry, line, []byte(l[len(line):]))
		if got := string(x.RedactEdges(line, head, tail, false)); got != want[i] {
			t.Errorf("secret %q, line %d %q: redacted %q, want %q", secret, i, l, got, want[i])
		}
	}
}

// TestEdgesCostLinearLineBreaks: lines of one to three bytes that each go
// on a credential's start with many line breaks in it (a 12 KiB one,
// "x\r\n" repeated, then one of LFs alone, each line a lone LF), or on
// one with none, broken after each byte (a 12 KiB run of "w"), cost a
// bounded number of bytes looked at a byte of the stream: the lines
// before that a start holds are carried (carryBack), at most 64 bytes
// more than 16 times the line, not all of the credential's start, which
// every line's search looks at again (7,178 a byte with the whole start
// carried; 294 so, each line's four forms searched over a window of up
// to 83 bytes; 19 with only the line before carried).
func TestEdgesCostLinearLineBreaks(t *testing.T) {
	var x Set
	x.Add(append(bytes.Repeat([]byte("x\r\n"), 4<<10), 'y'))
	x.Add(append(bytes.Repeat([]byte("\n"), 8<<10), 'z'))
	x.Add(append(bytes.Repeat([]byte("w"), 12<<10), 'z'))
	var c Carry
	total := 0
	for i := range 15000 {
		line, end := []byte("x"), []byte("\r\n")
		switch {
		case i >= 10000:
			line = []byte("w") // an echo broken after each byte
		case i >= 5000:
			line, end = nil, []byte("\n")
		}
		total += len(line) + len(end)
		x.Edges(&c, line, end)
	}
	if x.work > 512*total {
		t.Errorf("Edges looked at %d bytes for %d bytes of lines (%d a byte)", x.work, total, x.work/total)
	}
	if kept := len(c.b); kept > carryBack(3)+3 {
		t.Errorf("the carry keeps %d bytes after lines of 1 to 3 bytes", kept)
	}
}

// TestEdgesEchoBrokenIntoPieces: a server that breaks its echo of a
// credential into three pieces or more (a line end after each byte, or a
// long token folded at a column) has every piece after the first
// redacted, whatever its length: the lines before that a form's start
// holds are carried joined (Carry.joined), as with their line ends for a
// credential that holds them. The first piece, one byte at a line's end,
// is any byte (minEdge) and shows. Only the line before was carried, a
// piece of two bytes or more redacted at its line end: the third piece
// on showed.
func TestEdgesEchoBrokenIntoPieces(t *testing.T) {
	tok := "ya29.a0AfB_byC-Kq9vLm2ZxTr0ub4dor3-QzmtRwpk"
	for _, c := range []struct {
		secret string
		lines  []string // each with its line end
		want   []string // each line redacted
	}{
		{"hunter2-correct",
			[]string{"* NO h\r\n", "u\r\n", "n\r\n", "t\r\n", "er2-correct it was\r\n"},
			[]string{"* NO h", "***", "***", "***", "*** it was"}},
		{tok,
			[]string{"* NO bad token " + tok[:10] + "\r\n", tok[10:20] + "\r\n", tok[20:30] + "\r\n", tok[30:] + " end\r\n"},
			[]string{"* NO bad token ***", "***", "***", "*** end"}},
	} {
		checkEdgesStream(t, c.secret, c.lines, c.want)
	}
}

// TestCarryPartMarksNextStart: after CarryPart (a line's kept end, maybe
// only part of what it ended with, the line not cut), the next line's
// start is taken for a credential's rest that began before the kept end
// (2 bytes or more), as after a cut line; after CarryCut of a line that
// was not cut, it is not (the kept end is all there is).
func TestCarryPartMarksNextStart(t *testing.T) {
	var x Set
	x.AddString("correct-horse-battery-staple-and-more-words-\r\nhorse-battery-staple-rest")
	line := []byte("horse-battery-staple-rest is wrong")
	var c Carry
	x.Edges(&c, []byte("A1 NO bad password {44} <44 bytes>"), []byte("\r\n"))
	x.CarryPart(&c, []byte("-battery-staple-and-more-words-"), []byte("\r\n"))
	if head, _ := x.Edges(&c, line, []byte("\r\n")); head != len("horse-battery-staple-rest") {
		t.Errorf("after CarryPart, Edges(%q) = head %d; want %d", line, head, len("horse-battery-staple-rest"))
	}
	x.Edges(&c, []byte("A1 NO bad password {44} <44 bytes>"), []byte("\r\n"))
	x.CarryCut(&c, []byte("-battery-staple-and-more-words-"), []byte("\r\n"))
	if head, _ := x.Edges(&c, line, []byte("\r\n")); head != 0 {
		t.Errorf("after CarryCut of a line not cut, Edges(%q) = head %d; want 0", line, head)
	}
}

// TestEndPieceAgainstBrute: endPiece, the longest start of b that is an
// end of s (not all of s), compared one place at a time within a budget
// and past it by the reversed automaton, against a brute force, over
// random words and hostile ones (runs of near matches that exhaust the
// budget, so that both ways are taken), with the work bounded.
func TestEndPieceAgainstBrute(t *testing.T) {
	brute := func(b, s []byte) int {
		for k := min(len(b), len(s)-1); k > 0; k-- {
			if bytes.Equal(b[:k], s[len(s)-k:]) {
				return k
			}
		}
		return 0
	}
	a := func(n int) string { return strings.Repeat("a", n) }
	cases := [][2]string{
		{a(1000) + "x" + a(999), a(5000) + "y"},
		{a(2000) + "x", "b" + a(3000)},
		{a(3000), a(3000) + "b" + a(2999)},
		{a(30) + "c" + a(60) + "q", strings.Repeat(a(60)+"c", 40) + a(30)},
		{"ab", "xab"},
		{"", "ab"},
	}
	r := rand.New(rand.NewPCG(5, 9))
	for range 20000 {
		cases = append(cases, [2]string{string(randWord(r, "ab", r.IntN(12))), string(randWord(r, "ab", 1+r.IntN(12)))})
	}
	// Long words of near matches. The automaton (endPieceKMP, reading
	// both backwards with no copy) is checked on every case, whether or
	// not endPiece's budget runs out before it.
	for range 300 {
		cases = append(cases, [2]string{string(randWord(r, "aaaaaaab", 40+r.IntN(200))), string(randWord(r, "aaaaaaab", 41+r.IntN(200)))})
	}
	for _, c := range cases {
		b, s := []byte(c[0]), []byte(c[1])
		if len(b) == 0 {
			continue
		}
		var x Set
		if n := min(len(b), len(s)-1); n > 0 && x.endPieceKMP(b[:n], s) != brute(b, s) {
			t.Fatalf("endPieceKMP(%.40q, %.40q) = %d; want %d", b[:n], s, x.endPieceKMP(b[:n], s), brute(b, s))
		}
		x.work = 0
		if got, want := x.endPiece(b, s), brute(b, s); got != want {
			t.Fatalf("endPiece(%.40q, %.40q) = %d; want %d", b, s, got, want)
		}
		if n := min(len(b), len(s)); x.work > 64*n+4096 {
			t.Errorf("endPiece(%.40q, %.40q) looked at %d bytes for %d", b, s, x.work, n)
		}
	}
}

// TestEdgesLongEchoBrokenIntoPieces: a credential longer than the carry's
// bound (carryBack: 64 bytes, and 16 a byte of the line), a SASL token
// of 200 bytes, echoed a few bytes a line (with or without the line end
// between, as the server broke it, or with the credential's own line
// breaks as sent, lines of 3 bytes) has every piece after the first
// redacted, however many
// lines it is over: the stream's end is followed as a start of the form
// (Carry.full), each line compared with the form's next bytes, at a cost
// of the line's length. Carried only in its last carryBack bytes, the
// start was lost after them and the pieces after shown (118 of the 199
// one-byte pieces of such a token).
func TestEdgesLongEchoBrokenIntoPieces(t *testing.T) {
	raw := make([]byte, 150)
	for i := range raw {
		raw[i] = byte(i*37 + 11)
	}
	tok := base64.StdEncoding.EncodeToString(raw) // 200 bytes
	var withBreaks strings.Builder
	for i := 0; i < 150; i += 3 {
		withBreaks.WriteString(tok[i:i+3] + "\r\n")
	}
	withBreaks.WriteString("end")
	for _, c := range []struct {
		secret string
		steps  []int
	}{
		{tok, []int{1, 2, 5}},
		{withBreaks.String(), []int{3}}, // as sent: its lines of 3 bytes
	} {
		secret := c.secret
		for _, step := range c.steps {
			for _, end := range []string{"\r\n", "\n"} {
				var x Set
				x.AddString(secret)
				var c Carry
				// The server's lines: the secret's own line breaks kept, each
				// of its lines broken again every step bytes.
				var lines []string
				for _, part := range strings.SplitAfter(secret, "\r\n") {
					body := strings.TrimSuffix(part, "\r\n")
					for i := 0; i < len(body); i += step {
						lines = append(lines, body[i:min(i+step, len(body))]+end)
					}
					if len(part) > len(body) { // its own line end
						lines[len(lines)-1] = strings.TrimSuffix(lines[len(lines)-1], end) + "\r\n"
					}
				}
				lines[0] = "* NO bad " + lines[0]
				last := lines[len(lines)-1]
				lines[len(lines)-1] = strings.TrimRight(last, "\r\n") + " is wrong" + last[len(strings.TrimRight(last, "\r\n")):]
				for i, l := range lines {
					line := []byte(strings.TrimRight(l, "\r\n"))
					head, tail := x.Edges(&c, line, []byte(l[len(line):]))
					got := string(x.RedactEdges(line, head, tail, false))
					if i > 0 && !strings.HasPrefix(got, "***") {
						t.Fatalf("secret of %d bytes, %d bytes a line, line end %q: line %d %q redacted %q; want \"***\"...", len(secret), step, end, i, l, got)
					}
				}
			}
		}
	}
}

// TestEdgesCostLinearManySecrets: the carry's cost with every credential a
// Set keeps (MaxSecrets) each long and periodic, and a hostile stream of
// one-byte lines along them, a piece each: each line searches the carry
// (at most carryBack of the lines before) once a form, so a byte of the
// stream costs about 3,100 bytes looked at (31 before stop 60, when only
// the line before was carried; 2,500 with CR LF pieces), linear all the
// same: with carryBack unbounded it grows with the credentials' length.
func TestEdgesCostLinearManySecrets(t *testing.T) {
	var x Set
	for i := range MaxSecrets {
		x.Add(append(bytes.Repeat([]byte("xxy"), 1000+i), byte('A'+i)))
	}
	var c Carry
	total := 0
	for i := range 30000 {
		line, end := []byte{"xxy"[i%3]}, []byte("\n")
		total += len(line) + len(end)
		x.Edges(&c, line, end)
	}
	if x.work > 4096*total {
		t.Errorf("Edges looked at %d bytes for %d bytes of lines (%d a byte)", x.work, total, x.work/total)
	}
}
