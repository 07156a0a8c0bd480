package session_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// answering is a server that answers every command line with a tagged OK.
func g44Answering(r *bufio.Reader, w io.Writer) {
	io.WriteString(w, lmGreeting)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(w, tag+" OK done\r\n")
	}
}

// TestReview44GStallBatchUnflushed: 9a9712e starts the read side's stall timer
// when a command is marked sent (markSent), before its bytes are written,
// let alone flushed. In a batch (StartBatch) the first command is left
// in the write buffer for the next one to flush (last=false), so the next
// command's Args runs while the first one's timer counts the server's
// "silence": the server never got a byte. With the defaults (60 s, run
// 200 times faster by StallSpeed) a batch whose second Args takes four
// stall timeouts is aborted with "no byte from the server" against a
// server that answers everything it receives: the very case the commit
// fixed for a command alone.
func TestReview44GStallBatchUnflushed(t *testing.T) {
	session.StallSpeed(t, 200) // 60 s as 300 ms
	const stall = session.DefaultStallTimeout / 200
	conn := fake(t, g44Answering)
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	slow := func(e *wire.Encoder) { time.Sleep(4 * stall) }
	t.Run("batch", func(t *testing.T) {
		ps, err := s.StartBatch(ctx20(t), []*session.Command{{Name: "NOOP"}, {Name: "NOOP", Args: slow}})
		if err != nil {
			t.Fatalf("StartBatch (NOOP, NOOP whose Args takes four stall timeouts) to a server that answers: %v", err)
		}
		for i, p := range ps {
			if _, err := p.Wait(ctx20(t)); err != nil {
				t.Fatalf("command %d of the batch: %v", i+1, err)
			}
		}
	})
	// The same with two goroutines: the first command's writer leaves its
	// bytes for the second, which waits for the write lock (shouldFlush),
	// and whose Args then takes four stall timeouts.
	t.Run("goroutines", func(t *testing.T) {
		s, err := session.Open(ctx20(t), fake(t, g44Answering), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		inArgs, release := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			_, err := s.Run(ctx20(t), &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) {
				close(inArgs)
				<-release
			}})
			first <- err
		}()
		<-inArgs
		second := make(chan error, 1)
		go func() {
			_, err := s.Run(ctx20(t), &session.Command{Name: "NOOP", Args: slow})
			second <- err
		}()
		time.Sleep(stall / 4) // the second waits for the write lock
		close(release)
		if err := <-first; err != nil {
			t.Errorf("first NOOP (its bytes left for the next writer) to a server that answers: %v", err)
		}
		if err := <-second; err != nil {
			t.Errorf("second NOOP (Args of four stall timeouts): %v", err)
		}
	})
}

// TestReview44GStallWaitingForContinuation: the stall timeout counts
// from when a command's bytes reach the connection; a command with a
// synchronizing literal has its bytes up to the literal flushed before it
// waits for the "+", which the server owes from then on: a server that
// never sends it is cut by the stall timeout (with the defaults, run 200
// times faster), not left waiting for the command's context.
func TestReview44GStallWaitingForContinuation(t *testing.T) {
	session.StallSpeed(t, 200)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting) // no LITERAL+: the literal waits for "+"
		io.Copy(io.Discard, r)        // never a "+"
	})
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Run(ctx20(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.SP().Mailbox("INBOX").SP().Literal([]byte("Subject: x\r\n\r\nbody\r\n"))
	}})
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall {
		t.Fatalf("APPEND waiting for a \"+\" the server never sends: %v; want a stall *TimeoutError", err)
	}
}
