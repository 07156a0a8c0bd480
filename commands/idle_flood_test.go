package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestIdleSlowHandlerBounded: a server that floods IDLE with events while
// onEvent is slow cannot make memory grow: the session reads ahead a
// bounded amount (its tokenizer's 32 KiB buffer, the event onEvent was
// lent, at most 64 queued copies) and then waits, which holds the server
// back (over TCP, once the kernel's buffers are full). Before 312ef71,
// every event was copied into an unbounded queue as it was read (about
// 13 MB for a flood of 2^19 EXISTS). Nothing is lost: once onEvent
// returns false, Idle sends DONE, reads the rest of the flood (dropping
// it) and the tagged OK, and returns nil; the session goes on. Library
// defaults throughout.
//
// The test runs in a synctest bubble: in the first onEvent,
// synctest.Wait returns once every other goroutine waits for good (the
// session's reader held back, or out of input; the scripted server done
// writing), so what the session has read from the connection by then is
// all it reads while onEvent is busy, whatever the machine's load: no
// sampling of a moving count, no heap threshold. The flood (about 300 KB)
// fits in transport.Pipe's buffer, so the server writes it all; the
// session must have read at most idleReadAhead of it. With an unbounded
// queue the session reads it all, every run: on 312ef71^, and with such
// a queue planted between Next and onEvent in today's idleOnce. (Until
// stop 48 the test flooded 2^19 events and sampled the server's count
// every 10 ms until it stood still for 100 ms: under -race on a loaded
// machine the old code passed it, a pause of the reader taken for the
// server held back.)
func TestIdleSlowHandlerBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const events = 20_000
		var flood int64 // the bytes of the events
		for i := 1; i <= events; i++ {
			flood += int64(len("* " + strconv.Itoa(i) + " EXISTS\r\n"))
		}
		var conn *countingConn
		c := idleServerOn(t, func(nc net.Conn) net.Conn {
			conn = &countingConn{Conn: nc}
			return conn
		}, func(w io.Writer) bool {
			w.Write([]byte("+ idling\r\n"))
			bw := bufio.NewWriterSize(w, 4096)
			for i := 1; i <= events; i++ {
				bw.WriteString("* " + strconv.Itoa(i) + " EXISTS\r\n")
			}
			bw.Flush()
			return true
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var held int64
		calls := 0
		err := c.Idle(ctx, nil, func(r codec.Response) bool {
			if calls++; calls == 1 {
				// Everything else waits for good: what the session
				// has read by now is all it reads while onEvent is
				// busy.
				synctest.Wait()
				held = conn.read.Load()
			}
			return false
		})
		if err != nil {
			t.Fatalf("Idle: %v", err)
		}
		if held > idleReadAhead {
			t.Fatalf("while onEvent was busy the session read %d bytes (the %d-byte flood and the greeting); want at most %d", held, flood, idleReadAhead)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatalf("NOOP after: %v", err)
		}
		t.Logf("while onEvent was busy the session read %d bytes (the flood: %d)", held, flood)
	})
}

// idleReadAhead bounds what the session may read of an IDLE's events
// while onEvent is busy: its tokenizer's buffer (wire.DefaultBufferSize,
// 32 KiB) and the copies a pulled command may queue for a busy caller
// (64 events of about 16 bytes here), with room to spare; a fifth of
// TestIdleSlowHandlerBounded's flood.
const idleReadAhead = 64 << 10

// countingConn counts the bytes read from its Conn.
type countingConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// TestIdleCommandInHandlerBounded: while onEvent runs a command, the
// session must read on to that command's answer, past the IDLE's events:
// they are queued up to the session's MaxResultBytes and dropped past it,
// and Idle then returns a *session.ResultTooLargeError. The command in
// onEvent succeeds, and so does the session after. onEvent sees each
// event once, in order. Library defaults.
//
// The command in onEvent ends the IDLE (AfterBlocking), and without the
// bound Idle would go on with a second IDLE: each IDLE's events are
// numbered on from the last one's, and the first event of a second IDLE
// stops Idle at once. (Before, with the bound planted out, the test
// waited out its minute and reported "540000 of 270000 events": the
// events of two IDLE commands, not one event delivered twice.)
//
// The test runs in a synctest bubble: Idle gives the server
// idleDoneTimeout (30 s) after DONE to answer, and the session reads
// the rest of the flood (under -race, several seconds of work) within
// that time; on the wall clock of a loaded CI machine that took longer
// and Idle gave up with a TimeoutError. On the bubble's clock no time
// passes while goroutines work, so the library's bound stays as it is
// and only a server that never answers meets it.
func TestIdleCommandInHandlerBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Charged about 270 bytes each: past the 64 MiB bound, which keeps
		// about 246,000 of them (300,000 until stop 48: more decoding under
		// -race for the same bound crossed).
		const events = 270_000
		var idles atomic.Int32 // the IDLE commands the server was sent
		c := idleServer(t, func(w io.Writer) bool {
			base := int64(idles.Add(1)-1) * events
			w.Write([]byte("+ idling\r\n"))
			// Appended in place and written 64 KiB at a time.
			buf := make([]byte, 0, 64<<10)
			for i := 1; i <= events; i++ {
				buf = append(buf, "* "...)
				buf = strconv.AppendInt(buf, base+int64(i), 10)
				buf = append(buf, " EXISTS\r\n"...)
				if len(buf) > cap(buf)-32 {
					w.Write(buf)
					buf = buf[:0]
				}
			}
			w.Write(buf)
			return true
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var noop error
		calls := 0
		var last uint32 // the last event's number
		var again int   // events seen again, or out of order
		err := c.Idle(ctx, nil, func(r codec.Response) bool {
			calls++
			if e, ok := r.(*codec.Exists); ok {
				if e.Count <= last {
					again++
				}
				last = e.Count
				if e.Count > events {
					return false // a second IDLE's: the first was not bounded
				}
			}
			if calls == 1 {
				noop = c.Noop(ctx)
			}
			return true
		})
		if noop != nil {
			t.Fatalf("NOOP in onEvent: %v", noop)
		}
		if again > 0 {
			t.Fatalf("onEvent saw %d events again or out of order (of %d calls)", again, calls)
		}
		var tooLarge *session.ResultTooLargeError
		if !errors.As(err, &tooLarge) || calls >= events {
			t.Fatalf("Idle: %v after %d events, %d IDLE commands of %d events each; want a *session.ResultTooLargeError in the first", err, calls, idles.Load(), events)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatalf("NOOP after: %v", err)
		}
		t.Logf("%d events delivered, %d dropped", calls, tooLarge.Dropped)
	})
}

// TestIdleSecondContinuation: a server that sends a second "+" during
// IDLE (as some do, to keep the connection alive) is served as one that
// sends one: the first is taken as soon as it comes, so the second finds
// room, and IDLE ends with DONE as usual.
func TestIdleSecondContinuation(t *testing.T) {
	ic := idleServer(t, func(w io.Writer) bool {
		w.Write([]byte("+ idling\r\n"))
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("+ still idling\r\n* 2 EXISTS\r\n"))
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var events []codec.Response
	if err := ic.Idle(ctx, nil, func(r codec.Response) bool { events = append(events, r); return false }); err != nil {
		t.Fatalf("Idle: %v", err)
	}
	if len(events) != 1 {
		t.Fatalf("events %v", events)
	}
	if e, ok := events[0].(*codec.Exists); !ok || e.Count != 2 {
		t.Fatalf("event %#v", events[0])
	}
	if err := ic.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestIdleEndBounded: a server that does not let IDLE end cannot hold
// Idle: with no answer to DONE, or with no "+" (so that DONE cannot be
// sent), Idle returns a *session.TimeoutError 30 s (the fixed bound) after
// its context ended (the package's leakcheck, in TestMain, finds nothing of
// it left running once the tests are over), and the session, which the
// IDLE in flight would block for good, is aborted. Each case runs in a
// synctest bubble (transport.Pipe, no socket): the 30 s pass on the
// bubble's clock as soon as everything waits, not on the wall clock (the
// two cases took 30 s of the test binary's time, in parallel), and the
// bubble's clock says exactly how long Idle took.
func TestIdleEndBounded(t *testing.T) {
	for _, tc := range []struct {
		name, what string
		plus       bool
	}{{"no answer to DONE", commands.TimeoutIdleDone, true}, {"no continuation", commands.TimeoutIdleContinuation, false}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// Nothing is ever answered: neither DONE nor, without
				// the "+", IDLE (whose DONE then never comes).
				c := idleServer(t, func(w io.Writer) bool {
					if tc.plus {
						w.Write([]byte("+ idling\r\n"))
					}
					return false
				})
				const deadline = 200 * time.Millisecond
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				start := time.Now()
				err := c.Idle(ctx, nil, func(codec.Response) bool { return true })
				took := time.Since(start) // on the bubble's clock
				var te *session.TimeoutError
				if !errors.As(err, &te) || te.What != tc.what {
					t.Fatalf("Idle after %v: %v, want a TimeoutError for %s", took, err, tc.what)
				}
				// Exact on the bubble's clock: neither before the
				// bound nor after it.
				if took != deadline+30*time.Second {
					t.Fatalf("Idle returned %v after its call: %v; want exactly the 30 s bound after its context ended (%v)", took, err, deadline+30*time.Second)
				}
				// The session, which the IDLE in flight would block
				// for good, is aborted for that reason.
				nctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := c.Noop(nctx); !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) {
					t.Fatalf("NOOP after Idle's timeout: %v, want the session aborted for it", err)
				}
			})
		})
	}
}

// idleServer returns a Client, on a session opened with the defaults, of a
// server over transport.Pipe that announces IDLE and answers every command
// but IDLE with OK. For an IDLE it calls idle, which writes what the
// server sends (its "+" included) and says whether DONE gets its OK: when
// not, DONE is read and never answered. The session is closed and the
// server stopped when the test ends.
func idleServer(t *testing.T, idle func(w io.Writer) (answerDone bool)) *commands.Client {
	t.Helper()
	return idleServerOn(t, nil, idle)
}

// idleServerOn is idleServer with the session opened on wrap(client)
// (nil: client itself), client being the client's end of the pipe.
func idleServerOn(t *testing.T, wrap func(net.Conn) net.Conn, idle func(w io.Writer) (answerDone bool)) *commands.Client {
	t.Helper()
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 IDLE] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimSpace(l), " ")
			if cmd != "IDLE" {
				server.Write([]byte(tag + " OK done\r\n"))
				continue
			}
			answer := idle(server)
			if l, err := r.ReadString('\n'); err != nil || strings.TrimSpace(l) != "DONE" {
				return
			}
			if answer {
				server.Write([]byte(tag + " OK idle done\r\n"))
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if wrap != nil {
		client = wrap(client)
	}
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); <-done })
	return commands.New(s)
}
