package session

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/redact"
)

// TestLiteralGapsFound: literalGaps finds each "<N bytes>" the trace
// writes for a literal's body, with its header and the space before it
// ("{N}", "{N+}", "~{N}"), each header and its space alone (a body
// traced after it), and nothing that is not one; in a cut line, its end
// too, from a header or "<N bytes>" it ends inside of; a traced body's
// end, where the line goes on past it, as a gap of no width.
func TestLiteralGapsFound(t *testing.T) {
	for _, c := range []struct {
		line string
		cut  bool
		want []redact.Gap
	}{
		{"* 1 FETCH (X {11} <11 bytes> UID 7)", false, []redact.Gap{{From: 13, To: 28}}},
		{"* 1 FETCH (BODY[] {10} <10 bytes>rest)", false, []redact.Gap{{From: 18, To: 33}}},
		{"a {5+} <5 bytes> b ~{0} <0 bytes>", false, []redact.Gap{{From: 2, To: 16}, {From: 19, To: 33}}},
		{"<7 bytes>x", false, []redact.Gap{{From: 0, To: 9}}},
		{"x} <7 bytes>", false, []redact.Gap{{From: 3, To: 12}}}, // no '{': the body alone
		{"no gap: 7 bytes> < bytes> <7 bytes", false, nil},
		{"", false, nil},
		// Literals traced: the header and its space, the body after.
		// The body's end a gap of no width, where the line goes on
		// (a credential's piece after a junk body), in order among
		// the gaps a header-like text inside the body makes, that
		// text's own body end too (one at a time until stop 63); and a
		// real body's end after a header-like text's end inside it.
		{"* 1 FETCH (X hunter {11} rrect-horse)", false, []redact.Gap{{From: 20, To: 25}, {From: 36, To: 36}}},
		{"a ~{2+} xy {3} <3 b", false, []redact.Gap{{From: 2, To: 8}, {From: 10, To: 10}, {From: 11, To: 15}, {From: 18, To: 18}}},
		{"X {3} XXXrrect-h {2} YYorse)", false, []redact.Gap{{From: 2, To: 6}, {From: 9, To: 9}, {From: 17, To: 21}, {From: 23, To: 23}}},
		{"a {9} b {1} cd e", false, []redact.Gap{{From: 2, To: 6}, {From: 8, To: 12}, {From: 13, To: 13}, {From: 15, To: 15}}},
		{`* XECHO "a {19} b" hunter2-co {3} XXXrrect-horse`, false, []redact.Gap{{From: 11, To: 16}, {From: 30, To: 34}, {From: 35, To: 35}, {From: 37, To: 37}}},
		// Nine ends waiting at once, each kept (up to 8 until stop
		// 63: the real body's, the ninth, was left out); one strictly
		// inside a later header dropped, one twice kept once.
		{"\"{45} {45} {45} {45} {45} {45} {45} {45} \" x {1} y                                       ", false, []redact.Gap{
			{From: 1, To: 6}, {From: 6, To: 11}, {From: 11, To: 16}, {From: 16, To: 21}, {From: 21, To: 26}, {From: 26, To: 31}, {From: 31, To: 36}, {From: 36, To: 41},
			{From: 45, To: 49}, {From: 50, To: 50}, {From: 51, To: 51}, {From: 56, To: 56}, {From: 61, To: 61}, {From: 66, To: 66}, {From: 71, To: 71}, {From: 76, To: 76}, {From: 81, To: 81}, {From: 86, To: 86}}},
		{"a {2} {3} xyz w", false, []redact.Gap{{From: 2, To: 6}, {From: 6, To: 10}, {From: 13, To: 13}}},
		{"a {5} {1} xyz w", false, []redact.Gap{{From: 2, To: 6}, {From: 6, To: 10}, {From: 11, To: 11}}},
		{"a {3} xyz {2} yy {1} <1 bytes>", true, []redact.Gap{{From: 2, To: 6}, {From: 9, To: 9}, {From: 10, To: 14}, {From: 16, To: 16}, {From: 17, To: 30}, {From: 30, To: 30}}},
		{"a {4} {1} <1 bytes>x", false, []redact.Gap{{From: 2, To: 6}, {From: 6, To: 19}}},
		{"a {5} body", false, []redact.Gap{{From: 2, To: 6}}},
		{"a {5} bo", true, []redact.Gap{{From: 2, To: 6}, {From: 8, To: 8}}},
		{"no gap: {} {+} {1 {1}x ~ {1+2} 1} ", false, nil},
		// Cut: the end, from where a header or a body begins.
		{"a {5} <5 bytes> b", true, []redact.Gap{{From: 2, To: 15}, {From: 17, To: 17}}},
		{"a hunter2-co {", true, []redact.Gap{{From: 13, To: 14}}},
		{"a hunter2-co ~", true, []redact.Gap{{From: 13, To: 14}}},
		{"a hunter2-co ~{000", true, []redact.Gap{{From: 13, To: 18}}},
		{"a hunter2-co {11} <11 by", true, []redact.Gap{{From: 13, To: 24}}},
		{"a hunter2-co {11} ", true, []redact.Gap{{From: 13, To: 18}, {From: 18, To: 18}}},
		{"a hunter2-co ", true, []redact.Gap{{From: 13, To: 13}}},
		{"a <1", true, []redact.Gap{{From: 2, To: 4}}},
		{"a {1x", true, []redact.Gap{{From: 5, To: 5}}},
		{"", true, []redact.Gap{{From: 0, To: 0}}},
	} {
		got := literalGaps([]byte(c.line), c.cut, nil)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("literalGaps(%q, cut %v) = %v; want %v", c.line, c.cut, got, c.want)
		}
	}
}

// TestTraceLiteralLineAllocatesNothing: a server line with a literal's
// body in it ("BODY[] {5} <5 bytes>"), traced to a writer with a secret
// sent that is not in it, costs no allocation once the trace's buffers
// have grown: each gap's side before it is searched with and without
// the space before the header, and the two were a slice made for each
// gap.
//
// With literals traced (Options.TraceLiterals), each body's end is a gap
// too (tracedBodyEnd): a line with four literals has eight gaps, and
// still costs none.
func TestTraceLiteralLineAllocatesNothing(t *testing.T) {
	for _, c := range []struct {
		literals bool
		stream   string
	}{
		{false, "* 12 FETCH (UID 4012 BODY[] {5}\r\nhello FLAGS (\\Seen) X {3}\r\nabc)\r\n"},
		{true, "* 12 FETCH (UID 4012 BODY[] {5}\r\nhello FLAGS (\\Seen) X {3}\r\nabc Y {2}\r\nde Z {1}\r\nf)\r\n"},
	} {
		tr := newTracer(io.Discard, c.literals, nil, defaultHistory, DefaultTraceCapture)
		tr.secrets = new(secrets)
		tr.secrets.addString("hunter2-correct-horse")
		stream := []byte(c.stream)
		tr.server(stream) // the buffers the trace keeps grow once
		if got := testing.AllocsPerRun(20, func() { tr.server(stream) }); got != 0 {
			t.Errorf("literals traced %v: a line with literals' bodies in it costs %v allocations; want none", c.literals, got)
		}
	}
}

// TestLiteralGapsWithinMaxGaps: on random lines of literal headers,
// bodies' placeholders, their pieces and short bodies, cut or not,
// literalGaps finds no more gaps than maxGaps allows for the line's
// length: the tracer keeps a gaps buffer of at most that many
// (tracer.gaps), made again at the bound when a line grew it past.
func TestLiteralGapsWithinMaxGaps(t *testing.T) {
	pieces := []string{"{1} ", "{2} ", "X", "~{1} ", "{12} ", "<3 bytes>", "{1} <1 bytes>", "{", "}", " ", "<", "~", "9"}
	r := rand.New(rand.NewPCG(7, 62))
	for i := 0; i < 20000; i++ {
		var line []byte
		for n := r.IntN(40); n > 0; n-- {
			line = append(line, pieces[r.IntN(len(pieces))]...)
		}
		for _, cut := range []bool{false, true} {
			if got := literalGaps(line, cut, nil); len(got) > maxGaps(len(line)) {
				t.Fatalf("literalGaps(%q, cut %v) found %d gaps; maxGaps(%d) = %d", line, cut, len(got), len(line), maxGaps(len(line)))
			}
		}
	}
}

// TestRedactEchoPiecesAcrossLiteralLineEnds: a credential echoed in
// pieces parted by literals and line ends, a line ending with a
// literal's body and the next line opening with the credential's rest
// ("hunte" a body, "r2-co {2}" then the body "XX", "rrect-horse"), read
// a byte at a time with the defaults, literals traced or not: neither
// the trace nor history shows a piece of it. The carry after a line with
// a literal's body among its last bytes did not take the next line's
// start for a credential's rest (its piece before the body is not joined
// to it), and "rrect-horse" was shown.
func TestRedactEchoPiecesAcrossLiteralLineEnds(t *testing.T) {
	for _, literals := range []bool{false, true} {
		for _, s := range []string{
			"* 1 X {5}\r\nhunte\r\nr2-co {2}\r\nXX\r\nrrect-horse\r\n",
			"* 1 X {5}\r\nhunte\r\nr2-co {2}\r\nXX\r\nrrect-horse {2}\r\nYY\r\n",
			"* 1 X hunter2 {2}\r\nXX\r\n-correct-horse\r\n",
		} {
			var w bytes.Buffer
			tr := newTracer(&w, literals, nil, defaultHistory, DefaultTraceCapture)
			tr.secrets = new(secrets)
			tr.secrets.add([]byte("hunter2-correct-horse"))
			for i := range len(s) {
				tr.server([]byte(s[i : i+1]))
			}
			h := strings.Join(tr.history(), "\n")
			for _, p := range []string{"hunte", "r2-co", "rrect", "orse"} {
				if strings.Contains(w.String(), p) || strings.Contains(h, p) {
					t.Errorf("literals traced %v, %q: %q shows; trace:\n%shistory:\n%s", literals, s, p, w.String(), h)
					break
				}
			}
		}
	}
}
