package session_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// a47WaitParked reports whether a goroutine is blocked in the select of
// Pending.Wait's loop: its state is select and its top frame (runtime's
// are not shown) is Wait.
func a47WaitParked() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		head, rest, _ := bytes.Cut(g, []byte("\n"))
		top, _, _ := bytes.Cut(rest, []byte("\n"))
		if bytes.Contains(head, []byte("[select")) && bytes.Contains(top, []byte("session.(*Pending).Wait(")) {
			return true
		}
	}
	return false
}

// TestReview47ARefuseFromOnContinueNextPlusDeterministic: the
// deterministic form of TestReview46KRefuseFromOnContinueResponse (removed
// at stop 48: same server, same four checks, and it caught the fault 1
// run in 4, this one every run), its Wait side (fixed in 5041a7e). OnContinue calls RefuseContinuations and
// returns a response: Wait answers that "+" with the response, and the
// next "+" is the refusal's ("*"), OnContinue not called again. The fault
// was Wait going on selecting on the continuation channel after the
// refusal: it took the next "+" whenever it was first there, and called
// OnContinue again (the response sent twice, the second read by the
// server as a command line). The old test saw it when the scheduler let
// Wait win the race against the refusal's goroutine, about 1 run in 4.
// Here the refusal's goroutine is held (OnRefuserStart) until Wait is
// blocked in its select (read from the goroutines' stacks), and only then
// is the next "+" sent: a Wait still selecting on the channel is first in
// its queue of receivers and takes it every run. Defaults.
func TestReview47ARefuseFromOnContinueNextPlusDeterministic(t *testing.T) {
	release := make(chan struct{})
	unparked := make(chan bool, 1)
	session.OnRefuserStart(t, func() { <-release })
	client, server := transport.Pipe()
	lines := make(chan []string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, lmGreeting)
		tag, _, _ := strings.Cut(readLine(r), " ")
		io.WriteString(server, "+ \r\n")
		var got []string
		if l := readLine(r); l != "" {
			got = append(got, l)
		}
		// Wait has sent the response; the refusal's goroutine is
		// held. Once Wait blocks in its select, let the refusal go
		// and send the next "+".
		for deadline := time.Now().Add(10 * time.Second); !a47WaitParked(); runtime.Gosched() {
			if time.Now().After(deadline) {
				unparked <- true // a bound, not a timing: reported below
				break
			}
		}
		close(release)
		io.WriteString(server, "+ \r\n")
		if l := readLine(r); l != "" {
			got = append(got, l)
		}
		io.WriteString(server, tag+" BAD cancelled\r\n")
		for {
			l := readLine(r)
			if strings.HasSuffix(l, " NOOP") {
				tag, _, _ = strings.Cut(l, " ")
				break
			}
			if l == "" {
				break
			}
			got = append(got, l)
		}
		lines <- got
		io.WriteString(server, tag+" OK noop\r\n")
		readLine(r)
	}()
	t.Cleanup(func() {
		client.Close()
		<-done
	})
	s, err := session.Open(ctx20(t), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p *session.Pending
	calls := 0
	p, err = s.Start(ctx20(t), r46KAuth(func([]byte) ([]byte, error) {
		calls++
		p.RefuseContinuations()
		return []byte("QUFBQQ=="), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := p.Wait(ctx); err == nil {
		t.Error("Wait: no error for a BAD")
	}
	if calls != 1 {
		t.Errorf("OnContinue called %d times; want once (Wait took the \"+\" after the refusal)", calls)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Errorf("NOOP after the exchange: %v", err)
	}
	if got := <-lines; len(got) != 2 || got[0] != "QUFBQQ==" || got[1] != "*" {
		t.Errorf("two \"+\" were answered %q; want the response, then \"*\"", got)
	}
	select {
	case <-unparked:
		t.Error("Wait was never seen blocked in its select: the ordering this test relies on did not hold")
	default:
	}
}

// TestReview47AOnContinueOneAnswerer: a command with OnContinue has one
// answerer, Wait. Before, Continuations gave such a command its channel
// too, and a caller reading it while Wait ran (or before) could take the
// "+": Wait never saw it, no one answered it, and since it was counted as
// owed (contTaken) the stall timer stayed off, so the exchange hung until
// the caller's context or the command timeout. Now Continuations returns
// nil for it (a channel that never delivers): a caller selecting on it
// with Done sees the command's end, and Wait answers the "+" through
// OnContinue. Defaults.
func TestReview47AOnContinueOneAnswerer(t *testing.T) {
	client, server := transport.Pipe()
	got := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, lmGreeting)
		tag, _, _ := strings.Cut(readLine(r), " ")
		io.WriteString(server, "+ \r\n")
		server.SetReadDeadline(time.Now().Add(5 * time.Second))
		l := readLine(r)
		server.SetReadDeadline(time.Time{})
		got <- l
		io.WriteString(server, tag+" OK done\r\n")
		readLine(r)
	}()
	t.Cleanup(func() {
		client.Close()
		<-done
	})
	s, err := session.Open(ctx20(t), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	calls := 0
	p, err := s.Start(ctx20(t), r46KAuth(func([]byte) ([]byte, error) {
		calls++
		return []byte("dG9rZW4="), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	conts := p.Continuations()
	if conts != nil {
		t.Error("Continuations of a command with OnContinue is not nil")
	}
	// The caller reads it while Wait runs: it never gets the "+".
	stole := make(chan bool, 1)
	go func() {
		select {
		case <-conts:
			stole <- true
		case <-p.Done():
			stole <- false
		}
	}()
	// A bound for the fault's hang, not a timing.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if _, err := p.Wait(wctx); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if <-stole {
		t.Error("the caller took the \"+\" from Continuations")
	}
	if calls != 1 {
		t.Errorf("OnContinue called %d times; want once", calls)
	}
	if l := <-got; l != "dG9rZW4=" {
		t.Errorf("the \"+\" was answered %q; want OnContinue's response", l)
	}
}
