package session_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/benchkit"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// metadataItems is what the metadata stream of internal/corpus answers:
// the benchmarks ask for it (the scripted servers answer with the stream
// whatever is asked).
const metadataItems = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ BODY.PEEK[HEADER.FIELDS (LIST-ID X-PRIORITY)])"

func pullFetch(items string) *session.Command { return pulled("FETCH", "1:*", items) }

// pullUIDFetch is pullFetch for UID FETCH 1:*.
func pullUIDFetch(items string) *session.Command { return pulled("UID FETCH", "1:*", items) }

// pulled is a pulled command name (FETCH, UID FETCH) of the set and items
// given raw, allowed in any state.
func pulled(name, set, items string) *session.Command {
	return &session.Command{Name: name, AnyState: true, Pull: true, Args: func(e *wire.Encoder) {
		e.SP().Raw(set).SP().Raw(items)
	}}
}

// TestPullOrderAndEnd: Next hands over the command's responses in order,
// then io.EOF; Wait gives the status.
func TestPullOrderAndEnd(t *testing.T) {
	const n = 500
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		bw := bufio.NewWriter(w)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(bw, "* %d FETCH (UID %d FLAGS (\\Seen))\r\n", i, i*10)
		}
		bw.WriteString("A1 OK done\r\n")
		bw.Flush()
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	p, err := s.Start(hangCtx(t), pullFetch("(UID FLAGS)"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; ; i++ {
		it, err := p.Next(hangCtx(t))
		if err == io.EOF {
			if i != n+1 {
				t.Fatalf("EOF after %d responses; want %d", i-1, n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f := it.Response.(*codec.Fetch)
		if f.Seq != uint32(i) || f.UID != uint32(i*10) || len(f.Flags) != 1 {
			t.Fatalf("response %d: %+v", i, f)
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let copies queue
		}
	}
	r, err := p.Wait(hangCtx(t))
	if err != nil || r.Status.Kind != codec.StatusOK || len(r.Data) != 0 {
		t.Fatalf("Wait: %+v, %v", r, err)
	}
}

// TestPullOtherCommandsBetweenNext: a caller runs other commands between
// two calls to Next, while it holds a response: no deadlock, and the held
// response stays valid.
func TestPullOtherCommandsBetweenNext(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w) // A1 FETCH
		io.WriteString(w, "* 1 FETCH (UID 10 FLAGS (\\Seen))\r\n* 2 FETCH (UID 20 FLAGS (\\Flagged))\r\n")
		for i := 2; i <= 4; i++ {
			readCommand(r, w) // NOOPs
			fmt.Fprintf(w, "* %d EXISTS\r\nA%d OK noop\r\n", i+10, i)
		}
		io.WriteString(w, "* 3 FETCH (UID 30 FLAGS ())\r\nA1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	// UID FETCH: NOOP may be pipelined with it (a FETCH by sequence
	// number would hold it back until the FETCH ends, RFC 9051 5.5).
	p, err := s.Start(hangCtx(t), pullUIDFetch("(UID FLAGS)"))
	if err != nil {
		t.Fatal(err)
	}
	it, err := p.Next(hangCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	held := it.Response.(*codec.Fetch)
	for i := 0; i < 3; i++ {
		if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
	}
	if held.UID != 10 || string(held.Flags[0]) != `\Seen` {
		t.Fatalf("the held response changed: %+v", held)
	}
	uids := pullUIDs(t, p)
	if fmt.Sprint(uids) != "[20 30]" {
		t.Fatalf("then %v; want [20 30]", uids)
	}
}

// TestPullSections: body sections come as items whose Body streams them;
// skipped ones are drained; the complete FETCH follows each; another
// command run while a body is half read does not deadlock, and the body
// still reads whole.
func TestPullSections(t *testing.T) {
	stream, body := corpus.BodyLiterals(5, 200<<10)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		w.Write(stream)
		io.WriteString(w, "A1 OK done\r\n")
		readCommand(r, w)
		io.WriteString(w, "A2 OK noop\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	p, err := s.Start(hangCtx(t), pullFetch("(UID BODY[])"))
	if err != nil {
		t.Fatal(err)
	}
	var sections, fetches int
	for {
		it, err := p.Next(hangCtx(t))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Body == nil {
			f := it.Response.(*codec.Fetch)
			if f.UID != uint32(101+fetches) {
				t.Fatalf("FETCH %d has UID %d", fetches, f.UID)
			}
			fetches++
			continue
		}
		sections++
		switch sections {
		case 2: // skipped
		case 3:
			// Half read, then another command: the rest is kept.
			half := make([]byte, len(body)/2)
			if _, err := io.ReadFull(it.Body, half); err != nil {
				t.Fatal(err)
			}
			noop, err := s.Start(hangCtx(t), &session.Command{Name: "NOOP"})
			if err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(it.Body)
			if err != nil || !bytes.Equal(append(half, rest...), body) {
				t.Fatalf("section 3: %d+%d bytes, %v", len(half), len(rest), err)
			}
			go noop.Wait(hangCtx(t))
		default:
			got, err := io.ReadAll(it.Body)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("section %d: %d bytes, %v", sections, len(got), err)
			}
		}
	}
	if sections != 5 || fetches != 5 {
		t.Fatalf("%d sections, %d FETCH; want 5 and 5", sections, fetches)
	}
}

// TestPullAbandon: Next's context ends: the command is abandoned, the rest
// of its answer thrown away, and the session goes on.
//
// The server sends the rest only once Next has given up (rest). With a
// 100 ms sleep there instead, a caller held up that long by a loaded
// machine before its 20 ms context began found the rest there and could
// take it all, and io.EOF, within those 20 ms: "Next: EOF; want
// DeadlineExceeded" (so every time without -race, a 150 ms sleep planted
// before the context).
func TestPullAbandon(t *testing.T) {
	rest := make(chan struct{})
	var restOnce sync.Once
	sendRest := func() { restOnce.Do(func() { close(rest) }) }
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		io.WriteString(w, "* 1 FETCH (UID 1)\r\n")
		<-rest
		for i := 2; i < 2000; i++ {
			fmt.Fprintf(w, "* %d FETCH (UID %d)\r\n", i, i)
		}
		io.WriteString(w, "A1 OK done\r\n")
		readCommand(r, w)
		io.WriteString(w, "A2 OK noop\r\n")
		io.Copy(io.Discard, r)
	})
	t.Cleanup(sendRest) // before fake's, which waits for the server
	s := openDefaults(t, conn, nil)
	p, err := s.Start(hangCtx(t), pullFetch("(UID)"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(hangCtx(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	for {
		if _, err = p.Next(ctx); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next: %v; want DeadlineExceeded", err)
	}
	sendRest()
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("the session did not go on: %v", err)
	}
	// The rest was read for nobody (the NOOP's answer came after it): a
	// later Next, with a live context, still says the command was given
	// up, not io.EOF (which says every response was handed out).
	<-p.Done()
	if _, err := p.Next(hangCtx(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next after the abandoned command ended: %v; want DeadlineExceeded", err)
	}
}

// pipeFetchServer serves the metadata stream of n messages for every
// command it reads, on a pipe; a SELECT gets "* n EXISTS" and OK instead.
func pipeFetchServer(tb testing.TB, n int) *session.Session {
	data := corpus.FetchMetadata(n)
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasPrefix(rest, "SELECT") {
				fmt.Fprintf(server, "* %d EXISTS\r\n%s OK [READ-WRITE] done\r\n", n, tag)
				continue
			}
			server.Write(data)
			server.Write([]byte(tag + " OK FETCH completed\r\n"))
		}
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkFetchMetadataPull: the 10,000-message metadata stream through
// the session, pulled with Next. Compare with codec's
// BenchmarkDecodeFetchMetadata on the same bytes (target: >= 80 % of its
// MB/s, <= 2 allocs per message).
func BenchmarkFetchMetadataPull(b *testing.B) {
	benchmarkFetchMetadataPull(b, context.Background())
}

// BenchmarkFetchMetadataPullCancelable: the same with a context that can
// end: the caller that drives the reading coroutine hands every read from
// the connection to the reader goroutine (see pull.go).
func BenchmarkFetchMetadataPullCancelable(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchmarkFetchMetadataPull(b, ctx)
}

func benchmarkFetchMetadataPull(b *testing.B, ctx context.Context) {
	const n = 10000
	s := pipeFetchServer(b, n)
	cmd := &session.Command{Name: "FETCH", AnyState: true, Pull: true, Args: func(e *wire.Encoder) {
		e.SP().Raw("1:*").SP().Raw("(UID FLAGS)")
	}}
	b.SetBytes(int64(len(corpus.FetchMetadata(n))))
	b.ReportAllocs()
	b.ResetTimer()
	m0 := mallocs()
	for i := 0; i < b.N; i++ {
		pullAll(b, s, ctx, cmd, n)
	}
	b.ReportMetric(float64(mallocs()-m0)/float64(b.N*n), "allocs/msg")
}

// BenchmarkFetchMetadataRun: the same through Run, which collects copies
// (target: <= 10 allocs per message).
func BenchmarkFetchMetadataRun(b *testing.B) {
	const n = 10000
	s := pipeFetchServer(b, n)
	ctx := context.Background()
	cmd := &session.Command{Name: "FETCH", AnyState: true, Args: func(e *wire.Encoder) {
		e.SP().Raw("1:*").SP().Raw("(UID FLAGS)")
	}}
	b.SetBytes(int64(len(corpus.FetchMetadata(n))))
	b.ReportAllocs()
	b.ResetTimer()
	m0 := mallocs()
	for i := 0; i < b.N; i++ {
		r, err := s.Run(ctx, cmd)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Data) != n {
			b.Fatalf("%d responses", len(r.Data))
		}
	}
	b.ReportMetric(float64(mallocs()-m0)/float64(b.N*n), "allocs/msg")
}

// mallocs returns the number of heap allocations so far.
func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// replayConn is a server in memory with no transport cost: each command
// written (counted by its CRLF) is answered with data and "A<k> OK", read
// straight out of memory, as codec's benchmark reads its bytes. It
// separates the session's own cost from transport.Pipe's.
type replayConn struct {
	net.Conn // nil: only Read, Write, Close and deadlines are used
	mu       sync.Mutex
	cond     *sync.Cond
	data     []byte
	pending  []byte // what is left to read of data, then of tail
	tail     []byte // the tagged OK that follows data
	asked    int    // commands written
	answered int
	closed   bool
}

func newReplayConn(data []byte) *replayConn {
	c := &replayConn{data: data, pending: []byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) == 0 {
		if len(c.tail) > 0 {
			c.pending, c.tail = c.tail, nil
			break
		}
		if c.closed {
			return 0, io.EOF
		}
		if c.answered < c.asked {
			c.answered++
			c.pending = c.data
			c.tail = fmt.Appendf(nil, "A%d OK done\r\n", c.answered)
			break
		}
		c.cond.Wait()
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *replayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.asked += bytes.Count(p, []byte("\r\n"))
	c.cond.Broadcast()
	c.mu.Unlock()
	return len(p), nil
}

func (c *replayConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}

func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *replayConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143}
}

// BenchmarkFetchMetadataPullMemory: the pull benchmark with the server's
// bytes read straight from memory (no transport.Pipe), to compare with
// codec's BenchmarkDecodeFetchMetadata, which reads them the same way.
func BenchmarkFetchMetadataPullMemory(b *testing.B) {
	const n = 10000
	benchPullReplay(b, corpus.FetchMetadata(n), n)
}

// benchPullReplay pulls data, n FETCH responses answering every FETCH, from
// memory (a replayConn) in each iteration.
func benchPullReplay(b *testing.B, data []byte, n int) {
	s, err := session.Open(context.Background(), newReplayConn(data), &session.Options{TagPrefix: "A"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	cmd := pullFetch("(UID FLAGS)")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pullAll(b, s, ctx, cmd, n)
	}
}

// TestPullAbandonDuringRead: the caller of Next drives the reading
// coroutine and waits in a read from the connection, the server silent,
// when its context ends: Next returns at once (the read is interrupted
// and handed to the reader goroutine), and the session reads the rest and
// goes on. Without the interrupt Next would wait for the server, which
// waits for the test. Over transport.Pipe, and over TLS on loopback TCP
// (an interrupted read must leave crypto/tls usable: a timeout is not
// sticky there, unlike in compress/flate).
func TestPullAbandonDuringRead(t *testing.T) {
	play := func(release <-chan struct{}, r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		io.WriteString(w, "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID")
		<-release
		io.WriteString(w, " 2)\r\n* 3 FETCH (UID 3)\r\nA1 OK done\r\n")
		readCommand(r, w)
		io.WriteString(w, "A2 OK noop\r\n")
		io.Copy(io.Discard, r)
	}
	t.Run("pipe", func(t *testing.T) {
		release := make(chan struct{})
		conn := fake(t, func(r *bufio.Reader, w io.Writer) { play(release, r, w) })
		pullAbandonDuringRead(t, conn, release)
	})
	t.Run("tls", func(t *testing.T) {
		srvCfg, cliCfg := bnTLSConfig(t)
		ln, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := ln.Accept()
			ln.Close()
			if err != nil {
				return
			}
			defer c.Close()
			play(release, bufio.NewReader(c), c)
		}()
		conn := bnDial(t, ln.Addr().String(), cliCfg)
		t.Cleanup(func() { conn.Close(); <-done })
		pullAbandonDuringRead(t, conn, release)
	})
}

func pullAbandonDuringRead(t *testing.T, conn net.Conn, release chan struct{}) {
	s := openDefaults(t, conn, nil)
	p, err := s.Start(hangCtx(t), pullFetch("(UID)"))
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.Next(ctx); err != nil {
		close(release)
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := p.Next(ctx) // drives, and waits in the read of "* 2 FETCH"
		errc <- err
	}()
	// Either order passes; the cancel is meant to come while the read
	// waits for the server.
	if !waitGoroutineParked("", "(*watchConn).Read(") {
		close(release)
		t.Fatal("Next did not come to wait in the read of the connection")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			close(release)
			t.Fatalf("Next: %v; want Canceled", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Next did not return when its context ended while it waited for the server")
	}
	close(release)
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("the session did not go on: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session: %v", err)
	}
}

// pullAll runs cmd (a pulled FETCH) to its end, taking every item with
// Next, and fails unless n responses that are not body sections came.
func pullAll(tb testing.TB, s *session.Session, ctx context.Context, cmd *session.Command, n int) {
	p, err := s.Start(ctx, cmd)
	if err != nil {
		tb.Fatal(err)
	}
	got := 0
	for {
		it, err := p.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if it.Body == nil {
			got++
		}
	}
	if got != n {
		tb.Fatalf("%d responses; want %d", got, n)
	}
	if _, err := p.Wait(ctx); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkFetchTinyPullMemory: 10,000 FETCH responses of one UID each,
// pulled from memory: what the session costs per response, with the
// decoding itself small (ns/resp).
func BenchmarkFetchTinyPullMemory(b *testing.B) {
	const n = 10000
	var data []byte
	for i := 1; i <= n; i++ {
		data = fmt.Appendf(data, "* %d FETCH (UID %d)\r\n", i, i+1000)
	}
	benchPullReplay(b, data, n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/resp")
}

// BenchmarkFetchMetadataPullVsCodec measures the target of
// BenchmarkFetchMetadataPull in one process, robust to a busy machine: each
// iteration decodes the 10,000-message stream once with the codec alone
// (a Decoder over an in-memory reader, as codec's
// BenchmarkDecodeFetchMetadata) and pulls it once through a session over
// transport.Pipe, in turn, and the two times are summed apart. ratio is
// the codec's time ÷ the session's (target >= 0.80).
func BenchmarkFetchMetadataPullVsCodec(b *testing.B) {
	const n = 10000
	data := corpus.FetchMetadata(n)
	s := pipeFetchServer(b, n)
	ctx := context.Background()
	cmd := pullFetch(metadataItems)
	tc, ts := benchkit.InTurn(b, benchkit.CodecFromMemory(b, data, n), func() { pullAll(b, s, ctx, cmd, n) })
	mb := float64(len(data)) * float64(b.N) / 1e6
	b.ReportMetric(mb/tc.Seconds(), "codecMB/s")
	b.ReportMetric(mb/ts.Seconds(), "pullMB/s")
	b.ReportMetric(tc.Seconds()/ts.Seconds(), "ratio")
}

// BenchmarkCodecPipeCoroutineVsCodec takes the session out of
// BenchmarkFetchMetadataPullVsCodec, to show what the pipe and the
// coroutine cost the codec by themselves. Each iteration decodes the
// 10,000-message stream with the codec from memory, then with the codec
// reading from transport.Pipe (a goroutine writing the stream without
// end), directly ("direct") or inside an iter.Pull coroutine with a switch
// to the caller after each response, as the session's pull does
// ("coroutine"). ratio is the codec's time from memory ÷ the other's.
func BenchmarkCodecPipeCoroutineVsCodec(b *testing.B) {
	for _, coro := range []bool{false, true} {
		name := "direct"
		if coro {
			name = "coroutine"
		}
		b.Run(name, func(b *testing.B) { benchCodecPipe(b, coro) })
	}
}

func benchCodecPipe(b *testing.B, coro bool) {
	const n = 10000
	data := corpus.FetchMetadata(n)
	client, server := transport.Pipe()
	defer client.Close()
	go func() {
		for {
			if _, err := server.Write(data); err != nil {
				return
			}
		}
	}()
	dec := codec.NewDecoder(wire.NewTokenizer(struct{ io.Reader }{client}, nil), nil)
	responses := func(yield func(codec.Response) bool) {
		for {
			r, err := dec.Next()
			if err != nil {
				b.Error(err)
				return
			}
			if !yield(r) {
				return
			}
		}
	}
	next, stop := iter.Pull(iter.Seq[codec.Response](responses))
	defer stop()
	fromPipe := func() {
		for i := 0; i < n; i++ {
			if coro {
				if _, ok := next(); !ok {
					b.Fatal("the stream ended")
				}
			} else if _, err := dec.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
	tm, tp := benchkit.InTurn(b, benchkit.CodecFromMemory(b, data, n), fromPipe)
	b.ReportMetric(tm.Seconds()/tp.Seconds(), "ratio")
}

// TestPullDirectStepHeld: a response read by a direct step (the whole
// next response buffered: the caller reads it without resuming the
// coroutine) stays valid while other commands run before the next Next,
// as one lent by the coroutine does; the rest comes in order, the last
// FETCH from a read the coroutine does. The NOOPs bring a FETCH of a
// message outside the command's UIDs (unsolicited), decoded where the held
// one was if it were not kept. Whether the second FETCH is read by a
// direct step depends on the scheduling (the reader goroutine may drive
// the coroutine first): the scenario is run again, up to ten times, until
// it is.
func TestPullDirectStepHeld(t *testing.T) {
	for range 10 {
		if pullDirectStepHeld(t) {
			return
		}
	}
	t.Fatal("in 10 runs the second FETCH, buffered, was never read by a direct step: the test would prove nothing")
}

// pullDirectStepHeld runs TestPullDirectStepHeld's scenario once; false
// when the second FETCH was not read by a direct step (nothing checked).
func pullDirectStepHeld(t *testing.T) bool {
	t.Helper()
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w) // A1 UID FETCH
		// One write: the second and third come buffered with the first.
		io.WriteString(w, "* 1 FETCH (UID 10 FLAGS (\\Seen))\r\n* 2 FETCH (UID 20 FLAGS (\\Flagged))\r\n"+
			"* 3 FETCH (UID 30 FLAGS (\\Draft))\r\n")
		for i := 2; i <= 3; i++ {
			readCommand(r, w) // NOOPs
			fmt.Fprintf(w, "* %d EXISTS\r\n* 9 FETCH (UID 90 FLAGS (\\Deleted))\r\nA%d OK noop\r\n", i+10, i)
		}
		io.WriteString(w, "* 4 FETCH (UID 40 FLAGS ())\r\nA1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	p, err := s.Start(hangCtx(t), pulled("UID FETCH", "1:50", "(UID FLAGS)"))
	if err != nil {
		t.Fatal(err)
	}
	next := func() *codec.Fetch {
		t.Helper()
		it, err := p.Next(hangCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		return it.Response.(*codec.Fetch)
	}
	if f := next(); f.UID != 10 {
		t.Fatalf("first UID %d", f.UID)
	}
	before := session.DirectSteps(s)
	held := next()
	if session.DirectSteps(s) == before {
		s.Close()
		return false
	}
	for i := 0; i < 2; i++ {
		if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
	}
	if held.UID != 20 || len(held.Flags) != 1 || string(held.Flags[0]) != `\Flagged` {
		t.Fatalf("the held response changed: UID %d flags %q", held.UID, held.Flags)
	}
	uids := pullUIDs(t, p)
	if fmt.Sprint(uids) != "[30 40]" {
		t.Fatalf("then %v; want [30 40]", uids)
	}
	return true
}

// pullUIDs takes the rest of p's FETCH responses with Next and returns
// their UIDs.
func pullUIDs(t *testing.T, p *session.Pending) []uint32 {
	t.Helper()
	var uids []uint32
	for {
		it, err := p.Next(hangCtx(t))
		if err == io.EOF {
			return uids
		}
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, it.Response.(*codec.Fetch).UID)
	}
}

// TestPullItemSize: an item's Size is the bytes its response took on the
// wire plus the same overhead for every response, whether it was lent to
// a waiting caller or queued as a copy for a busy one (the first response
// is queued while the caller sleeps, the rest are lent), a queued copy
// the memory it takes when that is more; a section's item
// has Size 0, and the complete FETCH after it counts the bytes without the
// streamed body. MaxResultBytes reports the bound in effect.
func TestPullItemSize(t *testing.T) {
	lines := []string{"* 1 FETCH (UID 1)\r\n", "* 2 FETCH (UID 22 FLAGS (\\Seen))\r\n", "* 3 FETCH (UID 333 FLAGS ())\r\n"}
	body := strings.Repeat("x", 100)
	big := "* 4 FETCH (UID 4 BODY[] {100}\r\n" + body + " FLAGS ())\r\n"
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		io.WriteString(w, strings.Join(lines, "")+big+"A1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaultsWith(t, conn, &session.Options{TagPrefix: "A", Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 10}})
	if got := s.MaxResultBytes(); got != session.DefaultMaxResultBytes {
		t.Fatalf("MaxResultBytes() = %d, want the default %d", got, session.DefaultMaxResultBytes)
	}
	p, err := s.Start(hangCtx(t), pullFetch("(UID FLAGS BODY[])"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the first responses are queued as copies
	var sizes []int64
	for {
		it, err := p.Next(hangCtx(t))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Section != nil {
			if it.Size != 0 {
				t.Fatalf("a section's item has Size %d", it.Size)
			}
			io.Copy(io.Discard, it.Body)
			continue
		}
		sizes = append(sizes, it.Size)
	}
	if len(sizes) != 4 {
		t.Fatalf("%d responses", len(sizes))
	}
	const overhead = 256 // per response, as Options.MaxResultBytes says
	for i, l := range append(lines, big) {
		onWire := int64(len(l)) + overhead
		if i == 3 {
			onWire -= int64(len(body)) // streamed
		}
		// Lent, or queued as a copy: then the memory of the copy when
		// larger.
		r, err := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(l), &wire.TokenizerOptions{MaxStringLiteral: 10}), &codec.DecoderOptions{SectionHandler: func(*codec.Fetch, *codec.Section, io.Reader) error { return nil }}).Next()
		if err != nil {
			t.Fatal(err)
		}
		if sizes[i] != onWire && sizes[i] != max(onWire, codec.CloneSize(r)) {
			t.Errorf("response %d: Size %d, want %d (lent) or %d (queued)", i+1, sizes[i], onWire, max(onWire, codec.CloneSize(r)))
		}
	}
	if _, err := p.Wait(hangCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestPullKeptBodiesBounded: while a pulled command's caller is slow,
// another goroutine's command makes the reader go on, and the bodies of
// the sections the caller has not taken are kept in memory. Together
// they stay within MaxResultBytes (here the default, 64 MiB): three
// 33 MiB bodies arrive (any two are past the bound), the first is kept,
// the next two fail with ResultTooLargeError when read, instead of 99 MiB
// held. (40 MiB bodies until stop 48: more bytes under -race for the
// same bound crossed.)
func TestPullKeptBodiesBounded(t *testing.T) {
	const size = 33 << 20
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w) // A1 UID FETCH
		readCommand(r, w) // A2 NOOP
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(w, "* %d FETCH (UID %d BODY[] {%d}\r\n", i, i, size)
			for range size / len(chunk) {
				w.Write(chunk)
			}
			io.WriteString(w, ")\r\n")
		}
		io.WriteString(w, "A2 OK noop\r\nA1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	p, err := s.Start(ctxBulk(t), pullUIDFetch("(UID BODY[])"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctxBulk(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	var got []string
	for {
		it, err := p.Next(ctxBulk(t))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Body == nil {
			continue
		}
		n, err := io.Copy(io.Discard, it.Body)
		var tooLarge *session.ResultTooLargeError
		switch {
		case err == nil:
			got = append(got, fmt.Sprint(n))
		case errors.As(err, &tooLarge) && tooLarge.Queued && tooLarge.Command == "UID FETCH" && tooLarge.Sections == 1 && tooLarge.Limit == session.DefaultMaxResultBytes:
			got = append(got, "too large")
		default:
			t.Fatalf("reading a body: %v", err)
		}
	}
	if want := fmt.Sprintf("[%d too large too large]", size); fmt.Sprint(got) != want {
		t.Fatalf("bodies %v; want %s", got, want)
	}
	if _, err := p.Wait(ctxBulk(t)); err != nil {
		t.Fatal(err)
	}
}

func gcHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestPulledItemPinsBigResponse: once a pulled command (Command.Pull,
// as commands.Client's Fetch, List, Search and Idle use) has been lent a
// response, iter.Pull keeps the last value the reading coroutine yielded
// (the coItem event, whose Response points into the decoder's reusable
// values) until the coroutine yields again, which the reader goroutine
// alone never makes it do. Every later response decoded into those same
// reusable values stays reachable from there: a 30 MB body collected by
// a later plain UID FETCH is still held after its Result is dropped and
// after many more commands, for as long as no other pulled command runs.
// The decoder's own guard (keepBytes/dropFw: "one huge response does not
// pin its memory for the decoder's lifetime") is defeated.
func TestPulledItemPinsBigResponse(t *testing.T) {
	ctx := context.Background()
	const size = 30 << 20
	big := strings.Repeat("x", size)
	mode := ""
	s := scriptedOpen(t, nil, func(tag, line string) string {
		switch mode {
		case "big":
			return fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n%s)\r\n%s OK done\r\n", len(big), big, tag)
		case "pull":
			return "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n" + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	noops := func() {
		mode = ""
		for i := 0; i < 50; i++ {
			if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// One ordinary pulled command, run to its end.
	mode = "pull"
	pullFlags(t, s)
	noops()
	h0 := gcHeap()
	// One large body collected by a plain command, its Result dropped.
	mode = "big"
	r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1 BODY[]") }})
	if err != nil || len(r.Data) != 1 {
		t.Fatalf("big fetch: %v", err)
	}
	r = nil
	noops()
	h1 := gcHeap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the big FETCH %d, after it and 50 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("a 30 MB body whose Result was dropped is still held by the session: heap +%d MB", grown>>20)
	}
}

func pullFlags(t *testing.T, s *session.Session) {
	ctx := context.Background()
	p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Pull: true, Args: func(e *wire.Encoder) { e.SP().Raw("1 FLAGS") }})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := p.Next(ctx); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPulledItemPinsBigResponseDovecot is TestPulledItemPinsBigResponse
// against Dovecot: after one pulled UID FETCH FLAGS, a 20 MB message read
// with a plain (collected) UID FETCH BODY.PEEK[] stays in the heap after
// its Result is dropped.
func TestPulledItemPinsBigResponseDovecot(t *testing.T) {
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := fmt.Sprintf("r42pin%d", time.Now().UnixNano())
	dvRun(t, s, dvMailboxCmd("CREATE", mb))
	t.Cleanup(func() { s.Run(dvCtx(t), dvMailboxCmd("DELETE", mb)) })
	const size = 20 << 20
	func() {
		msg := append([]byte("From: a@example.com\r\nSubject: big\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), size/64)...)
		dvRun(t, s, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox(mb).SP().LiteralReader(int64(len(msg)), bytes.NewReader(msg), false)
		}})
	}()
	dvRun(t, s, dvMailboxCmd("SELECT", mb))
	// One pulled command, run to its end.
	p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Pull: true, Args: func(e *wire.Encoder) { e.SP().Raw("1:* FLAGS") }})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := p.Next(ctx); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p = nil
	for i := 0; i < 20; i++ {
		dvRun(t, s, &session.Command{Name: "NOOP"})
	}
	h0 := gcHeap()
	func() {
		r := dvRun(t, s, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:* BODY.PEEK[]") }})
		if len(r.Data) != 1 {
			t.Fatalf("%d responses", len(r.Data))
		}
	}()
	for i := 0; i < 50; i++ {
		dvRun(t, s, &session.Command{Name: "NOOP"})
	}
	h1 := gcHeap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the FETCH %d, after it and 50 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("a 20 MB body whose Result was dropped is still held by the session: heap +%d MB", grown>>20)
	}
}
