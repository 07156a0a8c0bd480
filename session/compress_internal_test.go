package session

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"
)

// TestInflaterWorkerCorrupt: a corrupt deflate stream read by
// the inflater's worker (reads that may be interrupted) gives its
// *flate.CorruptInputError to the caller, after the bytes inflated before
// it, and again to every later read, inline or not (flate keeps it for
// good); the worker has ended then (no request channel), and one whose
// session ended runs no more. Unexported: the worker is the inflater's.
func TestInflaterWorkerCorrupt(t *testing.T) {
	var good bytes.Buffer
	zw, _ := flate.NewWriter(&good, flate.BestSpeed)
	zw.Write([]byte("hello, world\r\n"))
	zw.Flush()
	stream := append(good.Bytes(), 0xff, 0xff, 0xff, 0xff) // a reserved block type
	async := true
	f := newInflater(flate.NewReader(bytes.NewReader(stream)), func() bool { return async })
	got, err := io.ReadAll(f)
	var ce flate.CorruptInputError
	if !errors.As(err, &ce) || string(got) != "hello, world\r\n" {
		t.Fatalf("read %q, %v; want the bytes before, then a CorruptInputError", got, err)
	}
	f.mu.Lock()
	worker := f.req != nil
	f.mu.Unlock()
	if worker {
		t.Fatal("the worker is kept after its read failed")
	}
	for _, async = range []bool{true, false} {
		if _, err := f.Read(make([]byte, 8)); !errors.As(err, &ce) {
			t.Fatalf("a later read (async %v): %v; want the CorruptInputError again", async, err)
		}
	}
	f.stop()
	async = true
	if _, err := f.Read(make([]byte, 8)); !errors.As(err, &ce) {
		t.Fatalf("a read after stop: %v", err)
	}
	f.mu.Lock()
	worker = f.req != nil
	f.mu.Unlock()
	if worker {
		t.Fatal("a worker started after stop")
	}
}
