package codec_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/wire"
)

// plainReader hides bytes.Reader's WriterTo (and everything else but Read),
// so the tokenizer reads as it would from a connection.
type plainReader struct{ r io.Reader }

func (p *plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// streamDecoder decodes a stream again and again with one Decoder, as a
// session does: Reset puts the tokenizer back at the start of the data.
type streamDecoder struct {
	data []byte
	br   *bytes.Reader
	pr   *plainReader
	d    *codec.Decoder
}

func newStreamDecoder(data []byte) *streamDecoder {
	s := &streamDecoder{data: data, br: bytes.NewReader(data)}
	s.pr = &plainReader{s.br}
	s.d = codec.NewDecoder(wire.NewTokenizer(s.pr, nil), nil)
	return s
}

// decodeAll decodes the whole stream and returns the number of responses.
func (s *streamDecoder) decodeAll(tb testing.TB) int {
	s.br.Reset(s.data)
	s.d.Tokenizer().Reset(s.pr)
	n := 0
	for {
		_, err := s.d.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

// mallocs returns the number of heap allocations so far.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// BenchmarkDecodeFetchMetadata decodes 10,000 FETCH responses of about
// 0.9 KB (UID, FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE,
// MODSEQ and a header literal), as a mail client's header sync receives
// them. Targets: >= 300 MB/s, <= 10 allocs per message.
func BenchmarkDecodeFetchMetadata(b *testing.B) {
	const n = 10000
	s := newStreamDecoder(corpus.FetchMetadata(n))
	if got := s.decodeAll(b); got != n { // warm up: grow the flyweights
		b.Fatalf("decoded %d responses; want %d", got, n)
	}
	b.SetBytes(int64(len(s.data)))
	b.ReportAllocs()
	m0 := mallocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.decodeAll(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(mallocs()-m0)/float64(b.N*n), "allocs/msg")
}

// BenchmarkDecodeSearch100k decodes one SEARCH response of 100,000 UIDs.
// Target: 0 allocs per UID once Search.Nums has grown.
func BenchmarkDecodeSearch100k(b *testing.B) {
	const n = 100000
	s := newStreamDecoder(corpus.Search(n))
	s.decodeAll(b)
	b.SetBytes(int64(len(s.data)))
	b.ReportAllocs()
	m0 := mallocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.decodeAll(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(mallocs()-m0)/float64(b.N*n), "allocs/UID")
}

// BenchmarkDecodeSearch2M decodes one SEARCH response of 2,000,000 UIDs:
// a 16 MB line, sixteen times MaxLineLength, read with Tokenizer.Drop in
// a buffer that does not grow. Compare its MB/s with
// BenchmarkDecodeSearch100k's, a line read whole: the drops cost nothing
// measurable. Each response allocates its numbers afresh: 8 MiB, past what
// the decoder keeps for reuse, and 16 MiB in all with the doublings on
// the way (18 allocations).
func BenchmarkDecodeSearch2M(b *testing.B) {
	const n = 2000000
	s := newStreamDecoder(corpus.Search(n))
	s.decodeAll(b)
	b.SetBytes(int64(len(s.data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.decodeAll(b)
	}
}

// BenchmarkAppendResponseFetch encodes the FETCH responses of
// BenchmarkDecodeFetchMetadata.
func BenchmarkAppendResponseFetch(b *testing.B) {
	const n = 1000
	data := corpus.FetchMetadata(n)
	rs := decodeAllClones(b, data)
	if len(rs) != n {
		b.Fatalf("decoded %d responses; want %d", len(rs), n)
	}
	buf := make([]byte, 0, 2*len(data))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for _, r := range rs {
			buf = codec.AppendResponse(buf, r)
		}
	}
}

// TestDecodeFetchMetadataAllocs: once the decoder has grown, decoding FETCH
// metadata allocates at most 10 times per message (the aim is 0), and
// SEARCH allocates nothing per UID.
func TestDecodeFetchMetadataAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counting is slow")
	}
	const n = 500
	s := newStreamDecoder(corpus.FetchMetadata(n))
	if got := s.decodeAll(t); got != n {
		t.Fatalf("decoded %d responses; want %d", got, n)
	}
	perMsg := testing.AllocsPerRun(5, func() { s.decodeAll(t) }) / n
	t.Logf("FETCH metadata: %.3f allocs per message", perMsg)
	if perMsg > 10 {
		t.Errorf("FETCH metadata decoding allocates %.2f times per message; want <= 10", perMsg)
	}

	const uids = 20000
	s = newStreamDecoder(corpus.Search(uids))
	s.decodeAll(t)
	perUID := testing.AllocsPerRun(5, func() { s.decodeAll(t) }) / uids
	t.Logf("SEARCH: %.5f allocs per UID", perUID)
	if perUID > 0.001 {
		t.Errorf("SEARCH decoding allocates %.4f times per UID; want 0", perUID)
	}
}

// TestDecodeFetchMetadataContent checks that the benchmark decodes what it
// claims to: every attribute of every message.
func TestDecodeFetchMetadataContent(t *testing.T) {
	const n = 300
	want := codec.FetchUID | codec.FetchFlags | codec.FetchInternalDate | codec.FetchRFC822Size |
		codec.FetchEnvelope | codec.FetchBodyStructure | codec.FetchModSeq
	rs := decodeAllClones(t, corpus.FetchMetadata(n))
	for _, r := range rs {
		f, ok := r.(*codec.Fetch)
		if !ok {
			t.Fatalf("got %T; want *codec.Fetch", r)
		}
		if f.Has != want || f.Envelope == nil || f.BodyStructure == nil || len(f.Sections) != 1 || len(f.Envelope.To) != 3 {
			t.Fatalf("FETCH %d: has %b, envelope %v, body %v, %d sections", f.Seq, f.Has, f.Envelope != nil, f.BodyStructure != nil, len(f.Sections))
		}
		checkRoundTrip(t, r)
	}
	if len(rs) != n {
		t.Fatalf("decoded %d FETCH responses; want %d", len(rs), n)
	}
}

// decodeAllClones decodes a stream with the default limits and returns a
// clone of every response.
func decodeAllClones(tb testing.TB, data []byte) []codec.Response {
	tb.Helper()
	rs, err := decodeCapture(data)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]codec.Response, 0, len(rs))
	for _, r := range rs {
		if r.err != nil {
			tb.Fatalf("offset %d: %v", r.off, r.err)
		}
		out = append(out, r.resp)
	}
	return out
}
