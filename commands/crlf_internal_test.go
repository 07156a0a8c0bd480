package commands

import (
	"bytes"
	"errors"
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

// errAfterData returns its bytes with err, then (0, io.EOF).
type errAfterData struct {
	b    []byte
	err  error
	done bool
}

func (r *errAfterData) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	r.done = true
	return copy(p, r.b), r.err
}

// changingSeeker gives a, then b once it is sought back: a message that
// changes between NormalizeCRLF's two reads.
type changingSeeker struct {
	*bytes.Reader
	b []byte
}

func (c *changingSeeker) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart && c.b != nil {
		c.Reader, c.b = bytes.NewReader(c.b), nil
	}
	return c.Reader.Seek(off, whence)
}

// TestNormalizedReaderFaults: a message shorter than its size is an error
// before anything is sent (it was sent cut, as if whole); an error that
// comes with data is returned, not lost; a message that converts to more
// bytes on the second read than on the first ends the literal with an
// error (the session is then aborted) rather than being cut.
func TestNormalizedReaderFaults(t *testing.T) {
	if _, _, err := normalizedReader(bytes.NewReader([]byte("a\nb")), 10); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short message: %v", err)
	}
	boom := errors.New("disk gone")
	if b, err := io.ReadAll(&crlfReader{r: &errAfterData{b: []byte("x\ny"), err: boom}}); err != boom || string(b) != "x\r\ny" {
		t.Errorf("error with data: %q, %v", b, err)
	}
	r, n, err := normalizedReader(&changingSeeker{Reader: bytes.NewReader([]byte("a\nb\nc")), b: []byte("a\nb\n\n")}, 5)
	if err != nil || n != 7 {
		t.Fatalf("%d, %v", n, err)
	}
	if _, err := io.ReadAll(r); err != errChanged {
		t.Errorf("a message that grew: %v", err)
	}
}
