package main

import (
	"bytes"
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// tableWriter lays out tab-separated cells in columns as text/tabwriter
// does (NewWriter(w, 0, 0, 2, ' ', 0): two spaces of padding; a column
// block is a run of consecutive lines that have a cell in that column; the
// text after a line's last tab is not aligned), but measures cells by
// display width, not runes: East Asian wide and fullwidth characters (and
// most emoji) take two columns of a terminal, combining marks none. So the
// columns after a Japanese subject or a Chinese mailbox name stay in
// line. For text without them the output is text/tabwriter's, byte for
// byte (TestTableWriterMatchesTabwriter). Nothing is written until Flush.
type tableWriter struct {
	w   io.Writer
	buf []byte
}

// Write buffers p.
func (t *tableWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// Flush writes the buffered lines, aligned, and empties the buffer.
func (t *tableWriter) Flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	text := string(t.buf)
	t.buf = t.buf[:0]
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	cells := make([][]string, len(lines))
	for i, l := range lines {
		cells[i] = strings.Split(strings.TrimSuffix(l, "\n"), "\t")
	}
	if last := cells[len(cells)-1]; !strings.HasSuffix(text, "\n") && len(last) > 1 && last[len(last)-1] == "" {
		// An unfinished line's tab at the very end of the text ends no
		// cell: what comes before it is the line's last cell (tabwriter).
		cells[len(cells)-1] = last[:len(last)-1]
	}
	// widths[i][c]: the width of cell c of line i, padding included, for
	// every cell but the last (terminated by a tab).
	widths := make([][]int, len(lines))
	var block func(col, lo, hi int)
	block = func(col, lo, hi int) {
		for l := lo; l < hi; {
			if len(cells[l])-1 <= col {
				l++
				continue
			}
			start, w := l, 0
			for ; l < hi && len(cells[l])-1 > col; l++ {
				w = max(w, displayWidth(cells[l][col]))
			}
			for k := start; k < l; k++ {
				widths[k] = append(widths[k], w+2)
			}
			block(col+1, start, l)
		}
	}
	block(0, 0, len(lines))
	var b bytes.Buffer
	for i, cs := range cells {
		for c, s := range cs {
			b.WriteString(s)
			if c < len(cs)-1 {
				b.WriteString(strings.Repeat(" ", widths[i][c]-displayWidth(s)))
			}
		}
		if strings.HasSuffix(lines[i], "\n") {
			b.WriteByte('\n')
		}
	}
	_, err := t.w.Write(b.Bytes())
	return err
}

// displayWidth is how many terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch k := width.LookupRune(r).Kind(); {
		case k == width.EastAsianWide || k == width.EastAsianFullwidth:
			n += 2
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		default:
			n++
		}
	}
	return n
}
