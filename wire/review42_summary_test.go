package wire

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
)

// r42Lines is how the session traced a command before AppendSummary: the
// whole of AppendRedacted, split into lines, each literal's body replaced
// on the line of its header by " <N bytes>".
func r42Lines(c *Encoded) []string {
	red := bytes.TrimRight(c.AppendRedacted(nil), "\r\n")
	var out []string
	var line []byte
	for {
		i := bytes.Index(red, []byte("\r\n"))
		if i < 0 {
			if line != nil {
				red = append(line, red...)
			}
			return append(out, string(red))
		}
		line = append(line, red[:i]...)
		red = red[i+2:]
		info, ok := LiteralSuffix(line)
		if !ok {
			out = append(out, string(line))
			line = line[:0]
			continue
		}
		summary := []byte("<" + strconv.FormatInt(info.Size, 10) + " bytes>")
		line = append(append(line, ' '), summary...)
		if bytes.HasPrefix(red, summary) {
			red = red[len(summary):]
		} else {
			red = red[min(info.Size, int64(len(red))):]
		}
	}
}

// TestReview42BBAppendSummary: AppendSummary shows a command as the
// session's trace did from AppendRedacted's whole text (literal bodies in
// memory or streamed, synchronizing or not, secrets, LiteralFunc), and
// with a limit appends no more than it and says so.
func TestReview42BBAppendSummary(t *testing.T) {
	body := strings.Repeat("b", 300)
	for _, o := range []*EncoderOptions{nil, {LiteralPlus: true}} {
		for i, f := range []func(e *Encoder){
			func(e *Encoder) { e.SP().Atom("NOOP") },
			func(e *Encoder) { e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte(body)) },
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte("x")).SP().Literal8([]byte("y\r\nz")).SP().Literal(nil)
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralReader(5, strings.NewReader("hello"), false).SP().Atom("X")
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("a\r\nb").SP().LiteralReader(3, strings.NewReader("abc"), true).SP().Literal([]byte("q"))
			},
			func(e *Encoder) { e.SP().Atom("LOGIN").SP().AString("u\r\n").SP().Password("p\r\nw") },
			func(e *Encoder) {
				e.SP().Atom("AUTHENTICATE").SP().Atom("PLAIN").SP().Secret(func(e *Encoder) { e.Literal([]byte("secret")) }).SP().Atom("Y")
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) { return nil, 0, nil }, false).SP().Atom("Z")
			},
		} {
			e := NewEncoder(o)
			e.Begin("A1")
			f(e)
			c, err := e.End()
			if err != nil {
				t.Fatalf("%d: %v", i, err)
			}
			want := strings.Join(r42Lines(c), "\r\n")
			if strings.HasSuffix(want, "{0}") || strings.HasSuffix(want, "{0+}") {
				// The old way trimmed an empty last literal's CRLF
				// with the command's, and lost its summary.
				want += " <0 bytes>"
			}
			got, cut := c.AppendSummary([]byte("pre"), -1)
			if string(got) != "pre"+want || cut {
				t.Errorf("%d %+v: AppendSummary = %q, %v; want %q", i, o, got, cut, want)
			}
			for _, n := range []int{0, 1, 5, 20, 40} {
				got, cut := c.AppendSummary(nil, n)
				w := want[:min(n, len(want))]
				if string(got) != w || cut != (len(want) > n) {
					t.Errorf("%d %+v: AppendSummary(%d) = %q, %v; want %q, %v", i, o, n, got, cut, w, len(want) > n)
				}
			}
		}
	}
}
