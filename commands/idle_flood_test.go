package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestIdleSlowHandlerBounded: a server that floods IDLE with events while
// onEvent is slow cannot make memory grow: the session reads ahead a
// bounded number of events and then waits, and the server's writes wait
// in turn (transport.Pipe, like TCP, buffers a bounded amount). Before,
// every event was copied into an unbounded queue as it was read (about
// 13 MB for this flood of 2^19 EXISTS). Nothing is lost: once onEvent
// returns false, Idle sends DONE, reads the rest of the flood (dropping
// it) and the tagged OK, and returns nil; the session goes on. Library
// defaults throughout.
func TestIdleSlowHandlerBounded(t *testing.T) {
	const events = 1 << 19
	var written atomic.Int64
	c := idleServer(t, func(w io.Writer) bool {
		w.Write([]byte("+ idling\r\n"))
		bw := bufio.NewWriterSize(w, 4096)
		for i := 1; i <= events; i++ {
			bw.WriteString("* " + strconv.Itoa(i) + " EXISTS\r\n")
			written.Store(int64(i))
		}
		bw.Flush()
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap0 := ms.HeapAlloc
	var grown int64
	var stalledAt int64
	err := c.Idle(ctx, nil, func(r codec.Response) bool {
		// The first event: wait until the server cannot write more (or
		// has written everything), then see what the client holds.
		last, same := int64(-1), 0
		for same < 10 && written.Load() < events {
			time.Sleep(10 * time.Millisecond)
			if n := written.Load(); n == last {
				same++
			} else {
				last, same = n, 0
			}
		}
		stalledAt = written.Load()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		grown = int64(ms.HeapAlloc) - int64(heap0)
		return false
	})
	if err != nil {
		t.Fatalf("Idle: %v", err)
	}
	if stalledAt >= events || grown > 4<<20 {
		t.Fatalf("while onEvent was busy the server wrote %d of %d events and the heap grew by %d KiB; want the server held back and < 4 MiB", stalledAt, events, grown>>10)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
	t.Logf("server held back after %d events; heap grew by %d KiB", stalledAt, grown>>10)
}

// TestIdleCommandInHandlerBounded: while onEvent runs a command, the
// session must read on to that command's answer, past the IDLE's events:
// they are queued up to the session's MaxResultBytes and dropped past it,
// and Idle then returns a *session.ResultTooLargeError. The command in
// onEvent succeeds, and so does the session after. Library defaults.
func TestIdleCommandInHandlerBounded(t *testing.T) {
	// Charged about 270 bytes each: past the 64 MiB bound, which keeps
	// about 246,000 of them (300,000 until stop 48: more decoding under
	// -race for the same bound crossed).
	const events = 270_000
	c := idleServer(t, func(w io.Writer) bool {
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
	var noop error
	calls := 0
	err := c.Idle(ctx, nil, func(r codec.Response) bool {
		calls++
		if calls == 1 {
			noop = c.Noop(ctx)
		}
		return true
	})
	if noop != nil {
		t.Fatalf("NOOP in onEvent: %v", noop)
	}
	var tooLarge *session.ResultTooLargeError
	if !errors.As(err, &tooLarge) || calls >= events {
		t.Fatalf("Idle: %v after %d of %d events; want a *session.ResultTooLargeError", err, calls, events)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
	t.Logf("%d events delivered, %d dropped", calls, tooLarge.Dropped)
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
// IDLE in flight would block for good, is aborted. The two cases run
// in parallel (a minute of waiting otherwise).
func TestIdleEndBounded(t *testing.T) {
	for _, tc := range []struct {
		name, what string
		plus       bool
	}{{"no answer to DONE", commands.TimeoutIdleDone, true}, {"no continuation", commands.TimeoutIdleContinuation, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Nothing is ever answered: neither DONE nor, without the
			// "+", IDLE (whose DONE then never comes).
			c := idleServer(t, func(w io.Writer) bool {
				if tc.plus {
					w.Write([]byte("+ idling\r\n"))
				}
				return false
			})
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := c.Idle(ctx, nil, func(codec.Response) bool { return true })
			var te *session.TimeoutError
			if !errors.As(err, &te) || te.What != tc.what {
				t.Fatalf("Idle after %v: %v, want a TimeoutError for %s", time.Since(start), err, tc.what)
			}
			// The session, which the IDLE in flight would block for
			// good, is aborted for that reason.
			nctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Noop(nctx); !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) {
				t.Fatalf("NOOP after Idle's timeout: %v, want the session aborted for it", err)
			}
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
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); <-done })
	return commands.New(s)
}
