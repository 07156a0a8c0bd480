package hostile

import (
	"io"
	"math/rand"
	"strings"
)

// Repeat returns a reader of unit repeated n times, or endlessly when n is
// negative. It holds nothing but unit, however much it produces.
func Repeat(unit string, n int64) io.Reader {
	if unit == "" {
		return strings.NewReader("")
	}
	return &repeatReader{unit: unit, left: n}
}

type repeatReader struct {
	unit string
	off  int   // next byte of unit
	left int64 // whole units still to start; < 0: endless
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off == 0 {
			if r.left == 0 {
				break
			}
			// The whole units that fit at once, each copy doubling
			// what is there: a copy per unit cost a second of CPU
			// under -race for the 60 MB of a 1-byte unit
			// (TestHostileUnsolicitedBody), which a loaded machine
			// stretched past the case's bound.
			w := int64((len(p) - n) / len(r.unit))
			if r.left > 0 {
				w = min(w, r.left)
			}
			if w > 0 {
				end := n + int(w)*len(r.unit)
				done := n + copy(p[n:end], r.unit)
				for done < end {
					done += copy(p[done:end], p[n:done])
				}
				n = end
				if r.left > 0 {
					r.left -= w
				}
				continue
			}
			if r.left > 0 {
				r.left--
			}
		}
		k := copy(p[n:], r.unit[r.off:])
		n += k
		r.off = (r.off + k) % len(r.unit)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Endless returns a reader of prefix followed by unit repeated forever: a
// line that never ends when unit holds no LF.
func Endless(prefix, unit string) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), Repeat(unit, -1))
}

// Nested returns prefix, open repeated depth times, close repeated depth
// times, then suffix: "* LIST (((...)))" without holding it in memory.
func Nested(prefix, open, close string, depth int64, suffix string) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), Repeat(open, depth), Repeat(close, depth), strings.NewReader(suffix))
}

// Random returns a reader of n pseudo-random bytes (every byte value,
// CR, LF and NUL included) from seed: the same seed gives the same bytes.
func Random(seed, n int64) io.Reader {
	return io.LimitReader(rand.New(rand.NewSource(seed)), n)
}

// Generate returns a reader of the lines line(0), line(1), ... line(n-1),
// each followed by CRLF, made one at a time (n < 0: endlessly).
func Generate(n int64, line func(i int64) string) io.Reader {
	return &genReader{n: n, line: line}
}

type genReader struct {
	n, i int64
	line func(int64) string
	cur  string
}

func (g *genReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if g.cur == "" {
			if g.n >= 0 && g.i >= g.n {
				break
			}
			g.cur = g.line(g.i) + "\r\n"
			g.i++
		}
		k := copy(p[n:], g.cur)
		n += k
		g.cur = g.cur[k:]
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
