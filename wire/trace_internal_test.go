package wire

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
)

// The two routines as they were before they became appendTrace: the
// oracle of TestTraceMerged.

func oldRedacted(c *Encoded, dst []byte) []byte {
	for i := range c.Parts {
		p := &c.Parts[i]
		data, base, j := p.Data, p.off, 0
		for _, s := range c.secrets {
			if s.end <= base+j || s.start >= base+len(data) {
				continue
			}
			if st := s.start - base; st > j {
				dst = append(dst, data[j:st]...)
			}
			if s.start >= base {
				dst = append(dst, "***"...)
			}
			j = min(s.end-base, len(data))
		}
		dst = append(dst, data[j:]...)
		if p.Open != nil {
			dst = append(dst, "{?}<streamed>"...)
		} else if p.Body != nil || p.BodySize > 0 {
			dst = append(dst, '<')
			dst = strconv.AppendInt(dst, p.BodySize, 10)
			dst = append(dst, " bytes>"...)
		}
	}
	return dst
}

func oldSummary(c *Encoded, dst []byte, max int) (_ []byte, cut bool) {
	w := oldTraceWriter{dst: dst, room: max}
	if max < 0 {
		w.room = int(^uint(0) >> 1)
	}
	si, li := 0, 0
	for i := range c.Parts {
		p := &c.Parts[i]
		data, base := p.Data, p.off
		end := base + len(data)
		streamed := p.streamed()
		// A streamed literal's header ends its part's Data, or, for a
		// synchronizing one, the part before (its own Data is empty):
		// that CRLF is shown as the space before the summary. The last
		// part ends with the command's CRLF.
		dropCRLF := streamed || i == len(c.Parts)-1 ||
			i+1 < len(c.Parts) && len(c.Parts[i+1].Data) == 0 && c.Parts[i+1].streamed()
		if dropCRLF && bytes.HasSuffix(data, []byte("\r\n")) {
			end -= 2
		}
		for pos := base; pos < end && !w.cut; {
			for si < len(c.secrets) && c.secrets[si].end <= pos {
				si++
			}
			for li < len(c.lits) && c.lits[li].end <= pos {
				li++
			}
			var sp encSpan
			lit, found := false, false
			if si < len(c.secrets) {
				sp, found = c.secrets[si], true
			}
			if li < len(c.lits) && (!found || c.lits[li].start < sp.start) {
				sp, lit, found = c.lits[li], true, true
			}
			if !found || sp.start >= end {
				w.add(data[pos-base : end-base])
				break
			}
			if sp.start > pos {
				w.add(data[pos-base : sp.start-base])
			}
			if sp.start >= base {
				// The span begins in this part: shown here.
				if lit {
					w.size(int64(sp.end - sp.start - 2))
				} else {
					w.add([]byte("***"))
				}
			}
			pos = min(sp.end, end)
		}
		if p.Open != nil {
			w.add([]byte("{?}<streamed>"))
		} else if streamed {
			w.size(p.BodySize)
		}
	}
	return w.dst, w.cut
}

type oldTraceWriter struct {
	dst  []byte
	room int
	cut  bool
}

func (w *oldTraceWriter) add(b []byte) {
	if w.cut || len(b) == 0 {
		return
	}
	if len(b) > w.room {
		b, w.cut = b[:w.room], true
	}
	w.dst = append(w.dst, b...)
	w.room -= len(b)
}

func (w *oldTraceWriter) size(n int64) {
	var buf [32]byte
	b := append(buf[:0], " <"...)
	b = strconv.AppendInt(b, n, 10)
	w.add(append(b, " bytes>"...))
}

// traceCommands are commands with secrets, literals in memory (synchronizing
// or not, literal8, empty), streamed ones and LiteralFunc, in mixes.
func traceCommands(t testing.TB) []*Encoded {
	body := strings.Repeat("b", 300)
	var out []*Encoded
	for _, o := range []*EncoderOptions{nil, {LiteralPlus: true}} {
		for i, f := range []func(e *Encoder){
			func(e *Encoder) { e.SP().Atom("NOOP") },
			func(e *Encoder) { e.SP().Atom("LOGIN").SP().AString("alice").SP().Password("s3cret pass") },
			func(e *Encoder) { e.SP().Atom("LOGIN").SP().AString("alice").SP().Password("pa\r\nss") },
			func(e *Encoder) { e.SP().Atom("LOGIN").SP().AString("alice").SP().PasswordBytes([]byte("p\"w")) },
			func(e *Encoder) {
				e.SP().Atom("AUTHENTICATE").SP().Atom("PLAIN").SP().Secret(func(e *Encoder) { e.Atom("AGFsaWNlAHNlY3JldA==") })
			},
			func(e *Encoder) {
				e.SP().Atom("X").SP().Secret(func(e *Encoder) { e.Literal([]byte("hidden")) }).SP().Literal([]byte(body)).SP().Password("x")
			},
			func(e *Encoder) { e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte(body)) },
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte("x")).SP().Literal8([]byte("y\r\nz")).SP().Literal(nil)
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralReader(5, strings.NewReader("hello"), false).SP().Atom("X")
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte("ab")).SP().LiteralReader(0, strings.NewReader(""), true).SP().Password("pw")
			},
			func(e *Encoder) {
				e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) { return nil, 0, nil }, false).SP().Atom("Z")
			},
		} {
			e := NewEncoder(o)
			e.Begin("A" + strconv.Itoa(i))
			f(e)
			c, err := e.End()
			if err != nil {
				t.Fatalf("%d: %v", i, err)
			}
			out = append(out, c)
		}
	}
	return out
}

// TestTraceMerged: AppendRedacted and AppendSummary, near-copies
// (the duplicates tool's finding), are one routine now (appendTrace):
// their output is the old routines', byte for byte, with and without a
// limit, and no secret shows in either.
func TestTraceMerged(t *testing.T) {
	for i, c := range traceCommands(t) {
		if got, want := c.AppendRedacted([]byte("pre")), oldRedacted(c, []byte("pre")); !bytes.Equal(got, want) {
			t.Errorf("%d: AppendRedacted %q; was %q", i, got, want)
		}
		for _, max := range []int{-1, 0, 1, 3, 10, 20, 40, 1000} {
			got, cut := c.AppendSummary([]byte("pre"), max)
			want, wcut := oldSummary(c, []byte("pre"), max)
			if !bytes.Equal(got, want) || cut != wcut {
				t.Errorf("%d: AppendSummary(%d) %q %v; was %q %v", i, max, got, cut, want, wcut)
			}
		}
		for _, s := range []string{"s3cret", "pa\r\nss", "AGFsaWNl", "hidden", "pw", "p\"w", "p\\\"w"} {
			sum, _ := c.AppendSummary(nil, -1)
			if bytes.Contains(c.AppendRedacted(nil), []byte(s)) || bytes.Contains(sum, []byte(s)) {
				t.Errorf("%d: %q shows in the trace", i, s)
			}
		}
	}
}

// BenchmarkTrace measures both traces of the commands above,
// appendTrace's ("new") against the routines it replaced ("old").
func BenchmarkTrace(b *testing.B) {
	cs := traceCommands(b)
	var dst []byte
	b.Run("old", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range cs {
				dst = oldRedacted(c, dst[:0])
				dst, _ = oldSummary(c, dst[:0], 200)
			}
		}
	})
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range cs {
				dst = c.AppendRedacted(dst[:0])
				dst, _ = c.AppendSummary(dst[:0], 200)
			}
		}
	})
}
