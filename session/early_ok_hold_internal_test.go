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

// xtestServer plays an AUTH=X-TEST server on a pipe: it greets, reads
// the client's first command (its AUTHENTICATE) and runs serve with the
// command's tag (the challenges, the tagged answer, and what it reads
// after), and sends the lines serve returns on after when it ends. It
// returns the client end. Made in a synctest bubble, it is durably
// blocked while it waits.
func xtestServer(serve func(r *bufio.Reader, w io.Writer, tag string) []string, after chan<- []string) net.Conn {
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi\r\n")
		l, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(l, " ")
		after <- serve(r, server, tag)
	}()
	return client
}

// earlyOKServer plays a server that answers AUTHENTICATE (the first
// command) with a challenge, and then its tagged OK: sent with the
// challenge (together), or, when together is false, once it has read the
// client's response. After the OK it reads the rest (readRest), and sends
// the lines it read after its OK on after when the connection closes.
func earlyOKServer(together bool, after chan<- []string) net.Conn {
	return xtestServer(func(r *bufio.Reader, w io.Writer, tag string) []string {
		if together {
			io.WriteString(w, "+ Y2hhbA==\r\n"+tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
		} else {
			io.WriteString(w, "+ Y2hhbA==\r\n")
			r.ReadString('\n')
			io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
		}
		return readRest(r, w)
	}, after)
}

// secondChallengeServer is an xtestServer that sends a first challenge
// and, once next is closed, a second one, with the tagged OK when withOK:
// not waiting for the answer to the first. It closes sent (when not nil)
// once they are written, then reads the rest (readRest).
func secondChallengeServer(next <-chan struct{}, withOK bool, sent chan<- struct{}, after chan<- []string) net.Conn {
	return xtestServer(func(r *bufio.Reader, w io.Writer, tag string) []string {
		io.WriteString(w, "+ YzE=\r\n")
		<-next
		second := "+ YzI=\r\n"
		if withOK {
			second += tag + " OK [CAPABILITY IMAP4rev1] welcome\r\n"
		}
		io.WriteString(w, second)
		if sent != nil {
			close(sent)
		}
		return readRest(r, w)
	}, after)
}

// openDefault opens a session with the library's defaults on conn, under
// a context with no deadline.
func openDefault(t *testing.T, conn net.Conn) *Session {
	t.Helper()
	s, err := Open(context.Background(), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startXTest opens a session with the library's defaults on conn and
// starts AUTHENTICATE X-TEST with onCont, under a context with no
// deadline (the command bound is DefaultCommandTimeout).
func startXTest(t *testing.T, conn net.Conn, onCont func([]byte) ([]byte, error)) (*Session, *Pending) {
	t.Helper()
	s := openDefault(t, conn)
	p, err := s.Start(context.Background(), &Command{Name: "AUTHENTICATE",
		Args:       func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
		OnContinue: onCont})
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

// startEarlyOK is startXTest on an earlyOKServer; it returns the
// server's after channel too.
func startEarlyOK(t *testing.T, together bool, onCont func([]byte) ([]byte, error)) (*Session, *Pending, chan []string) {
	t.Helper()
	after := make(chan []string, 1)
	s, p := startXTest(t, earlyOKServer(together, after), onCont)
	return s, p, after
}

// runNoop runs NOOP on another goroutine, with a context of 20 default
// stall timeouts (a hang detector on the bubble's clock, past the
// default command bound), and returns its error on the channel.
func runNoop(s *Session) <-chan error {
	ch := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*DefaultStallTimeout)
		defer cancel()
		_, err := s.Run(ctx, &Command{Name: "NOOP"})
		ch <- err
	}()
	return ch
}

// heldNow reports whether p holds the commands behind it, and whether a
// NOOP may start.
func heldNow(s *Session, p *Pending) (held, free bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, _ := lookup("NOOP")
	return s.heldLocked(p), s.canStart(info, nil)
}

// TestEarlyOKHoldBoundedWithoutVerdict: an AUTHENTICATE whose server sent
// its challenge and its OK together, and whose caller leaves without
// Wait, Continue or RefuseContinuations (it holds the challenge, never
// answered). The commands queued behind are held (the client may still
// refuse the challenge: an impostor server), but not for ever: at the
// command bound (DefaultCommandTimeout, on the bubble's clock) the
// session is aborted with a *TimeoutError, the NOOP queued behind ends
// not sent, the server reads nothing after its OK, and a later Wait gives
// the abort, not the OK. Library defaults.
func TestEarlyOKHoldBoundedWithoutVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p, after := startEarlyOK(t, true, nil)
		defer s.Close()
		<-p.Done()
		<-p.Continuations() // taken, never answered
		if held, free := heldNow(s, p); !held || free {
			t.Fatalf("challenge with the OK not answered: held %v, a NOOP may start %v; want held", held, free)
		}
		noop := runNoop(s)
		nerr := <-noop
		elapsed := time.Since(p.start)
		var te *TimeoutError
		if !errors.Is(nerr, ErrNotSent) || !errors.As(nerr, &te) || te.What != TimeoutCommand {
			t.Errorf("the NOOP queued behind an AUTHENTICATE with no verdict: %v; want ErrNotSent and the command bound's *TimeoutError", nerr)
		}
		if te != nil && !strings.Contains(te.Error(), "late challenge not settled") {
			// The command is done (its OK read): what is not is the
			// verdict on its challenge.
			t.Errorf("the hold's timeout says %q; want it to name the late challenge not settled", te.Error())
		}
		if elapsed != DefaultCommandTimeout {
			t.Errorf("the hold ended after %v; want the command bound, %v", elapsed, DefaultCommandTimeout)
		}
		if _, werr := p.Wait(context.Background()); !errors.As(werr, &te) {
			t.Errorf("Wait after the hold's abort: %v; want the abort (*TimeoutError), not the OK", werr)
		}
		s.Close()
		if lines := <-after; len(lines) > 0 {
			t.Errorf("the server read %q after its OK; want nothing", lines)
		}
	})
}

// TestEarlyOKAnsweredBeforeOKNotHeld: a normal exchange, the OK sent
// after the client's response, read by the reader while Continue has
// flushed the response and not yet taken the session's lock again (the
// interleaving forced: Continue waits there until the command ended). The
// challenge was answered: nothing is held, and a caller using Start,
// Continue and Done, without Wait, runs a NOOP at once. Library defaults.
func TestEarlyOKAnsweredBeforeOKNotHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p, after := startEarlyOK(t, false, nil)
		defer s.Close()
		hook := func(q *Pending) {
			if q == p {
				<-p.Done() // the reader took the OK in between
			}
		}
		testHookContinueFlushed.Store(&hook)
		defer testHookContinueFlushed.Store(nil)
		<-p.Continuations()
		if err := p.Continue(context.Background(), []byte("cmVzcA==")); err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		if held, free := heldNow(s, p); held || !free {
			t.Errorf("challenge answered before the OK: held %v, a NOOP may start %v; want nothing held", held, free)
		}
		start := time.Now()
		if err := <-runNoop(s); err != nil {
			t.Errorf("NOOP after a normal exchange: %v after %v; want it run", err, time.Since(start))
		}
		s.Close()
		if lines := <-after; len(lines) != 1 {
			t.Errorf("the server read %q after its OK; want the NOOP alone", lines)
		}
	})
}

// TestEarlyOKWaitWithoutOnContinueKeepsHold: the challenge that came with
// the OK is held by a goroutine that answers from Continuations, and
// another calls Wait (no OnContinue): Wait gives the OK, but the commands
// behind stay held, since the goroutine holding the challenge may still
// refuse it. It does ("*"): the session is aborted (ErrCancelAccepted),
// the NOOP queued behind ends not sent, and the server reads nothing after
// its OK. Library defaults.
func TestEarlyOKWaitWithoutOnContinueKeepsHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p, after := startEarlyOK(t, true, nil)
		defer s.Close()
		<-p.Done()
		<-p.Continuations() // this goroutine holds the challenge
		waited := make(chan error, 1)
		go func() {
			_, err := p.Wait(context.Background())
			waited <- err
		}()
		if err := <-waited; err != nil {
			t.Fatalf("Wait: %v", err)
		}
		noop := runNoop(s)
		synctest.Wait()
		if held, free := heldNow(s, p); !held || free {
			t.Errorf("after a Wait without OnContinue, the challenge still held by another goroutine: held %v, a NOOP may start %v; want held", held, free)
		}
		if err := p.Continue(context.Background(), []byte("*")); !errors.Is(err, ErrCommandEnded) {
			t.Errorf("Continue(\"*\") on the held challenge: %v; want ErrCommandEnded", err)
		}
		nerr := <-noop
		if !errors.Is(nerr, ErrNotSent) || !errors.Is(s.Err(), ErrCancelAccepted) {
			t.Errorf("challenge refused: the NOOP queued behind: %v; the session: %v; want ErrNotSent and ErrCancelAccepted", nerr, s.Err())
		}
		s.Close()
		if lines := <-after; len(lines) > 0 {
			t.Errorf("the server read %q after its OK; want nothing", lines)
		}
	})
}

// TestEarlyOKVerdictReleases: the hold of the commands behind an
// AUTHENTICATE with an early OK ends with the client's verdict: OnContinue
// accepts the challenge (Wait's late check), or the caller answers it
// from Continuations (Continue, which writes nothing after the OK), with
// an empty response. The NOOP queued behind then runs in AUTH, the only
// line after the OK. And RefuseContinuations on the held challenge
// refuses it, as does a non-empty response (the exchange was not over
// for the client: the OK premature): the session is aborted
// (ErrCancelAccepted), the NOOP not sent. Library defaults.
func TestEarlyOKVerdictReleases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		onCont  func([]byte) ([]byte, error)
		verdict func(p *Pending) error
		refused bool
	}{
		{"OnContinueAccepts", func([]byte) ([]byte, error) { return nil, nil }, nil, false},
		{"ContinueAnswers", nil, func(p *Pending) error {
			<-p.Continuations()
			if err := p.Continue(context.Background(), nil); !errors.Is(err, ErrCommandEnded) {
				return err
			}
			return nil
		}, false},
		{"RefuseContinuations", nil, func(p *Pending) error {
			p.RefuseContinuations()
			return nil
		}, true},
		// A non-empty response: the exchange was not over for the
		// client, the OK premature.
		{"OnContinueNotFinal", func([]byte) ([]byte, error) { return []byte("ok"), nil }, nil, true},
		{"ContinueNotFinal", nil, func(p *Pending) error {
			<-p.Continuations()
			if err := p.Continue(context.Background(), []byte("b2s=")); !errors.Is(err, ErrCommandEnded) {
				return err
			}
			return nil
		}, true},
	} {
		// Several runs: Wait's select takes the "+" or the command's
		// end first at random when both are ready, and each must end so.
		t.Run(tc.name, func(t *testing.T) {
			for range 16 {
				verdictRun(t, tc.onCont, tc.verdict, tc.refused)
			}
		})
	}
}

// verdictRun is one run of TestEarlyOKVerdictReleases: AUTHENTICATE
// with onCont, the challenge and the OK sent together, a NOOP queued
// behind, then verdict (nil: none but Wait's) and Wait.
func verdictRun(t *testing.T, onCont func([]byte) ([]byte, error), verdict func(p *Pending) error, refused bool) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		s, p, after := startEarlyOK(t, true, onCont)
		defer s.Close()
		<-p.Done()
		noop := runNoop(s)
		if verdict != nil {
			if err := verdict(p); err != nil {
				t.Fatal(err)
			}
		}
		_, werr := p.Wait(context.Background())
		nerr := <-noop
		st := s.State()
		s.Close()
		lines := <-after
		if refused {
			if !errors.Is(nerr, ErrNotSent) || !errors.Is(s.Err(), ErrCancelAccepted) || len(lines) > 0 {
				t.Errorf("challenge refused: the NOOP: %v; the session: %v; lines after the OK: %q; want ErrNotSent, ErrCancelAccepted, none", nerr, s.Err(), lines)
			}
			return
		}
		if werr != nil || nerr != nil || st != StateAuth || len(lines) != 1 {
			t.Errorf("challenge accepted: Wait: %v; the NOOP: %v; state %v; lines after the OK: %q; want success, the NOOP run in AUTH, it alone written", werr, nerr, st, lines)
		}
	})
}

// TestEarlyOKWaitCtxEndsAfterOKKeepsLogin: Wait's context ends while the
// reader sits between the OK's state change (AUTH) and the command's end
// (forced: the reader waits there until Wait, called then with its
// context ended, is blocked), the challenge that came with the OK still
// to check. The OK is the answer: Wait waits for the end, OnContinue
// checks the challenge and accepts it, and the login stands, nothing
// written after the OK but the NOOP run next. Before, Wait gave up (its
// context's error), the refusal answered the held challenge "*", and a
// valid login was aborted. Several runs: Wait's select takes the "+" or
// the context first at random. Library defaults.
func TestEarlyOKWaitCtxEndsAfterOKKeepsLogin(t *testing.T) {
	for range 16 {
		synctest.Test(t, func(t *testing.T) {
			inWindow, release := make(chan struct{}), make(chan struct{})
			var mu sync.Mutex
			var p *Pending
			hook := func(q *Pending) {
				mu.Lock()
				ours := q == p
				mu.Unlock()
				if ours {
					close(inWindow)
					<-release
				}
			}
			testHookTransitioned.Store(&hook)
			defer testHookTransitioned.Store(nil)
			after := make(chan []string, 1)
			s := openDefault(t, earlyOKServer(true, after))
			defer s.Close()
			var err error
			mu.Lock()
			p, err = s.Start(context.Background(), &Command{Name: "AUTHENTICATE",
				Args:       func(e *wire.Encoder) { e.SP().Atom("X-TEST") },
				OnContinue: func([]byte) ([]byte, error) { return nil, nil }})
			mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			<-inWindow
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			waited := make(chan error, 1)
			go func() {
				_, err := p.Wait(ctx)
				waited <- err
			}()
			synctest.Wait()
			close(release)
			werr := <-waited
			nerr := <-runNoop(s)
			st, serr := s.State(), s.Err()
			s.Close()
			lines := <-after
			if werr != nil || nerr != nil || st != StateAuth || serr != nil || len(lines) != 1 {
				t.Errorf("Wait's context ended after the OK's state change: Wait: %v; NOOP: %v; state %v; session: %v; lines after the OK: %q; want the login kept, the NOOP alone written", werr, nerr, st, serr, lines)
			}
		})
	}
}
