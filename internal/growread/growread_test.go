package growread

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadSizes reads bodies at the buffer's boundaries back whole, in
// small reads (the growth's copy keeps what came: planted without it, the
// bytes differ).
func TestReadSizes(t *testing.T) {
	for _, size := range []int64{0, 1, Ahead - 1, Ahead, Ahead + 1, 2 * Ahead, 2*Ahead + 1, 4*Ahead + 1} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i * 7)
		}
		got, err := Read(iotest.HalfReader(bytes.NewReader(want)), size)
		if err != nil || !bytes.Equal(got, want) || int64(cap(got)) != size {
			t.Fatalf("size %d: %d bytes (cap %d), %v; want the body whole, cap = size", size, len(got), cap(got), err)
		}
	}
}

// TestReadShort: a body that ends early is io.ErrUnexpectedEOF, also when
// it ends exactly at a buffer's boundary (where io.ReadFull alone says
// io.EOF); io.EOF only when nothing came.
func TestReadShort(t *testing.T) {
	for _, sent := range []int{0, 10, Ahead, 2 * Ahead} {
		_, err := Read(bytes.NewReader(make([]byte, sent)), 3*Ahead)
		want := io.ErrUnexpectedEOF
		if sent == 0 {
			want = io.EOF
		}
		if err != want {
			t.Fatalf("%d of %d bytes sent: %v; want %v", sent, 3*Ahead, err, want)
		}
	}
}

// TestReadAllocatesAsItArrives: an announced gigabyte followed by an end
// allocates Ahead, not the gigabyte.
func TestReadAllocatesAsItArrives(t *testing.T) {
	var got int
	r := readerFunc(func(p []byte) (int, error) {
		if got == 0 {
			got = len(p)
		}
		return 0, io.ErrUnexpectedEOF
	})
	Read(r, 1<<30)
	if got > Ahead {
		t.Fatalf("the first read was offered %d bytes; want at most %d", got, Ahead)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
