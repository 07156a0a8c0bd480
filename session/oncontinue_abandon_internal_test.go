package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// pulledContServer plays a server for one command with continuations: it
// sends a "+" once go is closed (nil: at once) and reads its answer line,
// for each of gos, then answers the command BAD and the client's NOOP OK.
// lines gets every line the client sent between the command and the NOOP
// (a missing answer counts as "" after a 10 s bound: a failing run).
func pulledContServer(t *testing.T, gos []chan struct{}, lines chan<- []string) net.Conn {
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		l, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(l, " ")
		var got []string
		for _, g := range gos {
			if g != nil {
				<-g
			}
			io.WriteString(server, "+ \r\n")
			server.SetReadDeadline(time.Now().Add(10 * time.Second)) // a bound for a failing run
			l, err := r.ReadString('\n')
			if err != nil {
				got = append(got, "")
				break
			}
			got = append(got, strings.TrimRight(l, "\r\n"))
		}
		server.SetReadDeadline(time.Time{})
		io.WriteString(server, tag+" BAD cancelled\r\n")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			l = strings.TrimRight(l, "\r\n")
			if strings.HasSuffix(l, " NOOP") {
				tag, _, _ = strings.Cut(l, " ")
				break
			}
			got = append(got, l) // a stray answer
		}
		lines <- got
		io.WriteString(server, tag+" OK noop\r\n")
		io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-done })
	return client
}

// contStall reports, under the locks, whether p's "+" is owed (the stall
// timeout off for it) and whether the stall timeout is armed.
func contStall(s *Session, p *Pending) (owed, armed bool) {
	s.mu.Lock()
	owed = p.contOwed
	s.mu.Unlock()
	s.wc.mu.Lock()
	armed = s.wc.armed
	s.wc.mu.Unlock()
	return owed, armed
}

// TestPulledOnContinueRefusedAfterNextAbandoned: a pulled command with
// Command.OnContinue (a misuse: Wait ends the pulling) whose Next's
// context ends while a Wait of it runs OnContinue for a "+". Defined so:
// the command is abandoned as by Next alone; the "+" OnContinue holds is
// no longer owed (the stall timeout is on again: were it left off, a
// server that sends nothing more would never be cut); Wait answers it
// with OnContinue's response; the next "+" is refused ("*"), as an
// abandoned Wait refuses, OnContinue not called again; Wait gives the
// command's end (here BAD); the session goes on. With no Wait running,
// a "+" after the abandon is refused too: no one answered it, and the
// server waited for a line until the stall timeout (60 s) ended the
// session. Before, Wait went on calling OnContinue for the abandoned
// command's later "+". Defaults.
func TestPulledOnContinueRefusedAfterNextAbandoned(t *testing.T) {
	t.Run("Wait", func(t *testing.T) {
		second := make(chan struct{})
		lines := make(chan []string, 1)
		conn := pulledContServer(t, []chan struct{}{nil, second}, lines)
		s, err := Open(context.Background(), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		entered := make(chan struct{}, 2)
		release := make(chan struct{})
		var calls atomic.Int32
		p, err := s.Start(context.Background(), &Command{Name: "AUTHENTICATE", AnyState: true, Pull: true,
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
			OnContinue: func([]byte) ([]byte, error) {
				calls.Add(1)
				entered <- struct{}{}
				<-release
				return []byte("QUFBQQ=="), nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		waited := make(chan error, 1)
		go func() { _, err := p.Wait(ctx); waited <- err }()
		select {
		case <-entered:
		case <-time.After(10 * time.Second): // a bound for a failing run
			t.Fatal("OnContinue never called")
		}
		if owed, _ := contStall(s, p); !owed {
			t.Error("the \"+\" OnContinue runs for is not owed: the stall timeout runs while the client owes a line")
		}
		nctx, ncancel := context.WithCancel(context.Background())
		ncancel()
		if _, err := p.Next(nctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next: %v", err)
		}
		if owed, armed := contStall(s, p); owed || !armed {
			t.Errorf("after Next's context ended: owed %v, stall timeout armed %v; want not owed, armed", owed, armed)
		}
		close(release)
		close(second)
		if err := <-waited; err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait: %v; want the command's BAD", err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("OnContinue called %d times; want once (the \"+\" after the abandon is refused)", n)
		}
		if _, err := s.Run(ctx, &Command{Name: "NOOP"}); err != nil {
			t.Fatalf("NOOP: %v", err)
		}
		if got := <-lines; len(got) != 2 || got[0] != "QUFBQQ==" || got[1] != "*" {
			t.Errorf("the two \"+\" were answered %q; want OnContinue's response, then \"*\"", got)
		}
	})
	t.Run("NoWait", func(t *testing.T) {
		first := make(chan struct{})
		lines := make(chan []string, 1)
		conn := pulledContServer(t, []chan struct{}{first}, lines)
		s, err := Open(context.Background(), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		p, err := s.Start(context.Background(), &Command{Name: "AUTHENTICATE", AnyState: true, Pull: true,
			Args:       func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
			OnContinue: func([]byte) ([]byte, error) { return []byte("QUFBQQ=="), nil }})
		if err != nil {
			t.Fatal(err)
		}
		nctx, ncancel := context.WithCancel(context.Background())
		ncancel()
		if _, err := p.Next(nctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next: %v", err)
		}
		close(first)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := s.Run(ctx, &Command{Name: "NOOP"}); err != nil {
			t.Fatalf("NOOP: %v", err)
		}
		if got := <-lines; len(got) != 1 || got[0] != "*" {
			t.Errorf("the \"+\" after the abandon was answered %q; want \"*\"", got)
		}
	})
}

// TestOnContinuePanicRefusalBounded: the "*" Wait sends for
// an OnContinue that panicked is bounded by refuseTimeout, as
// RefuseContinuations's is (TestRefuseWriteBounded): a server
// that stops reading (the write blocks) has the write cut at that bound
// and the session ended, and the panic goes on to Wait's caller, not
// held for the write side's stall timeout (4 × 60 s) when Wait's context
// has no deadline. refuseTimeout (a constant, 10 s) stands at 0.2 s here
// through the package's test hook (testRefuseTimeout, no user option);
// the 10 s below is a bound for a failing run, not a timing. net.Pipe:
// unbuffered, so the write blocks as soon as the server stops reading.
func TestOnContinuePanicRefusalBounded(t *testing.T) {
	s, srvDone := openRefusalBlocked(t)
	p, err := s.Start(context.Background(), &Command{Name: "AUTHENTICATE", AnyState: true,
		Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
		OnContinue: func([]byte) ([]byte, error) {
			<-srvDone // the server reads no more
			panic("mechanism failed")
		}})
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan any, 1)
	go func() {
		defer func() { waited <- recover() }()
		p.Wait(context.Background())
	}()
	select {
	case v := <-waited:
		if v != "mechanism failed" {
			t.Errorf("Wait's panic: %v; want OnContinue's", v)
		}
	case <-time.After(10 * time.Second): // a bound for a failing run
		t.Fatal("the blocked \"*\" write was not cut at refuseTimeout (0.2 s here): Wait still holds the panic")
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second): // a bound for a failing run
		t.Fatal("the session goes on after its \"*\" write was cut")
	}
}
