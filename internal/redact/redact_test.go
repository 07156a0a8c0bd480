package redact

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// refForms returns the forms a Set looks for s in, computed apart from the
// package: as it is, as strconv.Quote writes it and with '"' and '\\'
// escaped.
func refForms(s []byte) [][]byte {
	q := strconv.Quote(string(s))
	w := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(string(s))
	return [][]byte{s, []byte(q[1 : len(q)-1]), []byte(w)}
}

// refFormsOf returns every form of every secret in list.
func refFormsOf(list [][]byte) [][]byte {
	var all [][]byte
	for _, s := range list {
		all = append(all, refForms(s)...)
	}
	return all
}

// bruteRedact is Redact found by brute force: every byte inside a whole
// form is marked, each run of marked bytes becomes "***".
func bruteRedact(b []byte, forms [][]byte) []byte {
	mark := make([]bool, len(b))
	any := false
	for _, f := range forms {
		for i := 0; i+len(f) <= len(b); i++ {
			if len(f) > 0 && bytes.Equal(b[i:i+len(f)], f) {
				for j := i; j < i+len(f); j++ {
					mark[j] = true
				}
				any = true
			}
		}
	}
	if !any {
		return b
	}
	var out []byte
	for i := 0; i < len(b); i++ {
		if !mark[i] {
			out = append(out, b[i])
			continue
		}
		out = append(out, "***"...)
		for i+1 < len(b) && mark[i+1] {
			i++
		}
	}
	return out
}

// bruteCut is where RedactCut should cut b: the latest n before every
// end of b that starts a form (not all of it) and inside no whole form
// in b.
func bruteCut(b []byte, forms [][]byte) int {
	n := len(b)
	for _, s := range forms {
		for k := min(len(b), len(s)-1); k > 0; k-- {
			if bytes.Equal(b[len(b)-k:], s[:k]) {
				n = min(n, len(b)-k)
				break
			}
		}
	}
	for ; n > 0; n-- {
		split := false
		for _, s := range forms {
			for i := max(0, n-len(s)+1); i < n && i+len(s) <= len(b); i++ {
				split = split || bytes.Equal(b[i:i+len(s)], s)
			}
		}
		if !split {
			break
		}
	}
	return n
}

// brutePartial is partialSuffix by brute force.
func brutePartial(b, s []byte) int {
	for k := min(len(b), len(s)-1); k > 0; k-- {
		if bytes.Equal(b[len(b)-k:], s[:k]) {
			return k
		}
	}
	return 0
}

// checkAgainstBrute checks Redact and RedactCut of line and of line[:c]
// against the brute-force references, and that the cut shows a prefix of
// what the whole line shows.
func checkAgainstBrute(t *testing.T, x *Set, list [][]byte, line []byte, c int) {
	t.Helper()
	forms := refFormsOf(list)
	whole := x.Redact(line)
	if want := bruteRedact(line, forms); !bytes.Equal(whole, want) {
		t.Fatalf("secrets %q: Redact(%q) = %q; want %q", list, line, whole, want)
	}
	got := x.RedactCut(line[:c])
	if !bytes.HasPrefix(whole, got) {
		t.Fatalf("secrets %q: RedactCut(%q) = %q, not a prefix of %q (the line %q redacted)", list, line[:c], got, whole, line)
	}
	if want := bruteRedact(line[:bruteCut(line[:c], forms)], forms); !bytes.Equal(got, want) {
		t.Fatalf("secrets %q: RedactCut(%q) = %q; want %q", list, line[:c], got, want)
	}
}

// TestPartialSuffix compares partialSuffix, its automaton and its scan
// (whatever the scan's budget) with the obvious quadratic search on random
// strings over a small alphabet (many partial matches), one letter of
// which may be 15 times as frequent as the other.
func TestPartialSuffix(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 1))
	alphabet := "ab"
	word := func(n int) []byte { return randWord(r, alphabet, n) }
	var x Set
	for i := range 60000 {
		alphabet = "ab"
		b, s := word(r.IntN(12)), word(r.IntN(16))
		if i%3 != 0 { // past the scan's 16 bytes
			if i%3 == 2 { // its 16 bytes found at many places
				alphabet = "aaaaaaaaaaaaaaab"
			}
			b, s = word(r.IntN(60)), word(r.IntN(70))
			copy(s, b[r.IntN(len(b)+1):]) // more of s's start at b's end
		}
		want := brutePartial(b, s)
		if got := partialSuffix(b, s); got != want {
			t.Fatalf("partialSuffix(%q, %q) = %d; want %d", b, s, got, want)
		}
		if len(s) < 2 || len(b) == 0 {
			continue
		}
		tail := b[max(0, len(b)-(len(s)-1)):]
		if got := x.partialSuffixKMP(tail, s); got != want {
			t.Fatalf("partialSuffixKMP(%q, %q) = %d; want %d", tail, s, got, want)
		}
		for _, budget := range []int{0, 1, 3, 16, 40, 100, partialSuffixQuick + 16*len(tail), 1 << 20} {
			if got, left := partialSuffixScan(tail, s, budget); left >= 0 && got != want {
				t.Fatalf("partialSuffixScan(%q, %q, %d) = %d; want %d", tail, s, budget, got, want)
			}
		}
	}
}

// TestPartialSuffixLongSecretsAllPaths is TestPartialSuffix for secrets
// of 2 to 48 bytes: the scan's 16-byte path is taken only by secrets of
// 16 bytes or more.
func TestPartialSuffixLongSecretsAllPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 99))
	word := func(n int) []byte { return randWord(r, "ab", n) }
	var x Set
	for range 200000 {
		s := word(2 + r.IntN(47))
		var b []byte
		if r.IntN(2) == 0 {
			b = append(word(r.IntN(40)), s[:r.IntN(len(s))]...)
		} else {
			b = word(r.IntN(90))
		}
		want := brutePartial(b, s)
		if got := x.partialSuffixLocked(b, s); got != want {
			t.Fatalf("partialSuffix(%q, %q) = %d; want %d", b, s, got, want)
		}
		tail := b[max(0, len(b)-(len(s)-1)):]
		if len(tail) == 0 {
			continue
		}
		if got := x.partialSuffixKMP(tail, s); got != want {
			t.Fatalf("partialSuffixKMP(%q, %q) = %d; want %d", tail, s, got, want)
		}
	}
}

// TestRedactAgainstBrute: for random lines, cuts and secrets over a
// two-letter alphabet (secrets that start, end and overlap one another
// everywhere), of up to 7 bytes and of up to 40 (past the 16 bytes
// bytes.Index looks for, planted in the line), Redact is the brute-force
// redaction, and RedactCut of a line's start shows a prefix of what Redact
// shows of the whole line, cut where the brute force cuts: the latest cut
// that splits no whole secret and leaves out every end of the start that
// begins a secret.
func TestRedactAgainstBrute(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 2))
	word := func(n int) []byte { return randWord(r, "ab", n) }
	defer func() { testBudget = -1 }()
	for i := range 80000 {
		// Half of the lines with a budget of 0 to 99 bytes: the
		// two-way search takes over anywhere.
		testBudget = -1
		if i%4 >= 2 {
			testBudget = r.IntN(100)
		}
		long := i%2 == 1
		var x Set
		var list [][]byte
		for range 1 + r.IntN(3+2*btoi(long)) {
			s := word(2 + r.IntN(6))
			if long {
				s = word(2 + r.IntN(39))
			}
			x.Add(s)
			list = append(list, s)
		}
		line := word(r.IntN(24 + 36*btoi(long)))
		for range r.IntN(3) * btoi(long) {
			s := list[r.IntN(len(list))]
			at := r.IntN(len(line) + 1)
			line = append(line[:at:at], append(append([]byte(nil), s...), line[at:]...)...)
		}
		checkAgainstBrute(t, &x, list, line, r.IntN(len(line)+1))
	}
}

// randWord returns n bytes drawn from alphabet.
func randWord(r *rand.Rand, alphabet string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestTwoWayAgainstBrute: the two-way search that takes over past the
// budget finds what the brute force does, from any start, for needles
// periodic or not (over two letters, and over three with one rare): the
// bytes its occurrences cover, and the places a cut would split one (a
// run of overlapping occurrences comes as one).
func TestTwoWayAgainstBrute(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 3))
	var x Set
	for i := range 100000 {
		alphabet := []string{"ab", "abc", "aaab"}[i%3]
		s, b := randWord(r, alphabet, 1+r.IntN(12)), randWord(r, alphabet, r.IntN(80))
		if i%2 == 0 && len(s) > 1 {
			// A periodic needle, repeated in the line.
			p := s[:1+r.IntN(len(s)-1)]
			s = bytes.Repeat(p, len(s)/len(p)+1)[:len(s)]
			b = append(b, bytes.Repeat(p, r.IntN(30))...)
		}
		from := r.IntN(len(b) + 1)
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
		for k := 2; k < len(got); k += 2 {
			if got[k] <= got[k-2] {
				t.Fatalf("twoWay(%q, %q, %d) = %v: not in order", b, s, from, got)
			}
		}
	}
}

// spans renders what the intervals [iv[k], iv[k+1]) cover in a line of n
// bytes: a letter a byte, C covered, '.' not; then a letter a place inside
// the line, I inside an interval, '.' not.
func spans(iv []int, n int) string {
	c, in := bytes.Repeat([]byte("."), n), bytes.Repeat([]byte("."), n+1)
	for k := 0; k < len(iv); k += 2 {
		for j := iv[k]; j < iv[k+1]; j++ {
			c[j] = 'C'
			if j > iv[k] {
				in[j] = 'I'
			}
		}
	}
	return string(c) + "|" + string(in)
}

// FuzzRedact compares Redact and RedactCut with the brute force, for
// secrets (one a line of secrets) and a line of any bytes, with quotes,
// backslashes and control bytes (the quoted forms).
func FuzzRedact(f *testing.F) {
	f.Add("hunter2\nhunter2-backup", "* NO hunter2-backup, hunter2.", 20)
	f.Add("abcdefgh\nfghijklm\nzzz", "a1 NO abcdefghijklm and zzzz, fgh.", 30)
	f.Add("pa\"ss\\w\t0rd", `* BAD "pa\"ss\\w\t0rd" rejected pa"ss\w`, 36)
	f.Add("123123\n123123123123abc", strings.Repeat("123", 40)+"abc", 100)
	f.Add("aa", strings.Repeat("a", 300), 150)
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", strings.Repeat("a", 200)+"b"+strings.Repeat("a", 29), 229)
	f.Fuzz(func(t *testing.T, secrets, line string, cut int) {
		if len(line) > 4096 || len(secrets) > 512 {
			return
		}
		var x Set
		var list [][]byte
		for s := range strings.SplitSeq(secrets, "\n") {
			if s != "" && len(list) < MaxSecrets {
				x.AddString(s)
				list = append(list, []byte(s))
			}
		}
		if len(list) == 0 {
			return
		}
		// Set keeps one of each: the brute force needs no duplicates.
		defer func() { testBudget = -1 }()
		testBudget = -1
		if cut%2 == 0 {
			testBudget = (cut / 2) % 64
		}
		c := cut % (len(line) + 1)
		if c < 0 {
			c = -c
		}
		checkAgainstBrute(t, &x, list, []byte(line), c)
	})
}
