package session

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestCommandBoundWaitMonotonic: the command bound of a pulled command whose
// context has no deadline (commands.Client's Fetch, List, Search loops
// with a daemon's context) counts only the time its caller waits in Next,
// as differences of readings taken by pull.go beginWait, endWait and
// waitedLocked. They were differences of time.Now().UnixNano(): the wall
// clock, not the monotonic one. A wall-clock step during such a wait (NTP
// stepping the clock, a VM resynced after its host slept; on Linux a
// suspend/resume moves the wall clock by the time asleep while the
// monotonic clock stands still) was taken for time spent waiting on the
// server: +1 hour made boundFired abort a session whose server answered at
// once, and a step back gave the command that much more than
// CommandTimeout. The start of the wait must be a reading of the monotonic
// clock (monoNow), which no step of the wall clock moves: the test checks,
// structurally, that it lies between two monoNow readings taken around
// it (a Unix-ns reading is years away from them), then runs the bound
// check: the session must not be aborted.
func TestCommandBoundWaitMonotonic(t *testing.T) {
	c, srv := transport.Pipe()
	release := make(chan struct{})
	free := sync.OnceFunc(func() { close(release) })
	defer free() // a failed check does not leave the server waiting
	go func() {
		defer srv.Close()
		r := bufio.NewReader(srv)
		io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			switch {
			case strings.HasPrefix(rest, "SELECT"):
				io.WriteString(srv, "* 1 EXISTS\r\n"+tag+" OK [READ-WRITE] done\r\n")
			case strings.HasPrefix(rest, "UID FETCH"):
				<-release
				io.WriteString(srv, "* 1 FETCH (UID 1 FLAGS ())\r\n"+tag+" OK done\r\n")
			default:
				io.WriteString(srv, tag+" OK done\r\n")
			}
		}
	}()
	ctx := context.Background()
	s, err := Open(ctx, c, &Options{CommandTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Run(ctx, &Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	before := monoNow()
	p, err := s.Start(ctx, &Command{Name: "UID FETCH", Pull: true, Args: func(e *wire.Encoder) { e.SP().Raw("1 FLAGS") }})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		for {
			if _, err := p.Next(ctx); err != nil {
				got <- err
				return
			}
		}
	}()
	// The caller now waits in Next for the server. The minute is a hang
	// detector, not a timing check.
	var since int64
	for deadline := time.Now().Add(time.Minute); since == 0; since = p.pull.waitSince.Load() {
		if time.Now().After(deadline) {
			t.Fatal("Next did not start waiting")
		}
		time.Sleep(time.Millisecond)
	}
	after := monoNow()
	if since < before || since > after {
		t.Fatalf("the wait in Next began at %d, outside the monotonic readings %d and %d taken before Start and after it began: its start is not a monotonic reading, and a wall-clock step moves it", since, before, after)
	}
	s.boundFired()
	free()
	if err := <-got; err != io.EOF {
		t.Fatalf("a moment of waiting (monotonic) in a 10 s command bound aborted the session: %v", err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestWriteProgressMonotonic: the write side's times that excuse a read
// stall (wlast, wfull) are monotonic readings too, by the same helper: a
// wall-clock step does not excuse a stall, nor stop excusing one. The time
// a write ended lies between monoNow readings taken around the Write (a
// Unix-ns reading is years away). Before any write nothing excuses a
// stall; right after a write that got bytes through, it is excused.
func TestWriteProgressMonotonic(t *testing.T) {
	a, b := transport.Pipe()
	defer a.Close()
	defer b.Close()
	c := &watchConn{Conn: a, stall: time.Minute}
	if c.readStallExcused() {
		t.Fatal("a read stall is excused before anything was written")
	}
	go io.Copy(io.Discard, b)
	before := monoNow()
	if _, err := c.Write([]byte("A1 NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	after := monoNow()
	if w := c.wlast.Load(); w < before || w > after {
		t.Fatalf("the last write ended at %d, outside the monotonic readings %d and %d taken around the Write: wlast is not a monotonic reading", w, before, after)
	}
	if !c.readStallExcused() {
		t.Fatal("a read stall right after a write that got through is not excused")
	}
}
