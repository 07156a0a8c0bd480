package mailgen

import (
	"bytes"
	"net/mail"
	"testing"
)

func TestMessage(t *testing.T) {
	for _, c := range []struct{ n, size int }{{3000, 20000}, {300, 200000}, {300, 2000}, {300, 20 << 10}} {
		size := c.size
		for i := 0; i < c.n; i++ {
			m := Message(i, size)
			if len(m) != size {
				t.Fatalf("message %d: %d bytes; want %d", i, len(m), size)
			}
			if bytes.Contains(bytes.ReplaceAll(m, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(m, []byte("\r\n"), nil), []byte("\r")) {
				t.Fatalf("message %d: a bare CR or LF", i)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m))
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if _, err := msg.Header.Date(); err != nil {
				t.Fatalf("message %d: Date: %v", i, err)
			}
		}
	}
}
