package session_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestPulledWaitersDoNotSpin: two pulled commands whose callers wait in
// Next while the reader goroutine reads (for a command run with Wait
// beside them) wait without spinning. Each waiter broadcast on the
// session's condition every time it went back to waiting, which woke the
// other, which broadcast in turn: two goroutines woke each other without
// end, a CPU each, for as long as the server took to answer (found by
// FuzzClientConcurrent in a synctest bubble, where the spin stops the
// bubble's clock). Here the server answers after one second of the
// bubble's clock, which moves only when every goroutine of the bubble
// waits: with the spin it never does, and the test fails after 20 s of
// real time with every goroutine's stack. Default options.
func TestPulledWaitersDoNotSpin(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, pulledWaiters)
}

// bubbleGuarded runs f in a synctest bubble and fails with every
// goroutine's stack when it has not ended after limit of real time: a
// bubble's clock moves only when all its goroutines wait, so goroutines
// that spin (or a hang outside the bubble's clock) would otherwise hold
// the test until the binary's timeout.
func bubbleGuarded(t *testing.T, limit time.Duration, f func(*testing.T)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		synctest.Test(t, f)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("the bubble did not end in %v of real time (the bubble's clock does not move while goroutines spin)\n%s", limit, fuzzseed.Stacks())
	}
}

// drainPulled takes p's items until its end and returns p's outcome: nil,
// or the error Next or Wait gave.
func drainPulled(ctx context.Context, p *session.Pending) error {
	for {
		if _, err := p.Next(ctx); err != nil {
			if err == io.EOF {
				_, err = p.Wait(ctx)
			}
			return err
		}
	}
}

func pulledWaiters(t *testing.T) {
	c, srv := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer srv.Close()
		io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
		r := bufio.NewReader(srv)
		var tags []string
		for len(tags) < 3 {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			tags = append(tags, tag)
		}
		time.Sleep(time.Second) // the bubble's clock
		for _, tag := range tags {
			io.WriteString(srv, "* 1 EXISTS\r\n"+tag+" OK done\r\n")
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			io.WriteString(srv, "* BYE bye\r\n"+tag+" OK done\r\n")
		}
	}()
	ctx := context.Background()
	s, err := session.Open(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		<-srvDone
	}()
	// A command run with Wait first: the reader goroutine reads for it.
	ran := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		ran <- err
	}()
	synctest.Wait()
	pulled := make(chan error, 2)
	for range 2 {
		p, err := s.Start(ctx, &session.Command{Name: "NOOP", Pull: true})
		if err != nil {
			t.Fatal(err)
		}
		go func() { pulled <- drainPulled(ctx, p) }()
	}
	for range 2 {
		if err := <-pulled; err != nil {
			t.Errorf("pulled NOOP: %v", err)
		}
	}
	if err := <-ran; err != nil {
		t.Errorf("NOOP: %v", err)
	}
}
