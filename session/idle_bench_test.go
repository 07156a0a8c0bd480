package session_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// The memory of idle sessions: BenchmarkIdleSessions opens N sessions (1000;
// IMAPKIT_IDLE_SESSIONS=10000 for more) against a scripted server on
// loopback, puts each in IDLE and reports the heap they hold
// (heapB/session, GC forced before and after) and the goroutine stacks
// (stackB/session); IMAPKIT_IDLE_HEAPPROFILE=FILE writes a heap profile of
// them. The server runs in a child process (this test binary
// again, TestIdleServerProcess), so that its memory is not counted and
// its sockets do not share the process's file limit.
//
//	IMAPKIT_IDLE_SESSIONS=10000 go test -run '^$' -bench IdleSessions -benchtime 1x ./session/
//
// IMAPKIT_IDLE_TLS=1 runs the sessions over TLS (the server's certificate
// made by the child and trusted by the parent): the heap then holds each
// session's crypto/tls connection too. IMAPKIT_IDLE_COMPRESS=1 turns on
// COMPRESS=DEFLATE (Session.Compress) in each session before its IDLE: the
// heap then holds each session's inflater, and whatever of its deflater
// the session keeps while idle. IMAPKIT_IDLE_WORK=1 has each session run a
// SELECT and a FETCH of 40 messages' metadata (internal/corpus's stream,
// lines of about 870 bytes) before its IDLE, as a client does
// before it waits: the heap then holds what a session that has worked
// keeps (the history of its last lines, the buffers' sizes).

// idleWorkFetch is how many messages the FETCH of IMAPKIT_IDLE_WORK=1
// answers.
const idleWorkFetch = 40

// workAnswer is a server's answer to the FETCH of work: idleWorkFetch
// messages' metadata (internal/corpus, lines of about 870 bytes), then the
// tagged OK.
func workAnswer(tag string) []byte {
	var out []byte
	for i := 1; i <= idleWorkFetch; i++ {
		out = corpus.AppendFetchMetadata(out, i)
	}
	return append(out, tag+" OK FETCH done\r\n"...)
}

// work has s do what a client does before it waits: SELECT INBOX, then a
// FETCH of the metadata of its messages (answered by workAnswer).
func work(tb testing.TB, ctx context.Context, s *session.Session) {
	tb.Helper()
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		tb.Fatalf("SELECT: %v", err)
	}
	res, err := s.Run(ctx, &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) {
		e.SP().Raw("1:*").SP().Raw("(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
	}})
	if err != nil || len(res.Data) != idleWorkFetch {
		tb.Fatalf("FETCH: %v", err)
	}
}

// idleServerEnv makes TestIdleServerProcess serve.
const idleServerEnv = "IMAPKIT_IDLE_SERVER"

// TestIdleServerProcess is the scripted server of BenchmarkIdleSessions
// when the test binary runs as its child; otherwise it returns at once. It
// prints its address, then answers every connection: a PREAUTH greeting,
// "+ idling" to IDLE, OK to DONE and to any other command. It ends when
// its standard input closes.
func TestIdleServerProcess(t *testing.T) {
	if os.Getenv(idleServerEnv) != "1" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srvTLS *tls.Config
	if os.Getenv("IMAPKIT_IDLE_TLS") == "1" {
		srvTLS, _ = bnTLSConfig(t)
		fmt.Println(ln.Addr(), base64.StdEncoding.EncodeToString(srvTLS.Certificates[0].Certificate[0]))
	} else {
		fmt.Println(ln.Addr())
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if srvTLS != nil {
			c = tls.Server(c, srvTLS)
		}
		go idleServe(c)
	}
}

func idleServe(c net.Conn) {
	defer c.Close()
	c.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE] ready\r\n"))
	r := bufio.NewReaderSize(c, 256)
	write := func(b []byte) { c.Write(b) }
	idleTag := []byte(nil)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		if bytes.Equal(line, []byte("DONE")) && idleTag != nil {
			write(append(idleTag, " OK IDLE done\r\n"...))
			idleTag = nil
			continue
		}
		tag, rest, _ := bytes.Cut(line, []byte(" "))
		if bytes.HasPrefix(rest, []byte("FETCH ")) {
			write(workAnswer(string(tag)))
			continue
		}
		if bytes.EqualFold(rest, []byte("IDLE")) {
			idleTag = append([]byte(nil), tag...)
			write([]byte("+ idling\r\n"))
			continue
		}
		write(append(append([]byte(nil), tag...), " OK done\r\n"...))
		if bytes.EqualFold(rest, []byte("COMPRESS DEFLATE")) {
			// Both directions deflate from here (RFC 4978).
			zr := flate.NewReader(r)
			r = bufio.NewReaderSize(zr, 256)
			zw, _ := flate.NewWriter(c, flate.BestSpeed)
			write = func(b []byte) {
				zw.Write(b)
				zw.Flush()
			}
		}
	}
}

// idleServer starts the child server and returns its address, and with
// IMAPKIT_IDLE_TLS=1 a client configuration that trusts its certificate.
func idleServer(b *testing.B) (string, *tls.Config) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), idleServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the idle server: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	addr, certB64, isTLS := strings.Cut(strings.TrimSpace(line), " ")
	if !isTLS {
		return addr, nil
	}
	der, err := base64.StdEncoding.DecodeString(certB64)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

func BenchmarkIdleSessions(b *testing.B) {
	n := idleSessionCount(b)
	addr, clientTLS := idleServer(b)
	if os.Getenv("IMAPKIT_IDLE_HEAPPROFILE") != "" {
		defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var heap, stack float64
	b.ReportAllocs()
	for b.Loop() {
		before := idleMem()
		ss, ps := openIdle(b, ctx, n, os.Getenv("IMAPKIT_IDLE_COMPRESS") == "1", func() net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			if clientTLS != nil {
				c = tls.Client(c, clientTLS)
			}
			return c
		})
		// The readers have gone back to waiting: give them a moment
		// to get there before the count.
		time.Sleep(100 * time.Millisecond)
		after := idleMem()
		if f := os.Getenv("IMAPKIT_IDLE_HEAPPROFILE"); f != "" {
			// Where the memory of the idle sessions is.
			w, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			pprof.WriteHeapProfile(w)
			w.Close()
		}
		heap = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		stack = float64(after.StackInuse-before.StackInuse) / float64(n)
		closeIdle(b, ctx, ss, ps)
	}
	b.ReportMetric(heap, "heapB/session")
	b.ReportMetric(stack, "stackB/session")
	b.ReportMetric(float64(n), "sessions")
}

// idleSessionCount is the number of sessions of the idle benchmarks: 1000,
// or $IMAPKIT_IDLE_SESSIONS.
func idleSessionCount(b *testing.B) int {
	v := os.Getenv("IMAPKIT_IDLE_SESSIONS")
	if v == "" {
		return 1000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("IMAPKIT_IDLE_SESSIONS=%q", v)
	}
	return n
}

// openIdle opens n sessions, each on a connection from conn, and puts each
// in IDLE (its continuation received).
func openIdle(b *testing.B, ctx context.Context, n int, compress bool, conn func() net.Conn) ([]*session.Session, []*session.Pending) {
	ss := make([]*session.Session, 0, n)
	ps := make([]*session.Pending, 0, n)
	for range n {
		s, err := session.Open(ctx, conn(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if compress {
			if err := s.Compress(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if os.Getenv("IMAPKIT_IDLE_WORK") == "1" {
			work(b, ctx, s)
		}
		ss = append(ss, s)
		ps = append(ps, startIdle(b, ctx, s))
	}
	return ss, ps
}

// closeIdle ends the IDLE of each session and closes it.
func closeIdle(b *testing.B, ctx context.Context, ss []*session.Session, ps []*session.Pending) {
	for i, s := range ss {
		endIdle(b, ctx, ps[i])
		s.Close()
	}
}

// startIdle starts IDLE on s and waits for the server's continuation
// request, within ctx.
func startIdle(tb testing.TB, ctx context.Context, s *session.Session) *session.Pending {
	tb.Helper()
	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		tb.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		tb.Fatalf("no continuation for IDLE: %v", ctx.Err())
	}
	return p
}

// endIdle ends the IDLE p with DONE and waits for its tagged answer.
func endIdle(tb testing.TB, ctx context.Context, p *session.Pending) {
	tb.Helper()
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		tb.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		tb.Fatalf("IDLE after DONE: %v", err)
	}
}

// idleMem returns the memory statistics after the garbage is collected
// (twice: what sync.Pools hold goes too).
func idleMem() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// BenchmarkIdleSessionsPipe: the same as BenchmarkIdleSessions, with each
// session on a transport.Pipe to a scripted server goroutine in this
// process, so that the count of sessions is not bound by the limit on
// open files (IMAPKIT_IDLE_SESSIONS=100000 holds 100,000 sessions in
// about 3 GiB). The server's side (its goroutine, the pipe) is measured
// first with a bare client that writes IDLE and reads the continuation
// itself, and subtracted: heapB/session and stackB/session are the
// session's own, as over TCP; pipeB/conn is what the server's side cost.
//
//	IMAPKIT_IDLE_SESSIONS=100000 go test -run '^$' -bench IdleSessionsPipe -benchtime 1x ./session/
func BenchmarkIdleSessionsPipe(b *testing.B) {
	n := idleSessionCount(b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	serve := func() net.Conn {
		c, s := transport.Pipe()
		go idleServe(s)
		return c
	}
	var heap, stack, side float64
	b.ReportAllocs()
	for b.Loop() {
		// The server's side alone, with a bare client.
		before := idleMem()
		bare := make([]net.Conn, 0, n)
		for range n {
			c := serve()
			if _, err := c.Write([]byte("A1 IDLE\r\n")); err != nil {
				b.Fatal(err)
			}
			var buf [128]byte
			for got := 0; !bytes.Contains(buf[:got], []byte("+ idling\r\n")); {
				m, err := c.Read(buf[got:])
				if err != nil {
					b.Fatal(err)
				}
				got += m
			}
			bare = append(bare, c)
		}
		time.Sleep(100 * time.Millisecond)
		mid := idleMem()
		sideHeap := float64(mid.HeapAlloc-before.HeapAlloc) / float64(n)
		sideStack := float64(mid.StackInuse-before.StackInuse) / float64(n)
		for _, c := range bare {
			c.Close()
		}
		bare = nil
		time.Sleep(100 * time.Millisecond)

		// The sessions, each with the same server's side.
		before = idleMem()
		ss, ps := openIdle(b, ctx, n, false, serve)
		time.Sleep(100 * time.Millisecond)
		after := idleMem()
		heap = float64(after.HeapAlloc-before.HeapAlloc)/float64(n) - sideHeap
		stack = float64(after.StackInuse-before.StackInuse)/float64(n) - sideStack
		side = sideHeap
		closeIdle(b, ctx, ss, ps)
	}
	b.ReportMetric(heap, "heapB/session")
	b.ReportMetric(stack, "stackB/session")
	b.ReportMetric(side, "pipeB/conn")
	b.ReportMetric(float64(n), "sessions")
}
