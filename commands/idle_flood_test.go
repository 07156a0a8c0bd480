package commands_test

import (
	"bufio"
	"context"
	"errors"
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
	client, server := transport.Pipe()
	var written atomic.Int64
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
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
			server.Write([]byte("+ idling\r\n"))
			w := bufio.NewWriterSize(server, 4096)
			for i := 1; i <= events; i++ {
				w.WriteString("* " + strconv.Itoa(i) + " EXISTS\r\n")
				written.Store(int64(i))
			}
			w.Flush()
			if l, err := r.ReadString('\n'); err != nil || strings.TrimSpace(l) != "DONE" {
				return
			}
			server.Write([]byte(tag + " OK idle done\r\n"))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(); <-srvDone }()
	c := commands.New(s)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap0 := ms.HeapAlloc
	var grown int64
	var stalledAt int64
	err = c.Idle(ctx, nil, func(r codec.Response) bool {
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

// TestIdleSecondContinuation: a server that sends a second "+" during
// IDLE (as some do, to keep the connection alive) is served as one that
// sends one: the first is taken as soon as it comes, so the second finds
// room, and IDLE ends with DONE as usual.
func TestIdleSecondContinuation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
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
			server.Write([]byte("+ idling\r\n"))
			time.Sleep(20 * time.Millisecond)
			server.Write([]byte("+ still idling\r\n* 2 EXISTS\r\n"))
			if l, err := r.ReadString('\n'); err != nil || strings.TrimSpace(l) != "DONE" {
				return
			}
			server.Write([]byte(tag + " OK idle done\r\n"))
		}
	}()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(); <-done }()
	ic := commands.New(s)
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
// it left running once the tests are over). The two cases run
// in parallel (a minute of waiting otherwise).
func TestIdleEndBounded(t *testing.T) {
	for _, tc := range []struct {
		name, what string
		plus       bool
	}{{"no answer to DONE", "IDLE DONE", true}, {"no continuation", "IDLE continuation", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
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
					if strings.Contains(l, "IDLE") && tc.plus {
						server.Write([]byte("+ idling\r\n"))
					}
					// Nothing else, ever: not to DONE, nor to IDLE.
				}
			}()
			s, err := session.Open(context.Background(), client, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { s.Close(); <-done }()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = commands.New(s).Idle(ctx, nil, func(codec.Response) bool { return true })
			var te *session.TimeoutError
			if !errors.As(err, &te) || te.What != tc.what {
				t.Fatalf("Idle after %v: %v, want a TimeoutError for %s", time.Since(start), err, tc.what)
			}
		})
	}
}
