package session

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// TestPullQueuedBodyAfterDrive: a streamed body section whose caller was
// busy when it came is queued for the caller only once the goroutine that
// drove the reading coroutine is back from drive. Before, pullSection
// queued it itself, and the caller could take it and read the body (which
// reads the connection) while the reader goroutine still wrote s.rl on its
// way out of drive: the data race of the fourth stop's CI run, in
// cmd/imapkit's TestCopyResume, whose Fetch reads 100 KB images. The
// test looks under mu, in a tight loop, for the body item in the queue
// while the coroutine is still claimed by the reader goroutine; before the
// fix it saw that in the first round (and -race reported the race).
//
// The test looks when the body is queued (testHookBodyQueued, under mu)
// whether the coroutine is still claimed by the reader goroutine. It
// spun before, in a tight loop on mu.TryLock, to catch that state: a
// core taken from the reader goroutine it waited for (2.8 s under load).
// It waits for FETCH 1 on pullCond, which pullDeliver broadcasts.
func TestPullQueuedBodyAfterDrive(t *testing.T) {
	const size = 300 << 10 // over the default string limit: streamed
	bodies := make(chan bool, 1)
	hook := func(s *Session) {
		select {
		case bodies <- s.co.running && s.co.holder == nil:
		default: // one body a round: the test takes it before the next
		}
	}
	testHookBodyQueued.Store(&hook)
	t.Cleanup(func() { testHookBodyQueued.Store(nil) })
	for round := range 20 {
		cc, sc := net.Pipe()
		// A round that fails ends its session and server with the test:
		// left running, they held the test binary in leakcheck's wait
		// (a minute) before it reported the failure.
		t.Cleanup(func() { cc.Close() })
		go func() {
			defer sc.Close()
			r := bufio.NewReader(sc)
			io.WriteString(sc, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			line, _ := r.ReadString('\n')
			tag, _, _ := strings.Cut(line, " ")
			bw := bufio.NewWriter(sc)
			// A small FETCH, queued as a copy (the caller is not in Next
			// yet), then one whose body is streamed.
			fmt.Fprintf(bw, "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2 BODY[] {%d}\r\n", size)
			bw.WriteString(strings.Repeat("x", size))
			bw.WriteString(")\r\n" + tag + " OK done\r\n")
			bw.Flush()
			io.Copy(io.Discard, r)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), internalHang)
		t.Cleanup(cancel)
		s, err := Open(ctx, cc, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		p, err := s.Start(ctx, &Command{Name: "FETCH", AnyState: true, Pull: true,
			Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Raw("(UID BODY.PEEK[])") }})
		if err != nil {
			t.Fatal(err)
		}
		// The reader goroutine queues FETCH 1 (this goroutine is not in
		// Next: it waits for that here) and waits in pullSection for the
		// queue to be taken; Next takes it from the queue.
		pl := p.pull
		// A hang detector: it wakes the wait below, which then fails.
		late := false
		stop := time.AfterFunc(internalHang, func() {
			s.mu.Lock()
			late = true
			s.pullCond.Broadcast()
			s.mu.Unlock()
		})
		s.mu.Lock()
		for len(pl.queue) == 0 && !late {
			s.pullCond.Wait()
		}
		s.mu.Unlock()
		stop.Stop()
		if late {
			t.Fatalf("round %d: FETCH 1 never came", round)
		}
		if it, err := p.Next(ctx); err != nil || it.Body != nil {
			t.Fatalf("round %d: first item %+v, %v", round, it, err)
		}
		select {
		case driving := <-bodies:
			if driving {
				t.Fatalf("round %d: the body was queued for the caller while the reader goroutine was still inside drive", round)
			}
		case <-time.After(internalHang):
			t.Fatalf("round %d: the body was never queued", round)
		}
		it, err := p.Next(ctx)
		if err != nil || it.Body == nil {
			t.Fatalf("round %d: body item %+v, %v", round, it, err)
		}
		if n, err := io.Copy(io.Discard, it.Body); err != nil || n != size {
			t.Fatalf("round %d: body %d bytes, %v", round, n, err)
		}
		for {
			if _, err := p.Next(ctx); err != nil {
				break
			}
		}
		if _, err := p.Wait(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		s.Close()
		cancel()
	}
}

// TestPullBodyReadDuringClose: when the session ends while the caller
// reads a lent body section, the reader goroutine detaches the body under
// its lock before it resumes the coroutine (which skips the rest of the
// literal), so that the two never read the connection side by side (under
// -race, the race detector sees it when they do); the caller's read then
// fails.
func TestPullBodyReadDuringClose(t *testing.T) {
	// More than the caller reads before Close ends the session, however
	// late Close's goroutine runs: the server writes until it is closed.
	const size = 1 << 30
	cc, sc := net.Pipe()
	go func() {
		defer sc.Close()
		r := bufio.NewReader(sc)
		io.WriteString(sc, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		fmt.Fprintf(sc, "* 1 FETCH (UID 1 BODY[] {%d}\r\n", size)
		chunk := []byte(strings.Repeat("x", 4096))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := sc.Write(chunk); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), internalHang)
	defer cancel()
	s, err := Open(ctx, cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(ctx, &Command{Name: "FETCH", AnyState: true, Pull: true,
		Args: func(e *wire.Encoder) { e.SP().Raw("1 (UID BODY.PEEK[])") }})
	if err != nil {
		t.Fatal(err)
	}
	it, err := p.Next(ctx)
	if err != nil || it.Body == nil {
		t.Fatalf("body item %+v, %v", it, err)
	}
	buf := make([]byte, 1024)
	if _, err := io.ReadFull(it.Body, buf); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	for err == nil {
		_, err = it.Body.Read(buf)
	}
	if err == io.EOF {
		t.Fatal("the body ended after Close; want an error")
	}
	<-closed
}
