package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// e45Deadline is how long these tests wait for the stall timeout to cut a
// silent server: twenty stall timeouts (a stall is noticed within one and
// a sixteenth; five were too few for a loaded machine running every
// package under -race, where the 300 ms of a stall timeout run 200 times
// faster is a few scheduler delays), far less than CommandTimeout (15
// minutes: not shortened by StallSpeed). A test that passes returns at the
// stall, not at this deadline.
const e45Deadline = 20 * s45Stall

// e45WantStall fails unless err is the session's stall *TimeoutError (not
// the caller's context ending first).
func e45WantStall(t *testing.T, what string, err error) {
	t.Helper()
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall {
		t.Fatalf("%s: %v; want a stall *TimeoutError within %v (the stall timeout is %v)", what, err, e45Deadline, s45Stall)
	}
}

// TestReview45EIdlePlusAfterDone: a "+" the server sends to IDLE after
// the client's DONE was counted as owed and never answered: the stall
// timer stayed off for good, and a server that then says nothing was never
// cut (IDLE is exempt from CommandTimeout: only the caller's context ends
// it). Once DONE is out, no "+" turns the timer off. Default options, run
// 200 times faster.
func TestReview45EIdlePlusAfterDone(t *testing.T) {
	session.StallSpeed(t, 200)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		readLine(r)
		io.WriteString(w, "+ idling\r\n")
		if readLine(r) != "DONE" {
			return
		}
		io.WriteString(w, "+ still idling\r\n") // hostile: then silent
		io.Copy(io.Discard, r)
	})
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), e45Deadline)
	defer cancel()
	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation request")
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	_, err = p.Wait(ctx)
	e45WantStall(t, "IDLE whose server sends \"+\" after DONE and then nothing", err)
}

// TestReview45EIdleTwoPlusOneDone: two "+" to IDLE (some servers send a
// second one, as commands/idle.go notes), both taken by the caller, and
// one DONE: counted, the second "+" left the timer off after DONE, and a
// server silent after DONE was never cut. One line answers every "+"
// taken before it. Default options, run 200 times faster.
func TestReview45EIdleTwoPlusOneDone(t *testing.T) {
	session.StallSpeed(t, 200)
	second := make(chan struct{})
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		readLine(r)
		io.WriteString(w, "+ idling\r\n")
		<-second
		io.WriteString(w, "+ idling again\r\n")
		if readLine(r) != "DONE" {
			return
		}
		io.Copy(io.Discard, r) // silent after DONE
	})
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), e45Deadline)
	defer cancel()
	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case <-p.Continuations():
		case <-ctx.Done():
			t.Fatal("no continuation request")
		}
		if i == 0 {
			close(second)
		}
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	_, err = p.Wait(ctx)
	e45WantStall(t, "IDLE given two \"+\", one DONE, then a silent server", err)
}

// TestReview45EUnknownCommandPlus: a command the session does not know
// (its rules take continuations) run with Run, no OnContinue, nobody
// reading Continuations: a hostile server answers it "+" and goes silent.
// The "+" sat in the channel counted as owed, nothing would answer it, and
// only CommandTimeout (15 min) ended it; a "+" no one takes is not owed
// now, and the stall timeout cuts it as before. Default options, run 200
// times faster.
func TestReview45EUnknownCommandPlus(t *testing.T) {
	session.StallSpeed(t, 200)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		if !strings.Contains(readLine(r), "XFOO") {
			return
		}
		io.WriteString(w, "+ \r\n") // hostile: then silent
		io.Copy(io.Discard, r)
	})
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), e45Deadline)
	defer cancel()
	_, err = s.Run(ctx, &session.Command{Name: "XFOO"})
	e45WantStall(t, "XFOO answered \"+\" and then nothing", err)
}

// TestReview45EAbandonedAuthenticate: an AUTHENTICATE with OnContinue
// whose Wait's context ends before the server's "+" (a user who gives up
// on a login) is abandoned. The "+" that then came was counted as owed and
// answered by no one: the server waited for the client's line, every
// later command waited behind the AUTHENTICATE (it runs alone), and the
// stall timer was off, so a NOOP waited for its own context (without one,
// CommandTimeout's 15 min). Now a "+" to an abandoned command with
// OnContinue is answered "*" (RFC 9051 section 6.2.2 cancels the
// exchange): a server that answers that lets the NOOP through, and one
// that says nothing more is cut by the stall timeout. The "+" is sent only
// once Wait has returned, so that the order is certain. Default options,
// run 200 times faster.
func TestReview45EAbandonedAuthenticate(t *testing.T) {
	session.StallSpeed(t, 200)
	for _, silent := range []bool{false, true} {
		t.Run(map[bool]string{false: "cancelled", true: "silent"}[silent], func(t *testing.T) {
			gaveUp := make(chan struct{})
			got := make(chan string, 1)
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, lmGreeting)
				line := readLine(r)
				if !strings.Contains(line, "AUTHENTICATE") {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				<-gaveUp
				io.WriteString(w, "+ \r\n")
				answer := readLine(r)
				got <- answer
				if silent || answer != "*" {
					io.Copy(io.Discard, r) // waits for the client's answer
					return
				}
				io.WriteString(w, tag+" BAD authentication cancelled\r\n")
				line = readLine(r)
				tag, _, _ = strings.Cut(line, " ")
				io.WriteString(w, tag+" OK noop\r\n")
			})
			s, err := session.Open(ctx20(t), conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			p, err := s.Start(ctx, s45AuthCmd(func([]byte) ([]byte, error) { return []byte("dG9rZW4="), nil }))
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			if _, err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait: %v; want context.Canceled", err)
			}
			close(gaveUp)
			nctx, ncancel := context.WithTimeout(context.Background(), e45Deadline)
			defer ncancel()
			_, err = s.Run(nctx, &session.Command{Name: "NOOP"})
			if silent {
				e45WantStall(t, "NOOP behind an abandoned AUTHENTICATE whose server says nothing after the \"+\"", err)
			} else if err != nil {
				t.Fatalf("NOOP behind an abandoned AUTHENTICATE whose \"+\" is answered: %v", err)
			}
			select {
			case a := <-got:
				if a != "*" {
					t.Fatalf("the abandoned AUTHENTICATE's \"+\" was answered %q; want \"*\"", a)
				}
			default:
				t.Fatal("the abandoned AUTHENTICATE's \"+\" was not answered")
			}
		})
	}
}
