package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// a47rIdleServer answers IDLE with "+" and an EXISTS, and DONE with OK;
// it counts the IDLEs and DONEs it took. A line other than DONE after
// IDLE makes it hang up (so a second IDLE sent while one is in flight
// fails the first). Each value on more makes it send one more EXISTS.
func a47rIdleServer(t *testing.T, more <-chan struct{}) (*commands.Client, *atomic.Int32, *atomic.Int32) {
	client, server := transport.Pipe()
	var idles, dones atomic.Int32
	var mu sync.Mutex
	n := 1
	exists := func() string { // under mu
		l := "* " + itoa(uint32(n)) + " EXISTS\r\n"
		n++
		return l
	}
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			switch rest {
			case "IDLE":
				idles.Add(1)
				mu.Lock()
				io.WriteString(server, "+ idling\r\n"+exists())
				mu.Unlock()
				if l, _ := r.ReadString('\n'); strings.TrimSpace(l) != "DONE" {
					return
				}
				dones.Add(1)
				io.WriteString(server, tag+" OK idle done\r\n")
			case "LOGOUT":
				io.WriteString(server, "* BYE\r\n"+tag+" OK bye\r\n")
				return
			default:
				io.WriteString(server, tag+" OK\r\n")
			}
		}
	}()
	moreDone := make(chan struct{})
	go func() {
		defer close(moreDone)
		for {
			select {
			case <-more:
				mu.Lock()
				io.WriteString(server, exists())
				mu.Unlock()
			case <-srvDone:
				return
			}
		}
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); client.Close(); <-srvDone; <-moreDone })
	return commands.New(s), &idles, &dones
}

// TestReview47AIdleInOnEventRefused (found by review): Idle called from
// Idle's own onEvent waited for the first IDLE's restart
// (DefaultIdleRestart, 29 min) or its own context: an IDLE waiting for its
// turn does not end the one in flight (on purpose: two Idle loops would
// end each other's IDLE forever), and the first could not end while its
// onEvent waited. Now the second Idle returns ErrIdleActive at once,
// sending nothing (the server hangs up at any line but DONE), and the
// first goes on, delivering the next event. Defaults; the second Idle's
// context ends after 2 s, a bound for a failing run.
func TestReview47AIdleInOnEventRefused(t *testing.T) {
	more := make(chan struct{}, 1)
	c, idles, dones := a47rIdleServer(t, more)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var innerErr error
	events := 0
	err := c.Idle(ctx, nil, func(codec.Response) bool {
		if events++; events > 1 {
			return false // the first Idle went on: its next event
		}
		ictx, icancel := context.WithTimeout(ctx, 2*time.Second)
		defer icancel()
		innerErr = c.Idle(ictx, nil, func(codec.Response) bool { return false })
		more <- struct{}{}
		return true
	})
	if !errors.Is(innerErr, commands.ErrIdleActive) {
		t.Errorf("Idle in onEvent: %v; want ErrIdleActive at once (IDLEs %d, DONEs %d)",
			innerErr, idles.Load(), dones.Load())
	}
	if err != nil || events != 2 || idles.Load() != 1 || dones.Load() != 1 {
		t.Errorf("outer Idle: %v, %d events, IDLEs %d, DONEs %d; want nil, 2, 1, 1",
			err, events, idles.Load(), dones.Load())
	}
}

// TestReview47ATwoIdlesRefused (found by review): the same with two
// goroutines (an OnUnsolicited handler that idles while the main
// goroutine does): the second Idle waited up to DefaultIdleRestart
// (29 min) before its IDLE went, and then raced the first's next IDLE.
// Now it returns ErrIdleActive at once, sending nothing; the first goes on
// delivering events, and once it has returned, Idle works again on the
// Client. Defaults; the second's context ends after 2 s, a bound for a
// failing run.
func TestReview47ATwoIdlesRefused(t *testing.T) {
	more := make(chan struct{}, 1)
	c, idles, dones := a47rIdleServer(t, more)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := make(chan error, 1)
	got := make(chan struct{}, 4)
	go func() {
		first <- c.Idle(ctx, nil, func(codec.Response) bool {
			got <- struct{}{}
			return true
		})
	}()
	<-got
	ictx, icancel := context.WithTimeout(ctx, 2*time.Second)
	defer icancel()
	if err := c.Idle(ictx, nil, func(codec.Response) bool { return false }); !errors.Is(err, commands.ErrIdleActive) {
		t.Errorf("second Idle: %v; want ErrIdleActive at once (IDLEs %d, DONEs %d)", err, idles.Load(), dones.Load())
	}
	more <- struct{}{}
	select {
	case <-got:
	case <-time.After(5 * time.Second): // a bound for a failing run
		t.Error("the first Idle delivered no event after the second was refused")
	}
	fctx, fcancel := context.WithCancel(context.Background())
	cancel() // ends the first
	if err := <-first; !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("first Idle: %v", err)
	}
	if idles.Load() != 1 {
		t.Errorf("IDLEs %d; want 1 (the second sent nothing)", idles.Load())
	}
	defer fcancel()
	// The first over, Idle works again.
	if err := c.Idle(fctx, nil, func(codec.Response) bool { return false }); err != nil || idles.Load() != 2 {
		t.Errorf("Idle after the first returned: %v, IDLEs %d", err, idles.Load())
	}
}
