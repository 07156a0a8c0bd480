package commands_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// m46CutBody gives 10 bytes, then fails with an error that wraps
// session.ErrWriteCut: a body read from another session (copy's source
// FETCH, started inside the first body Read by iter.Pull2), whose own
// command was cut off while written.
type m46CutBody struct{ n int }

func (b *m46CutBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, fmt.Errorf("source: %w", session.ErrWriteCut)
}

// TestReview46MOtherCommandNotCut (found by review): a NOOP written whole (the server has
// read its line) waits for its answer when an APPEND pipelined behind it
// fails in its literal, the body's Read error wrapping ErrWriteCut (a
// reader over another session). The session aborts; the APPEND's error
// matches ErrWriteCut (it was cut), but so does the NOOP's: the abort's
// cause (the raw body error) is in every other command's *AbortError
// chain, so a command that reached the server whole (and may have run)
// is taken for "the server did not run it". The defaults.
func TestReview46MOtherCommandNotCut(t *testing.T) {
	gotNoop := make(chan struct{})
	cl := review46DClient(t, "IMAP4rev1 LITERAL+", func(server net.Conn) {
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, "NOOP") {
				close(gotNoop)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	noopErr := make(chan error, 1)
	go func() { noopErr <- cl.Noop(ctx) }()
	select {
	case <-gotNoop:
	case <-ctx.Done():
		t.Fatal("NOOP never reached the server")
	}
	_, err := cl.Append(context.Background(), "INBOX", &m46CutBody{}, 100, nil)
	if !errors.Is(err, session.ErrWriteCut) {
		t.Fatalf("Append: %v, want ErrWriteCut", err)
	}
	nerr := <-noopErr
	if nerr == nil {
		t.Fatal("NOOP succeeded")
	}
	if errors.Is(nerr, session.ErrWriteCut) {
		t.Fatalf("the NOOP, written whole before the APPEND, matches ErrWriteCut: %v", nerr)
	}
}

// m46NoBody gives 10 bytes, then fails with another session's NO (a
// body piped from a FETCH on another server, which answered NO: the
// pipe's writer closed it with the FETCH's error).
type m46NoBody struct{ n int }

func (b *m46NoBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, fmt.Errorf("source: %w", &session.StatusError{Command: "FETCH", Status: &codec.Status{Kind: codec.StatusNO, Text: codec.Bytes("no such message")}})
}

// TestReview46MBodyStatusErrorKeepsSessionInStep (found by review): an APPEND whose
// body's Read fails mid-literal with an error wrapping a *StatusError (a
// reader over another session's FETCH that ended NO) is taken by send
// for "the server refused the literal" (write.go: errors.As(err, &se)):
// send returns nil, the session is not aborted, and the command waits for
// an answer with 90 of its literal's 100 bytes never sent. The next
// command's bytes (here a NOOP) complete the literal: the server appends
// a message made of the NOOP's line, and the session is out of step. The
// APPEND's error neither matches ErrWriteCut nor ErrAborted (it waits
// until the stall timeout). The defaults.
func TestReview46MBodyStatusErrorKeepsSessionInStep(t *testing.T) {
	got := make(chan string, 4)
	cl := review46DClient(t, "IMAP4rev1 LITERAL+", func(server net.Conn) {
		r := bufio.NewReader(server)
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		// What comes after the APPEND line: its literal, as the
		// server reads it (100 bytes).
		buf := make([]byte, 100)
		n, _ := io.ReadAtLeast(r, buf, 11)
		got <- line + string(buf[:n])
		io.Copy(io.Discard, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := cl.Append(ctx, "INBOX", &m46NoBody{}, 100, nil)
		errc <- err
	}()
	var err error
	select {
	case err = <-errc:
	case <-time.After(300 * time.Millisecond):
		// Still waiting: the session took the failed literal for a
		// refused one (and left the APPEND line and its 10 bytes in
		// its write buffer). A NOOP now flushes them, its own line
		// going into the literal.
		go cl.Noop(ctx)
		select {
		case s := <-got:
			t.Fatalf("the APPEND's body failed mid-literal, yet the session stayed in step: the server read %q", s)
		case <-time.After(500 * time.Millisecond):
			t.Fatal("the APPEND neither returned nor aborted the session")
		}
	}
	if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) {
		t.Fatalf("Append: %v: want ErrWriteCut and ErrAborted (half a literal on the wire)", err)
	}
}

// TestReview46MOpenStatusErrorKeepsSessionInStep (found by review): the same through an
// AppendMany message's Open (copy's openSized returns the source FETCH's
// error, a *StatusError when the source answered NO): the first message
// went whole, the command line is unfinished, and send returns nil as for
// a refused literal. AppendMany waits for an answer the server cannot
// give, with the session taken for in step; it should fail at once with
// ErrWriteCut and ErrAborted. The defaults.
func TestReview46MOpenStatusErrorKeepsSessionInStep(t *testing.T) {
	cl := review46DClient(t, "IMAP4rev1 MULTIAPPEND LITERAL+", review46JOKServer)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	msgs := []commands.AppendMessage{
		{R: strings.NewReader("Subject: a\r\n\r\na\r\n"), Size: 17},
		{Open: func() (io.Reader, int64, error) {
			return nil, 0, fmt.Errorf("source: %w", &session.StatusError{Command: "UID FETCH", Status: &codec.Status{Kind: codec.StatusNO, Text: codec.Bytes("no")}})
		}},
	}
	errc := make(chan error, 1)
	go func() { _, err := cl.AppendMany(ctx, "INBOX", msgs); errc <- err }()
	select {
	case err := <-errc:
		if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) {
			t.Fatalf("AppendMany: %v: want ErrWriteCut and ErrAborted (the command line left unfinished)", err)
		}
	case <-time.After(500 * time.Millisecond):
		t.Fatal("AppendMany, its command line unfinished, waits for an answer: the session took it for a refused literal")
	}
}

// m46CanceledBody gives 10 bytes, then fails with an error wrapping
// context.Canceled (a reader over another session whose context ended).
type m46CanceledBody struct{ n int }

func (b *m46CanceledBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, fmt.Errorf("source: %w", context.Canceled)
}

// TestReview46MOtherCommandNotCanceled: as TestReview46MOtherCommandNotCut,
// the body's error wrapping context.Canceled: the NOOP written whole
// before, whose context did not end, must not match context.Canceled (a
// caller would take it for given up) nor ErrWriteCut; the APPEND's own
// error keeps its body error's chain and matches ErrWriteCut. The
// defaults.
func TestReview46MOtherCommandNotCanceled(t *testing.T) {
	gotNoop := make(chan struct{})
	cl := review46DClient(t, "IMAP4rev1 LITERAL+", func(server net.Conn) {
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, "NOOP") {
				close(gotNoop)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	noopErr := make(chan error, 1)
	go func() { noopErr <- cl.Noop(ctx) }()
	select {
	case <-gotNoop:
	case <-ctx.Done():
		t.Fatal("NOOP never reached the server")
	}
	_, err := cl.Append(context.Background(), "INBOX", &m46CanceledBody{}, 100, nil)
	if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Append: %v, want ErrWriteCut and its body's context.Canceled", err)
	}
	nerr := <-noopErr
	if nerr == nil || !errors.Is(nerr, session.ErrAborted) {
		t.Fatalf("NOOP: %v, want ErrAborted", nerr)
	}
	if errors.Is(nerr, context.Canceled) || errors.Is(nerr, session.ErrWriteCut) {
		t.Fatalf("the NOOP, written whole before the APPEND, matches the APPEND body's context.Canceled or ErrWriteCut: %v", nerr)
	}
	if !strings.Contains(nerr.Error(), "source: context canceled") {
		t.Fatalf("NOOP: %v: the cause's text is lost", nerr)
	}
}
