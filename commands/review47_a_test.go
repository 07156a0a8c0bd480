package commands_test

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
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestReview47AIdleInOnUnsolicited: Client.Idle called from inside an
// OnUnsolicited handler (the handler runs on a goroutine of its own that
// may run commands, session's doc) neither deadlocks nor waits for a
// timeout. An EXISTS that a NOOP brings starts the handler, which idles:
// the IDLE is sent, its events go to onEvent; a command the main
// goroutine runs meanwhile ends the IDLE (DONE), runs, and the IDLE is
// sent again; the handler's context ending ends Idle with ctx's error
// after DONE's answer. (The events that arrive while the handler is busy
// wait in the OnUnsolicited queue, within Options.MaxUnsolicited.) No
// re-entrancy rule is needed: this pins the behaviour. Defaults, but for
// OnUnsolicited.
func TestReview47AIdleInOnUnsolicited(t *testing.T) {
	client, server := transport.Pipe()
	idling := make(chan struct{}, 4) // one per IDLE the server took
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		n := uint32(1)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			switch rest {
			case "NOOP":
				io.WriteString(server, "* "+itoa(n)+" EXISTS\r\n"+tag+" OK noop\r\n")
				n++
			case "IDLE":
				io.WriteString(server, "+ idling\r\n* "+itoa(n)+" EXISTS\r\n")
				n++
				idling <- struct{}{}
				if l, _ := r.ReadString('\n'); strings.TrimSpace(l) != "DONE" {
					return
				}
				io.WriteString(server, tag+" OK idle done\r\n")
			case "LOGOUT":
				io.WriteString(server, "* BYE\r\n"+tag+" OK bye\r\n")
				return
			}
		}
	}()
	t.Cleanup(func() { client.Close(); <-srvDone })

	var c *commands.Client
	var once sync.Once
	hctx, hcancel := context.WithCancel(context.Background())
	defer hcancel()
	idleErr := make(chan error, 1)
	var mu sync.Mutex
	var events int
	s, err := session.Open(ctx20c(t), client, &session.Options{OnUnsolicited: func(codec.Response) {
		once.Do(func() {
			idleErr <- c.Idle(hctx, nil, func(codec.Response) bool {
				mu.Lock()
				events++
				mu.Unlock()
				return true
			})
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c = commands.New(s)
	ctx := ctx20c(t)
	if err := c.Noop(ctx); err != nil { // its EXISTS starts the handler
		t.Fatal(err)
	}
	<-idling
	// A command of the main goroutine while the handler idles: DONE, the
	// NOOP, IDLE again.
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP while the handler idles: %v", err)
	}
	<-idling
	hcancel()
	select {
	case err := <-idleErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Idle in the handler: %v; want context.Canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("Idle in the handler did not return once its context ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if events < 2 {
		t.Errorf("onEvent got %d events; want the EXISTS of both IDLEs", events)
	}
}

func ctx20c(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
