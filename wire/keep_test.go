package wire

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestTokenizerKeep: under SetKeep every byte handed out stays as it was
// while the tokenizer reads on through many buffers (shifts, unescaped
// strings in scratch space, a read-ahead that moves the tail), and after
// SetKeep(false) too; the tokens read after it are reused as usual.
func TestTokenizerKeep(t *testing.T) {
	var sb strings.Builder
	const lines = 400
	for i := range lines {
		fmt.Fprintf(&sb, "* %d FETCH (X%d \"quoted %d \\\"esc\\\" %s\" atom%d)\r\n", i+1, i, i, strings.Repeat("p", i%37), i)
	}
	tok := NewTokenizer(iotest.HalfReader(strings.NewReader(sb.String())), &TokenizerOptions{BufferSize: 256})
	tok.SetKeep(true)
	type held struct {
		b    []byte
		want string
	}
	var kept []held
	for i := 0; ; i++ {
		if i == lines*2/3*9 {
			tok.SetKeep(false)
		}
		tk, err := tok.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i < lines*2/3*9 && len(tk.Bytes()) > 0 {
			kept = append(kept, held{tk.Bytes(), tk.String()})
		}
	}
	if len(kept) < lines {
		t.Fatalf("%d tokens kept", len(kept))
	}
	escaped := 0
	for i, h := range kept {
		if string(h.b) != h.want {
			t.Fatalf("token %d of %d: %q, was %q", i, len(kept), h.b, h.want)
		}
		if strings.Contains(h.want, `"esc"`) {
			escaped++
		}
	}
	if escaped < lines/3 {
		t.Fatalf("%d unescaped strings kept: the scratch space is not exercised", escaped)
	}
}
