package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// r46KServer is a fake server over transport.Pipe for AUTHENTICATE: it
// greets, reads the AUTHENTICATE line, waits for plus to be closed, sends
// one "+", then reports on lines every line the client sends: the first
// within 10 s, each later one within quiet of the one before (a read
// deadline: only the absence of a further line waits for it), then ends
// the command with BAD and answers a NOOP.
func r46KServer(t *testing.T, plus <-chan struct{}, quiet time.Duration, lines chan<- []string) net.Conn {
	t.Helper()
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, lmGreeting)
		tag, _, _ := strings.Cut(readLine(r), " ")
		<-plus
		io.WriteString(server, "+ \r\n")
		var got []string
		for wait := 10 * time.Second; ; wait = quiet {
			server.SetReadDeadline(time.Now().Add(wait))
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			got = append(got, strings.TrimRight(l, "\r\n"))
		}
		server.SetReadDeadline(time.Time{})
		lines <- got
		io.WriteString(server, tag+" BAD cancelled\r\n")
		tag, _, _ = strings.Cut(readLine(r), " ")
		io.WriteString(server, tag+" OK noop\r\n")
		readLine(r)
	}()
	t.Cleanup(func() {
		client.Close()
		<-done
	})
	return client
}

func r46KAuth(onContinue func([]byte) ([]byte, error)) *session.Command {
	return &session.Command{Name: "AUTHENTICATE", AnyState: true, OnContinue: onContinue,
		Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }}
}

// TestReview46KRefuseFromOnContinueDoubleAnswer (found by review):
// RefuseContinuations says "Call
// it from the goroutine that answers" and that a "+" the caller took and
// did not answer is answered "*" by the refusal. An OnContinue runs on the
// goroutine that answers (Wait's); one that gives the exchange up for good
// (as the auth package does on a mechanism's error: RefuseContinuations,
// then "*") calls RefuseContinuations and returns an error. The refusal
// sees the "+" Wait took as owed and unanswered (contOwed, the channel
// empty) and answers it "*"; Wait answers it "*" as well: two lines for
// one "+". The second is read by the server as a command line of its own
// (tag "*"); a response (OnContinue returning one) would be read as a
// command whose tag is the base64 text, and its tagged BAD aborts the
// session (an unknown tag). Defaults.
func TestReview46KRefuseFromOnContinueDoubleAnswer(t *testing.T) {
	plus := make(chan struct{})
	close(plus)
	lines := make(chan []string, 1)
	conn := r46KServer(t, plus, 500*time.Millisecond, lines)
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p *session.Pending
	p, err = s.Start(ctx20(t), r46KAuth(func([]byte) ([]byte, error) {
		p.RefuseContinuations()
		return nil, errors.New("mechanism gives up")
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.Wait(ctx)
	if got := <-lines; len(got) != 1 {
		t.Errorf("one \"+\" was answered with %d lines %q; want one \"*\"", len(got), got)
	}
}

// TestReview46KRefuseTakenAfterAbandonedWait (found by review):
// RefuseContinuations answers "*" a
// "+" the caller took and did not answer ("whether it waits in
// Continuations or the caller took it"). It tells such a "+" by contOwed,
// which is never set once a Wait of the command was abandoned (its
// context ended: abandoned, contTaken cleared). A caller who runs the
// exchange from Continuations while a Wait with a deadline watches for
// the end, and gives up after that Wait returned: the "+" it took is
// never answered; the server waits for a line until the stall timeout
// (60 s) cuts the session. Defaults.
func TestReview46KRefuseTakenAfterAbandonedWait(t *testing.T) {
	plus := make(chan struct{})
	lines := make(chan []string, 1)
	conn := r46KServer(t, plus, 500*time.Millisecond, lines)
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(ctx20(t), r46KAuth(nil))
	if err != nil {
		t.Fatal(err)
	}
	conts := p.Continuations()
	wctx, wcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer wcancel()
	if _, err := p.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v", err)
	}
	close(plus)
	select {
	case <-conts:
	case <-time.After(10 * time.Second):
		t.Fatal("no \"+\"")
	}
	p.RefuseContinuations()
	if got := <-lines; len(got) != 1 || got[0] != "*" {
		t.Errorf("the \"+\" the caller took was answered %q; want \"*\"", got)
	}
}
