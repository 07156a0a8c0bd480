package auth_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/session"
)

// TestReview47AAuthPanicRefuses: a mechanism (AuthenticateFunc's f) that
// panics on a challenge leaves the exchange cancelled: the "+" it was
// given is answered "*", and so is a further one (a confused server), by
// the session's RefuseContinuations alone (auth has no timeout of its own
// for that "*" any more: the session's bounds it). The server then ends
// the command and the session runs on: a NOOP gets its answer. Defaults.
func TestReview47AAuthPanicRefuses(t *testing.T) {
	client, server := net.Pipe()
	lines := make(chan []string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi\r\n")
		l, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(l, " ")
		var got []string
		for range 2 {
			io.WriteString(server, "+ \r\n")
			// Unanswered, the test fails here (not at the stall
			// timeout): only a missing line waits for it.
			server.SetReadDeadline(time.Now().Add(5 * time.Second))
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			got = append(got, strings.TrimRight(l, "\r\n"))
		}
		server.SetReadDeadline(time.Time{})
		lines <- got
		io.WriteString(server, tag+" BAD cancelled\r\n")
		l, _ = r.ReadString('\n')
		tag, _, _ = strings.Cut(l, " ")
		io.WriteString(server, tag+" OK noop\r\n")
		io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() { client.Close(); <-done })
	c, err := auth.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the mechanism's panic did not go on")
			}
		}()
		c.AuthenticateFunc(ctx, "X-TEST", func([]byte) ([]byte, error) { panic("mechanism") })
	}()
	if got := <-lines; len(got) != 2 || got[0] != "*" || got[1] != "*" {
		t.Fatalf("the two \"+\" were answered %q; want \"*\", \"*\"", got)
	}
	if _, err := c.Session().Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Errorf("NOOP after the cancelled exchange: %v", err)
	}
}
