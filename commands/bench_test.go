package commands_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/benchkit"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// BenchmarkFetchMetadataPipe fetches the 10,000-message metadata stream of
// internal/corpus (UID, FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE,
// BODYSTRUCTURE, MODSEQ and a BODY[HEADER.FIELDS] literal each) through
// Client.Fetch's iterator over transport.Pipe, reading every header
// section and touching the subject, body structure, flags and UID of
// every message. Compare its MB/s with codec's BenchmarkDecodeFetchMetadata:
//
//	go test -run '^$' -bench FetchMetadata -benchmem ./commands/ ./codec/
func BenchmarkFetchMetadataPipe(b *testing.B) { benchmarkFetchMetadataPipe(b, fetchOwned) }

// BenchmarkFetchMetadataPipeBorrow is BenchmarkFetchMetadataPipe with
// FetchItems.Borrow: the messages are lent, not copied.
func BenchmarkFetchMetadataPipeBorrow(b *testing.B) { benchmarkFetchMetadataPipe(b, fetchBorrow) }

// fetchMode is how fetchMetadataPipe reads the stream.
type fetchMode int

const (
	fetchOwned  fetchMode = iota // Client.Fetch, the messages copied
	fetchBorrow                  // Client.Fetch with FetchItems.Borrow
	fetchPull                    // the session alone: session.Pending.Next, what Client.Fetch is built on
)

func benchmarkFetchMetadataPipe(b *testing.B, mode fetchMode) {
	const n = 10000
	stream := corpus.FetchMetadata(n)
	run, touched := fetchMetadataPipe(b, n, mode)
	perMessage(b, len(stream), n, run)
	if *touched == 0 {
		b.Fatal("nothing touched")
	}
}

// perMessage times run, which fetches a stream of size bytes holding n
// messages, after a warm-up run, and reports what a message costs:
// allocations, bytes allocated and time.
func perMessage(b *testing.B, size, n int, run func()) {
	run()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m0, t0 := ms.Mallocs, ms.TotalAlloc
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Mallocs-m0)/float64(b.N*n), "allocs/msg")
	b.ReportMetric(float64(ms.TotalAlloc-t0)/float64(b.N*n), "B/msg")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
}

// metadataClient starts a Client over transport.Pipe whose server answers
// every FETCH with the n-message metadata stream of internal/corpus, with
// INBOX selected.
func metadataClient(b *testing.B, n int) *commands.Client {
	stream := corpus.FetchMetadata(n)
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
		r := bufio.NewReaderSize(server, 64<<10)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasPrefix(rest, "SELECT") {
				server.Write([]byte("* 10000 EXISTS\r\n" + tag + " OK [READ-WRITE] done\r\n"))
				continue
			}
			server.Write(stream)
			server.Write([]byte(tag + " OK FETCH done\r\n"))
		}
	}()
	ctx := context.Background()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		b.Fatal(err)
	}
	return c
}

// metadataItems asks for every item of the metadata stream.
func metadataItems(borrow bool) *commands.FetchItems {
	return &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true, Envelope: true,
		BodyStructure: true, ModSeq: true, Borrow: borrow,
		Sections: []commands.FetchSection{{Specifier: "HEADER.FIELDS", Fields: []string{"LIST-ID", "X-PRIORITY"}}}}
}

// BenchmarkFetchKeptHeap fetches the 10,000-message metadata stream with
// Client.Fetch, keeps every Nth message (1, 100) and reports the heap
// they keep alive after a collection, per kept message and per message of
// the stream. A Message is a copy of its own, so keeping few of many costs
// no more per message than keeping all; were messages to share memory
// with the messages decoded around them (a decoder that never reuses its
// arenas, tried and dropped: see docs/performance.md), one kept message
// would keep theirs alive. Nth=100/clone keeps Clones.
func BenchmarkFetchKeptHeap(b *testing.B) {
	for _, c := range []struct {
		name  string
		every int
		clone bool
	}{{"Nth=1", 1, false}, {"Nth=100", 100, false}, {"Nth=100/clone", 100, true}} {
		b.Run(c.name, func(b *testing.B) {
			const n = 10000
			cl := metadataClient(b, n)
			items := metadataItems(false)
			// A first fetch grows the decoder's reused memory, which the
			// heap after the others must not count.
			for _, err := range cl.Fetch(context.Background(), commands.SeqRange(1, 0), items) {
				if err != nil {
					b.Fatal(err)
				}
			}
			var ms runtime.MemStats
			var kept []*commands.Message
			var heap float64
			for i := 0; i < b.N; i++ {
				clear(kept)
				kept = kept[:0]
				runtime.GC()
				runtime.ReadMemStats(&ms)
				h0 := ms.HeapAlloc
				j := 0
				for m, err := range cl.Fetch(context.Background(), commands.SeqRange(1, 0), items) {
					if err != nil {
						b.Fatal(err)
					}
					if j%c.every == 0 {
						if c.clone {
							m = m.Clone()
						}
						kept = append(kept, m)
					}
					j++
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				heap += float64(ms.HeapAlloc) - float64(h0)
				if len(kept) != n/c.every {
					b.Fatalf("%d kept", len(kept))
				}
			}
			runtime.KeepAlive(kept)
			b.ReportMetric(heap/float64(b.N)/float64(n/c.every), "B/kept")
			b.ReportMetric(heap/float64(b.N)/n, "B/msg")
		})
	}
}

// fetchMetadataPipe starts a Client over transport.Pipe whose server
// answers every FETCH with the n-message metadata stream, and returns a
// function that fetches it once as BenchmarkFetchMetadataPipe describes
// (or, for fetchPull, pulls the responses from the session and touches
// the same values of each), and the sum of what it touched.
func fetchMetadataPipe(b *testing.B, n int, mode fetchMode) (run func(), touched *int) {
	c := metadataClient(b, n)
	s, ctx := c.Session(), context.Background()
	items := metadataItems(mode == fetchBorrow)
	touched = new(int)
	if mode == fetchPull {
		cmd := &session.Command{Name: "FETCH", Pull: true, Args: func(e *wire.Encoder) {
			e.SP().Raw("1:*").SP().Raw("(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ BODY.PEEK[HEADER.FIELDS (LIST-ID X-PRIORITY)])")
		}}
		return func() {
			p, err := s.Start(ctx, cmd)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for {
				it, err := p.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				f, ok := it.Response.(*codec.Fetch)
				if !ok || it.Body != nil || len(f.Sections) != 1 || f.Envelope == nil || f.BodyStructure == nil || f.UID == 0 {
					b.Fatalf("response %T %+v", it.Response, it)
				}
				*touched += len(f.Envelope.Subject) + len(f.BodyStructure.Subtype) + len(f.Flags) + int(f.UID) + len(f.Sections[0].Data)
				got++
			}
			if got != n {
				b.Fatalf("%d messages", got)
			}
			if _, err := p.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}, touched
	}
	run = func() {
		got := 0
		for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), items) {
			if err != nil {
				b.Fatal(err)
			}
			sec, err := m.NextSection()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, sec); err != nil {
				b.Fatal(err)
			}
			if _, err := m.NextSection(); err != io.EOF {
				b.Fatal(err)
			}
			if m.Envelope == nil || m.BodyStructure == nil || m.UID == 0 {
				b.Fatal("missing attributes")
			}
			*touched += len(m.Envelope.Subject) + len(m.BodyStructure.Subtype) + len(m.Flags) + int(m.UID)
			got++
		}
		if got != n {
			b.Fatalf("%d messages", got)
		}
	}
	return run, touched
}

// BenchmarkFetchMetadataVsCodec measures the target of
// BenchmarkFetchMetadataPipe (>= 80 % of the codec's MB/s) in one process,
// robust to a busy machine, as session's BenchmarkFetchMetadataPullVsCodec
// does: each iteration decodes the 10,000-message stream once with the
// codec alone (a Decoder over an in-memory reader, as codec's
// BenchmarkDecodeFetchMetadata) and fetches it once through Client.Fetch
// over transport.Pipe, in turn; ratio is the codec's time ÷ the
// iterator's. Owned copies the messages (the default), Borrow lends them,
// and Pull reads the same stream from the session alone (Pending.Next),
// the floor of the other two. Owned's garbage keeps the collector busy
// during the codec's turn too (codecMB/s about 5-10 % lower than in Borrow
// or Pull, write barriers in the decoder), which flatters its ratio:
// compare its fetchMB/s with the codecMB/s of the other two as well.
func BenchmarkFetchMetadataVsCodec(b *testing.B) {
	for _, c := range []struct {
		name string
		mode fetchMode
	}{{"Owned", fetchOwned}, {"Borrow", fetchBorrow}, {"Pull", fetchPull}} {
		b.Run(c.name, func(b *testing.B) { benchmarkFetchMetadataVsCodec(b, c.mode) })
	}
}

func benchmarkFetchMetadataVsCodec(b *testing.B, mode fetchMode) {
	const n = 10000
	data := corpus.FetchMetadata(n)
	run, touched := fetchMetadataPipe(b, n, mode)
	b.ReportAllocs()
	tc, tf := benchkit.InTurn(b, benchkit.CodecFromMemory(b, data, n), run)
	mb := float64(len(data)) * float64(b.N) / 1e6
	b.ReportMetric(mb/tc.Seconds(), "codecMB/s")
	b.ReportMetric(mb/tf.Seconds(), "fetchMB/s")
	b.ReportMetric(tc.Seconds()/tf.Seconds(), "ratio")
	if *touched == 0 {
		b.Fatal("nothing touched")
	}
}

// patternReader yields an endless message-like byte stream without
// holding it.
type patternReader struct{}

func (patternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "0123456789abcdefghijklmnopqrstuvwxyz\r\n"[i%38]
	}
	return len(p), nil
}

// BenchmarkAppend100MiB appends a 100 MiB message from an io.Reader over
// transport.Pipe to a server that discards it, and shows that no copy of
// the message is held (memory stays flat): peak-heap-B is the most the
// heap in use grew during an Append over what it held when the Append
// began (after a collection), sampled at every Read of the message
// (appendPeak); peak/size divides it by the message's size (a held copy
// makes it 1 or more). B/op and allocs/op count every allocation of the
// process, the fake server's and the pipe's included.
func BenchmarkAppend100MiB(b *testing.B) {
	c := pipeClient(b, "IMAP4rev1 LITERAL+", appendDiscardServer)
	benchmarkAppendFlat(b, c, context.Background())
}

// benchmarkAppendFlat appends a 100 MiB message from an io.Reader with
// ctx b.N times and reports the peak growth of the heap during each
// (appendPeak).
func benchmarkAppendFlat(b *testing.B, c *commands.Client, ctx context.Context) {
	const size = 100 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := newAppendPeak(io.LimitReader(patternReader{}, size))
		b.StartTimer()
		res, err := c.Append(ctx, "INBOX", r, size, nil)
		if err != nil || res.UID != 1 {
			b.Fatal(err)
		}
		peak = max(peak, r.growth())
	}
	b.ReportMetric(float64(peak), "peak-heap-B")
	b.ReportMetric(float64(peak)/size, "peak/size")
}

// appendPeak wraps a message's reader and samples the bytes of the heap
// in use (runtime/metrics' /memory/classes/heap/objects:bytes: live
// objects and those not yet swept) at each Read, which is where a client
// that held the message would have grown it. newAppendPeak collects
// first, so that the base is the live heap.
type appendPeak struct {
	r      io.Reader
	sample []metrics.Sample
	base   uint64
	peak   atomic.Uint64 // the Reads may run on the session's pump goroutine
}

func newAppendPeak(r io.Reader) *appendPeak {
	runtime.GC()
	p := &appendPeak{r: r, sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	p.base = p.heap()
	p.peak.Store(p.base)
	return p
}

func (p *appendPeak) heap() uint64 {
	metrics.Read(p.sample)
	return p.sample[0].Value.Uint64()
}

func (p *appendPeak) Read(b []byte) (int, error) {
	if h := p.heap(); h > p.peak.Load() {
		p.peak.Store(h)
	}
	return p.r.Read(b)
}

// growth is the most the heap grew over its base during the reads.
func (p *appendPeak) growth() uint64 { return p.peak.Load() - p.base }

// BenchmarkSearch answers a SEARCH with one line of 1,000,000 numbers
// (every other one, so that they form no ranges) over transport.Pipe, and
// reads it three ways: SearchIter (yielded from the decoder's response),
// Search (into the compact set: 1,000,000 ranges here, its worst case;
// SetConsecutive is the best case, 1:1000000, one range) and
// Do, the collecting Run that copies the response into Result.Data (the
// path Search took before). ns/number and B/op compare them.
func BenchmarkSearch(b *testing.B) {
	const n = 1000000
	line := numsLine("SEARCH", n, 2)
	c := bigSearchServer(b, func(string) []byte { return line })
	ctx := context.Background()
	bench := func(b *testing.B, run func() int) {
		if got := run(); got != n {
			b.Fatalf("%d numbers", got)
		}
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if got := run(); got != n {
				b.Fatalf("%d numbers", got)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/number")
	}
	b.Run("Iter", func(b *testing.B) {
		bench(b, func() int {
			got := 0
			for _, err := range c.SearchIter(ctx, nil, nil) {
				if err != nil {
					b.Fatal(err)
				}
				got++
			}
			return got
		})
	})
	b.Run("Set", func(b *testing.B) {
		bench(b, func() int {
			res, err := c.Search(ctx, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			return int(res.Count)
		})
	})
	consecutive := numsLine("SEARCH", n, 1)
	cc := bigSearchServer(b, func(string) []byte { return consecutive })
	b.Run("SetConsecutive", func(b *testing.B) {
		bench(b, func() int {
			res, err := cc.Search(ctx, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			return int(res.Count)
		})
	})
	b.Run("Collect", func(b *testing.B) {
		bench(b, func() int {
			r, err := c.Do(ctx, "SEARCH", nil)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for _, d := range r.Data {
				if s, ok := d.(*codec.Search); ok {
					got += len(s.Nums)
				}
			}
			return got
		})
	})
}

// BenchmarkFetchFlagsPipe fetches UID, FLAGS and MODSEQ of 100,000
// messages (a flag resynchronisation) through Client.Fetch over
// transport.Pipe: Owned copies each message, Borrow lends one, All
// collects the copies with FetchAll (they all stay alive until the end).
// B/msg is what a message costs in memory.
func BenchmarkFetchFlagsPipe(b *testing.B) {
	const n = 100000
	var stream []byte
	flags := []string{`\Seen`, `\Seen \Answered`, ``, `\Seen $Forwarded`, `\Flagged \Seen NonJunk`}
	for i := 1; i <= n; i++ {
		stream = fmt.Appendf(stream, "* %d FETCH (UID %d FLAGS (%s) MODSEQ (%d))\r\n", i, 1000+i, flags[i%len(flags)], 50000+i)
	}
	c := bigSearchServer(b, func(string) []byte { return stream })
	ctx := context.Background()
	for _, mode := range []string{"Owned", "Borrow", "All"} {
		b.Run(mode, func(b *testing.B) {
			items := &commands.FetchItems{UID: true, Flags: true, ModSeq: true, Borrow: mode == "Borrow"}
			run := func() {
				got := 0
				if mode == "All" {
					ms, err := c.FetchAll(ctx, commands.SeqRange(1, 0), items)
					if err != nil {
						b.Fatal(err)
					}
					got = len(ms)
				} else {
					for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), items) {
						if err != nil {
							b.Fatal(err)
						}
						if m.UID == 0 {
							b.Fatal("no UID")
						}
						got++
					}
				}
				if got != n {
					b.Fatalf("%d messages", got)
				}
			}
			perMessage(b, len(stream), n, run)
		})
	}
}

// BenchmarkStoreLongSet stores a flag on 20,000 scattered UIDs (114 KB of
// set) over transport.Pipe, to a server that answers each command with
// OK: the client's cost of cutting, encoding and joining a long set.
// Parts sends it as the Client does by default (15 pipelined UID STORE
// of at most DefaultMaxSetLength bytes of set each); Whole, for
// comparison, as one command (SetMaxSetLength(-1)), which real servers
// refuse.
func BenchmarkStoreLongSet(b *testing.B) {
	b.Run("Parts", func(b *testing.B) { benchmarkStoreLongSet(b, 0) })
	b.Run("Whole", func(b *testing.B) { benchmarkStoreLongSet(b, -1) })
}

func benchmarkStoreLongSet(b *testing.B, limit int) {
	c := pipeClient(b, "IMAP4rev1 UIDPLUS", func(server net.Conn) {
		r := bufio.NewReaderSize(server, 64<<10)
		for {
			line, err := r.ReadSlice('\n')
			tag, rest, _ := strings.Cut(string(line[:min(len(line), 64)]), " ")
			for err == bufio.ErrBufferFull {
				_, err = r.ReadSlice('\n') // the rest of a long line
			}
			if err != nil {
				return
			}
			if strings.HasPrefix(rest, "SELECT") {
				server.Write([]byte("* 40000 EXISTS\r\n"))
			}
			server.Write([]byte(tag + " OK done\r\n"))
		}
	})
	ctx := context.Background()
	c.SetMaxSetLength(limit)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		b.Fatal(err)
	}
	set := commands.Set{UID: true}
	for i := uint32(1); i < 40000; i += 2 {
		set.Nums.AddNum(i)
	}
	b.SetBytes(int64(len(set.Nums.String())))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Store(ctx, set, commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// pipeClient opens a Client over transport.Pipe to a server that greets
// with PREAUTH and caps, then runs serve; both end with the benchmark.
func pipeClient(b *testing.B, caps string, serve func(server net.Conn)) *commands.Client {
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY " + caps + "] ready\r\n"))
		serve(server)
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return commands.New(s)
}

// BenchmarkFetchLongSetLatency fetches FLAGS of 20,000 scattered messages
// (a set of 114 KB, sent in 15 parts: DefaultMaxSetLength) over a link
// with a round trip of 10 ms (benchkit.DelayPipe), by sequence numbers
// and by UIDs: each part is sent while the one before is read, one round
// trip in all (Seq, UID), but for a fetch that may set \Seen by sequence
// numbers, whose parts go one after the other, a round trip each
// (SeqSetsSeen: raw items). ms/op is what the parts' round trips cost.
func BenchmarkFetchLongSetLatency(b *testing.B) {
	const last = 39999
	client, server := benchkit.DelayPipe(5 * time.Millisecond)
	go func() {
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
		r := bufio.NewReaderSize(server, 64<<10)
		var out []byte
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			out = out[:0]
			if strings.HasPrefix(rest, "SELECT") {
				out = fmt.Appendf(out, "* %d EXISTS\r\n", last)
			} else if _, fetch, ok := strings.Cut(rest, "FETCH "); ok {
				arg, _, _ := strings.Cut(fetch, " ")
				set, err := codec.ParseSeqSet([]byte(arg))
				if err != nil {
					return
				}
				for v := range set.All {
					out = fmt.Appendf(out, "* %d FETCH (UID %d FLAGS ())\r\n", v, v)
				}
			}
			server.Write(append(out, tag+" OK done\r\n"...))
		}
	}()
	ctx := context.Background()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		uid   bool
		items *commands.FetchItems
	}{
		{"Seq", false, &commands.FetchItems{Flags: true}},
		{"SeqSetsSeen", false, &commands.FetchItems{Flags: true, Raw: "RFC822.SIZE"}},
		{"UID", true, &commands.FetchItems{Flags: true}},
	} {
		set := commands.Set{UID: bc.uid}
		for v := uint32(1); v <= last; v += 2 {
			set.Nums.AddNum(v)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				n := 0
				for _, err := range c.Fetch(ctx, set, bc.items) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != (last+1)/2 {
					b.Fatalf("%d messages", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
