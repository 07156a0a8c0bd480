package redact

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// TestRedactEdgesGapsSides: a line shown with text of the caller's in
// place of bytes it relays unshown (a literal's body, "{N bytes}") has
// a credential's part at each side of that gap redacted: its first part
// before the gap (with or without the space before a literal), its rest
// after it. RedactEdges of the whole line finds neither: no whole form,
// and neither part at the line's edges. Text that is no credential's
// part at a gap, and a part of one byte, are left as they are.
func TestRedactEdgesGapsSides(t *testing.T) {
	const pw = "hunter2-correct-horse"
	var x Set
	x.AddString(pw)
	gap := "{19 bytes}"
	for _, c := range []struct {
		name, before, after, want string
	}{
		{"rest after", "* 1 FETCH (BODY[] ", "rrect-horse UID 7)", "* 1 FETCH (BODY[] {19 bytes}*** UID 7)"},
		{"first part before, space", "* 1 FETCH (X hunter2-co ", " UID 7)", "* 1 FETCH (X *** {19 bytes} UID 7)"},
		{"first part before, no space", "* 1 FETCH (X hunter2-co", " UID 7)", "* 1 FETCH (X ***{19 bytes} UID 7)"},
		{"both", "* 1 FETCH (X hunter2-co ", "rrect-horse UID 7)", "* 1 FETCH (X *** {19 bytes}*** UID 7)"},
		{"two bytes each side", "* 1 FETCH (X hu ", "se UID 7)", "* 1 FETCH (X *** {19 bytes}*** UID 7)"},
		{"one byte each side", "* 1 FETCH (X h ", "e UID 7)", "* 1 FETCH (X h {19 bytes}e UID 7)"},
		{"none", "* 1 FETCH (BODY[] ", " UID 7)", "* 1 FETCH (BODY[] {19 bytes} UID 7)"},
		{"gap last", "* LIST () \"/\" hunter2-co ", "", "* LIST () \"/\" *** {19 bytes}"},
	} {
		line := []byte(c.before + gap + c.after)
		g := Gap{len(c.before), len(c.before) + len(gap)}
		if got := string(x.RedactEdgesGaps(line, 0, 0, false, []Gap{g})); got != c.want {
			t.Errorf("%s: RedactEdgesGaps(%q) = %q; want %q", c.name, line, got, c.want)
		}
		if got := x.RedactEdgesGaps(line, 0, 0, false, nil); !bytes.Equal(got, x.RedactEdges(line, 0, 0, false)) {
			t.Errorf("%s: RedactEdgesGaps with no gap = %q; RedactEdges = %q", c.name, got, x.RedactEdges(line, 0, 0, false))
		}
	}
	// Two gaps, the text between them a credential's end and another's
	// start; and a whole form beside a gap.
	line := []byte("* 1 FETCH (A " + gap + "-horse B hunter " + gap + " " + pw + " " + gap + ")")
	g1 := strings.Index(string(line), gap)
	g2 := g1 + len(gap) + len("-horse B hunter ")
	g3 := g2 + len(gap) + len(" "+pw+" ")
	got := string(x.RedactEdgesGaps(line, 0, 0, false, []Gap{{g1, g1 + len(gap)}, {g2, g2 + len(gap)}, {g3, g3 + len(gap)}}))
	if want := "* 1 FETCH (A {19 bytes}*** B *** {19 bytes} *** {19 bytes})"; got != want {
		t.Errorf("three gaps: RedactEdgesGaps(%q) = %q; want %q", line, got, want)
	}
}

// TestRedactEdgesGapsWholeFormNoSide: a line with a gap and a whole
// credential away from it, no part of one at the gap's sides, has the
// credential redacted as Redact (and RedactCut, for a cut line) would:
// the gaps add covers, they never take one away.
func TestRedactEdgesGapsWholeFormNoSide(t *testing.T) {
	const pw = "hunter2-correct-horse"
	var x Set
	x.AddString(pw)
	gap := "{5 bytes}"
	before := "* 1 FETCH (X-ECHO " + pw + " BODY[] "
	g := []Gap{{len(before), len(before) + len(gap)}}
	line := []byte(before + gap + " UID 7)")
	if got, want := string(x.RedactEdgesGaps(line, 0, 0, false, g)), "* 1 FETCH (X-ECHO *** BODY[] {5 bytes} UID 7)"; got != want {
		t.Errorf("RedactEdgesGaps(%q) = %q; want %q", line, got, want)
	}
	// Cut short after a start of the credential: cut there, as
	// RedactCut cuts.
	line = []byte(before + gap + " X " + pw[:9])
	if got, want := string(x.RedactEdgesGaps(line, 0, 0, true, g)), "* 1 FETCH (X-ECHO *** BODY[] {5 bytes} X "; got != want {
		t.Errorf("cut: RedactEdgesGaps(%q) = %q; want %q", line, got, want)
	}
	if got, want := string(x.RedactEdgesGaps(line, 0, 0, true, g)), string(x.RedactCut(line)); got != want {
		t.Errorf("cut: RedactEdgesGaps(%q) = %q; RedactCut = %q", line, got, want)
	}
}

// TestRedactEdgesGapsLeavesCallersText: the side parts are looked for in
// the server's text between two gaps only, never in the caller's own
// text of a gap ("{5 bytes}"), which holds no byte of a credential: a
// credential whose start is the end of that text and the bytes after
// it, or whose end is the bytes before the next gap and the start of its
// text, is not taken for one there.
func TestRedactEdgesGapsLeavesCallersText(t *testing.T) {
	gap := "{5 bytes}"
	for _, c := range []struct{ name, pw string }{
		{"a start through the gap before", "s}hunter9"}, // "s}" of the gap, "hu" after it
		{"an end into the gap after", "9xhu{5"},         // "hu" before the gap, "{5" of it
	} {
		var x Set
		x.AddString(c.pw)
		line := "* 1 FETCH (A " + gap + "hu" + gap + ")"
		g1 := len("* 1 FETCH (A ")
		g2 := g1 + len(gap) + len("hu")
		got := string(x.RedactEdgesGaps([]byte(line), 0, 0, false, []Gap{{g1, g1 + len(gap)}, {g2, g2 + len(gap)}}))
		if got != line {
			t.Errorf("%s: RedactEdgesGaps(%q) with %q = %q; want it unchanged", c.name, line, c.pw, got)
		}
	}
}

// hostileGapLine returns a line of up to 64 KiB (the session trace's
// capture) of gaps, "{0 bytes}", each after seg bytes of "a", and 16 credentials
// of 4 KB of "a" but for their last byte: every side of every gap is a
// part of each (TestRedactEdgesGapsWorkBounded's line). With spaced, the
// seg bytes are "a a ...", maxGapSep spaces come before each gap, and the
// credentials are "a a ..." of 4 KB: every count of the spaces is tried
// for a start of each, a side's search each.
func hostileGapLine(seg int, spaced bool) (*Set, []byte, []Gap) {
	x := new(Set)
	fill, sep := bytes.Repeat([]byte("a"), seg), 0
	for i := range 16 {
		if spaced {
			x.Add(append(bytes.Repeat([]byte("a "), 2000+i), 'b'))
		} else {
			x.Add(append(bytes.Repeat([]byte("a"), 4000+i), 'b'))
		}
	}
	if spaced {
		fill, sep = bytes.Repeat([]byte("a "), seg/2+1)[:seg], maxGapSep
	}
	gap := []byte("{0 bytes}")
	var line []byte
	var gaps []Gap
	for len(line)+seg+sep+len(gap) <= capture {
		line = append(line, fill...)
		line = append(line, bytes.Repeat([]byte(" "), sep)...)
		gaps = append(gaps, Gap{len(line), len(line) + len(gap)})
		line = append(line, gap...)
	}
	return x, line, gaps
}

// TestRedactEdgesGapsWorkBounded: a line of many gaps (a hostile
// server's line of empty literals, each printed "{0 bytes}") with near
// matches of every credential between them costs a few bytes looked at
// a byte of the line a form, as Redact: each side is searched within
// the text between two gaps, never from the line's start or to its end
// (which costs a form's length a gap: 100 to 3,300 a byte a form for
// 16 credentials of 4 KB). work counts the bytes looked at; 28 (32
// spaced) is the most measured, against the bound of 40. The same with each
// gap after maxGapSep spaces and credentials that hold spaces (spaced: every
// count of the spaces is
// tried for a start of each, a side's search each).
func TestRedactEdgesGapsWorkBounded(t *testing.T) {
	for _, spaced := range []bool{false, true} {
		for _, seg := range []int{1, 9, 16, 40, 100, 1000} {
			x, line, gaps := hostileGapLine(seg, spaced)
			forms := 0
			x.Forms(func([]byte, bool) { forms++ })
			x.work = 0
			x.RedactEdgesGaps(line, 0, 0, false, gaps)
			if bound := 40 * len(line) * forms; x.work > bound {
				t.Errorf("%d bytes between gaps (spaced %v): looked at %d bytes of a %d-byte line with %d gaps, more than %d (%d forms)", seg, spaced, x.work, len(line), len(gaps), bound, forms)
			} else {
				t.Logf("%d bytes between gaps (spaced %v): %d a byte a form", seg, spaced, x.work/len(line)/forms)
			}
		}
	}
}

// TestRedactEdgesGapsAllocations: RedactEdgesGaps of a hostile line of
// 64 KiB of gaps allocates the line it returns and nothing a gap or a
// form: the sides found were gathered in a slice grown a gap at a time,
// and each side compared backwards past its budget copied both the
// line's part and the credential (0.3 to 2.3 MB and up to 19,000
// allocations a line, all garbage at once).
func TestRedactEdgesGapsAllocations(t *testing.T) {
	for _, seg := range []int{1, 9, 100, 1000} {
		x, line, gaps := hostileGapLine(seg, false)
		x.RedactEdgesGaps(line, 0, 0, false, gaps) // the cover and table grown once
		if a := testing.AllocsPerRun(5, func() { x.RedactEdgesGaps(line, 0, 0, false, gaps) }); a > 1 {
			t.Errorf("%d bytes between %d gaps: %v allocations a line; want at most 1 (the line returned)", seg, len(gaps), a)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 5
		for range runs {
			x.RedactEdgesGaps(line, 0, 0, false, gaps)
		}
		runtime.ReadMemStats(&after)
		// The line returned, rounded up to the allocator's pages (8 KiB).
		if got, bound := (after.TotalAlloc-before.TotalAlloc)/runs, uint64(len(line)+8<<10); got > bound {
			t.Errorf("%d bytes between %d gaps: %d bytes allocated a line of %d; want at most %d (the line returned)", seg, len(gaps), got, len(line), bound)
		}
	}
}

// TestRedactEdgesGapsSpacesBeforeHeader: a credential's first part before
// a literal's header is redacted with more than one space between them
// (a server that pads its lines), up to maxGapSep, the spaces left shown;
// and a credential that holds spaces has its part redacted with its own
// spaces, the separator's after them shown. Until stop 62 only one space
// was allowed for: "hunter2-co  {21 bytes}" showed its first part.
func TestRedactEdgesGapsSpacesBeforeHeader(t *testing.T) {
	gap := "{21 bytes}"
	for _, c := range []struct {
		name, pw, before, want string
	}{
		{"two spaces", "hunter2-correct-horse", "* 1 FETCH (X hunter2-co  ", "* 1 FETCH (X ***  {21 bytes})"},
		{"three spaces", "hunter2-correct-horse", "* 1 FETCH (X hunter2-co   ", "* 1 FETCH (X ***   {21 bytes})"},
		{"maxGapSep spaces", "hunter2-correct-horse", "* 1 FETCH (X hunter2-co" + strings.Repeat(" ", maxGapSep), "* 1 FETCH (X ***" + strings.Repeat(" ", maxGapSep) + "{21 bytes})"},
		// Past the bound, not looked for (documented: maxGapSep).
		{"more than maxGapSep spaces", "hunter2-correct-horse", "* 1 FETCH (X hunter2-co" + strings.Repeat(" ", maxGapSep+1), "* 1 FETCH (X hunter2-co" + strings.Repeat(" ", maxGapSep+1) + "{21 bytes})"},
		// The credential's space ends its part; two of the separator's.
		{"a credential's own space", "correct horse battery", "* 1 FETCH (X correct   ", "* 1 FETCH (X ***  {21 bytes})"},
		{"a credential's own two spaces", "correct  horse battery", "* 1 FETCH (X correct    ", "* 1 FETCH (X ***  {21 bytes})"},
		{"spaces, no part", "hunter2-correct-horse", "* 1 FETCH (BODY[]   ", "* 1 FETCH (BODY[]   {21 bytes})"},
	} {
		var x Set
		x.AddString(c.pw)
		line := []byte(c.before + gap + ")")
		g := []Gap{{len(c.before), len(c.before) + len(gap)}}
		if got := string(x.RedactEdgesGaps(line, 0, 0, false, g)); got != c.want {
			t.Errorf("%s: RedactEdgesGaps(%q) = %q; want %q", c.name, line, got, c.want)
		}
	}
}

// TestRedactEdgesGapsMiddlePieces: a credential echoed with literals
// inside it has its middle pieces redacted, each a piece of text between
// two gaps (or between a gap and the line's start or end) that lies
// wholly inside it, neither a start nor an end of it, minMiddle bytes or
// more: as the proxy shows the literals ("{N bytes}"), as the session's
// trace does ("{N} <N bytes>"), and with literals traced (the header
// "{N} " a gap, the body shown). Until stop 62 the first and last pieces
// were redacted and the middle ones shown ("rrect-h"). A piece shorter
// than minMiddle, and ordinary text between literals, are left as they
// are.
func TestRedactEdgesGapsMiddlePieces(t *testing.T) {
	const pw = "hunter2-correct-horse"
	for _, c := range []struct {
		name  string
		parts []string // text, then gap, text, gap, ..., text
		want  string
	}{
		{"proxy", []string{"* 1 FETCH (X hunter2-co", "{3 bytes}", "rrect-h", "{2 bytes}", "orse)"},
			"* 1 FETCH (X ***{3 bytes}***{2 bytes}***)"},
		{"session", []string{"* 1 FETCH (X hunter2-co", "{3} <3 bytes>", "rrect-h", "{2} <2 bytes>", "orse)"},
			"* 1 FETCH (X ***{3} <3 bytes>***{2} <2 bytes>***)"},
		{"session, literals traced", []string{"* 1 FETCH (X hunter2-co ", "{7} ", "rrect-h ", "{4} ", "orse)"},
			"* 1 FETCH (X *** {7} *** {4} ***)"},
		{"separator spaces", []string{"* 1 FETCH (X ", "{3 bytes}", "r2-corr   ", "{2 bytes}", ")"},
			"* 1 FETCH (X {3 bytes}***   {2 bytes})"},
		{"three pieces between", []string{"* X ", "{1 bytes}", "ter", "{1 bytes}", "-co", "{1 bytes}", "rec", "{1 bytes}", " Y"},
			"* X {1 bytes}***{1 bytes}***{1 bytes}***{1 bytes} Y"},
		// Beside a gap at the line's end, and at its start: the
		// credential goes on past the line end, or began before it.
		{"piece at the line's end", []string{"* 1 FETCH (X ", "{3 bytes}", "rrect-h"},
			"* 1 FETCH (X {3 bytes}***"},
		{"piece at the line's start", []string{"rrect-h", "{3 bytes}", " UID 7)"},
			"***{3 bytes} UID 7)"},
		{"two bytes between", []string{"* X ", "{3 bytes}", "te", "{3 bytes}", " Y"},
			"* X {3 bytes}te{3 bytes} Y"},
		{"ordinary text between", []string{"* 1 FETCH (BODY[1] ", "{3 bytes}", " BODY[2] ", "{3 bytes}", " UID 7)"},
			"* 1 FETCH (BODY[1] {3 bytes} BODY[2] {3 bytes} UID 7)"},
	} {
		checkGapParts(t, pw, c.name, c.parts, c.want)
	}
}

// TestRedactEdgesGapsMiddleBudget: a hostile line of 64 KiB of gaps with
// a piece between each two that is made of a credential's bytes but lies
// nowhere in it (each searched for at the cost of the credential's
// length) costs a few bytes looked at a byte of the line a form: past
// the budget, such pieces are redacted unsearched (the line has more
// redacted, never less), and a piece of the credential late in the line
// is redacted still. Ordinary text past the budget, bytes no credential
// holds, is shown.
func TestRedactEdgesGapsMiddleBudget(t *testing.T) {
	var x Set
	for i := range 16 {
		x.Add(append(bytes.Repeat([]byte("ab"), 2000+i), 'c', 'd', 'e'))
	}
	forms := 0
	x.Forms(func([]byte, bool) { forms++ })
	gap := []byte("{0 bytes}")
	var line []byte
	var gaps []Gap
	add := func(piece string) {
		line = append(line, piece...)
		gaps = append(gaps, Gap{len(line), len(line) + len(gap)})
		line = append(line, gap...)
	}
	add("* 1 FETCH (")
	for len(line) < capture-64 {
		add("aab") // "aa" is in no credential
	}
	add(" UID ")
	add("babcd") // a piece of every credential, late in the line
	x.work = 0
	got := x.RedactEdgesGaps(line, 0, 0, false, gaps)
	if bound := 40 * len(line) * forms; x.work > bound {
		t.Errorf("looked at %d bytes of a %d-byte line with %d gaps, more than %d (%d forms)", x.work, len(line), len(gaps), bound, forms)
	}
	if !bytes.HasSuffix(got, []byte("{0 bytes} UID {0 bytes}***{0 bytes}")) {
		t.Errorf("RedactEdgesGaps of the hostile line ends %q; want the credential's piece redacted, \" UID \" shown", got[max(0, len(got)-60):])
	}
}

// TestRedactEdgesGapsShortPiecesAligned: a credential echoed with
// literals inside it, a piece of 1 or 2 bytes of it between two, has
// that piece redacted where the parts of it on either side (an anchor's
// end, the next segment's start) and the piece joined lie in the
// credential: as the proxy and the session show the literals, with
// literals traced and their bodies junk or the credential's, several
// short pieces in a row. A short piece that does not join its
// neighbours so (another piece of the credential, other text), or that
// has no part of it on one side, is left shown: alone, 1 byte lies
// inside a credential too often to be taken for its length.
func TestRedactEdgesGapsShortPiecesAligned(t *testing.T) {
	const pw = "hunter2-correct-horse"
	for _, c := range []struct {
		name  string
		parts []string // text, then gap, text, gap, ..., text; "" a gap of no width (a traced body's end)
		want  string
	}{
		{"proxy, 2 bytes", []string{"* 1 FETCH (X hunter2-co", "{3 bytes}", "rr", "{2 bytes}", "ect-horse)"},
			"* 1 FETCH (X ***{3 bytes}***{2 bytes}***)"},
		{"proxy, 1 byte", []string{"* 1 FETCH (X hunter2-co", "{3 bytes}", "r", "{2 bytes}", "rect-h", "{1 bytes}", "orse)"},
			"* 1 FETCH (X ***{3 bytes}***{2 bytes}***{1 bytes}***)"},
		{"session", []string{"* 1 FETCH (X hunter2-co", "{3} <3 bytes>", "rr", "{2} <2 bytes>", "ect-horse)"},
			"* 1 FETCH (X ***{3} <3 bytes>***{2} <2 bytes>***)"},
		{"two short pieces in a row", []string{"X hunter2", "{1 bytes}", "-c", "{1 bytes}", "or", "{1 bytes}", "rect-horse)"},
			"X ***{1 bytes}***{1 bytes}***{1 bytes}***)"},
		{"between two middle pieces", []string{"X ", "{1 bytes}", "ter2-c", "{1 bytes}", "o", "{1 bytes}", "rrect-", "{1 bytes}", " Y"},
			"X {1 bytes}***{1 bytes}***{1 bytes}***{1 bytes} Y"},
		{"separator spaces", []string{"X hunter2-co ", "{3} <3 bytes>", "rr ", "{2} <2 bytes>", "ect-horse)"},
			"X *** {3} <3 bytes>*** {2} <2 bytes>***)"},
		{"literals traced, junk bodies", []string{"X hunter2-co ", "{3} ", "XXX", "", "rr ", "{2} ", "YY", "", "ect-horse)"},
			"X *** {3} XXX*** {2} YY***)"},
		{"literals traced, the credential's bodies", []string{"X hunter2-co ", "{2} ", "rr", "", "e ", "{1} ", "c", "", "t-horse)"},
			"X *** {2} *** {1} ***)"},
		// Left shown.
		{"not where the credential has it", []string{"* 1 FETCH (X hunter2-co", "{3 bytes}", "ho", "{2 bytes}", "ect-horse)"},
			"* 1 FETCH (X ***{3 bytes}ho{2 bytes}***)"},
		{"other text", []string{"* 1 FETCH (X hunter2-co", "{3 bytes}", "zz", "{2 bytes}", "ect-horse)"},
			"* 1 FETCH (X ***{3 bytes}zz{2 bytes}***)"},
		{"no part before", []string{"* 1 FETCH (X ", "{3 bytes}", "rr", "{2 bytes}", "ect-horse)"},
			"* 1 FETCH (X {3 bytes}rr{2 bytes}***)"},
		{"no part after", []string{"* 1 FETCH (X hunter2-co", "{3 bytes}", "rr", "{2 bytes}", " UID 7)"},
			"* 1 FETCH (X ***{3 bytes}rr{2 bytes} UID 7)"},
		{"text between", []string{"* 1 FETCH (X hunter2-co", "{3 bytes}", "rr", "{2 bytes}", " UID ", "{2 bytes}", "ect-horse)"},
			"* 1 FETCH (X ***{3 bytes}rr{2 bytes} UID {2 bytes}***)"},
	} {
		checkGapParts(t, pw, c.name, c.parts, c.want)
	}
}

// TestRedactEdgesGapsLongFormOrdinaryPieces: with a long credential kept
// (a 2 KB XOAUTH2 token, base64), a traced FETCH of an ENVELOPE and a
// BODYSTRUCTURE whose strings are literals ("{4} text", "{5} plain", each
// body's end a gap of no width) has nothing redacted: each body is a
// piece made of the token's bytes, and its search costs the token's
// length; the budget was used up after two or three of them, and every
// later one redacted unsearched ("({4} *** {5} *** ({7} *** {3} ***)",
// 19 of 21 such lines of the transcripts until stop 63). The token's own
// piece among them is redacted still. Defaults.
func TestRedactEdgesGapsLongFormOrdinaryPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	const al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	tok := make([]byte, 1500)
	for i := range tok {
		tok[i] = al[r.IntN(len(al))]
	}
	token := base64.StdEncoding.EncodeToString([]byte("user=alice@example.com\x01auth=Bearer " + string(tok) + "\x01\x01"))
	var x Set
	x.AddString(token)
	words := []string{"Mon, 6 Jul 2026", "Fw Q3 plan", "Li Wei", "liwei", "example", "com", "team", "text", "plain", "charset", "GBK",
		"base64", "application", "octet-stream", "name", "attachment", "filename", "Q3plan", "docx", "mixed", "boundary", "Part1"}
	build := func(words []string) ([]byte, []Gap) {
		line := []byte("* 1 FETCH (UID 1 ENVELOPE (")
		var gaps []Gap
		for _, w := range words {
			h := fmt.Sprintf("{%d} ", len(w))
			gaps = append(gaps, Gap{len(line), len(line) + len(h)})
			line = append(line, h...)
			line = append(line, w...)
			gaps = append(gaps, Gap{len(line), len(line)})
			line = append(line, " NIL "...)
		}
		return append(line, "))"...), gaps
	}
	line, gaps := build(words)
	if got := x.RedactEdgesGaps(line, 0, 0, false, gaps); !bytes.Equal(got, line) {
		t.Errorf("RedactEdgesGaps(%q) = %q; want it unchanged", line, got)
	}
	piece := token[700:712]
	line, gaps = build(append(words, piece))
	if got := x.RedactEdgesGaps(line, 0, 0, false, gaps); bytes.Contains(got, []byte(piece)) {
		t.Errorf("RedactEdgesGaps(%q) = %q; want the token's piece %q redacted", line, got, piece)
	}
}

// TestRedactEdgesGapsJunkAndCredentialBody: with literals traced, a body
// that is junk then a piece of the credential ("{10} XXXrrect-h"), or
// that piece then junk, between two parts of the credential found
// beside the run it is in, has the piece redacted: its longest end (or
// start) that joins those parts in the credential, the other bodies
// junk. It showed until stop 63 ("X *** {10} XXXrrect-h {2} YY***)"):
// neither the body whole nor nothing of it joins them. A body with no
// such end or start is left shown.
func TestRedactEdgesGapsJunkAndCredentialBody(t *testing.T) {
	const pw = "hunter2-correct-horse"
	for _, c := range []struct {
		name  string
		parts []string // text, then gap, text, ...; "" a gap of no width
		want  string
	}{
		{"junk, then the piece", []string{"X hunter2-co ", "{10} ", "XXXrrect-h", "", " ", "{2} ", "YY", "", "orse)"},
			"X *** {10} XXX*** {2} YY***)"},
		{"the piece, then junk", []string{"X hunter2-co ", "{10} ", "rrect-hXXX", "", " ", "{2} ", "YY", "", "orse)"},
			"X *** {10} ***XXX {2} YY***)"},
		{"junk, then 2 bytes", []string{"X hunter2-corre ", "{5} ", "XXXct", "", " ", "{2} ", "YY", "", "-horse)"},
			"X *** {5} XXX*** {2} YY***)"},
		{"no such end", []string{"X hunter2-co ", "{10} ", "XXXbanana!", "", " ", "{2} ", "YY", "", "orse)"},
			"X *** {10} XXXbanana! {2} YY***)"},
		{"no part after", []string{"X hunter2-co ", "{10} ", "XXXrrect-h", "", " ", "{2} ", "YY", "", " UID 7)"},
			"X *** {10} XXXrrect-h {2} YY UID 7)"},
	} {
		checkGapParts(t, pw, c.name, c.parts, c.want)
	}
}

// TestRedactEdgesGapsWorkBoundedBodies: a hostile line of 64 KiB of
// traced bodies, each junk then bytes of 16 credentials of 4 KB,
// between parts of them ("aa", a header, "Xaaaaaaaa", its end, "ab aa",
// ...): each body's end that joins its neighbours is searched for at a
// credential's length (markBodyPart), within the middle pieces' budget:
// a few bytes looked at a byte of the line a form, as the other gap
// tests.
func TestRedactEdgesGapsWorkBoundedBodies(t *testing.T) {
	var x Set
	for i := range 16 {
		x.Add(append(bytes.Repeat([]byte("a"), 4000+i), 'b'))
	}
	forms := 0
	x.Forms(func([]byte, bool) { forms++ })
	for _, body := range []string{"Xaaaaaaaa", "aaaaaaaaX", "X" + strings.Repeat("a", 200)} {
		line := []byte("* aa")
		var gaps []Gap
		for len(line) < capture-300 {
			gaps = append(gaps, Gap{len(line), len(line) + 4})
			line = append(line, "{9} "...)
			line = append(line, body...)
			gaps = append(gaps, Gap{len(line), len(line)})
			line = append(line, "ab aa"...)
		}
		x.work = 0
		x.RedactEdgesGaps(line, 0, 0, false, gaps)
		if bound := 40 * len(line) * forms; x.work > bound {
			t.Errorf("body %.12q: looked at %d bytes of a %d-byte line with %d gaps, more than %d (%d forms)", body, x.work, len(line), len(gaps), bound, forms)
		} else {
			t.Logf("body %.12q: %d a byte a form", body, x.work/len(line)/forms)
		}
	}
}

// TestRedactEdgesGapsWorkBoundedLongRunOfBodies: a hostile line of 64
// KiB, one run of thousands of junk traced bodies between a part of 16
// credentials of 4 KB ("aa") and one of them ("ab"), a byte of other text
// after the first part and before the last ("z", so that neither side
// lies in a credential): each body's end (and start) is looked for
// (markBodyPart), and each such search walked the whole run and looked
// at the whole credential for a side not in it at a cost counted as the
// side's length, outside the budget: the line took 33 s (4,660 bodies
// walked 4,660 times a form). Now within the middle pieces' budget: a
// few bytes looked at a byte of the line a form, as the other gap tests.
func TestRedactEdgesGapsWorkBoundedLongRunOfBodies(t *testing.T) {
	var x Set
	for i := range 16 {
		x.Add(append(bytes.Repeat([]byte("a"), 4000+i), 'b'))
	}
	forms := 0
	x.Forms(func([]byte, bool) { forms++ })
	var line []byte
	var gaps []Gap
	literal := func(header, body string) {
		gaps = append(gaps, Gap{len(line), len(line) + len(header)})
		line = append(line, header...)
		line = append(line, body...)
		gaps = append(gaps, Gap{len(line), len(line)})
	}
	line = append(line, "* aa "...)
	literal("{1} ", "Q")
	line = append(line, " z "...)
	for len(line) < capture-300 {
		literal("{9} ", "XXXXXXXXX")
		line = append(line, ' ')
	}
	line = append(line, "z "...)
	literal("{1} ", "Q")
	line = append(line, "ab"...)
	x.work = 0
	got := x.RedactEdgesGaps(line, 0, 0, false, gaps)
	if bound := 40 * len(line) * forms; x.work > bound {
		t.Errorf("looked at %d bytes of a %d-byte line with %d gaps, more than %d (%d forms)", x.work, len(line), len(gaps), bound, forms)
	} else {
		t.Logf("%d a byte a form", x.work/len(line)/forms)
	}
	if !bytes.HasSuffix(got, []byte("Q***")) {
		t.Errorf("RedactEdgesGaps of the hostile line ends %q; want the credential's end redacted", got[max(0, len(got)-40):])
	}
}

// checkGapParts checks RedactEdgesGaps, with pw kept, of the line parts
// make (text, then a gap's text, text, ...: each odd part a gap) against
// want.
func checkGapParts(t *testing.T, pw, name string, parts []string, want string) {
	t.Helper()
	var x Set
	x.AddString(pw)
	var line []byte
	var gaps []Gap
	for i, p := range parts {
		if i%2 == 1 {
			gaps = append(gaps, Gap{len(line), len(line) + len(p)})
		}
		line = append(line, p...)
	}
	if got := string(x.RedactEdgesGaps(line, 0, 0, false, gaps)); got != want {
		t.Errorf("%s: RedactEdgesGaps(%q) = %q; want %q", name, line, got, want)
	}
}
