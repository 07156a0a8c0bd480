// Package benchkit holds what the in-process ratio benchmarks of session
// and commands share: the codec decoding a recorded stream from memory
// (the reference every ratio divides by) and the loop that times two jobs
// in turn, so that a ratio holds on a busy machine; and DelayPipe, a
// transport.Pipe with a link's delay, for the benchmarks of round trips.
// A test kit: it links the testing package.
package benchkit

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// CodecFromMemory returns a function that decodes data, n responses, with
// the codec alone: a Decoder over an in-memory reader (Read only, as a
// session reads), as codec's BenchmarkDecodeFetchMetadata does. It fails
// tb when the stream does not decode into n responses.
func CodecFromMemory(tb testing.TB, data []byte, n int) func() {
	br := bytes.NewReader(data)
	pr := struct{ io.Reader }{br}
	dec := codec.NewDecoder(wire.NewTokenizer(pr, nil), nil)
	return func() {
		br.Reset(data)
		dec.Tokenizer().Reset(pr)
		got := 0
		for {
			_, err := dec.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			got++
		}
		if got != n {
			tb.Fatalf("decoded %d responses; want %d", got, n)
		}
	}
}

// InTurn runs first and second once each to warm up, resets b's timer,
// then runs them in turn in each of b.N iterations, and returns the time
// each took in all.
func InTurn(b *testing.B, first, second func()) (t1, t2 time.Duration) {
	first()
	second()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		first()
		tm := time.Now()
		second()
		t1 += tm.Sub(t0)
		t2 += time.Since(tm)
	}
	return t1, t2
}
