package auth_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// TestCancelInBackgroundAnsweredOKLeavesNoSession: the caller's context
// ends in the middle of an exchange (for SCRAM: while the client waits
// for the server-final-message, which a hostile server holds back), so
// the next challenge is answered "*" in the background
// (RefuseContinuations), and the server answers that "*" with OK. RFC
// 4422 section 3.5: it MUST fail an aborted exchange. The OK to the "*"
// sent by cancel closes the session (ErrCancelAccepted), but the one to
// the "*" sent in the background does not: the session is left open in
// state AUTH, as whoever the server chose, not proven. The same holds for
// the "*" after a mechanism's panic (callNext) and for cancel's own wait
// ending with ctx. Defaults; no timing: the server sends its challenge
// only once Authenticate has returned.
func TestCancelInBackgroundAnsweredOKLeavesNoSession(t *testing.T) {
	got1 := make(chan struct{})   // the server has the client's first response
	resume := make(chan struct{}) // Authenticate has returned: send the next "+"
	answered := make(chan string, 1)
	c := xtestPeer(t, nil, func(server net.Conn, r *bufio.Reader, first string) {
		tag, _, _ := strings.Cut(first, " ")
		io.WriteString(server, "+ "+b64("one")+"\r\n")
		r.ReadString('\n') // the client's answer to "one"
		close(got1)
		<-resume
		io.WriteString(server, "+ "+b64("two")+"\r\n")
		l, _ := r.ReadString('\n')
		answered <- strings.TrimRight(l, "\r\n")
		// The hostile answer to "*".
		io.WriteString(server, tag+" OK [CAPABILITY IMAP4rev1 MOVE] welcome anyway\r\n")
		answerEach(server, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got1; cancel() }()
	err := c.AuthenticateFunc(ctx, "X-TEST", func([]byte) ([]byte, error) { return []byte("r1"), nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	close(resume)
	if l := <-answered; l != "*" {
		t.Fatalf("the second challenge was answered %q; want \"*\"", l)
	}
	// The NOOP runs after the AUTHENTICATE's tagged answer was read: by
	// then the session has taken it (or been closed for it).
	_, nerr := c.Session().Run(hangCtx(t), &session.Command{Name: "NOOP"})
	if st := c.Session().State(); st == session.StateAuth && c.Session().Err() == nil {
		t.Errorf("the server answered the background \"*\" with OK, and the session is open in state %v (NOOP: %v): authenticated as whoever the server chose; want it closed, as an OK to cancel's \"*\" closes it", st, nerr)
	}
}
