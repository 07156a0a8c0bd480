package wire_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestForwardLiteralAfterBufferGrows: a proxy reads a command up to a
// literal's header with AppendUntilLiteral, the header ending at the
// buffer's last byte and the line beginning past its start (a line read
// before it), then relays the body with ForwardLiteral: the first read
// of the body grows the buffer, moving the line to its front. The body
// is relayed exactly and the next line read as the next line. Before,
// makeRoom left the literal's start at its old index, and the body's
// reclaim moved the stream's offsets by a count from there: the
// ForwardLine after the literal failed with ErrForwardGap.
func TestForwardLiteralAfterBufferGrows(t *testing.T) {
	first := "a1 X " + strings.Repeat("y", 1993) + "\r\n" // 2000 bytes: no shift at the next line
	head := "a2 X " + strings.Repeat("y", wire.DefaultBufferSize-len(first)-5-7) + " {10}\r\n"
	body := "0123456789"
	in := first + head + body + " x\r\nz NOOP\r\n"
	if len(first+head) != wire.DefaultBufferSize {
		t.Fatalf("the header ends at %d, not the buffer's end", len(first+head))
	}
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	var out bytes.Buffer
	if err := tk.ForwardLine(&out); err != nil {
		t.Fatal(err)
	}
	line, err := tk.AppendUntilLiteral(nil)
	if err != nil || len(line) == 0 || line[len(line)-1].Kind != wire.KindLiteral {
		t.Fatalf("AppendUntilLiteral: %d tokens, %v; want the line up to its literal", len(line), err)
	}
	w := &failOnceWriter{failAt: len(in)} // no ReadFrom: the body goes through the buffer
	w.out.Write(out.Bytes())
	if n, err := tk.ForwardLiteral(w); err != nil || n != int64(len(body)) {
		t.Fatalf("ForwardLiteral: %d, %v; want %d", n, err, len(body))
	}
	if err := tk.ForwardLine(w); err != nil {
		t.Fatalf("ForwardLine after the literal: %v (offset %d)", err, tk.Offset())
	}
	if want := first + head + body + " x\r\n"; w.out.String() != want {
		t.Fatalf("relayed %d bytes, ending %q; want %d, ending %q", w.out.Len(), excerptOf(w.out.Bytes()[max(0, w.out.Len()-30):]), len(want), want[len(want)-30:])
	}
	if tag, err := tk.Tag(); err != nil || string(tag) != "z" {
		t.Fatalf("next tag %q (%v); want \"z\"", tag, err)
	}
}
