package session_test

import (
	"bufio"
	"compress/flate"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// bodyCtxServer plays a server that answers a pulled UID FETCH with one
// body section of size bytes: half of it, then stall (a frozen server, until
// release is closed) or the rest in 4 KiB chunks every pace (a slow live
// server), then the command's OK, for each FETCH (the first alone
// stalls); it answers other commands with OK. compress: the
// first command is COMPRESS DEFLATE, and the rest goes deflated.
func bodyCtxServer(size int, stall bool, release <-chan struct{}, pace time.Duration, compress bool) func(r io.Reader, w io.Writer) {
	return bodyCtxServerPre(size, stall, release, pace, compress, "")
}

// bodyCtxServerPre is bodyCtxServer sending pre before each FETCH's body.
func bodyCtxServerPre(size int, stall bool, release <-chan struct{}, pace time.Duration, compress bool, pre string) func(r io.Reader, w io.Writer) {
	return func(r io.Reader, w io.Writer) {
		br := bufio.NewReader(r)
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n")
		flush := func() {}
		if compress {
			tag, _, _ := strings.Cut(readLine(br), " ")
			io.WriteString(w, tag+" OK deflating\r\n")
			br = bufio.NewReader(flate.NewReader(br))
			zw, _ := flate.NewWriter(w, flate.BestSpeed)
			w, flush = zw, func() { zw.Flush() }
		}
		write := func(s string) bool {
			_, err := io.WriteString(w, s)
			flush()
			return err == nil
		}
		chunk := strings.Repeat("y", 4096)
		for {
			l := readLine(br)
			if l == "" {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			if !strings.Contains(l, "FETCH") {
				write(tag + " OK noop\r\n")
				continue
			}
			write(pre + fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n", size))
			sent := 0
			for sent < size/2 {
				write(chunk)
				sent += len(chunk)
			}
			if stall {
				<-release
				stall = false
			}
			for sent < size {
				n := min(len(chunk), size-sent)
				if !write(chunk[:n]) {
					return
				}
				sent += n
				if pace > 0 {
					time.Sleep(pace)
				}
			}
			write(")\r\n" + tag + " OK done\r\n")
		}
	}
}

// bodyCtxConn connects a session to play over transport.Pipe, in TLS when
// tlsOn (the session reads through a *tls.Conn, as after DialTLS).
func bodyCtxConn(t *testing.T, tlsOn bool, play func(r io.Reader, w io.Writer)) net.Conn {
	t.Helper()
	client, server := transport.Pipe()
	var sc, cc net.Conn = server, client
	if tlsOn {
		scfg, ccfg, err := testserver.TLSConfigs(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		sc, cc = tls.Server(server, scfg), tls.Client(client, ccfg)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sc.Close()
		play(sc, sc)
	}()
	t.Cleanup(func() {
		client.Close()
		server.Close()
		<-done
	})
	return cc
}

// bodyCtxRead pulls the body of the UID FETCH with ctx and reads it until
// the read fails; it returns the error and when the read returned.
// handed, when not nil, runs once Next has handed the body out.
func bodyCtxRead(t *testing.T, s *session.Session, ctx context.Context, handed func()) (*session.Pending, time.Time, error) {
	t.Helper()
	p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
	if err != nil {
		t.Fatal(err)
	}
	it, err := p.Next(ctx)
	if err != nil || it.Body == nil {
		t.Fatalf("%+v %v", it, err)
	}
	if handed != nil {
		handed()
	}
	_, err = io.Copy(io.Discard, it.Body)
	at := time.Now()
	if err != nil {
		// Ended for good: the next read says the same.
		if _, err2 := it.Body.Read(make([]byte, 10)); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("a read after %v: %v", err, err2)
		}
	}
	return p, at, err
}

// bodyCtxAfter checks that the session goes on after a body read that its
// context ended: the pulled command ends (its answer read for nobody), and
// a NOOP runs.
func bodyCtxAfter(t *testing.T, s *session.Session, p *session.Pending, ctx context.Context) {
	t.Helper()
	if _, err := p.Next(ctx); err == nil || err == io.EOF {
		t.Errorf("Next after the body's read ended with the context: %v", err)
	}
	ctx2 := hangCtx(t)
	if _, err := p.Wait(ctx2); errors.Is(err, session.ErrAborted) {
		t.Fatalf("Wait: %v", err)
	}
	if _, err := s.Run(ctx2, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after the body's read ended with its context: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
}

// TestPullBodyReadContextFrozen: the body of a pulled FETCH whose server
// stops sending in the middle (a frozen network: no byte, no FIN) is read
// with a context that ends while the read waits for the server: the read
// returns the context's error (with ErrBodyDropped) because the context's
// end interrupted it, not because the stall timeout fired; the command is
// abandoned and, once the server goes on, the session runs a NOOP. In
// plain text and in TLS (an interrupted TLS read resumes). It waited for
// the stall timeout, which aborted the session (the auditor's
// TestSectionReadHonoursContext in commands).
//
// No clock: the context is cancelled once the server is seen waiting in
// its stall and the reading goroutine blocked in the connection's read
// (from the goroutines' stacks), and
// OnReadTimeout tells the interrupt's timeout from the stall's. The
// stall timeout runs 6 times faster (10 s, StallSpeed) so that, with the
// interrupt gone (the fault), the read ends at the stall and the test
// fails in 10 s rather than 60; the read that works never waits for it.
func TestPullBodyReadContextFrozen(t *testing.T) {
	for _, c := range []struct{ tlsOn, afterEnd bool }{{false, false}, {true, false}, {false, true}} {
		tlsOn := c.tlsOn
		t.Run(fmt.Sprintf("TLS=%v/NextAfterEnd=%v", tlsOn, c.afterEnd), func(t *testing.T) {
			var interrupts, stalls atomic.Int32
			session.OnReadTimeout(t, func(interrupted bool) {
				if interrupted {
					interrupts.Add(1)
				} else {
					stalls.Add(1)
				}
			})
			session.StallSpeed(t, 6)
			release := make(chan struct{})
			conn := bodyCtxConn(t, tlsOn, bodyCtxServer(1<<20, true, release, 0, false))
			defer close(release)
			s := openDefaults(t, conn, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			parked := make(chan bool, 1)
			p, _, err := bodyCtxRead(t, s, ctx, func() {
				go func() {
					// The server has sent all it sends before
					// the stall (it waits for release), and the
					// body's read waits for more.
					ok := waitGoroutineParked("chan receive", "bodyCtxServerPre.", "bodyCtxConn.func1(") &&
						waitGoroutineParked("", "(*pullBody).Read(", "(*watchConn).Read(")
					parked <- ok
					cancel()
				}()
			})
			if !<-parked {
				t.Fatal("the body's read was never seen blocked on the connection")
			}
			if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrBodyDropped) {
				t.Fatalf("read: %v", err)
			}
			if interrupts.Load() == 0 || stalls.Load() != 0 {
				t.Errorf("the body's read ended with %d interrupts and %d stall timeouts; want an interrupt and no stall", interrupts.Load(), stalls.Load())
			}
			release <- struct{}{}
			if c.afterEnd {
				// The rest of the answer read for nobody before the
				// caller's next Next: still the drop, not io.EOF (it
				// said io.EOF when the reader was first, the cold CI
				// run's failure of this test).
				select {
				case <-p.Done():
				case <-time.After(20 * time.Second):
					t.Fatal("the abandoned command never ended")
				}
			}
			bodyCtxAfter(t, s, p, ctx)
		})
	}
}

// TestPullBodyReadContextSlow: the same with a server that keeps sending,
// slowly, and a context cancelled: the read returns at once instead of
// reading the whole body first (the stall timeout never fires there), and
// the session goes on. Under COMPRESS as well (the read is interrupted
// above the inflater: TestCompressBodyFrozenContext).
//
// Each case runs in a testing/synctest bubble: the server's pacing and
// the cancel run on the bubble's clock, which moves only when every
// goroutine waits, so the read must return at the very instant of the
// cancel (no time passes on that clock: the interrupt ended it, not the
// server's next chunk, 3 ms later, nor the body's end, 1.2 s later)
// however loaded the machine. It checked the return within 500 ms of wall time, which a
// loaded machine could exceed, and took 1.5 s a case.
func TestPullBodyReadContextSlow(t *testing.T) {
	for _, c := range []struct {
		name          string
		tls, compress bool
	}{{"Plain", false, false}, {"TLS", true, false}, {"Compress", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// 2 MiB at 4 KiB every 5 ms: 1.3 s for the half
				// left. (The certificate, made in the bubble, is
				// valid on its clock.)
				conn := bodyCtxConn(t, c.tls, bodyCtxServer(2<<20, false, nil, 5*time.Millisecond, c.compress))
				s := openDefaults(t, conn, nil)
				if c.compress {
					if err := s.Compress(hangCtx(t)); err != nil {
						t.Fatal(err)
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				cancelled := make(chan time.Time, 1)
				// Cancelled between two of the server's chunks: a
				// read that only notices the end at its next chunk
				// returns 3 ms late.
				p, at, err := bodyCtxRead(t, s, ctx, func() {
					time.AfterFunc(102*time.Millisecond, func() { cancelled <- time.Now(); cancel() })
				})
				if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrBodyDropped) {
					t.Fatalf("read: %v", err)
				}
				if late := at.Sub(<-cancelled); late != 0 {
					t.Errorf("the body's read returned %v after its context was cancelled; want at once", late)
				}
				bodyCtxAfter(t, s, p, ctx)
			})
		})
	}
}

// TestPullBodyContextEndedBeforeRead: a context that ends while the
// caller holds the body without reading it ends the body's next read at
// once, and leaves no interrupt behind to fail another read: the session
// goes on. A body the reader kept in memory stays readable. In a
// testing/synctest bubble: synctest.Wait, not a sleep, lets the watch of
// the context run, and the bubble's clock says the read waited for
// nothing (it checked under a second of wall time).
func TestPullBodyContextEndedBeforeRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := bodyCtxConn(t, false, bodyCtxServer(1<<20, false, nil, 0, false))
		s := openDefaults(t, conn, nil)
		ctx, cancel := context.WithCancel(context.Background())
		p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.Next(ctx)
		if err != nil || it.Body == nil {
			t.Fatalf("%+v %v", it, err)
		}
		if _, err := io.ReadFull(it.Body, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		cancel()
		synctest.Wait() // Next's watch of ctx has run
		start := time.Now()
		n, err := io.Copy(io.Discard, it.Body)
		// On the bubble's clock: the read waited for nothing.
		if d := time.Since(start); !errors.Is(err, context.Canceled) || n != 0 || d != 0 {
			t.Fatalf("read %d bytes in %v: %v; want none at once, with the context's error", n, d, err)
		}
		bodyCtxAfter(t, s, p, ctx)

		// In memory: the reader read it on for another command.
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
		p, err = s.Start(ctx, pullUIDFetch("(UID BODY[])"))
		if err != nil {
			t.Fatal(err)
		}
		it, err = p.Next(ctx)
		if err != nil || it.Body == nil {
			t.Fatalf("%+v %v", it, err)
		}
		if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
		cancel()
		synctest.Wait()
		if n, err := io.Copy(io.Discard, it.Body); err != nil || n != 1<<20 {
			t.Fatalf("a body in memory: read %d bytes: %v", n, err)
		}
	})
}

// TestPullBodyOtherContextEnds: the context that ends is not the one the
// body was handed out with (Next without a Done channel, after a Next with
// one, whose watch stays registered): the body reads on, whole.
func TestPullBodyOtherContextEnds(t *testing.T) {
	const size = 1 << 20
	conn := bodyCtxConn(t, false, bodyCtxServerPre(size, false, nil, 100*time.Microsecond, false, "* 2 FETCH (UID 2 FLAGS ())\r\n"))
	s := openDefaults(t, conn, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
	if err != nil {
		t.Fatal(err)
	}
	if it, err := p.Next(ctx); err != nil || it.Body != nil {
		t.Fatalf("%+v %v", it, err)
	}
	it, err := p.Next(context.Background())
	if err != nil || it.Body == nil {
		t.Fatalf("%+v %v", it, err)
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	if n, err := io.Copy(io.Discard, it.Body); err != nil || n != size {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	for {
		if _, err := p.Next(context.Background()); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Wait(hangCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
}
