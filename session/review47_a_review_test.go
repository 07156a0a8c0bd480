package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// a47rRun starts a pulled command that takes continuations, takes its
// "+" from Continuations (the caller is its answerer: the stall timeout
// goes off), then gives the command up without answering: by Next's
// context (pulled) or Wait's. The server stays silent, waiting for the
// line. It returns how long the session took to end after that (0: not
// within limit, a bound for a failing run).
func a47rRun(t *testing.T, byNext bool, limit time.Duration) time.Duration {
	session.StallSpeed(t, 200) // 60 s stall as 0.3 s; CommandTimeout stays 15 min
	client, server := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		r := bufio.NewReader(server)
		io.WriteString(server, lmGreeting)
		readLine(r)
		io.WriteString(server, "+ go on\r\n")
		io.Copy(io.Discard, r) // silent: waits for the client's line
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-srvDone })
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(context.Background(), &session.Command{Name: "XCONT", Pull: true,
		Rules: &session.Rules{Alone: true, Continuations: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		if byNext {
			for {
				if _, err := p.Next(ctx); err != nil {
					gone <- err
					return
				}
			}
		}
		_, err := p.Wait(ctx)
		gone <- err
	}()
	select {
	case <-p.Continuations():
	case <-time.After(5 * time.Second):
		t.Fatal("no \"+\"")
	}
	cancel() // the caller gives the command up, the "+" unanswered
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("gave up with %v", err)
	}
	start := time.Now()
	select {
	case <-s.Done():
		return time.Since(start)
	case <-time.After(limit):
		return 0
	}
}

// TestReview47APulledAbandonedOwedPlusStallOff (found by review): a pulled
// command that takes continuations (an unknown command, AUTHENTICATE or
// any with Rules.Continuations, started with Pull), whose caller took a
// "+" from Continuations and then gave the command up by Next's context,
// without answering, left contOwed set: the stall timeout stayed off while
// the server waited for a line that would never come, and the session
// hung until CommandTimeout (15 min by default) instead of the stall
// timeout (60 s). Now Next abandons as Wait does (abandonLocked): the
// answerer flags go and the stall timer is armed again. Stall timeouts
// 200 times faster through the StallSpeed test hook (no user option
// changed): 60 s as 0.3 s; a session not ended within 20 of them (6 s, a
// bound for a failing run, not a timing) hangs.
func TestReview47APulledAbandonedOwedPlusStallOff(t *testing.T) {
	if d := a47rRun(t, true, 6*time.Second); d == 0 {
		t.Fatal("a pulled command given up by Next, its taken \"+\" unanswered: the session was not cut " +
			"by the stall timeout (0.3 s here) within 6 s: contOwed is still set, the stall timer off " +
			"(until CommandTimeout, 15 min by default)")
	}
}

// TestReview47AWaitAbandonedOwedPlusStallOn (found by review) is the
// control: the same command given up by Wait's context is cut at the
// stall timeout.
func TestReview47AWaitAbandonedOwedPlusStallOn(t *testing.T) {
	if d := a47rRun(t, false, 6*time.Second); d == 0 {
		t.Fatal("given up by Wait: not cut by the stall timeout")
	}
}
