package session_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

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
	ctx := ctx20(t)
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
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	defer s.Close()
	ctx := ctx20(t)
	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation request")
	}
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
