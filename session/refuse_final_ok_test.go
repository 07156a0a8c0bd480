package session_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestOnContinueRefuseWithFinalResponseOKAuthenticates: RefuseContinuations
// documents a use from Command.OnContinue that returns a response: "Wait
// answers it, with the response OnContinue returns ... the refusal answers
// the '+' after it". A mechanism's last step can so send its final
// response and refuse any further challenge (a hostile server's extra
// "+"). The exchange is not cancelled: no "*" is sent, the server has
// the full response and answers OK. Yet acceptedCancel (read.go) takes
// p.refusing for "gave up" and aborts the session with ErrCancelAccepted
// on that legitimate OK; neither RefuseContinuations's doc nor
// OnContinue's says an OK after it aborts the session. Defaults.
func TestOnContinueRefuseWithFinalResponseOKAuthenticates(t *testing.T) {
	got := make(chan string, 1)
	conn := xtestServer(t, func(w io.Writer, r *bufio.Reader, tag string) {
		io.WriteString(w, "+ Y2hhbA==\r\n")
		l, _ := r.ReadString('\n')
		got <- strings.TrimRight(l, "\r\n")
		io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := openOn(t, ctx, conn)
	var p *session.Pending
	p, err := s.Start(ctx, &session.Command{Name: "AUTHENTICATE",
		Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
		OnContinue: func([]byte) ([]byte, error) {
			// The final response: no further challenge is expected.
			p.RefuseContinuations()
			return []byte("ZmluYWw="), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Wait(ctx)
	if l := <-got; l != "ZmluYWw=" {
		t.Fatalf("the challenge was answered %q; want the final response", l)
	}
	if err != nil || s.State() != session.StateAuth {
		t.Errorf("AUTHENTICATE whose OnContinue sent its final response and refused further challenges, answered OK: Wait: %v, state %v; want success in state AUTH", err, s.State())
	}
}
