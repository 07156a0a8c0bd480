package session_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestDovecotCompress turns COMPRESS=DEFLATE on against the real Dovecot
// and runs commands over the compressed streams: SELECT, a pipelined batch,
// a FETCH of whole bodies (streamed and kept), two rounds of IDLE, LOGOUT.
func TestDovecotCompress(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dvDialUser(t, testserver.Alice, &session.Options{Trace: &tr})
	ctx := dvCtx(t)
	if err := s.Compress(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Compress(ctx); err == nil {
		t.Fatal("a second Compress was accepted")
	}
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	var cmds []*session.Command
	for i := 0; i < 20; i++ {
		cmds = append(cmds, &session.Command{Name: "NOOP"})
	}
	ps, err := s.StartBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var streamed int64
	r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: dvRaw("1:10 (UID BODY.PEEK[])"),
		Sections: func(f *codec.Fetch, sec *codec.Section, body io.Reader) error {
			n, err := io.Copy(io.Discard, body)
			streamed += n
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 10 || streamed < 10*1000 {
		t.Fatalf("UID FETCH over COMPRESS: %d responses, %d body bytes", len(r.Data), streamed)
	}
	// Pulled, by a caller whose context can end: under COMPRESS its
	// reads go to the reader goroutine (an interrupted read would break
	// the inflater; see session/pull.go), and every message still comes.
	for _, pctx := range []context.Context{ctx, context.Background()} {
		p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Args: dvRaw("1:10 (UID FLAGS BODY.PEEK[])"), Pull: true})
		if err != nil {
			t.Fatal(err)
		}
		var fetches int
		var body int64
		for {
			it, err := p.Next(pctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if it.Body != nil {
				n, _ := io.Copy(io.Discard, it.Body)
				body += n
			} else {
				fetches++
			}
		}
		if _, err := p.Wait(ctx); err != nil || fetches != 10 {
			t.Fatalf("pulled UID FETCH over COMPRESS: %d FETCH, %d streamed body bytes, %v", fetches, body, err)
		}
	}
	// IDLE: the session gives its deflater back while it waits and takes
	// a new one for DONE (see TestIdleReleasesDeflater); Dovecot's
	// inflater must read what the new one sends, and the NOOP after it.
	for range 2 {
		endIdle(t, ctx, startIdle(t, ctx, s))
		dvRun(t, s, &session.Command{Name: "NOOP"})
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	trace := tr.String()
	if !strings.Contains(trace, "C: A2 COMPRESS DEFLATE") || !strings.Contains(trace, "S: * BYE") {
		t.Fatalf("the trace should show the decompressed exchange:\n%s", trace)
	}
	if bytes.Contains([]byte(trace), []byte{0}) {
		t.Fatal("compressed bytes in the trace")
	}
}

// TestIdleReleasesDeflater: with the defaults, a session waiting in IDLE
// under COMPRESS gives its deflater (about 850 KB) back, and the deflater
// it takes for DONE continues the stream: three rounds of a NOOP, IDLE and
// DONE, each read by the scripted server's inflater (idleServe).
func TestIdleReleasesDeflater(t *testing.T) {
	client, server := transport.Pipe()
	go idleServe(server)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Compress(ctx); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("round %d: NOOP: %v", round, err)
		}
		if !session.HoldsDeflater(s) {
			t.Fatalf("round %d: no deflater after a NOOP: the test would prove nothing", round)
		}
		p := startIdle(t, ctx, s)
		// The reader gives the deflater back when it goes back to
		// waiting, a moment after the continuation: wait for it, up to
		// the test's deadline.
		for session.HoldsDeflater(s) {
			if ctx.Err() != nil {
				t.Fatalf("round %d: the idle session still holds its deflater", round)
			}
			time.Sleep(time.Millisecond)
		}
		endIdle(t, ctx, p)
	}
}

// TestCompressOneWritePerCommand: each command (each Write of the session
// on the compressed stream) reaches the connection in one write, its
// block and the sync flush's marker together, so that a server that acts
// on the block and closes (LOGOUT) never has the marker arrive on a closed
// socket; a write far larger than a command goes in pieces of bounded
// size, and inflates back to what was written.
func TestCompressOneWritePerCommand(t *testing.T) {
	var conn countWriter
	fw := session.NewFlushWriter(&conn, flate.DefaultCompression)
	for _, cmd := range []string{"A1 LOGIN x y\r\n", "A2 SELECT INBOX\r\n", "A3 IDLE\r\n", "DONE\r\n", "A4 LOGOUT\r\n"} {
		before := conn.writes
		if _, err := fw.Write([]byte(cmd)); err != nil {
			t.Fatal(err)
		}
		if n := conn.writes - before; n != 1 {
			t.Errorf("%q went in %d writes; want 1", cmd, n)
		}
	}
	big := make([]byte, 3<<20) // 3 MiB that do not compress
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	before := conn.writes
	if n, err := fw.Write(big); err != nil || n != len(big) {
		t.Fatalf("Write of %d bytes: %d, %v", len(big), n, err)
	}
	if conn.max > 128<<10 {
		t.Errorf("a write of %d bytes on the connection; want pieces of at most 128 KiB", conn.max)
	}
	t.Logf("%d bytes in %d writes", len(big), conn.writes-before)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(conn.buf.Bytes())))
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatal(err)
	}
	want := "A1 LOGIN x y\r\nA2 SELECT INBOX\r\nA3 IDLE\r\nDONE\r\nA4 LOGOUT\r\n" + string(big)
	if string(got) != want {
		t.Errorf("inflated %d bytes; want %d", len(got), len(want))
	}
}

// countWriter records the writes made to it.
type countWriter struct {
	buf         bytes.Buffer
	writes, max int
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.writes++
	c.max = max(c.max, len(p))
	return c.buf.Write(p)
}

// shortWriteConn fails its writes once armed part way, as a TCP write cut
// by a deadline (or a reset) does: all but the last 4 bytes go out, and
// the write returns the count and an error.
type shortWriteConn struct {
	net.Conn
	armed atomic.Bool
}

func (c *shortWriteConn) Write(p []byte) (int, error) {
	if c.armed.Load() && len(p) > 4 {
		n, _ := c.Conn.Write(p[:len(p)-4])
		return n, errors.New("m46: write: connection reset by peer")
	}
	return c.Conn.Write(p)
}

// TestCompressedTailCutNotWriteCut (found by review): under COMPRESS=DEFLATE
// the last conn write of a command is the deflate block holding its bytes
// and, after it, the 4-byte sync marker (00 00 ff ff) of its Flush. A
// write that fails with only the marker not sent (a partial write: a
// deadline, a reset) leaves the server's inflater with the whole command
// (the data block, up to its end-of-block code, came whole): the server
// has the APPEND, its literal and its CRLF, and runs it. The command's
// error matches ErrWriteCut all the same ("the server did not run it"),
// which the CLI's appender takes for "not appended", and sends again on
// resume: a duplicate. The defaults.
func TestCompressedTailCutNotWriteCut(t *testing.T) {
	client, server := transport.Pipe()
	fc := &shortWriteConn{Conn: client}
	whole := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ COMPRESS=DEFLATE] ready\r\n"))
		var r io.Reader = server
		br := bufio.NewReaderSize(r, 256)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := bytes.Cut([]byte(line), []byte(" "))
			if bytes.HasPrefix(rest, []byte("COMPRESS DEFLATE")) {
				server.Write(append(tag, " OK go\r\n"...))
				br = bufio.NewReaderSize(flate.NewReader(br), 256)
				continue
			}
			if bytes.HasPrefix(rest, []byte("APPEND")) {
				i := bytes.LastIndexByte([]byte(line), '{')
				n, _ := strconv.Atoi(string(bytes.TrimSuffix([]byte(line[i+1:]), []byte("+}\r\n"))))
				if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
					return
				}
				if end, err := br.ReadString('\n'); err != nil || end != "\r\n" {
					return
				}
				close(whole) // the server runs it: appended
				io.Copy(io.Discard, br)
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	s, err := session.Open(ctx, fc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(); server.Close(); <-done }()
	if err := s.Compress(ctx); err != nil {
		t.Fatal(err)
	}
	fc.armed.Store(true)
	msg := bytes.Repeat([]byte("Subject: x\r\n\r\nhello\r\n"), 20)
	_, aerr := commands.New(s).Append(context.Background(), "INBOX", bytes.NewReader(msg), int64(len(msg)), nil)
	if aerr == nil {
		t.Fatal("Append: no error")
	}
	select {
	case <-whole:
	case <-time.After(hangBound):
		t.Fatalf("the server did not get the whole APPEND (%v): the test shows nothing", aerr)
	}
	if errors.Is(aerr, session.ErrWriteCut) {
		t.Fatalf("the server read the whole APPEND (it appended), yet its error matches ErrWriteCut: %v", aerr)
	}
}

// TestCompressWorkerEnds: under COMPRESS, the inflater's worker
// goroutine, started by a pulled body's reads with a context that can end,
// is kept for the length of the body only: once the body was read and the
// pull waited for, a NOOP (whose reads run on the reader's goroutine)
// leaves none (AfterBody); and a session closed while a body was read in
// part, nothing reading since, leaves none either (Closed: the session's
// end stops the worker, which waits for a read that never comes). The
// library's defaults.
func TestCompressWorkerEnds(t *testing.T) {
	for _, closed := range []bool{false, true} {
		t.Run(map[bool]string{false: "AfterBody", true: "Closed"}[closed], func(t *testing.T) {
			const size = 256 << 10
			check := leakcheck.Start()
			conn := bodyCtxConn(t, false, bodyCtxServer(size, false, nil, 0, true))
			s, err := session.Open(context.Background(), conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Compress(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
			if err != nil {
				t.Fatal(err)
			}
			it, err := p.Next(ctx)
			if err != nil || it.Body == nil {
				t.Fatalf("Next: %v, %v", it, err)
			}
			if closed {
				// A part of the body read, and no more: the worker
				// waits for the next read, which never comes.
				if _, err := io.CopyN(io.Discard, it.Body, 1000); err != nil {
					t.Fatal(err)
				}
				s.Close()
			} else {
				if n, err := io.Copy(io.Discard, it.Body); err != nil || n != size {
					t.Fatalf("body: %d bytes, %v", n, err)
				}
				if _, err := p.Wait(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Run(context.Background(), &session.Command{Name: "NOOP"}); err != nil {
					t.Fatal(err)
				}
			}
			if n := inflaterWorkers(check, leakcheck.Wait); n != 0 {
				t.Fatalf("%d inflater workers left (session closed: %v)", n, closed)
			}
		})
	}
}

// inflaterWorkers counts the inflater's worker goroutines that c did not
// see at its start, waiting up to wait for none to be left. Only those:
// tests running in parallel start others.
func inflaterWorkers(c *leakcheck.Checker, wait time.Duration) int {
	return len(c.Left(wait, "session.inflateWorker"))
}

// byteCountConn counts the bytes through Read (the client's side) or
// Write (the server's side).
type byteCountConn struct {
	net.Conn
	n atomic.Int64
}

func (c *byteCountConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *byteCountConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCompressBodyFrozenContext: under COMPRESS, the body of a
// pulled FETCH whose server stops in the middle of the literal (the
// deflater flushed: the client has inflated the first half) is read with a
// context that is cancelled while the read waits for the server: the read
// returns the context's error (with ErrBodyDropped), the session is kept,
// and once the server goes on it runs a NOOP: the same as without
// COMPRESS (TestPullBodyReadContextFrozen). It waited for the stall
// timeout (60 s, the default), which aborted the session, whenever the
// context ended during the read (and returned the context's error when it
// ended between two reads): the inflater (compress/flate) keeps a read's
// timeout for good, so the read was never interrupted.
//
// In a bubble: the cancel comes once every goroutine is durably blocked
// (synctest.Wait), the server waiting to be released and the body's read
// waiting on the pipe with every byte the server sent read, so that the
// read surely waits; the stall timeout, were the read not interrupted, is
// on the bubble's clock. (On the real clock the test looked for a read
// beginning once the server had marked itself stalled, after its write
// returned: a server goroutine not run between the two let the client read
// all and block first, and no read began again; the test then failed
// after the stall timeout.)
func TestCompressBodyFrozenContext(t *testing.T) {
	const size = 1 << 20
	synctest.Test(t, func(t *testing.T) {
		client, server := transport.Pipe()
		sc := &byteCountConn{Conn: server}
		cc := &byteCountConn{Conn: client}
		release := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer sc.Close()
			compressHalfServer(sc, size, release)
		}()
		t.Cleanup(func() {
			client.Close()
			server.Close()
			<-done
		})
		s := openDefaults(t, cc, nil)
		if err := s.Compress(hangCtx(t)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.Next(ctx)
		if err != nil || it.Body == nil {
			t.Fatalf("%+v %v", it, err)
		}
		res := make(chan countedRead, 1)
		go func() {
			n, err := io.Copy(io.Discard, it.Body)
			res <- countedRead{n, err}
		}()
		synctest.Wait()
		select {
		case r := <-res:
			t.Fatalf("the body's read ended before the server went on: %d bytes, %v", r.n, r.err)
		default:
		}
		if cc.n.Load() != sc.n.Load() {
			t.Fatalf("the client has read %d bytes of the server's %d, and waits", cc.n.Load(), sc.n.Load())
		}
		cancel()
		r := compressReadAfterCancel(t, s, res, release)
		if !errors.Is(r.err, context.Canceled) || !errors.Is(r.err, session.ErrBodyDropped) || r.n >= size {
			t.Fatalf("read %d bytes: %v", r.n, r.err)
		}
		if err := s.Err(); err != nil {
			t.Fatalf("session ended: %v", err)
		}
		close(release)
		bodyCtxAfter(t, s, p, ctx)
	})
}

// countedRead is what a body's read returned: the bytes and the error.
type countedRead struct {
	n   int64
	err error
}

// compressReadAfterCancel waits for the body's read on res after its
// context was cancelled, and fails (releasing the server) if it is still
// waiting 15 s later on the bubble's clock, before the stall timeout.
func compressReadAfterCancel(t *testing.T, s *session.Session, res <-chan countedRead, release chan struct{}) countedRead {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(15 * time.Second): // on the bubble's clock
		close(release)
		r := <-res
		t.Fatalf("the read did not end with its context (it ended with the server's rest, or the stall timeout: %d bytes, %v; session: %v)", r.n, r.err, s.Err())
		return r
	}
}

// compressHalfServer is the server of TestCompressBodyFrozenContext on
// conn: it greets, turns COMPRESS on, and answers each FETCH with a body
// of size bytes; of the first, it sends half and waits for release
// before the rest. Any other command gets OK.
func compressHalfServer(conn net.Conn, size int, release <-chan struct{}) {
	br := bufio.NewReader(conn)
	io.WriteString(conn, "* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n")
	tag, _, _ := strings.Cut(readLine(br), " ")
	io.WriteString(conn, tag+" OK deflating\r\n")
	br = bufio.NewReader(flate.NewReader(br))
	zw, _ := flate.NewWriter(conn, flate.BestSpeed)
	write := func(s string) {
		io.WriteString(zw, s)
		zw.Flush()
	}
	half := strings.Repeat("y", size/2)
	for first := true; ; first = false {
		l := readLine(br)
		if l == "" {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		if !strings.Contains(l, "FETCH") {
			write(tag + " OK noop\r\n")
			continue
		}
		write(fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n", size) + half)
		if first {
			select {
			case <-release:
			case <-time.After(time.Minute): // on the bubble's clock: a failed test
				return
			}
		}
		write(half + ")\r\n" + tag + " OK done\r\n")
	}
}

// BenchmarkCompressPulledBody reads a pulled 8 MiB body section
// under COMPRESS with context.Background() (the inflater read inline) and
// with a context that can end (each read of the body that needs the
// network runs the inflater on a goroutine of its own, so that the
// context's end can interrupt it): the cost of that goroutine.
func BenchmarkCompressPulledBody(b *testing.B) {
	const size = 8 << 20
	for _, cancelable := range []bool{false, true} {
		b.Run(fmt.Sprintf("Cancelable=%v", cancelable), func(b *testing.B) {
			client, server := transport.Pipe()
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer server.Close()
				bodyCtxServer(size, false, nil, 0, true)(server, server)
			}()
			defer func() { client.Close(); server.Close(); <-done }()
			s, err := session.Open(context.Background(), client, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.Compress(context.Background()); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if cancelable {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
				if err != nil {
					b.Fatal(err)
				}
				for {
					it, err := p.Next(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if it.Body != nil {
						if n, err := io.Copy(io.Discard, it.Body); err != nil || n != size {
							b.Fatal(n, err)
						}
					}
				}
				if _, err := p.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
