package session_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestContinueAfterNoThenEOF: a server that answers an
// AUTHENTICATE's challenge round with its NO and then closes. When both
// were read before the caller's Continue, Continue returned the session's
// end (unexpected EOF) instead of ErrCommandEnded, and auth's exchange
// reported "connection aborted" instead of the refusal: the flaky
// TestAuthenticateEndedBeforeAnswer (1 run in 10 at load 13). Continue
// now looks at the command first; Wait gives the NO.
func TestContinueAfterNoThenEOF(t *testing.T) {
	ctx, s := hostileOpen(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("AUTHENTICATE")
		if err != nil {
			return err
		}
		c.Line("+ Y2hhbGxlbmdl")
		c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] no")
		return c.Close()
	})
	p, err := s.Start(ctx, &session.Command{Name: "AUTHENTICATE", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation")
	}
	// Both the NO and the EOF are read before Continue.
	for s.Err() == nil && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	<-p.Done()
	err = p.Continue(ctx, []byte("cmVzcG9uc2U="))
	if !errors.Is(err, session.ErrCommandEnded) {
		t.Fatalf("Continue after the NO and the EOF: %v; want ErrCommandEnded", err)
	}
	_, err = p.Wait(ctx)
	var se *session.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Wait: %v; want the server's NO", err)
	}
}

// TestContinueAfterAbortIsNotCommandEnded: the server sends "+" to an
// AUTHENTICATE and then drops the connection, never answering the
// command. Continue must report the session's end (an *AbortError,
// ErrAborted), as it did before 2eae8f6, not ErrCommandEnded, which is
// documented as "the server answered it before the line was written"
// (docs/errors.md: "after the server had ended the command").
func TestContinueAfterAbortIsNotCommandEnded(t *testing.T) {
	ctx, s := hostileOpen(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		if _, err := c.Until("AUTHENTICATE"); err != nil {
			return err
		}
		c.Line("+ Y2hhbGxlbmdl")
		return c.Close() // no tagged answer: the connection is lost
	})
	p, err := s.Start(ctx, &session.Command{Name: "AUTHENTICATE", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation")
	}
	for s.Err() == nil && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(s.Err(), session.ErrAborted) {
		t.Fatalf("session error %v; want an abort", s.Err())
	}
	err = p.Continue(ctx, []byte("cmVzcG9uc2U="))
	if errors.Is(err, session.ErrCommandEnded) {
		t.Fatalf("Continue after the connection was lost (no answer from the server): %v; want the session's error (%v), not ErrCommandEnded (\"the server answered it\")", err, s.Err())
	}
	if !errors.Is(err, session.ErrAborted) {
		t.Fatalf("Continue: %v; want an error matching ErrAborted", err)
	}
}

// TestUnknownCommandPlusStallCut: a command the session does not know
// (its rules take continuations) run with Run, no OnContinue, nobody
// reading Continuations: a hostile server answers it "+" and goes silent.
// The "+" sat in the channel counted as owed, nothing would answer it, and
// only CommandTimeout (15 min) ended it; a "+" no one takes is not owed
// now, and the stall timeout cuts it as before, exactly one after the
// "+". Default options, in a testing/synctest bubble (stallBubble; it
// ran the stall timeout 200 times faster on the wall clock).
func TestUnknownCommandPlusStallCut(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		if !strings.Contains(readLine(r), "XFOO") {
			return
		}
		io.WriteString(w, "+ \r\n") // hostile: then silent
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		start := time.Now()
		_, err := s.Run(ctx, &session.Command{Name: "XFOO"})
		bubbleWantStall(t, "XFOO answered \"+\" and then nothing", err, time.Since(start))
	})
}

// TestAbandonedAuthenticatePlusRefused: an AUTHENTICATE with OnContinue
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
// each case in a testing/synctest bubble (stallBubbleConn; it ran the
// stall timeout 200 times faster on the wall clock): the silent server is
// cut exactly one stall timeout after the "+".
func TestAbandonedAuthenticatePlusRefused(t *testing.T) {
	for _, silent := range []bool{false, true} {
		t.Run(map[bool]string{false: "cancelled", true: "silent"}[silent], func(t *testing.T) {
			var gaveUp chan struct{}
			var got chan string
			dial := func(t *testing.T) net.Conn {
				gaveUp, got = make(chan struct{}), make(chan string, 1) // in the bubble
				return fake(t, func(r *bufio.Reader, w io.Writer) {
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
			}
			stallBubbleConn(t, dial, func(t *testing.T, s *session.Session, nctx context.Context) {
				ctx, cancel := context.WithCancel(context.Background())
				p, err := s.Start(ctx, authCmd(func([]byte) ([]byte, error) { return []byte("dG9rZW4="), nil }))
				if err != nil {
					t.Fatal(err)
				}
				cancel()
				if _, err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("Wait: %v; want context.Canceled", err)
				}
				close(gaveUp)
				start := time.Now()
				_, err = s.Run(nctx, &session.Command{Name: "NOOP"})
				if silent {
					bubbleWantStall(t, "NOOP behind an abandoned AUTHENTICATE whose server says nothing after the \"+\"", err, time.Since(start))
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
		})
	}
}

// TestWaitOnContinueEndedFirst: AUTHENTICATE run with OnContinue
// (Run, so Wait answers the "+"); the server sends its challenge and then
// at once its tagged NO, before OnContinue returns (a server that times the
// step out, as TestAuthenticateEndedBeforeAnswer does for the auth
// package). Continue finds the command ended and sends nothing
// (ErrCommandEnded), and Wait returns that error as is, with no Result:
// the NO (a *StatusError with the Result) is lost, though Continue's own
// comment says "Wait gives its answer". Default options, in a
// testing/synctest bubble: OnContinue returns once every other goroutine
// of the bubble waits (synctest.Wait), the NO read by then, where it
// slept 50 ms and hoped so.
func TestWaitOnContinueEndedFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			line := readLine(r)
			if !strings.Contains(line, "AUTHENTICATE") {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			io.WriteString(w, "+ \r\n"+tag+" NO [AUTHENTICATIONFAILED] too slow\r\n")
			io.Copy(io.Discard, r)
		})
		s, err := session.Open(hangCtx(t), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		res, err := s.Run(hangCtx(t), authCmd(func([]byte) ([]byte, error) {
			synctest.Wait() // the NO is read meanwhile
			return []byte("dG9rZW4="), nil
		}))
		var se *session.StatusError
		if !errors.As(err, &se) || res == nil {
			t.Fatalf("Run: result %v, err %v (ErrCommandEnded: %v); want the tagged NO as a *StatusError with its Result", res, err, errors.Is(err, session.ErrCommandEnded))
		}
	})
}

// TestOnContinueErrorThenPlus: OnContinue returns an error, Wait sends
// "*" and then waits (ignoring ctx) for the tagged answer with contWaiter
// still set. A hostile server sends another "+" and goes silent: the "+"
// is counted as owed (contWaiter), nobody reads it, the stall timer is off
// and Wait hangs until CommandTimeout (15 min), though limits.md says a
// "+" no one takes leaves the timer on. Default options, in a
// testing/synctest bubble (stallBubble; it ran the stall timeout 200 times
// faster on the wall clock): cut exactly one stall timeout after the "+".
func TestOnContinueErrorThenPlus(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		if !strings.Contains(readLine(r), "AUTHENTICATE") {
			return
		}
		io.WriteString(w, "+ \r\n")
		if readLine(r) != "*" {
			return
		}
		io.WriteString(w, "+ again\r\n") // hostile: then silent
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, bound context.Context) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := s.Run(ctx, authCmd(func([]byte) ([]byte, error) { return nil, errors.New("no token") }))
			res <- err
		}()
		select {
		case <-res:
			// Wait gives OnContinue's error; the session's is the stall.
			bubbleWantStall(t, "OnContinue error, \"*\", then a \"+\" and silence (the session's error)", s.Err(), time.Since(start))
		case <-bound.Done():
			cancel()
			s.Close()
			<-res
			t.Fatalf("no stall cut within %v: the \"+\" after \"*\" left the stall timer off (contWaiter still set while Wait waits for done, ignoring ctx)", time.Since(start))
		}
	})
}

// lateFlushConn delays the return of every Write after the first n: the
// flush of a Continue line returns late, as on a busy machine.
type lateFlushConn struct {
	net.Conn
	writes atomic.Int32
	after  int32
	delay  time.Duration
}

func (c *lateFlushConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.writes.Add(1) > c.after {
		time.Sleep(c.delay)
	}
	return n, err
}

// TestSecondPlusBeforeContinue: a two-step exchange. The server
// answers the first line at once with its second "+"; route sees contOwed
// still set (Continue clears it only after its flush returns) and does
// nothing, then Continue clears the flag: the second "+", which Wait's
// OnContinue answers, is not counted, and a slow second step (a SASL step
// asking the user, three stall timeouts) is cut as a stall. 2e969b9's count
// (+1, -1) kept it. Default options, in a testing/synctest bubble
// (stallBubbleConn; it ran the stall timeout 200 times faster on the wall
// clock); the flush returns 3 ms late on the bubble's clock (under
// stall/64, so not taken for a full send buffer, which would excuse eight
// stall timeouts) to widen the window.
func TestSecondPlusBeforeContinue(t *testing.T) {
	const stall = session.DefaultStallTimeout
	play := func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		line := readLine(r)
		if !strings.Contains(line, "AUTHENTICATE") {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(w, "+ c3RlcDE=\r\n")
		if readLine(r) == "" {
			return
		}
		io.WriteString(w, "+ c3RlcDI=\r\n") // at once
		if readLine(r) == "" {
			return
		}
		io.WriteString(w, tag+" OK authenticated\r\n")
	}
	// Writes: the AUTHENTICATE line (1), then the answers.
	dial := func(t *testing.T) net.Conn {
		return &lateFlushConn{Conn: fake(t, play), after: 1, delay: 3 * time.Millisecond}
	}
	stallBubbleConn(t, dial, func(t *testing.T, s *session.Session, ctx context.Context) {
		step := 0
		_, err := s.Run(ctx, authCmd(func([]byte) ([]byte, error) {
			step++
			if step == 2 {
				time.Sleep(3 * stall) // the user types the second step
			}
			return []byte("YQ=="), nil
		}))
		if err != nil {
			t.Fatalf("two-step AUTHENTICATE whose second step takes %v: %v", 3*stall, err)
		}
	})
}

// TestRefuseGoroutineEndsOnClose: an abandoned AUTHENTICATE whose server
// never sends "+" nor ends it: the refuseContinuations goroutine must end
// when the session is closed. Default options, in a testing/synctest
// bubble: the goroutines are counted once every goroutine of the bubble
// waits (synctest.Wait), exactly one after the Wait was abandoned and none
// after Close, where it polled for up to a second of wall-clock time.
func TestRefuseGoroutineEndsOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			readLine(r)
			io.Copy(io.Discard, r)
		})
		s, err := session.Open(hangCtx(t), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, cancel := context.WithCancel(context.Background())
		p, err := s.Start(ctx, authCmd(func([]byte) ([]byte, error) { return []byte("eA=="), nil }))
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait: %v", err)
		}
		synctest.Wait()
		if n := refuserGoroutines(); n != 1 {
			t.Fatalf("%d refuseContinuations goroutines; want 1", n)
		}
		s.Close()
		synctest.Wait()
		if n := refuserGoroutines(); n != 0 {
			t.Fatalf("%d refuseContinuations goroutines still running after Close; want 0", n)
		}
	})
}

func refuserGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "refuseContinuations(")
}

// refusersLeftSince counts the goroutines started since c's Start that run
// RefuseContinuations's loop, waiting up to wait for none to be left. One
// not yet run shows only its "created by" line and a wrapper's name:
// "(*Pending).RefuseContinuations", where a running one shows its frame,
// "(*Pending).refuseContinuations".
func refusersLeftSince(c *leakcheck.Checker, wait time.Duration) int {
	// Others the session started since (its reader) may stay.
	return len(c.Left(wait, "efuseContinuations"))
}

// TestRefuseContinuations: Pending.RefuseContinuations, the one
// loop that the session's abandoned Wait and the auth package's cancelled
// exchanges share, seen from outside the package. A caller who took
// Continuations gives the exchange up (twice: the second call does
// nothing, one goroutine answers); every "+" is answered "*", one that
// was waiting already and those to come; the goroutine ends with the
// command; a call after the command ended starts nothing; the session goes
// on. A command with OnContinue: Wait no longer calls it once the
// exchange is refused. A session that ends under a refused command ends
// the goroutine too. Default options.
func TestRefuseContinuations(t *testing.T) {
	auth := authCmd
	// serve answers AUTHENTICATE with plus "+" lines, each after the
	// client's line, records those lines, then, once release is closed,
	// ends it with BAD (or closes the connection when hangUp), then
	// answers one NOOP.
	serve := func(plus int, hangUp bool, got chan<- []string, release <-chan struct{}) func(r *bufio.Reader, w io.Writer) {
		return func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			line := readLine(r)
			tag, _, _ := strings.Cut(line, " ")
			var answers []string
			for i := 0; i < plus; i++ {
				io.WriteString(w, "+ \r\n")
				answers = append(answers, readLine(r))
			}
			got <- answers
			<-release
			if hangUp {
				return
			}
			io.WriteString(w, tag+" BAD authentication cancelled\r\n")
			line = readLine(r)
			tag, _, _ = strings.Cut(line, " ")
			io.WriteString(w, tag+" OK noop\r\n")
		}
	}
	closedRelease := make(chan struct{})
	close(closedRelease)
	open := func(t *testing.T, play func(r *bufio.Reader, w io.Writer)) *session.Session {
		t.Helper()
		s, err := session.Open(hangCtx(t), fake(t, play), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	wantBAD := func(t *testing.T, p *session.Pending) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := p.Wait(ctx)
		var se *session.StatusError
		if !errors.As(err, &se) || se.Status.Kind != codec.StatusBAD {
			t.Fatalf("Wait: %v; want the server's BAD", err)
		}
	}
	noop := func(t *testing.T, s *session.Session) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("NOOP after the refused exchange: %v", err)
		}
	}

	t.Run("caller", func(t *testing.T) {
		got := make(chan []string, 1)
		release := make(chan struct{})
		s := open(t, serve(3, false, got, release))
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		t.Cleanup(free) // before fake's: a failed test's server ends
		lc := leakcheck.Start()
		p, err := s.Start(hangCtx(t), auth(nil))
		if err != nil {
			t.Fatal(err)
		}
		// The first "+" is the caller's: it takes it, then gives up
		// without answering (a mechanism's error), with it waiting.
		select {
		case <-p.Continuations():
		case <-time.After(10 * time.Second):
			t.Fatal("no \"+\"")
		}
		p.RefuseContinuations()
		p.RefuseContinuations()
		if n := refusersLeftSince(lc, 0); n != 1 {
			t.Fatalf("%d goroutines answer the refused exchange; want 1", n)
		}
		if a := <-got; strings.Join(a, ",") != "*,*,*" {
			t.Fatalf("the three \"+\" were answered %q; want \"*\" each", a)
		}
		free()
		wantBAD(t, p)
		if n := refusersLeftSince(lc, leakcheck.Wait); n != 0 {
			t.Fatalf("%d refusing goroutines left after the command ended", n)
		}
		p.RefuseContinuations() // after the end: nothing
		if n := refusersLeftSince(lc, 0); n != 0 {
			t.Fatalf("RefuseContinuations after the command's end started %d goroutines", n)
		}
		noop(t, s)
	})

	t.Run("OnContinue", func(t *testing.T) {
		got := make(chan []string, 1)
		s := open(t, serve(2, false, got, closedRelease))
		called := make(chan []byte, 2)
		p, err := s.Start(hangCtx(t), auth(func(b []byte) ([]byte, error) {
			called <- b
			return []byte("dG9rZW4="), nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		p.RefuseContinuations()
		wantBAD(t, p)
		if a := <-got; strings.Join(a, ",") != "*,*" {
			t.Fatalf("the two \"+\" were answered %q; want \"*\" each", a)
		}
		if len(called) != 0 {
			t.Fatal("Wait called OnContinue for a refused exchange")
		}
		noop(t, s)
	})

	t.Run("session end", func(t *testing.T) {
		got := make(chan []string, 1)
		s := open(t, serve(1, true, got, closedRelease))
		lc := leakcheck.Start()
		p, err := s.Start(hangCtx(t), auth(nil))
		if err != nil {
			t.Fatal(err)
		}
		p.RefuseContinuations()
		if a := <-got; strings.Join(a, ",") != "*" {
			t.Fatalf("the \"+\" was answered %q; want \"*\"", a)
		}
		// The server hangs up without a tagged answer.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := p.Wait(ctx); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait after the server hung up: %v; want the session's end", err)
		}
		if n := refusersLeftSince(lc, leakcheck.Wait); n != 0 {
			t.Fatalf("%d refusing goroutines left after the session ended", n)
		}
	})
}

// lineReportServer is a fake server over transport.Pipe for AUTHENTICATE: it
// greets, reads the AUTHENTICATE line, waits for plus to be closed, sends
// one "+", then reports on lines every line the client sends: the first
// within 10 s, each later one within quiet of the one before (a read
// deadline: only the absence of a further line waits for it), then ends
// the command with BAD and answers a NOOP. Its tests run it in a
// testing/synctest bubble (plus and lines made there): the deadlines are
// on the bubble's clock, so a line sent at all comes at the same instant
// as the one before, and quiet costs no wall-clock time.
func lineReportServer(t *testing.T, plus <-chan struct{}, quiet time.Duration, lines chan<- []string) net.Conn {
	t.Helper()
	return contServer(t, func(r *bufio.Reader, server net.Conn, tag string) {
		<-plus
		io.WriteString(server, "+ \r\n")
		var got []string
		for wait := 10 * time.Second; ; wait = quiet {
			server.SetReadDeadline(time.Now().Add(wait))
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			got = append(got, strings.TrimRight(l, "\r\n"))
		}
		server.SetReadDeadline(time.Time{})
		lines <- got
		io.WriteString(server, tag+" BAD cancelled\r\n")
		tag, _, _ = strings.Cut(readLine(r), " ")
		io.WriteString(server, tag+" OK noop\r\n")
		readLine(r)
	})
}

// contServer runs play as a fake server, over transport.Pipe, of a command
// that takes continuations: it greets (lmGreeting) and reads the client's
// first line, then hands play the reader, its end of the pipe (for read
// deadlines) and that line's tag. It returns the client's end; both ends
// are closed, and play waited for, when the test ends.
func contServer(t *testing.T, play func(r *bufio.Reader, server net.Conn, tag string)) net.Conn {
	t.Helper()
	client, server := transport.Pipe()
	return fakeOver(t, func() (net.Conn, net.Conn) { return client, server }, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		tag, _, _ := strings.Cut(readLine(r), " ")
		play(r, server, tag)
	})
}

// TestRefuseFromOnContinueDoubleAnswer (found by review):
// RefuseContinuations says "Call
// it from the goroutine that answers" and that a "+" the caller took and
// did not answer is answered "*" by the refusal. An OnContinue runs on the
// goroutine that answers (Wait's); one that gives the exchange up for good
// (as the auth package does on a mechanism's error: RefuseContinuations,
// then "*") calls RefuseContinuations and returns an error. The refusal
// sees the "+" Wait took as owed and unanswered (contOwed, the channel
// empty) and answers it "*"; Wait answers it "*" as well: two lines for
// one "+". The second is read by the server as a command line of its own
// (tag "*"); a response (OnContinue returning one) would be read as a
// command whose tag is the base64 text, and its tagged BAD aborts the
// session (an unknown tag). Defaults, in a testing/synctest bubble: the
// server's 500 ms wait for a second line is on the bubble's clock (it
// took 500 ms of wall-clock time).
func TestRefuseFromOnContinueDoubleAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plus := make(chan struct{})
		close(plus)
		lines := make(chan []string, 1)
		conn := lineReportServer(t, plus, 500*time.Millisecond, lines)
		s, err := session.Open(hangCtx(t), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var p *session.Pending
		p, err = s.Start(hangCtx(t), authCmd(func([]byte) ([]byte, error) {
			p.RefuseContinuations()
			return nil, errors.New("mechanism gives up")
		}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Wait(ctx)
		if got := <-lines; len(got) != 1 || got[0] != "*" {
			t.Errorf("one \"+\" was answered with %d lines %q; want one \"*\"", len(got), got)
		}
	})
}

// TestRefuseTakenAfterAbandonedWait (found by review):
// RefuseContinuations answers "*" a
// "+" the caller took and did not answer ("whether it waits in
// Continuations or the caller took it"). It tells such a "+" by contOwed,
// which is never set once a Wait of the command was abandoned (its
// context ended: abandoned, contTaken cleared). A caller who runs the
// exchange from Continuations while a Wait with a deadline watches for
// the end, and gives up after that Wait returned: the "+" it took is
// never answered; the server waits for a line until the stall timeout
// (60 s) cuts the session. Defaults, in a testing/synctest bubble: the
// Wait's 50 ms deadline and the server's 500 ms wait for a further line
// are on the bubble's clock (they took 550 ms of wall-clock time), and
// the "+" is sent only after the Wait has returned.
func TestRefuseTakenAfterAbandonedWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plus := make(chan struct{})
		lines := make(chan []string, 1)
		conn := lineReportServer(t, plus, 500*time.Millisecond, lines)
		s, err := session.Open(hangCtx(t), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		p, err := s.Start(hangCtx(t), authCmd(nil))
		if err != nil {
			t.Fatal(err)
		}
		conts := p.Continuations()
		wctx, wcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer wcancel()
		if _, err := p.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait: %v", err)
		}
		close(plus)
		select {
		case <-conts:
		case <-time.After(10 * time.Second):
			t.Fatal("no \"+\"")
		}
		p.RefuseContinuations()
		if got := <-lines; len(got) != 1 || got[0] != "*" {
			t.Errorf("the \"+\" the caller took was answered %q; want \"*\"", got)
		}
	})
}

// runAbandonedTakenPlus starts a pulled command that takes continuations, takes its
// "+" from Continuations (the caller is its answerer: the stall timeout
// goes off), then gives the command up without answering: by Next's
// context (pulled) or Wait's. The server stays silent, waiting for the
// line. It fails unless the session is then cut by the stall timeout,
// exactly one after the giving up (the server's last byte came before).
// Default options, in a testing/synctest bubble (stallBubbleConn; it ran
// the stall timeout 200 times faster on the wall clock and waited 6 s for
// the cut).
func runAbandonedTakenPlus(t *testing.T, byNext bool, what string) {
	dial := func(t *testing.T) net.Conn {
		return contServer(t, func(r *bufio.Reader, server net.Conn, _ string) {
			io.WriteString(server, "+ go on\r\n")
			io.Copy(io.Discard, r) // silent: waits for the client's line
		})
	}
	stallBubbleConn(t, dial, func(t *testing.T, s *session.Session, bound context.Context) {
		p, err := s.Start(context.Background(), &session.Command{Name: "XCONT", Pull: true,
			Rules: &session.Rules{Alone: true, Continuations: true}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		gone := make(chan error, 1)
		go func() {
			if byNext {
				for {
					if _, err := p.Next(ctx); err != nil {
						gone <- err
						return
					}
				}
			}
			_, err := p.Wait(ctx)
			gone <- err
		}()
		select {
		case <-p.Continuations():
		case <-bound.Done():
			t.Fatal("no \"+\"")
		}
		cancel() // the caller gives the command up, the "+" unanswered
		if err := <-gone; !errors.Is(err, context.Canceled) {
			t.Fatalf("gave up with %v", err)
		}
		start := time.Now()
		select {
		case <-s.Done():
			bubbleWantStall(t, what, s.Err(), time.Since(start))
		case <-bound.Done():
			t.Fatalf("%s: the session was not cut within %v (the stall timeout is %v): contOwed is still set, the stall timer off (until CommandTimeout, 15 min by default)", what, time.Since(start), session.DefaultStallTimeout)
		}
	})
}

// TestPulledAbandonedOwedPlusStallOff (found by review): a pulled
// command that takes continuations (an unknown command, AUTHENTICATE or
// any with Rules.Continuations, started with Pull), whose caller took a
// "+" from Continuations and then gave the command up by Next's context,
// without answering, left contOwed set: the stall timeout stayed off while
// the server waited for a line that would never come, and the session
// hung until CommandTimeout (15 min by default) instead of the stall
// timeout (60 s). Now Next abandons as Wait does (abandonLocked): the
// answerer flags go and the stall timer is armed again.
func TestPulledAbandonedOwedPlusStallOff(t *testing.T) {
	runAbandonedTakenPlus(t, true, "a pulled command given up by Next, its taken \"+\" unanswered")
}

// TestWaitAbandonedOwedPlusStallOn (found by review) is the
// control: the same command given up by Wait's context is cut at the
// stall timeout.
func TestWaitAbandonedOwedPlusStallOn(t *testing.T) {
	runAbandonedTakenPlus(t, false, "given up by Wait")
}

// parkedInWait reports whether a goroutine is blocked in the select of
// Pending.Wait's loop: its state is select and its top frame (runtime's
// are not shown) is Wait.
func parkedInWait() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		head, rest, _ := bytes.Cut(g, []byte("\n"))
		top, _, _ := bytes.Cut(rest, []byte("\n"))
		if bytes.Contains(head, []byte("[select")) && bytes.Contains(top, []byte("session.(*Pending).Wait(")) {
			return true
		}
	}
	return false
}

// TestRefuseFromOnContinueNextPlusDeterministic: the
// deterministic form of a test removed at stop 48 (4181e96: same server,
// same four checks, and it caught the fault 1 run in 4, this one every
// run), its Wait side (fixed in 5041a7e). OnContinue calls RefuseContinuations and
// returns a response: Wait answers that "+" with the response, and the
// next "+" is the refusal's ("*"), OnContinue not called again. The fault
// was Wait going on selecting on the continuation channel after the
// refusal: it took the next "+" whenever it was first there, and called
// OnContinue again (the response sent twice, the second read by the
// server as a command line). The old test saw it when the scheduler let
// Wait win the race against the refusal's goroutine, about 1 run in 4.
// Here the refusal's goroutine is held (OnRefuserStart) until Wait is
// blocked in its select (read from the goroutines' stacks), and only then
// is the next "+" sent: a Wait still selecting on the channel is first in
// its queue of receivers and takes it every run. Defaults.
func TestRefuseFromOnContinueNextPlusDeterministic(t *testing.T) {
	release := make(chan struct{})
	unparked := make(chan bool, 1)
	session.OnRefuserStart(t, func() { <-release })
	lines := make(chan []string, 1)
	client := contServer(t, func(r *bufio.Reader, server net.Conn, tag string) {
		io.WriteString(server, "+ \r\n")
		var got []string
		if l := readLine(r); l != "" {
			got = append(got, l)
		}
		// Wait has sent the response; the refusal's goroutine is
		// held. Once Wait blocks in its select, let the refusal go
		// and send the next "+".
		for deadline := time.Now().Add(hangBound); !parkedInWait(); runtime.Gosched() {
			if time.Now().After(deadline) {
				unparked <- true // a bound, not a timing: reported below
				break
			}
		}
		close(release)
		io.WriteString(server, "+ \r\n")
		if l := readLine(r); l != "" {
			got = append(got, l)
		}
		io.WriteString(server, tag+" BAD cancelled\r\n")
		for {
			l := readLine(r)
			if strings.HasSuffix(l, " NOOP") {
				tag, _, _ = strings.Cut(l, " ")
				break
			}
			if l == "" {
				break
			}
			got = append(got, l)
		}
		lines <- got
		io.WriteString(server, tag+" OK noop\r\n")
		readLine(r)
	})
	s, err := session.Open(hangCtx(t), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p *session.Pending
	calls := 0
	p, err = s.Start(hangCtx(t), authCmd(func([]byte) ([]byte, error) {
		calls++
		p.RefuseContinuations()
		return []byte("QUFBQQ=="), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := p.Wait(ctx); err == nil {
		t.Error("Wait: no error for a BAD")
	}
	if calls != 1 {
		t.Errorf("OnContinue called %d times; want once (Wait took the \"+\" after the refusal)", calls)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Errorf("NOOP after the exchange: %v", err)
	}
	if got := <-lines; len(got) != 2 || got[0] != "QUFBQQ==" || got[1] != "*" {
		t.Errorf("two \"+\" were answered %q; want the response, then \"*\"", got)
	}
	select {
	case <-unparked:
		t.Error("Wait was never seen blocked in its select: the ordering this test relies on did not hold")
	default:
	}
}

// TestOnContinueOneAnswerer: a command with OnContinue has one
// answerer, Wait. Before, Continuations gave such a command its channel
// too, and a caller reading it while Wait ran (or before) could take the
// "+": Wait never saw it, no one answered it, and since it was counted as
// owed (contTaken) the stall timer stayed off, so the exchange hung until
// the caller's context or the command timeout. Now Continuations returns
// nil for it (a channel that never delivers): a caller selecting on it
// with Done sees the command's end, and Wait answers the "+" through
// OnContinue. Defaults.
func TestOnContinueOneAnswerer(t *testing.T) {
	got := make(chan string, 1)
	client := contServer(t, func(r *bufio.Reader, server net.Conn, tag string) {
		io.WriteString(server, "+ \r\n")
		server.SetReadDeadline(time.Now().Add(5 * time.Second))
		l := readLine(r)
		server.SetReadDeadline(time.Time{})
		got <- l
		io.WriteString(server, tag+" OK done\r\n")
		readLine(r)
	})
	s, err := session.Open(hangCtx(t), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	calls := 0
	p, err := s.Start(hangCtx(t), authCmd(func([]byte) ([]byte, error) {
		calls++
		return []byte("dG9rZW4="), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	conts := p.Continuations()
	if conts != nil {
		t.Error("Continuations of a command with OnContinue is not nil")
	}
	// The caller reads it while Wait runs: it never gets the "+".
	stole := make(chan bool, 1)
	go func() {
		select {
		case <-conts:
			stole <- true
		case <-p.Done():
			stole <- false
		}
	}()
	// A bound for the fault's hang, not a timing.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if _, err := p.Wait(wctx); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if <-stole {
		t.Error("the caller took the \"+\" from Continuations")
	}
	if calls != 1 {
		t.Errorf("OnContinue called %d times; want once", calls)
	}
	if l := <-got; l != "dG9rZW4=" {
		t.Errorf("the \"+\" was answered %q; want OnContinue's response", l)
	}
}
