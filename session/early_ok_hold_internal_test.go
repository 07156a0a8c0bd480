package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// holdServer plays a server that sends a challenge to the first command
// (AUTHENTICATE), then, once sendOK is closed, its tagged OK without
// waiting for the client's response; after the OK it reads every line
// the client sends until the connection closes, answers each NOOP OK, and
// sends the lines on after.
func holdServer(t *testing.T, sendOK <-chan struct{}, after chan<- []string) net.Conn {
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi\r\n")
		l, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(l, " ")
		io.WriteString(server, "+ Y2hhbA==\r\n")
		<-sendOK
		io.WriteString(server, tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
		var lines []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			l = strings.TrimRight(l, "\r\n")
			lines = append(lines, l)
			if tag, cmd, _ := strings.Cut(l, " "); cmd == "NOOP" {
				io.WriteString(server, tag+" OK done\r\n")
			}
		}
		after <- lines
	}()
	return client
}

// waitFor polls cond under s.mu until it holds or ctx ends (a hang
// detector: the test fails on its own checks after).
func waitFor(ctx context.Context, s *Session, cond func() bool) {
	for ctx.Err() == nil {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// TestAuthenticateEarlyOKHoldsQueuedCommands: a command another goroutine
// queued behind AUTHENTICATE stays held once the reader has taken the
// AUTHENTICATE's OK with a challenge not yet answered (a SCRAM
// server-final-message sent with the OK): the mechanism may still refuse
// the challenge, which aborts the session, and nothing may run on a
// session authenticated to a server the client refuses. Before, the
// AUTHENTICATE leaving flight let the NOOP start (and be written) in
// AUTH before Wait checked the challenge and aborted. Checked
// structurally once the reader has ended the AUTHENTICATE (no command
// may start), then end to end: Wait aborts (ErrCancelAccepted), the
// NOOP is not sent (ErrNotSent), and the server reads no line after its
// OK.
func TestAuthenticateEarlyOKHoldsQueuedCommands(t *testing.T) {
	sendOK := make(chan struct{})
	after := make(chan []string, 1)
	client := holdServer(t, sendOK, after)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	refused := errors.New("server signature wrong")
	p, err := s.Start(ctx, &Command{Name: "AUTHENTICATE",
		Args:       func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
		OnContinue: func([]byte) ([]byte, error) { return nil, refused }})
	if err != nil {
		t.Fatal(err)
	}
	noop := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, &Command{Name: "NOOP"})
		noop <- err
	}()
	waitFor(ctx, s, func() bool { return s.wq != nil && s.wq.head != nil }) // the NOOP waits its turn
	close(sendOK)
	waitFor(ctx, s, func() bool { return p.ended })
	s.mu.Lock()
	info, _ := lookup("NOOP")
	free := s.canStart(info, nil)
	s.mu.Unlock()
	if free {
		t.Errorf("the reader took AUTHENTICATE's OK, its challenge not checked yet: a NOOP may start (canStart); want the commands behind it held until the exchange is settled")
	}
	_, werr := p.Wait(ctx)
	nerr := <-noop
	s.Close()
	lines := <-after
	if !errors.Is(werr, ErrCancelAccepted) || !errors.Is(nerr, ErrNotSent) || len(lines) > 0 {
		t.Errorf("challenge refused after the OK: Wait: %v; the NOOP queued behind: %v; lines the server read after its OK: %q; want ErrCancelAccepted, ErrNotSent and none", werr, nerr, lines)
	}
}

// TestAuthenticateEarlyOKReleasesQueuedCommands: the hold of
// TestAuthenticateEarlyOKHoldsQueuedCommands ends once the challenge
// that came with the OK is settled without a refusal: OnContinue accepts
// it (Wait's late check), or, with no OnContinue, Wait gives the OK
// (package auth checks the challenge before its Wait), or the caller
// answers it (Continue: nothing is written after the OK). The NOOP
// queued behind then runs, answered, the session in AUTH.
func TestAuthenticateEarlyOKReleasesQueuedCommands(t *testing.T) {
	for _, tc := range []struct {
		name   string
		onCont func([]byte) ([]byte, error)
		settle func(ctx context.Context, p *Pending) error
	}{
		{"OnContinueAccepts", func([]byte) ([]byte, error) { return []byte("ok"), nil }, nil},
		{"WaitWithoutOnContinue", nil, nil},
		{"ContinueAnswers", nil, func(ctx context.Context, p *Pending) error {
			<-p.Continuations()
			if err := p.Continue(ctx, []byte("b2s=")); !errors.Is(err, ErrCommandEnded) {
				return err
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sendOK := make(chan struct{})
			after := make(chan []string, 1)
			client := holdServer(t, sendOK, after)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, client, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			p, err := s.Start(ctx, &Command{Name: "AUTHENTICATE",
				Args:       func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
				OnContinue: tc.onCont})
			if err != nil {
				t.Fatal(err)
			}
			noop := make(chan error, 1)
			go func() {
				_, err := s.Run(ctx, &Command{Name: "NOOP"})
				noop <- err
			}()
			waitFor(ctx, s, func() bool { return s.wq != nil && s.wq.head != nil })
			close(sendOK)
			waitFor(ctx, s, func() bool { return p.ended })
			if tc.settle != nil {
				if err := tc.settle(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			_, werr := p.Wait(ctx)
			nerr := <-noop
			st := s.State()
			s.Close()
			lines := <-after
			if werr != nil || nerr != nil || st != StateAuth || len(lines) != 1 {
				t.Errorf("challenge with the OK accepted: Wait: %v; the NOOP queued behind: %v; state %v; lines after the OK: %q; want success, the NOOP run in AUTH, and it alone written", werr, nerr, st, lines)
			}
		})
	}
}
