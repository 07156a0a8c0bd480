package wire

import (
	"bytes"
	"io"
	"testing"
)

// chunkReader returns its chunks one per Read.
type chunkReader struct{ chunks [][]byte }

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.chunks) > 0 && len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	return n, nil
}

func readLine(t *testing.T, tk *Tokenizer) []string {
	t.Helper()
	var out []string
	for {
		tok, err := tk.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch tok.Kind {
		case KindCRLF:
			return out
		case KindSP:
			continue
		}
		out = append(out, tok.String())
	}
}

func TestRelease(t *testing.T) {
	r := &chunkReader{chunks: [][]byte{
		[]byte("* 1 EXISTS\r\n"),
		[]byte("A1 FOO ("), []byte("x) done\r\n* 2 EXISTS\r\n"),
		[]byte("* 3 {3}\r\nabc\r\n"),
	}}
	tk := NewTokenizer(r, nil)
	if got := readLine(t, tk); len(got) != 3 || got[2] != "EXISTS" {
		t.Fatalf("line 1: %q", got)
	}
	// At the end of a line with nothing buffered: released.
	if !tk.Release() || tk.buf != nil {
		t.Fatal("Release at a line end with nothing buffered did not release")
	}
	if tk.Release() {
		t.Fatal("Release of a released tokenizer")
	}
	off := tk.Offset()
	if off != int64(len("* 1 EXISTS\r\n")) {
		t.Fatalf("Offset after Release = %d", off)
	}
	// Half a line read, nothing buffered: kept. (Not a status response:
	// the text after OK comes as one KindText token.)
	for {
		tok, err := tk.Next()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == KindLParen {
			break
		}
	}
	if len(tk.buf) != DefaultBufferSize {
		t.Fatalf("the buffer taken again is %d bytes", len(tk.buf))
	}
	if tk.Buffered() != 0 {
		t.Fatalf("Buffered = %d", tk.Buffered())
	}
	if tk.Release() {
		t.Fatal("released in the middle of a line")
	}
	if got := readLine(t, tk); len(got) != 3 || got[0] != "x" || got[2] != "done" {
		t.Fatalf("line 2: %q", got)
	}
	// Bytes buffered (the next line came along): kept.
	if tk.Release() {
		t.Fatal("released with a line buffered")
	}
	readLine(t, tk)
	if !tk.Release() {
		t.Fatal("not released")
	}
	// An open literal: kept.
	for range 4 { // * SP 3 SP
		tk.Next()
	}
	if tok, err := tk.Next(); err != nil || tok.Kind != KindLiteral {
		t.Fatalf("%v %v", tok, err)
	}
	if tk.Release() {
		t.Fatal("released with a literal open")
	}
	b, err := tk.LiteralBytes()
	if err != nil || !bytes.Equal(b, []byte("abc")) {
		t.Fatalf("%q %v", b, err)
	}
	if tok, err := tk.Next(); err != nil || tok.Kind != KindCRLF {
		t.Fatalf("%v %v", tok, err)
	}
	if want := int64(len("* 1 EXISTS\r\nA1 FOO (x) done\r\n* 2 EXISTS\r\n* 3 {3}\r\nabc\r\n")); tk.Offset() != want {
		t.Fatalf("Offset = %d, want %d", tk.Offset(), want)
	}
	if !tk.Release() {
		t.Fatal("not released at the end")
	}
	if _, err := tk.Next(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

// TestReleaseAllocs: a Release and the read that follows take the buffer
// from the pool.
func TestReleaseAllocs(t *testing.T) {
	line := []byte("* 1 EXISTS\r\n")
	r := &chunkReader{chunks: make([][]byte, 1)}
	tk := NewTokenizer(r, nil)
	allocs := testing.AllocsPerRun(100, func() {
		r.chunks = r.chunks[:1:1]
		r.chunks[0] = line
		for {
			tok, err := tk.Next()
			if err != nil {
				t.Fatal(err)
			}
			if tok.Kind == KindCRLF {
				break
			}
		}
		if !tk.Release() {
			t.Fatal("not released")
		}
	})
	if allocs >= 1 {
		t.Fatalf("%.1f allocations per Release and line", allocs)
	}
}
