package redact

import (
	"bytes"
	"flag"
	"testing"
)

// fullExhaustive runs the exhaustive tests at their full sizes (make fuzz
// sets it): under -race, as make test runs them, those took 31 s and 16 s
// on a loaded 2-core machine; make test runs them a size smaller.
var fullExhaustive = flag.Bool("redact-exhaustive", false, "TestTwoWayExhaustive and TestRedactExhaustive at their full sizes (lines of 12 and 7 bytes, not 11 and 6)")

// exhaustiveSize is full with -redact-exhaustive, full-1 without.
func exhaustiveSize(full int) int {
	if *fullExhaustive {
		return full
	}
	return full - 1
}

// allWords returns every word over alphabet of length lo to hi.
func allWords(alphabet string, lo, hi int) [][]byte {
	var out [][]byte
	cur := [][]byte{{}}
	for n := 0; n <= hi; n++ {
		if n >= lo {
			out = append(out, cur...)
		}
		var next [][]byte
		for _, w := range cur {
			for i := range len(alphabet) {
				next = append(next, append(append([]byte(nil), w...), alphabet[i]))
			}
		}
		cur = next
	}
	return out
}

// TestTwoWayExhaustive compares twoWay (from every start) with the brute
// force for every needle over {a,b} of 1 to 8 bytes and every line of up
// to 12 (11 and 7 without -redact-exhaustive): the bytes covered and the
// places a cut would split.
func TestTwoWayExhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive")
	}
	var x Set
	lines := allWords("ab", 0, exhaustiveSize(12))
	for _, s := range allWords("ab", 1, exhaustiveSize(8)) {
		for _, b := range lines {
			for from := 0; from <= len(b); from += 1 + len(b)/3 {
				var got, want []int
				x.twoWay(b, s, from, func(i, end int) bool { got = append(got, i, end); return true })
				for i := from; i+len(s) <= len(b); i++ {
					if bytes.Equal(b[i:i+len(s)], s) {
						want = append(want, i, i+len(s))
					}
				}
				if c, w := spans(got, len(b)), spans(want, len(b)); c != w {
					t.Fatalf("twoWay(%q, %q, %d) = %v, covers %s; want %v, %s", b, s, from, got, c, want, w)
				}
			}
		}
	}
}

// TestRedactExhaustive compares Redact and RedactCut (every cut) with the
// brute force for every credential over {a,b} of 1 to 5 bytes, alone and
// beside "ab" or "bba", in every line of up to 7 (6 without
// -redact-exhaustive). (Forms of 16 bytes or
// less are all found by bytes.Index: twoWay is TestTwoWayExhaustive's.)
func TestRedactExhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive")
	}
	lines := allWords("ab", 0, exhaustiveSize(7))
	for _, s := range allWords("ab", 1, 5) {
		for _, other := range []string{"", "ab", "bba"} {
			list := [][]byte{s}
			if other != "" && other != string(s) {
				list = append(list, []byte(other))
			}
			var x Set
			for _, l := range list {
				x.Add(l)
			}
			for _, line := range lines {
				for c := 0; c <= len(line); c++ {
					checkAgainstBrute(t, &x, list, line, c)
				}
			}
		}
	}
}
