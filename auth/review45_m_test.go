package auth_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/session"
)

// TestReview45MAuthCancelThenPlus: the mechanism fails (AuthenticateFunc's f
// returns an error), the exchange sends "*" (cancel) and waits for the
// tagged answer, no longer reading Continuations. A hostile server sends
// one more "+" and goes silent. The session counts that "+" as owed (the
// caller took Continuations: contTaken is set for good), so the stall
// timer is off and nothing answers it: only the caller's context (or
// CommandTimeout, 15 min) ends the login. The session's own Wait path
// handles the same case (noAnswerer, TestReview45MOnContinueErrorThenPlus);
// the auth package's cancel has no equivalent. A stall timeout of 50 ms,
// a context of 2 s.
func TestReview45MAuthCancelThenPlus(t *testing.T) {
	const stall = 50 * time.Millisecond
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi\r\n")
		l, _ := r.ReadString('\n')
		if !strings.Contains(l, "AUTHENTICATE") {
			return
		}
		io.WriteString(server, "+ \r\n")
		l, _ = r.ReadString('\n')
		if strings.TrimSpace(l) != "*" {
			return
		}
		io.WriteString(server, "+ \r\n") // hostile: then silent
		io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-done })
	c, err := auth.Open(context.Background(), client, &auth.Options{Session: &session.Options{StallTimeout: stall}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err = c.AuthenticateFunc(ctx, "X-TEST", func([]byte) ([]byte, error) { return nil, errors.New("no token") })
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall {
		t.Fatalf("after %v: %v; want the session's stall *TimeoutError (stall timeout %v): the \"+\" after \"*\" was counted as owed and left the timer off", time.Since(start).Round(time.Millisecond), err, stall)
	}
}
