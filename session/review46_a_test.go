package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// a46Refusers counts the goroutines started since c's Start that run
// RefuseContinuations's loop, waiting up to wait for none to be left. One
// not yet run shows only its "created by" line and a wrapper's name:
// "(*Pending).RefuseContinuations", where a running one shows its frame,
// "(*Pending).refuseContinuations".
func a46Refusers(c *leakcheck.Checker, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		n := 0
		var le *leakcheck.LeakError
		if errors.As(c.Check(0), &le) {
			for _, g := range le.Goroutines {
				if strings.Contains(g, "efuseContinuations") {
					n++
				}
			}
		}
		// Others the session started since (its reader) may stay.
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReview46ARefuseContinuations: Pending.RefuseContinuations, the one
// loop that the session's abandoned Wait and the auth package's cancelled
// exchanges share, seen from outside the package. A caller who took
// Continuations gives the exchange up (twice: the second call does
// nothing, one goroutine answers); every "+" is answered "*", one that
// was waiting already and those to come; the goroutine ends with the
// command; a call after the command ended starts nothing; the session goes
// on. A command with OnContinue: Wait no longer calls it once the
// exchange is refused. A session that ends under a refused command ends
// the goroutine too. Default options.
func TestReview46ARefuseContinuations(t *testing.T) {
	auth := func(onContinue func([]byte) ([]byte, error)) *session.Command {
		return &session.Command{Name: "AUTHENTICATE", AnyState: true, OnContinue: onContinue,
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }}
	}
	// serve answers AUTHENTICATE with plus "+" lines, each after the
	// client's line, records those lines, then, once release is closed,
	// ends it with BAD (or closes the connection when hangUp), then
	// answers one NOOP.
	serve := func(plus int, hangUp bool, got chan<- []string, release <-chan struct{}) func(r *bufio.Reader, w io.Writer) {
		return func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			line := readLine(r)
			tag, _, _ := strings.Cut(line, " ")
			var answers []string
			for i := 0; i < plus; i++ {
				io.WriteString(w, "+ \r\n")
				answers = append(answers, readLine(r))
			}
			got <- answers
			<-release
			if hangUp {
				return
			}
			io.WriteString(w, tag+" BAD authentication cancelled\r\n")
			line = readLine(r)
			tag, _, _ = strings.Cut(line, " ")
			io.WriteString(w, tag+" OK noop\r\n")
		}
	}
	closedRelease := make(chan struct{})
	close(closedRelease)
	open := func(t *testing.T, play func(r *bufio.Reader, w io.Writer)) *session.Session {
		t.Helper()
		s, err := session.Open(ctx20(t), fake(t, play), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	wantBAD := func(t *testing.T, p *session.Pending) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := p.Wait(ctx)
		var se *session.StatusError
		if !errors.As(err, &se) || se.Status.Kind != codec.StatusBAD {
			t.Fatalf("Wait: %v; want the server's BAD", err)
		}
	}
	noop := func(t *testing.T, s *session.Session) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("NOOP after the refused exchange: %v", err)
		}
	}

	t.Run("caller", func(t *testing.T) {
		got := make(chan []string, 1)
		release := make(chan struct{})
		s := open(t, serve(3, false, got, release))
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		t.Cleanup(free) // before fake's: a failed test's server ends
		lc := leakcheck.Start()
		p, err := s.Start(ctx20(t), auth(nil))
		if err != nil {
			t.Fatal(err)
		}
		// The first "+" is the caller's: it takes it, then gives up
		// without answering (a mechanism's error), with it waiting.
		select {
		case <-p.Continuations():
		case <-time.After(10 * time.Second):
			t.Fatal("no \"+\"")
		}
		p.RefuseContinuations()
		p.RefuseContinuations()
		if n := a46Refusers(lc, 0); n != 1 {
			t.Fatalf("%d goroutines answer the refused exchange; want 1", n)
		}
		if a := <-got; strings.Join(a, ",") != "*,*,*" {
			t.Fatalf("the three \"+\" were answered %q; want \"*\" each", a)
		}
		free()
		wantBAD(t, p)
		if n := a46Refusers(lc, leakcheck.Wait); n != 0 {
			t.Fatalf("%d refusing goroutines left after the command ended", n)
		}
		p.RefuseContinuations() // after the end: nothing
		if n := a46Refusers(lc, 0); n != 0 {
			t.Fatalf("RefuseContinuations after the command's end started %d goroutines", n)
		}
		noop(t, s)
	})

	t.Run("OnContinue", func(t *testing.T) {
		got := make(chan []string, 1)
		s := open(t, serve(2, false, got, closedRelease))
		called := make(chan []byte, 2)
		p, err := s.Start(ctx20(t), auth(func(b []byte) ([]byte, error) {
			called <- b
			return []byte("dG9rZW4="), nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		p.RefuseContinuations()
		wantBAD(t, p)
		if a := <-got; strings.Join(a, ",") != "*,*" {
			t.Fatalf("the two \"+\" were answered %q; want \"*\" each", a)
		}
		if len(called) != 0 {
			t.Fatal("Wait called OnContinue for a refused exchange")
		}
		noop(t, s)
	})

	t.Run("session end", func(t *testing.T) {
		got := make(chan []string, 1)
		s := open(t, serve(1, true, got, closedRelease))
		lc := leakcheck.Start()
		p, err := s.Start(ctx20(t), auth(nil))
		if err != nil {
			t.Fatal(err)
		}
		p.RefuseContinuations()
		if a := <-got; strings.Join(a, ",") != "*" {
			t.Fatalf("the \"+\" was answered %q; want \"*\"", a)
		}
		// The server hangs up without a tagged answer.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := p.Wait(ctx); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait after the server hung up: %v; want the session's end", err)
		}
		if n := a46Refusers(lc, leakcheck.Wait); n != 0 {
			t.Fatalf("%d refusing goroutines left after the session ended", n)
		}
	})
}
