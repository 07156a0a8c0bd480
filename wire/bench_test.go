package wire_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/wire"
)

// plainReader hides bytes.Reader's WriterTo so that io.Copy baselines do the
// same work as the tokenizer: read into a buffer, then hand bytes on.
type plainReader struct{ r *bytes.Reader }

func (p *plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// BenchmarkTokenizeFetchMetadata tokenizes 10,000 metadata FETCH responses
// (ENVELOPE + BODYSTRUCTURE, ~0.9 KB each) with Next.
func BenchmarkTokenizeFetchMetadata(b *testing.B) {
	data := corpus.FetchMetadata(10000)
	src := &plainReader{bytes.NewReader(data)}
	tk := wire.NewTokenizer(src, nil)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.ReportAllocs()
	tokens := 0
	for i := 0; i < b.N; i++ {
		src.r.Reset(data)
		tk.Reset(src)
		for {
			kind, err := tk.Scan()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if kind == wire.KindLiteral {
				if _, err := tk.LiteralBytes(); err != nil {
					b.Fatal(err)
				}
			}
			tokens++
		}
	}
	b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
}

// BenchmarkNextFetchMetadata is BenchmarkTokenizeFetchMetadata with Next,
// which returns each Token whole, as proxies and tracers read a stream.
func BenchmarkNextFetchMetadata(b *testing.B) {
	data := corpus.FetchMetadata(10000)
	src := &plainReader{bytes.NewReader(data)}
	tk := wire.NewTokenizer(src, nil)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.ReportAllocs()
	var sum uint64
	for i := 0; i < b.N; i++ {
		src.r.Reset(data)
		tk.Reset(src)
		for {
			tok, err := tk.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			sum += tok.Num + uint64(len(tok.Bytes()))
		}
	}
	if sum == 0 {
		b.Fatal("no tokens")
	}
}

// delimiters classifies bytes for BenchmarkByteTableFetchMetadata: 1 for
// the bytes that end a token, 0 for the others.
var delimiters = func() (t [256]byte) {
	for _, c := range []byte("()[]{} \"\r\n") {
		t[c] = 1
	}
	return t
}()

// BenchmarkByteTableFetchMetadata is the ceiling for
// BenchmarkTokenizeFetchMetadata on the machine at hand: a bare loop over
// the same bytes that classifies each one through a [256]byte table and
// counts the delimiters. No tokenizer that looks at every byte once can
// be faster; compare the two as a ratio, which depends on the CPU less
// than either number does.
func BenchmarkByteTableFetchMetadata(b *testing.B) {
	data := corpus.FetchMetadata(10000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, c := range data {
			n += int(delimiters[c])
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "delimiters/op")
}

// BenchmarkTokenizeSearch100k reads a SEARCH response with 100,000 numbers.
func BenchmarkTokenizeSearch100k(b *testing.B) {
	data := corpus.Search(100000)
	src := &plainReader{bytes.NewReader(data)}
	tk := wire.NewTokenizer(src, nil)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		src.r.Reset(data)
		tk.Reset(src)
		tk.Expect('*')
		tk.SP()
		tk.Atom()
		var sum uint64
		for {
			if ok, _ := tk.AtEOL(); ok {
				break
			}
			if err := tk.SP(); err != nil {
				b.Fatal(err)
			}
			n, err := tk.Number()
			if err != nil {
				b.Fatal(err)
			}
			sum += n
		}
		if err := tk.CRLF(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLiterals streams 100 BODY[] literals of 100 KiB each through
// io.Copy; BenchmarkLiteralsBaseline is a plain io.Copy of the same bytes.
func BenchmarkLiterals(b *testing.B) {
	data, _ := corpus.BodyLiterals(100, 100<<10)
	src := &plainReader{bytes.NewReader(data)}
	tk := wire.NewTokenizer(src, nil)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		src.r.Reset(data)
		tk.Reset(src)
		for {
			tok, err := tk.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if tok.Kind == wire.KindLiteral {
				r, _ := tk.LiteralReader()
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkLiteralsBaseline is io.Copy of the bytes of BenchmarkLiterals.
func BenchmarkLiteralsBaseline(b *testing.B) {
	data, _ := corpus.BodyLiterals(100, 100<<10)
	src := &plainReader{bytes.NewReader(data)}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		src.r.Reset(data)
		if _, err := io.Copy(io.Discard, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenizeFetchMetadataLines is BenchmarkTokenizeFetchMetadata
// with AppendLine: one call per line into a reused slice.
func BenchmarkTokenizeFetchMetadataLines(b *testing.B) {
	data := corpus.FetchMetadata(10000)
	src := &plainReader{bytes.NewReader(data)}
	tk := wire.NewTokenizer(src, nil)
	toks := make([]wire.Token, 0, 512)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	tokens := 0
	for i := 0; i < b.N; i++ {
		src.r.Reset(data)
		tk.Reset(src)
		for {
			var err error
			toks, err = tk.AppendLine(toks[:0])
			tokens += len(toks)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
}

// BenchmarkRelayLiterals relays the bytes of BenchmarkLiterals as a proxy
// does: AppendUntilLiteral, Forward, ForwardLiteral into a writer.
// Compare with BenchmarkLiteralsBaseline (io.Copy of the same bytes).
func BenchmarkRelayLiterals(b *testing.B) {
	data, _ := corpus.BodyLiterals(100, 100<<10)
	src := &plainReader{bytes.NewReader(data)}
	tk := wire.NewTokenizer(src, nil)
	dst := &plainWriter{}
	line := make([]wire.Token, 0, 64)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		src.r.Reset(data)
		tk.Reset(src)
		if err := relay(tk, dst, line); err != nil {
			b.Fatal(err)
		}
	}
}

// plainWriter counts bytes and hides io.Discard's ReaderFrom, as a
// connection without splice would.
type plainWriter struct{ n int64 }

func (w *plainWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// relay forwards everything tk reads to w, token by token.
func relay(tk *wire.Tokenizer, w io.Writer, line []wire.Token) error {
	for {
		var err error
		line, err = tk.AppendUntilLiteral(line[:0])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if line[len(line)-1].Kind == wire.KindLiteral {
			if _, err := tk.ForwardLiteral(w); err != nil {
				return err
			}
			continue
		}
		if _, err := tk.Forward(w); err != nil {
			return err
		}
	}
}

// chunkReader returns at most n bytes a read, as a client's small TCP
// segments arrive.
type chunkReader struct {
	r *bytes.Reader
	n int
}

func (c *chunkReader) Read(b []byte) (int, error) { return c.r.Read(b[:min(len(b), c.n)]) }

// BenchmarkSkipLineCommands skips 1,000 client commands of about 7 KB
// (a UID SEARCH of 1,000 numbers, then a literal of 5 bytes) with
// SkipLine, the bytes arriving 100 at a time: the line is dropped as it
// comes, all but a short tail, which is where a literal's header is
// looked for (and followed when it is longer than the tail).
func BenchmarkSkipLineCommands(b *testing.B) {
	var line []byte
	line = append(line, "a UID SEARCH UID 1"...)
	for i := 2; i <= 1000; i++ {
		line = fmt.Appendf(line, ",%d", 100000+i)
	}
	line = append(line, " {5}\r\nhello\r\n"...)
	data := bytes.Repeat(line, 1000)
	src := &chunkReader{bytes.NewReader(data), 100}
	tk := wire.NewTokenizer(src, &wire.TokenizerOptions{Commands: true})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src.r.Reset(data)
		tk.Reset(src)
		for range 1000 {
			if err := tk.SkipLine(); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tk.Peek(); err != io.EOF {
			b.Fatalf("after the lines: %v; want EOF", err)
		}
	}
}
