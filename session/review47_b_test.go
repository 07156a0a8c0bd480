package session_test

import (
	"bufio"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// review47BCountConn counts the bytes through Read (the client's side)
// or Write (the server's side).
type review47BCountConn struct {
	net.Conn
	n atomic.Int64
	// onRead, when set, runs as each Read begins (client's side).
	onRead func()
}

func (c *review47BCountConn) Read(p []byte) (int, error) {
	if c.onRead != nil {
		c.onRead()
	}
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *review47BCountConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestReview47BCompressBodyFrozenContext: under COMPRESS, the body of a
// pulled FETCH whose server stops in the middle of the literal (the
// deflater flushed: the client has inflated the first half) is read with a
// context that is cancelled while the read waits for the server: the read
// returns the context's error (with ErrBodyDropped), the session is kept,
// and once the server goes on it runs a NOOP: the same as without
// COMPRESS (TestPullBodyReadContextFrozen). It waited for the stall
// timeout (60 s, the default), which aborted the session, whenever the
// context ended during the read (and returned the context's error when it
// ended between two reads): the inflater (compress/flate) keeps a read's
// timeout for good, so the read was never interrupted. The cancel here
// comes once the client's read of the connection has begun with every byte
// the server sent already read, so that the read surely waits.
func TestReview47BCompressBodyFrozenContext(t *testing.T) {
	const size = 1 << 20
	client, server := transport.Pipe()
	sc := &review47BCountConn{Conn: server}
	cc := &review47BCountConn{Conn: client}
	var stalled atomic.Bool // the server sent the half and stopped
	waiting := make(chan struct{})
	var once sync.Once
	cc.onRead = func() {
		if stalled.Load() && cc.n.Load() == sc.n.Load() {
			once.Do(func() { close(waiting) })
		}
	}
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sc.Close()
		br := bufio.NewReader(sc)
		io.WriteString(sc, "* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n")
		tag, _, _ := strings.Cut(readLine(br), " ")
		io.WriteString(sc, tag+" OK deflating\r\n")
		br = bufio.NewReader(flate.NewReader(br))
		zw, _ := flate.NewWriter(sc, flate.BestSpeed)
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
				stalled.Store(true)
				select {
				case <-release:
				case <-time.After(time.Minute):
					return
				}
				stalled.Store(false)
			}
			write(half + ")\r\n" + tag + " OK done\r\n")
		}
	}()
	t.Cleanup(func() {
		client.Close()
		server.Close()
		<-done
	})
	s := openDefaults(t, cc, nil)
	if err := s.Compress(ctx20(t)); err != nil {
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
	type result struct {
		n   int64
		err error
	}
	res := make(chan result, 1)
	go func() {
		n, err := io.Copy(io.Discard, it.Body)
		res <- result{n, err}
	}()
	select {
	case <-waiting:
	case r := <-res:
		t.Fatalf("the body's read ended before the server went on: %d bytes, %v", r.n, r.err)
	}
	cancel()
	var r result
	select {
	case r = <-res:
	case <-time.After(15 * time.Second): // a hang guard, not a measure
		close(release)
		r = <-res
		t.Fatalf("the read did not end with its context (it ended with the server's rest, or the stall timeout: %d bytes, %v; session: %v)", r.n, r.err, s.Err())
	}
	if !errors.Is(r.err, context.Canceled) || !errors.Is(r.err, session.ErrBodyDropped) || r.n >= size {
		t.Fatalf("read %d bytes: %v", r.n, r.err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
	close(release)
	bodyCtxAfter(t, s, p, ctx)
}

// BenchmarkReview47BCompressPulledBody reads a pulled 8 MiB body section
// under COMPRESS with context.Background() (the inflater read inline) and
// with a context that can end (each read of the body that needs the
// network runs the inflater on a goroutine of its own, so that the
// context's end can interrupt it): the cost of that goroutine.
func BenchmarkReview47BCompressPulledBody(b *testing.B) {
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
