package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/wire"
)

// TestAbortEndsRegisteredNotSent: a command registered and waiting for its
// turn to be written (a NOOP behind an APPEND that holds the write lock
// while it waits for "+") when the session aborts ends with the abort's
// error as not sent (abortWith's not-sent branch): its Pending says
// ErrNotSent, safe to send again, and not a byte of it reaches the
// server. The APPEND, written, gets the abort's error alone. Run's caller
// learns it from send too (notSent of the session's error), so the
// Pending is looked at here, as markSent's "ended as not sent" relies on
// it. In a synctest bubble: synctest.Wait says the NOOP waits for the
// write lock.
func TestAbortEndsRegisteredNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := net.Pipe()
		got := make(chan []string, 1)
		appendRead := make(chan struct{})
		forge := make(chan struct{})
		go func() {
			defer server.Close()
			r := bufio.NewReader(server)
			io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			var lines []string
			l, _ := r.ReadString('\n') // A1 APPEND INBOX {5}: waits for "+"
			lines = append(lines, strings.TrimRight(l, "\r\n"))
			close(appendRead)
			<-forge
			// A completion for a tag never sent: a protocol violation.
			io.WriteString(server, "A9 OK forged\r\n")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					break
				}
				lines = append(lines, strings.TrimRight(l, "\r\n"))
			}
			got <- lines
		}()
		s, err := Open(context.Background(), client, &Options{TagPrefix: "A"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		appended := make(chan error, 1)
		go func() {
			_, err := s.Run(ctx, &Command{Name: "APPEND", Args: func(e *wire.Encoder) {
				e.SP().Mailbox("INBOX").SP().Literal([]byte("hello"))
			}})
			appended <- err
		}()
		<-appendRead
		noop := make(chan error, 1)
		go func() { _, err := s.Run(ctx, &Command{Name: "NOOP"}); noop <- err }()
		synctest.Wait() // the NOOP waits for the write lock
		s.mu.Lock()
		waiting := append([]*Pending(nil), s.inflight[s.nsent:]...)
		sent := append([]*Pending(nil), s.inflight[:s.nsent]...)
		s.mu.Unlock()
		if len(waiting) != 1 || waiting[0].name != "NOOP" || len(sent) != 1 || sent[0].name != "APPEND" {
			t.Fatalf("%d commands sent, %d registered; want the APPEND sent and the NOOP registered", len(sent), len(waiting))
		}
		close(forge)
		aerr, nerr := <-appended, <-noop
		p := waiting[0]
		s.mu.Lock()
		perr := p.err
		s.mu.Unlock()
		if !errors.Is(perr, ErrProtocol) || !errors.Is(perr, ErrNotSent) {
			t.Errorf("the NOOP, registered and not written when the session aborted, ended with %v; want the abort's error (ErrProtocol) as not sent (ErrNotSent)", perr)
		}
		if !errors.Is(nerr, ErrNotSent) {
			t.Errorf("Run of the NOOP: %v; want ErrNotSent", nerr)
		}
		if !errors.Is(aerr, ErrProtocol) || errors.Is(aerr, ErrNotSent) {
			t.Errorf("APPEND, written: %v; want ErrProtocol, not ErrNotSent", aerr)
		}
		s.Close()
		for _, l := range <-got {
			if strings.Contains(l, "NOOP") {
				t.Errorf("the server got %q: the NOOP was written", l)
			}
		}
	})
}
