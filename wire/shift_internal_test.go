package wire

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"testing"
)

// randomReader returns its bytes in reads of random sizes.
type randomReader struct {
	b   []byte
	rng *rand.Rand
}

func (c *randomReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := 1 + c.rng.Intn(len(p))
	n = copy(p[:n], c.b)
	c.b = c.b[n:]
	return n, nil
}

// TestBufferKeepsSizeForShortLines checks the promise behind the lazy
// shift at the start of a line (prepare, lineBuffered): a line shorter
// than half the buffer, literals included, never makes the buffer grow,
// whatever the read sizes, and every token comes back intact. Lines mix
// literals, status texts ending in "{5}" (not literals) and bare words.
func TestBufferKeepsSizeForShortLines(t *testing.T) {
	const size = 256
	rng := rand.New(rand.NewSource(7))
	var stream bytes.Buffer
	var want [][]byte // the last atom of each line, in order
	for n := 0; n < 3000; n++ {
		word := fmt.Sprintf("w%d", n)
		var line string
		switch rng.Intn(4) {
		case 0:
			body := bytes.Repeat([]byte{'x'}, rng.Intn(40))
			line = fmt.Sprintf("* %d FETCH (BODY[] {%d}\r\n%s %s)\r\n", n, len(body), body, word)
		case 1:
			line = fmt.Sprintf("* OK [ALERT] some text {5}\r\n* %d %s\r\n", n, word)
		case 2:
			pad := bytes.Repeat([]byte{'y'}, rng.Intn(60))
			line = fmt.Sprintf("* %d X \"%s\" %s\r\n", n, pad, word)
		default:
			line = fmt.Sprintf("* %d %s\r\n", n, word)
		}
		if len(line) >= size/2 {
			t.Fatalf("test line too long: %q", line)
		}
		stream.WriteString(line)
		want = append(want, []byte(word))
	}
	tk := NewTokenizer(&randomReader{b: stream.Bytes(), rng: rng}, &TokenizerOptions{BufferSize: size})
	var toks []Token
	got := 0
	for {
		var err error
		toks, err = tk.AppendLine(toks[:0])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.buf) != size {
			t.Fatalf("after %d words the buffer grew to %d bytes", got, len(tk.buf))
		}
		for _, tok := range toks {
			if tok.Kind == KindAtom && tok.b[0] == 'w' {
				if !bytes.Equal(tok.b, want[got]) {
					t.Fatalf("word %d: got %q, want %q", got, tok.b, want[got])
				}
				got++
			}
		}
	}
	if got != len(want) {
		t.Fatalf("read %d words, want %d", got, len(want))
	}
}
