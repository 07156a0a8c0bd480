package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// TestReview47AInvariantPulledAbandoned (found by review): the invariant
// written at contOwed's declaration ("never set once the command is
// abandoned") was broken by a pulled command (Command.Pull) that takes
// continuations, whose caller took its "+" from Continuations (owed), given
// up by Next's context (abandoned): Next's ctx.Err branch set abandoned and
// left the flags as they were, so the stall timeout stayed off for a "+"
// whose answerer had gone (TestReview47APulledAbandonedOwedPlusStallOff
// shows the hang). Now Next abandons as Wait does (abandonLocked): the
// answerer flags are cleared, contHeld kept, the stall timer armed.
// Defaults.
func TestReview47AInvariantPulledAbandoned(t *testing.T) {
	client, server := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		io.WriteString(server, "+ go on\r\n")
		io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-srvDone })
	s, err := Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(context.Background(), &Command{Name: "XCONT", Pull: true,
		Rules: &Rules{Alone: true, Continuations: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		for {
			if _, err := p.Next(ctx); err != nil {
				gone <- err
				return
			}
		}
	}()
	select {
	case <-p.Continuations():
	case <-time.After(5 * time.Second):
		t.Fatal("no \"+\"")
	}
	a47Want(t, p, "taken, not answered", a47Flags{held: true, owed: true, taken: true})
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("Next: %v", err)
	}
	a47Want(t, p, "abandoned by Next, the taken \"+\" unanswered", a47Flags{held: true, abandoned: true})
	f := a47Read(t, p, "abandoned by Next, the taken \"+\" unanswered")
	s.mu.Lock()
	armed := s.counts.waits == 0 && s.stallOwedLocked()
	s.mu.Unlock()
	if !armed {
		t.Errorf("stall timeout off after the command was abandoned (flags %+v)", f)
	}
}

// TestReview47ABodyEndedOwedPlus: the other way a pulled command is
// abandoned, a body read after the context of the Next that handed it out
// ended (pullBody.ended), clears the answerer as Next's and Wait's do
// (abandonLocked): a "+" the caller took and left unanswered is no longer
// owed, the stall timeout is armed, and RefuseContinuations still answers
// it ("*"). Before, ended set abandoned and left contOwed set, the stall
// timer off until CommandTimeout. Defaults.
func TestReview47ABodyEndedOwedPlus(t *testing.T) {
	client, server := transport.Pipe()
	lines := make(chan string, 4)
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer close(lines)
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		// A "+" and a FETCH whose body stops after 1000 of its 100000
		// bytes: the body stays on the connection, lent to the caller.
		io.WriteString(server, "+ go on\r\n* 1 FETCH (UID 1 BODY[] {100000}\r\n"+strings.Repeat("y", 1000))
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimRight(l, "\r\n")
		}
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-srvDone })
	s, err := Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(context.Background(), &Command{Name: "XCONT", Pull: true,
		Rules: &Rules{Alone: true, Continuations: true, Data: []string{"FETCH"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	it, err := p.Next(ctx)
	if err != nil || it.Body == nil {
		t.Fatalf("Next: %+v %v", it, err)
	}
	select {
	case <-p.Continuations():
	case <-time.After(5 * time.Second): // a bound for a failing run
		t.Fatal("no \"+\"")
	}
	a47Want(t, p, "\"+\" taken, a body held", a47Flags{held: true, owed: true, taken: true})
	cancel()
	if _, err := it.Body.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("body read after its context ended: %v", err)
	}
	a47Want(t, p, "body ended, the taken \"+\" unanswered", a47Flags{held: true, abandoned: true})
	s.mu.Lock()
	armed := s.counts.waits == 0 && s.stallOwedLocked()
	s.mu.Unlock()
	if !armed {
		t.Error("stall timeout off after the body's context ended")
	}
	p.RefuseContinuations()
	select {
	case l := <-lines:
		if l != "*" {
			t.Errorf("client sent %q; want \"*\"", l)
		}
	case <-time.After(5 * time.Second): // a bound for a failing run
		t.Error("the taken \"+\" was never refused")
	}
}

// TestReview47ARefuseWriteBounded: the "*" RefuseContinuations sends is
// bounded by refuseTimeout: a server that stops reading (the write
// blocks) has the write cut at that bound and the session ended, not left
// to the write side's stall timeout (60 s) or forever. refuseTimeout (a
// constant, 10 s) stands at 0.2 s here through the package's test hook
// (testRefuseTimeout, no user option); the session ending within 10 s is a
// bound for a failing run, not a timing. net.Pipe: unbuffered, so the
// write blocks as soon as the server stops reading.
func TestReview47ARefuseWriteBounded(t *testing.T) {
	testRefuseTimeout = 200 * time.Millisecond
	t.Cleanup(func() { testRefuseTimeout = 0 })
	client, server := net.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		io.WriteString(server, "+ go on\r\n")
		// and reads nothing more: the "*" write blocks
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-srvDone })
	s, err := Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(context.Background(), &Command{Name: "XCONT", Rules: &Rules{Alone: true, Continuations: true}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-time.After(5 * time.Second): // a bound for a failing run
		t.Fatal("no \"+\"")
	}
	<-srvDone // the server reads no more
	p.RefuseContinuations()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second): // a bound for a failing run
		t.Fatal("the blocked \"*\" write was not cut at refuseTimeout (0.2 s here): the session goes on")
	}
	if _, err := p.Wait(context.Background()); err == nil {
		t.Error("Wait: no error after the session ended")
	}
}
