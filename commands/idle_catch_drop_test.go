package commands_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestIdleReportsCatchDropAtEnd: Idle's own Catch takes what comes between
// two NOOPs (a server without IDLE, polled). When its context ends
// between them, Idle hands what the Catch holds to onEvent and returns;
// the Catch's Take error, that the bound (MaxResultBytes, the subject)
// dropped responses, is thrown away (commands/idle.go, Idle: "caught, _
// := ca.Take()"): Idle returns context.Canceled, onEvent got a prefix of
// the flood (since dd4f09e every response after the hole is dropped, not
// only those that did not fit), and nothing says a hole followed it.
// Elsewhere Idle returns the *session.ResultTooLargeError of what it
// dropped (idlePoll and idleOnce's TakeMarked).
func TestIdleReportsCatchDropAtEnd(t *testing.T) {
	const flood = 40
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			var b strings.Builder
			b.WriteString(tag + " OK done\r\n")
			if strings.Contains(line, "NOOP") {
				// After the OK: no command takes them, Idle's Catch does.
				for i := 1; i <= flood; i++ {
					fmt.Fprintf(&b, "* %d FETCH (FLAGS (\\Seen))\r\n", i)
				}
				b.WriteString("* OK [ALERT] last\r\n* 7 EXISTS\r\n")
			}
			io.WriteString(server, b.String())
		}
	}()
	// A guard against a hang, not a timed assertion.
	guard, stopGuard := context.WithTimeout(context.Background(), 20*time.Second)
	defer stopGuard()
	ctx, cancel := context.WithCancel(guard)
	defer cancel()
	s, err := session.Open(guard, client, &session.Options{
		MaxResultBytes: 2000,
		OnUnsolicited: func(r codec.Response) {
			if _, ok := r.(*codec.Exists); ok {
				cancel() // the flood is read: Idle ends between two NOOPs
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := 0
	err = commands.New(s).Idle(ctx, nil, func(r codec.Response) bool {
		if _, ok := r.(*codec.Fetch); ok {
			got++
		}
		return true
	})
	if got < flood && !errors.Is(err, session.ErrResultTooLarge) {
		t.Errorf("Idle returned %v; onEvent got %d of the %d FETCHes: the rest were dropped and nothing says so (want an error matching session.ErrResultTooLarge)", err, got, flood)
	}
}
