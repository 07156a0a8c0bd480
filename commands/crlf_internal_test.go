package commands

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// TestCRLFReader: the streaming conversion equals NormalizeCRLF whatever
// the read boundaries (a CR at the end of one read and its LF at the
// start of the next).
func TestCRLFReader(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		b := make([]byte, r.IntN(5000))
		for j := range b {
			b[j] = "ab\r\n"[r.IntN(4)]
		}
		for _, src := range []io.Reader{bytes.NewReader(b), iotest.OneByteReader(bytes.NewReader(b)), iotest.HalfReader(bytes.NewReader(b))} {
			got, err := io.ReadAll(&crlfReader{r: src})
			if err != nil {
				t.Fatal(err)
			}
			if want := NormalizeCRLF(b); !bytes.Equal(got, want) {
				t.Fatalf("case %d: %q\nwant %q", i, got, want)
			}
		}
	}
	got, n, err := normalizedReader(bytes.NewReader([]byte("a\nb\rc\r\n")), 7)
	if err != nil || n != 9 {
		t.Fatalf("size %d, %v", n, err)
	}
	if b, _ := io.ReadAll(got); string(b) != "a\r\nb\r\nc\r\n" {
		t.Fatalf("%q", b)
	}
}
