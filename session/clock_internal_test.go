package session

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestReview42BDPacedBoundWallClock: the command bound of a pulled command whose
// context has no deadline (commands.Client's Fetch, List, Search loops
// with a daemon's context) counts only the time its caller waits in Next,
// measured as differences of time.Now().UnixNano() (pull.go beginWait,
// endWait, waitedLocked): the wall clock, not the monotonic one. A wall
// clock step during such a wait (NTP stepping the clock, a VM resynced
// after its host slept; on Linux a suspend/resume moves the wall clock
// by the time asleep while the monotonic clock stands still) is taken for
// time spent waiting on the server: +1 hour makes boundFired abort a
// session whose server answered at once, and a step back gives the
// command that much more than CommandTimeout. The test starts a wait,
// moves its start as a +1 h step of the wall clock leaves it, and runs
// the bound check 100 ms (monotonic) into a 10 s bound: the session must
// not be aborted.
func TestReview42BDPacedBoundWallClock(t *testing.T) {
	c, srv := transport.Pipe()
	release := make(chan struct{})
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
	// The caller now waits in Next for the server.
	deadline := time.Now().Add(5 * time.Second)
	for p.pull.waitSince.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Next did not start waiting")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	// The wall clock steps forward one hour. The auditor's test moved
	// the wait's start one hour back here, as such a step leaves a
	// reading of the wall clock (Unix ns) behind it. The start is now a
	// reading of the monotonic clock (monoNow), which no step of the
	// wall clock moves, so there is nothing to move: check that it is
	// one (100 ms to 5 s before monoNow(); a Unix-ns reading is years
	// away from it), then run the bound check as the auditor did.
	if d := time.Duration(monoNow() - p.pull.waitSince.Load()); d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("the wait in Next began %v before now on the monotonic clock; want about 100 ms (its start is not a monotonic reading: a wall-clock step moves it)", d)
	}
	s.boundFired()
	close(release)
	if err := <-got; err != io.EOF {
		t.Fatalf("after 100 ms of waiting (monotonic) in a 10 s command bound, a wall-clock step aborted the session: %v", err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReview42BDWriteProgressMonotonic: the write side's times that excuse
// a read stall (wlast, wfull) are monotonic readings too, by the same
// helper: a wall-clock step does not excuse a stall, nor stop excusing
// one. Before any write nothing excuses a stall; right after a write that
// got bytes through, it is excused.
func TestReview42BDWriteProgressMonotonic(t *testing.T) {
	a, b := transport.Pipe()
	defer a.Close()
	defer b.Close()
	c := &watchConn{Conn: a, stall: time.Minute}
	if c.readStallExcused() {
		t.Fatal("a read stall is excused before anything was written")
	}
	go io.Copy(io.Discard, b)
	if _, err := c.Write([]byte("A1 NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(monoNow() - c.wlast.Load()); d < 0 || d > 5*time.Second {
		t.Fatalf("the last write ended %v before now on the monotonic clock: wlast is not a monotonic reading", d)
	}
	if !c.readStallExcused() {
		t.Fatal("a read stall right after a write that got through is not excused")
	}
}
