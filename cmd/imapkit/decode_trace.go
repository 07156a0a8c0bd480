package main

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
)

// traceStream turns a session trace (session.Options.Trace: "S: " lines
// from the server, "C: " lines from the client) back into the bytes the
// server sent, for the decoder. The client's lines are skipped.
//
// The trace is lossy, and the stream rebuilt from it is what it can be:
//   - each "S: " line becomes one CRLF-terminated line;
//   - a literal header {N} (also {N+} and ~{N}) is followed in the trace by
//     a space and either the summary "<N bytes>", which becomes N bytes of
//     '.', or, with TraceLiterals, the body inline, which is read back
//     (a body the trace cut short is filled up with '.');
//   - "\xNN" (two lower-case hex digits) is a byte the trace escaped, and is
//     turned back into it;
//   - passwords and other secrets stay "***".
//
// A quoted string in a traced body-less line that holds text looking like
// a literal header followed by a space ("{5} ") is read as a literal.
type traceStream struct {
	br     *bufio.Reader
	lineNo int
	segs   []traceSeg
	out    int64        // bytes produced so far
	starts []traceStart // where each "S: " line starts in the stream
	// bad counts the lines that are neither "S: ", "C: " nor empty, and
	// firstBad is the number of the first.
	bad, firstBad int
}

// traceSeg is a piece of the rebuilt stream: bytes, or fill bytes of '.'.
type traceSeg struct {
	data []byte
	fill int64
}

type traceStart struct {
	off  int64
	line int
}

func newTraceStream(r io.Reader) *traceStream {
	return &traceStream{br: bufio.NewReaderSize(r, 64<<10)}
}

// Read implements io.Reader.
func (ts *traceStream) Read(p []byte) (int, error) {
	for len(ts.segs) == 0 {
		if err := ts.nextLine(); err != nil {
			return 0, err
		}
	}
	s := &ts.segs[0]
	var n int
	if len(s.data) > 0 {
		n = copy(p, s.data)
		s.data = s.data[n:]
	} else {
		n = int(min(int64(len(p)), s.fill))
		for i := range p[:n] {
			p[i] = '.'
		}
		s.fill -= int64(n)
	}
	if len(s.data) == 0 && s.fill == 0 {
		ts.segs = ts.segs[1:]
	}
	ts.out += int64(n)
	return n, nil
}

// nextLine reads trace lines until one from the server, and queues its
// bytes.
func (ts *traceStream) nextLine() error {
	for {
		l, err := ts.br.ReadString('\n')
		if l == "" && err != nil {
			return err
		}
		ts.lineNo++
		l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
		switch {
		case strings.HasPrefix(l, "S: "):
			ts.starts = append(ts.starts, traceStart{off: ts.out, line: ts.lineNo})
			ts.segs = traceSegments(l[3:])
			return nil
		case strings.HasPrefix(l, "C: ") || l == "":
		default:
			if ts.bad == 0 {
				ts.firstBad = ts.lineNo
			}
			ts.bad++
		}
	}
}

// lineOf returns the trace line that holds stream offset off.
func (ts *traceStream) lineOf(off int64) int {
	i := sort.Search(len(ts.starts), func(i int) bool { return ts.starts[i].off > off })
	if i == 0 {
		return 0
	}
	return ts.starts[i-1].line
}

// traceSegments rebuilds the bytes of one traced server line.
func traceSegments(s string) []traceSeg {
	var segs []traceSeg
	var cur []byte
	for {
		i, n, hlen := findLiteral(s)
		if i < 0 {
			cur = append(cur, unescape(s)...)
			break
		}
		cur = append(cur, unescape(s[:i+hlen])...)
		cur = append(cur, "\r\n"...)
		rest := s[i+hlen+1:]
		if summary := "<" + strconv.FormatInt(n, 10) + " bytes>"; strings.HasPrefix(rest, summary) {
			segs = append(segs, traceSeg{data: cur}, traceSeg{fill: n})
			cur = nil
			s = rest[len(summary):]
			continue
		}
		body, used := unescapeN(rest, n)
		cur = append(cur, body...)
		if short := n - int64(len(body)); short > 0 {
			segs = append(segs, traceSeg{data: cur}, traceSeg{fill: short})
			cur = nil
		}
		s = rest[used:]
	}
	return append(segs, traceSeg{data: append(cur, "\r\n"...)})
}

// findLiteral finds the first literal header of a traced line: {N}, {N+}
// or ~{N}, at the start or after a space or '(', followed by a space. It
// returns the header's index, N and the header's length, or -1.
func findLiteral(s string) (i int, n int64, hlen int) {
	for from := 0; ; {
		j := strings.IndexByte(s[from:], '{')
		if j < 0 {
			return -1, 0, 0
		}
		j += from
		from = j + 1
		start := j
		if j > 0 && s[j-1] == '~' {
			start = j - 1
		}
		if start > 0 && s[start-1] != ' ' && s[start-1] != '(' {
			continue
		}
		k := j + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == j+1 || k-j-1 > 18 {
			continue
		}
		size, _ := strconv.ParseInt(s[j+1:k], 10, 64)
		if k < len(s) && s[k] == '+' {
			k++
		}
		if k+1 < len(s) && s[k] == '}' && s[k+1] == ' ' {
			return start, size, k + 1 - start
		}
	}
}

// unescape turns the trace's "\xNN" escapes back into bytes.
func unescape(s string) []byte {
	b, _ := unescapeN(s, int64(len(s)))
	return b
}

// unescapeN reads up to n bytes from s, turning "\xNN" back into a byte,
// and returns them and how much of s it used.
func unescapeN(s string, n int64) ([]byte, int) {
	out := make([]byte, 0, min(n, int64(len(s))))
	i := 0
	for i < len(s) && int64(len(out)) < n {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && lowerHex(s[i+2]) && lowerHex(s[i+3]) {
			v, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			out = append(out, byte(v))
			i += 4
			continue
		}
		out = append(out, s[i])
		i++
	}
	return out, i
}

func lowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
