package wire_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// sizedWriter records how many bytes it had taken when sized was called.
type sizedWriter struct {
	bytes.Buffer
	at    []int   // Len() at each call of sized
	total []int64 // what sized was given
}

func (w *sizedWriter) sized(total int64) {
	w.at = append(w.at, w.Len())
	w.total = append(w.total, total)
}

// TestWriteToSized: WriteToSized calls sized once, with the bytes WriteTo
// writes, before the last of them is written: for a plain command, one
// with a streamed literal, with synchronizing literals and with Open
// literals (whose size is learnt as they are written), and with LITERAL+.
// A failure before the size is known calls nothing.
func TestWriteToSized(t *testing.T) {
	open := func(s string) func() (io.Reader, int64, error) {
		return func() (io.Reader, int64, error) { return strings.NewReader(s), int64(len(s)), nil }
	}
	big := strings.Repeat("x", 70000)
	for _, c := range []struct {
		name string
		opts *wire.EncoderOptions
		args func(e *wire.Encoder)
	}{
		{"atom", nil, func(e *wire.Encoder) { e.SP().Atom("NOOP") }},
		{"big atom", nil, func(e *wire.Encoder) { e.SP().Atom("XBIG").SP().Atom(big) }},
		{"literal", nil, func(e *wire.Encoder) { e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().Literal([]byte("hello")) }},
		{"reader", nil, func(e *wire.Encoder) {
			e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralReader(5, strings.NewReader("hello"), false).SP().Atom(big)
		}},
		{"open", nil, func(e *wire.Encoder) {
			e.SP().Atom("APPEND").SP().Mailbox("INBOX").SP().LiteralFunc(open("hello"), false)
		}},
		{"two opens and a tail", nil, func(e *wire.Encoder) {
			e.SP().Atom("X").SP().LiteralFunc(open("ab"), false).SP().LiteralFunc(open(big), true).SP().Atom(big)
		}},
		{"open, literal plus", &wire.EncoderOptions{LiteralPlus: true}, func(e *wire.Encoder) {
			e.SP().Atom("X").SP().LiteralFunc(open(""), false).SP().LiteralReader(3, strings.NewReader("abc"), false)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := wire.NewEncoder(c.opts)
			c.args(e.Begin("A1"))
			cmd, err := e.End()
			if err != nil {
				t.Fatal(err)
			}
			var w sizedWriter
			n, err := cmd.WriteToSized(&w, func() error { return nil }, w.sized)
			if err != nil {
				t.Fatal(err)
			}
			if int64(w.Len()) != n {
				t.Fatalf("wrote %d bytes, returned %d", w.Len(), n)
			}
			if len(w.total) != 1 || w.total[0] != n || int64(w.at[0]) >= n {
				t.Fatalf("sized called with %v at %v; want once, with %d, before the last byte", w.total, w.at, n)
			}
			// WriteTo writes the same bytes.
			e2 := wire.NewEncoder(c.opts)
			c.args(e2.Begin("A1"))
			cmd2, _ := e2.End()
			var plain bytes.Buffer
			if _, err := cmd2.WriteTo(&plain, func() error { return nil }); err != nil || !bytes.Equal(plain.Bytes(), w.Bytes()) {
				t.Fatalf("WriteTo wrote other bytes (%v)", err)
			}
		})
	}
	t.Run("fails before the size is known", func(t *testing.T) {
		e := wire.NewEncoder(nil)
		e.Begin("A1").SP().Atom("X").SP().LiteralFunc(func() (io.Reader, int64, error) { return nil, 0, io.ErrUnexpectedEOF }, false)
		cmd, err := e.End()
		if err != nil {
			t.Fatal(err)
		}
		var w sizedWriter
		if _, err := cmd.WriteToSized(&w, func() error { return nil }, w.sized); err == nil || len(w.total) != 0 {
			t.Fatalf("err %v, sized called %v", err, w.total)
		}
	})
}
