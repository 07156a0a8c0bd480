package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// scriptedEarlyOKServer answers AUTHENTICATE with its challenge and its
// OK together, then runs afterOK on what remains of the connection (r,
// w), and reports the lines the client wrote after the OK on after.
func scriptedEarlyOKServer(afterOK func(r *bufio.Reader, w io.Writer) []string, after chan<- []string) net.Conn {
	return xtestServer(func(r *bufio.Reader, w io.Writer, tag string) []string {
		io.WriteString(w, "+ Y2hhbA==\r\n"+tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
		return afterOK(r, w)
	}, after)
}

// readRest reads (and answers CAPABILITY, NOOP and LOGOUT) until the
// connection ends.
func readRest(r *bufio.Reader, w io.Writer) []string {
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return lines
		}
		l = strings.TrimRight(l, "\r\n")
		lines = append(lines, l)
		tag, cmd, _ := strings.Cut(l, " ")
		switch cmd {
		case "CAPABILITY":
			io.WriteString(w, "* CAPABILITY IMAP4rev1\r\n"+tag+" OK done\r\n")
		case "NOOP":
			io.WriteString(w, tag+" OK done\r\n")
		case "LOGOUT":
			io.WriteString(w, "* BYE bye\r\n"+tag+" OK done\r\n")
			return lines
		}
	}
}

// startScripted is startXTest on a scriptedEarlyOKServer; it returns the
// server's after channel too.
func startScripted(t *testing.T, afterOK func(r *bufio.Reader, w io.Writer) []string, onCont func([]byte) ([]byte, error)) (*Session, *Pending, chan []string) {
	t.Helper()
	after := make(chan []string, 1)
	s, p := startXTest(t, scriptedEarlyOKServer(afterOK, after), onCont)
	return s, p, after
}

// TestEarlyOKHoldCloseEndsIt: Close during a hold (challenge taken, no
// verdict, a NOOP queued behind) ends it at once on the bubble's clock:
// the NOOP fails not sent, nothing is written after the OK, and no
// goroutine is left (the bubble ends). Library defaults.
func TestEarlyOKHoldCloseEndsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p, after := startScripted(t, readRest, nil)
		<-p.Done()
		<-p.Continuations()
		noop := runNoop(s)
		synctest.Wait()
		start := time.Now()
		s.Close()
		nerr := <-noop
		if d := time.Since(start); d != 0 {
			t.Errorf("the NOOP held behind the AUTHENTICATE ended %v after Close; want at once", d)
		}
		if !errors.Is(nerr, ErrNotSent) {
			t.Errorf("NOOP held, then Close: %v; want ErrNotSent", nerr)
		}
		if lines := <-after; len(lines) > 0 {
			t.Errorf("server read %q after its OK; want nothing", lines)
		}
		if err := p.Continue(context.Background(), []byte("b2s=")); err == nil {
			t.Errorf("Continue after Close: nil")
		}
	})
}

// TestEarlyOKHoldLogout: Logout during a hold, with a context with no
// deadline. Logout's LOGOUT waits behind the hold; it must not hang. It
// reports how long it took on the bubble's clock (the hold's bound, at
// most). Library defaults.
func TestEarlyOKHoldLogout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p, after := startScripted(t, readRest, nil)
		<-p.Done()
		<-p.Continuations()
		start := time.Now()
		lerr := s.Logout(context.Background())
		d := time.Since(start)
		t.Logf("Logout during a hold: %v after %v", lerr, d)
		if d > DefaultCommandTimeout {
			t.Errorf("Logout during a hold took %v; want at most the command bound", d)
		}
		if lines := <-after; len(lines) > 0 {
			t.Errorf("server read %q after its OK; want nothing (LOGOUT is a command too)", lines)
		}
	})
}

// TestEarlyOKHoldServerEnds: the server closes (EOF) or says BYE and
// closes during a hold. The NOOP queued behind fails at once, not sent; a
// later verdict (Continue) and Wait return; no goroutine is left.
func TestEarlyOKHoldServerEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(r *bufio.Reader, w io.Writer) []string
	}{
		{"EOF", func(r *bufio.Reader, w io.Writer) []string { return nil }},
		{"BYE", func(r *bufio.Reader, w io.Writer) []string {
			io.WriteString(w, "* BYE going away\r\n")
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				gate := make(chan struct{})
				s, p, after := startScripted(t, func(r *bufio.Reader, w io.Writer) []string {
					<-gate
					return tc.fn(r, w)
				}, nil)
				defer s.Close()
				<-p.Done()
				<-p.Continuations()
				noop := runNoop(s)
				synctest.Wait()
				if held, _ := heldNow(s, p); !held {
					t.Fatalf("not held")
				}
				start := time.Now()
				close(gate)
				nerr := <-noop
				if d := time.Since(start); d != 0 || !errors.Is(nerr, ErrNotSent) {
					t.Errorf("server ended during a hold: the NOOP: %v after %v; want ErrNotSent at once", nerr, d)
				}
				cerr := p.Continue(context.Background(), []byte("b2s="))
				_, werr := p.Wait(context.Background())
				t.Logf("after the server's end: Continue %v; Wait %v; session %v", cerr, werr, s.Err())
				<-after
			})
		})
	}
}

// TestEarlyOKHoldContinueRacesRefuse: one goroutine answers the held
// challenge (Continue with a response), another calls
// RefuseContinuations, at once. Whichever wins, the outcome is one: the
// session aborted (ErrCancelAccepted) with the NOOP not sent and nothing
// written, or the NOOP run; never a hang, never a NOOP written on a
// session then aborted. Library defaults, many runs.
func TestEarlyOKHoldContinueRacesRefuse(t *testing.T) {
	for i := range 40 {
		synctest.Test(t, func(t *testing.T) {
			s, p, after := startScripted(t, readRest, nil)
			defer s.Close()
			<-p.Done()
			<-p.Continuations()
			noop := runNoop(s)
			var wg sync.WaitGroup
			var cerr error
			wg.Add(2)
			go func() { defer wg.Done(); cerr = p.Continue(context.Background(), nil) }()
			go func() { defer wg.Done(); p.RefuseContinuations() }()
			wg.Wait()
			nerr := <-noop
			serr := s.Err()
			s.Close()
			lines := <-after
			switch {
			case errors.Is(serr, ErrCancelAccepted):
				if !errors.Is(nerr, ErrNotSent) || len(lines) > 0 {
					t.Errorf("run %d: refused: NOOP %v, lines %q", i, nerr, lines)
				}
			case serr == nil || errors.Is(serr, ErrClosed):
				if nerr != nil || len(lines) != 1 {
					t.Errorf("run %d: accepted (Continue %v): NOOP %v, lines %q", i, cerr, nerr, lines)
				}
			default:
				t.Errorf("run %d: session %v, NOOP %v, Continue %v", i, serr, nerr, cerr)
			}
		})
	}
}

// TestEarlyOKHoldIdleQueued: IDLE started during a hold waits behind it
// (it is a command too), and is not written; at the bound the session
// ends and IDLE's Start returns. Library defaults.
func TestEarlyOKHoldIdleQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p, after := startScripted(t, readRest, nil)
		defer s.Close()
		<-p.Done()
		<-p.Continuations()
		start := time.Now()
		ip, err := s.Start(context.Background(), &Command{Name: "IDLE"})
		d := time.Since(start)
		t.Logf("IDLE during a hold: Start %v after %v", err, d)
		if err == nil {
			ip.Continue(context.Background(), []byte("DONE"))
			t.Errorf("IDLE started during a hold with no verdict")
		}
		s.Close()
		if lines := <-after; len(lines) > 0 {
			t.Errorf("server read %q after its OK; want nothing", lines)
		}
	})
}

// TestEarlyOKRunWithoutOnContinueNotStalled: Session.Run of an
// AUTHENTICATE without OnContinue (a one-step SASL-IR mechanism, say)
// whose server sends a "+" and its OK together. Run returns the OK and no
// Pending: its caller cannot give a verdict (Continue,
// RefuseContinuations) on that challenge. The session must settle it at
// once (refuse it: abort, or accept it), not hold every later command for
// the whole command bound and then abort: before 50134dd the NOOP ran.
// Run refuses it (no one checked it): its error matches ErrCancelAccepted,
// and the NOOP fails not sent. Library defaults.
func TestEarlyOKRunWithoutOnContinueNotStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		after := make(chan []string, 1)
		s := openDefault(t, scriptedEarlyOKServer(readRest, after))
		defer s.Close()
		_, rerr := s.Run(context.Background(), &Command{Name: "AUTHENTICATE",
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST").SP().Atom("aXI=") }})
		if rerr != nil && !errors.Is(rerr, ErrCancelAccepted) {
			t.Fatalf("Run AUTHENTICATE: %v; want nil or a refusal (ErrCancelAccepted)", rerr)
		}
		start := time.Now()
		nerr := <-runNoop(s)
		if d := time.Since(start); d > 0 {
			t.Errorf("NOOP after Run(AUTHENTICATE) answered \"+\" and OK together: %v after %v (the hold waited for a verdict Run's caller cannot give); want it settled at once", nerr, d)
		}
		s.Close()
		lines := <-after
		if rerr != nil && (!errors.Is(nerr, ErrNotSent) || len(lines) > 0) {
			// Refused: nothing goes to a server whose challenge no
			// one checked.
			t.Errorf("Run refused the challenge (%v), then the NOOP: %v; the server read %q after its OK; want ErrNotSent, nothing written", rerr, nerr, lines)
		}
	})
}

// TestEarlyOKWaitFirstThenVerdictNotStalled: one goroutine, the usual
// loop of a caller answering from Continuations: it takes the command's
// end first (Done), calls Wait, and then answers the challenge still
// queued (Continue). The server's OK carries no CAPABILITY code, so Wait
// asks CAPABILITY (RFC 9051 6.2) -- a command queued behind the hold
// that only this goroutine's verdict, after Wait returns, can end. Wait
// must not block on it for the command bound. Library defaults.
func TestEarlyOKWaitFirstThenVerdictNotStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		after := make(chan []string, 1)
		client := xtestServer(func(r *bufio.Reader, w io.Writer, tag string) []string {
			io.WriteString(w, "+ Y2hhbA==\r\n"+tag+" OK welcome\r\n")
			return readRest(r, w)
		}, after)
		s := openDefault(t, client)
		defer s.Close()
		p, err := s.Start(context.Background(), &Command{Name: "AUTHENTICATE",
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		start := time.Now()
		r, werr := p.Wait(context.Background())
		d := time.Since(start)
		var fu error
		if r != nil {
			fu = r.FollowUpErr
		}
		if d > 0 {
			t.Errorf("Wait of an AUTHENTICATE with an early OK, its challenge still to answer by this goroutine: returned %v (FollowUpErr %v) after %v, blocked on its own CAPABILITY held behind the hold; want it to return at once", werr, fu, d)
		}
		<-p.Continuations()
		cerr := p.Continue(context.Background(), nil)
		t.Logf("Continue after Wait: %v; session %v", cerr, s.Err())
		// The refresh Wait skipped is not lost: the capabilities stay
		// stale, and the next Capabilities asks the server.
		if _, err := s.Capabilities(context.Background()); err != nil {
			t.Errorf("Capabilities after the verdict: %v", err)
		}
		s.Close()
		if lines := <-after; len(lines) != 1 || !strings.HasSuffix(lines[0], " CAPABILITY") {
			t.Errorf("the server read %q after its OK; want one CAPABILITY, after the verdict", lines)
		}
	})
}

// TestEarlyOKChallengeBeforeAnswerAborts: the server sends a first
// challenge, and once the client took it (OnContinue entered), a second
// one with its tagged OK, not waiting for the answer. The second "+"
// before the answer to the first is a protocol violation: the session is
// aborted when it is read (ErrProtocol), before the OK could take it to
// AUTH; the NOOP queued behind is never written, OnContinue is not
// called for the second, and nothing is written after the first
// challenge. Forced interleaving; library defaults.
func TestEarlyOKChallengeBeforeAnswerAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		after := make(chan []string, 1)
		entered, ready := make(chan struct{}), make(chan struct{})
		s := openDefault(t, secondChallengeServer(entered, true, ready, after))
		defer s.Close()
		var noop <-chan error
		n := 0
		_, werr := s.Run(context.Background(), &Command{Name: "AUTHENTICATE",
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
			OnContinue: func(ch []byte) ([]byte, error) {
				n++
				if n == 1 {
					close(entered)
					<-ready
					synctest.Wait() // the reader took the second "+" and the OK
					noop = runNoop(s)
					synctest.Wait()
					return []byte("cjE="), nil
				}
				synctest.Wait() // room for a NOOP released too early to go
				return nil, errors.New("impostor: wrong server signature")
			}})
		nerr := <-noop
		s.Close()
		lines := <-after
		if len(lines) > 0 || !errors.Is(nerr, ErrNotSent) || n != 1 || !errors.Is(werr, ErrProtocol) || !errors.Is(s.Err(), ErrProtocol) {
			t.Errorf("a second challenge and the OK before the answer to the first: Wait %v; NOOP %v; session %v; the server read %q after its OK; want the session aborted (ErrProtocol), the NOOP not sent, nothing written, OnContinue called once (called %d times)", werr, nerr, s.Err(), lines, n)
		}
	})
}
