package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestContinueAfterEnd: a line answering a continuation request of a
// command that has ended is not written (it would be read as a command of
// its own, "DONE" as a tag): Continue returns ErrCommandEnded. It wrote it.
// Found by the fault audit of 2026-12-04 (Idle's DONE after the server
// ended the IDLE).
func TestContinueAfterEnd(t *testing.T) {
	lines := make(chan string, 10)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		readLine(r)
		io.WriteString(w, "+ idling\r\n* 1 EXISTS\r\nA1 OK IDLE terminated by the server\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			lines <- l
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	defer s.Close()
	ctx := hangCtx(t)
	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Continue(ctx, []byte("DONE")); !errors.Is(err, session.ErrCommandEnded) {
		t.Fatalf("Continue after the end: %v; want ErrCommandEnded", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if l := <-lines; !strings.HasSuffix(l, " NOOP") {
		t.Fatalf("the server got %q before the NOOP", l)
	}
}

// TestStrayDoneAnswer: the server ends IDLE on its own as the client sends
// DONE, and reads the DONE as a command whose tag is "DONE" ("DONE BAD",
// as Dovecot answers): IMAP's own race. The session drops that answer
// instead of aborting ("tagged response for an unknown tag"). Found by
// the fault audit of 2026-12-04.
func TestStrayDoneAnswer(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		readLine(r)
		io.WriteString(w, "+ idling\r\n")
		if readLine(r) != "DONE" {
			return
		}
		// As if the IDLE had ended before the DONE was read.
		io.WriteString(w, "A1 OK IDLE terminated\r\nDONE BAD Error in IMAP command received by server.\r\n")
		answerOK(r, w)
	})
	s := openDefaults(t, conn, nil)
	defer s.Close()
	ctx := hangCtx(t)
	p := startIdle(t, ctx, s)
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after the stray DONE answer: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestContinueEndedContext: a continuation line whose context has already
// ended (IDLE's DONE sent from a context that was cancelled to stop the
// IDLE, an AUTHENTICATE answer after its caller gave up) is still written,
// within the write grace: left unsent, the server would wait for it
// forever, and cut at once (a deadline in the past) it aborted the session
// though the connection was fine. In a bubble: the server's 10 ms and the
// grace are on the bubble's clock (on the real one, a server goroutine not
// run for 50 ms on a loaded machine lost the race).
func TestContinueEndedContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := unbufferedFake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
			readLine(r)
			io.WriteString(w, "+ idling\r\n")
			// Slow to read (an unbuffered pipe: the write waits for
			// it), well within the write grace.
			time.Sleep(10 * time.Millisecond)
			if l := readLine(r); l != "DONE" {
				io.WriteString(w, "* BAD expected DONE, got "+l+"\r\n")
				return
			}
			io.WriteString(w, "A1 OK IDLE done\r\n")
			answerOK(r, w)
		})
		s := openDefaults(t, conn, nil)
		ctx := hangCtx(t)
		p := startIdle(t, ctx, s)
		ended, cancel := context.WithCancel(ctx)
		cancel()
		if err := p.Continue(ended, []byte("DONE")); err != nil {
			t.Fatalf("Continue with an ended context: %v; session err %v", err, s.Err())
		}
		if _, err := p.Wait(ctx); err != nil {
			t.Fatalf("IDLE: %v", err)
		}
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("NOOP after: %v", err)
		}
	})
}

// unbufferedFake is fake over net.Pipe: a client write waits until the
// server reads it, as when a socket's send buffer is full.
func unbufferedFake(t *testing.T, play func(r *bufio.Reader, w io.Writer)) net.Conn {
	t.Helper()
	return fakeOver(t, net.Pipe, play)
}

// answerOK answers every command line with its tag and OK, until EOF.
func answerOK(r *bufio.Reader, w io.Writer) {
	for {
		l := readLine(r)
		if l == "" {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		io.WriteString(w, tag+" OK done\r\n")
	}
}

// TestContinueOwnEndedContext: as TestContinueEndedContext, with the
// command's own context, which ended while nothing was being written (its
// write watch found no write to cut): a server that does not read the line
// gets it cut after the write grace, exactly, ending the session, instead
// of a Continue blocked until the write side's stall timeout (4 minutes).
// The review of 2026-12-04; AUTHENTICATE answers with its own context. In
// a bubble: synctest.Wait lets the write watch fire (a real 20 ms sleep
// did not promise it on a loaded machine), and the grace is measured on
// the bubble's clock.
func TestContinueOwnEndedContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop := make(chan struct{})
		conn := unbufferedFake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
			readLine(r)
			io.WriteString(w, "+ idling\r\n")
			<-stop // never reads again
		})
		defer close(stop)
		s := openDefaults(t, conn, nil)
		ctx, cancel := context.WithCancel(context.Background())
		p := startIdle(t, ctx, s)
		cancel()
		synctest.Wait() // the write watch has fired, with no write going
		start := time.Now()
		err := p.Continue(ctx, []byte("DONE"))
		if err == nil {
			t.Fatal("Continue to a server that reads nothing succeeded")
		}
		if d := time.Since(start); d != session.WriteGrace {
			t.Fatalf("Continue failed after %v (%v); want exactly the write grace, %v", d, err, session.WriteGrace)
		}
	})
}
