package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// okServer is a server that answers every command line with a tagged
// OK.
func okServer(r *bufio.Reader, w io.Writer) {
	io.WriteString(w, lmGreeting)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(w, tag+" OK done\r\n")
	}
}

// TestStallBatchUnflushed: 9a9712e
// started the read side's stall timer when a command was marked sent
// (markSent), before its bytes were written, let alone flushed. In a
// batch (StartBatch) the first command is left in the write buffer for
// the next one to flush (last=false), so the next command's Args ran
// while the first one's timer counted the server's "silence": the server
// never got a byte. A batch whose second Args takes four stall timeouts
// was aborted with "no byte from the server" against a server that
// answers everything it receives: the very case the commit fixed for a
// command alone. Default options, each case in a testing/synctest bubble
// (stallBubble: it ran the stall timeout 200 times faster on the wall
// clock, and slept a quarter of it for the second writer to queue).
func TestStallBatchUnflushed(t *testing.T) {
	const stall = session.DefaultStallTimeout
	slow := func(e *wire.Encoder) { time.Sleep(4 * stall) }
	t.Run("batch", func(t *testing.T) {
		stallBubble(t, okServer, func(t *testing.T, s *session.Session, ctx context.Context) {
			start := time.Now()
			ps, err := s.StartBatch(ctx, []*session.Command{{Name: "NOOP"}, {Name: "NOOP", Args: slow}})
			if err != nil {
				t.Fatalf("StartBatch (NOOP, NOOP whose Args takes four stall timeouts) to a server that answers: %v after %v", err, time.Since(start))
			}
			for i, p := range ps {
				if _, err := p.Wait(ctx); err != nil {
					t.Fatalf("command %d of the batch: %v after %v", i+1, err, time.Since(start))
				}
			}
		})
	})
	// The same with two goroutines: the first command's writer leaves its
	// bytes for the second, which waits for the write lock (shouldFlush),
	// and whose Args then takes four stall timeouts.
	t.Run("goroutines", func(t *testing.T) {
		stallBubble(t, okServer, func(t *testing.T, s *session.Session, ctx context.Context) {
			inArgs, release := make(chan struct{}), make(chan struct{})
			first := make(chan error, 1)
			go func() {
				_, err := s.Run(ctx, &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) {
					close(inArgs)
					<-release
				}})
				first <- err
			}()
			<-inArgs
			second := make(chan error, 1)
			go func() {
				_, err := s.Run(ctx, &session.Command{Name: "NOOP", Args: slow})
				second <- err
			}()
			synctest.Wait() // the second waits for the write lock
			if n := session.WriteWaiters(s); n != 1 {
				t.Fatalf("%d goroutines wait for the write lock; want the second NOOP's", n)
			}
			close(release)
			if err := <-first; err != nil {
				t.Errorf("first NOOP (its bytes left for the next writer) to a server that answers: %v", err)
			}
			if err := <-second; err != nil {
				t.Errorf("second NOOP (Args of four stall timeouts): %v", err)
			}
		})
	})
}

// TestStallWaitingForContinuation: the stall timeout counts
// from when a command's bytes reach the connection; a command with a
// synchronizing literal has its bytes up to the literal flushed before it
// waits for the "+", which the server owes from then on: a server that
// never sends it is cut by the stall timeout, exactly one after the line
// went out, not left waiting for the command's context. Default options,
// in a testing/synctest bubble (stallBubble; it ran the stall timeout 200
// times faster on the wall clock and checked no time).
func TestStallWaitingForContinuation(t *testing.T) {
	const stall = session.DefaultStallTimeout
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting) // no LITERAL+: the literal waits for "+"
		io.Copy(io.Discard, r)        // never a "+"
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		start := time.Now()
		_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox("INBOX").SP().Literal([]byte("Subject: x\r\n\r\nbody\r\n"))
		}})
		d := time.Since(start) // on the bubble's clock: the line goes out at once
		var te *session.TimeoutError
		if !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Fatalf("APPEND waiting for a \"+\" the server never sends: %v after %v; want a stall *TimeoutError", err, d)
		}
		if d != stall {
			t.Errorf("APPEND waiting for a \"+\" the server never sends cut after %v; want exactly %v", d, stall)
		}
	})
}

// TestStallSpeedHook (named by subject in 58751eb): session.StallSpeed,
// the test hook that runs a session's stall timeouts faster
// (TestStallTimeoutWriteDefault, TestPullBodyReadContextFrozen), runs the
// read side's too, exactly k times faster, and the error reports the
// timeout it stands for: a server that answers nothing cuts the session
// with a stall *TimeoutError whose After is the default stall timeout,
// after a 200th of it. In a testing/synctest bubble (stallBubble), so
// that "exactly" holds on a loaded machine; the hook is what is tested,
// so it is set (before the session is opened: Open reads it).
func TestStallSpeedHook(t *testing.T) {
	session.StallSpeed(t, 200)
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		r.ReadString('\n')
		io.Copy(io.Discard, r) // no answer
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		start := time.Now()
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		d := time.Since(start)
		var te *session.TimeoutError
		if !errors.As(err, &te) || te.What != session.TimeoutStall || te.After != session.DefaultStallTimeout {
			t.Fatalf("NOOP to a silent server: %v after %v; want a stall *TimeoutError after %v", err, d, session.DefaultStallTimeout)
		}
		if want := session.DefaultStallTimeout / 200; d != want {
			t.Errorf("NOOP to a silent server cut after %v; want exactly %v (the default run 200 times faster)", d, want)
		}
	})
}

// TestStallArmedWhenSent: the read
// side's stall timeout started when a command was registered, before its
// Args ran: the time the caller's Args took (a message built there, a
// file read) counted as the server's silence, and a session with nothing
// else in flight was cut as "no byte from the server" before a byte of
// the command went out. It starts once the command is sent now. A command
// sent before still has it: a server that does not answer it is cut while
// the next command's Args runs.
//
// With the defaults (DefaultStallTimeout), each case in a testing/synctest
// bubble (stallBubble): Args's four stall timeouts and the stall timeout
// run on the bubble's clock, exact however loaded the machine (it ran a
// 300 ms stall timeout on the wall clock: 2.4 s).
func TestStallArmedWhenSent(t *testing.T) {
	const stall = session.DefaultStallTimeout
	slowArgs := func(e *wire.Encoder) { time.Sleep(4 * stall) }
	t.Run("alone", func(t *testing.T) {
		stallBubble(t, okServer, func(t *testing.T, s *session.Session, ctx context.Context) {
			if _, err := s.Run(ctx, &session.Command{Name: "NOOP", Args: slowArgs}); err != nil {
				t.Fatalf("NOOP whose Args takes four stall timeouts, to a server that answers: %v", err)
			}
		})
	})
	t.Run("behind", func(t *testing.T) {
		stallBubble(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			io.Copy(io.Discard, r) // no answer
		}, func(t *testing.T, s *session.Session, ctx context.Context) {
			status := func(mbox string) func(*wire.Encoder) {
				return func(e *wire.Encoder) { e.SP().Mailbox(mbox).SP().List(func(e *wire.Encoder) { e.Atom("MESSAGES") }) }
			}
			start := time.Now()
			p, err := s.Start(ctx, &session.Command{Name: "STATUS", Args: status("a")})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			in := make(chan struct{})
			var calls atomic.Int32
			go func() {
				// STATUS b pipelines behind STATUS a; its Args runs
				// when it is sent, registered, and takes its time.
				_, err := s.Run(ctx, &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) {
					status("b")(e)
					if calls.Add(1) == 1 {
						close(in)
					}
					time.Sleep(4 * stall)
				}})
				done <- err
			}()
			<-in
			_, err = p.Wait(ctx)
			d := time.Since(start) // on the bubble's clock
			var te *session.TimeoutError
			if !errors.As(err, &te) || te.What != session.TimeoutStall {
				t.Errorf("STATUS sent to a server that does not answer, the next command's Args running: %v after %v; want a stall *TimeoutError", err, d)
			}
			if d != stall {
				t.Errorf("STATUS sent to a server that does not answer cut after %v; want exactly %v", d, stall)
			}
			if err := <-done; err == nil {
				t.Error("the STATUS behind it succeeded; want the session's abort")
			}
		})
	})
}

// authServer is a server for AUTHENTICATE: it asks once with "+", reads the
// client's line and answers OK, or, with silent set, answers nothing after
// the line (a stall).
func authServer(silent bool) func(r *bufio.Reader, w io.Writer) {
	return func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		for {
			line := readLine(r)
			if line == "" {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if !strings.HasPrefix(rest, "AUTHENTICATE") {
				io.WriteString(w, tag+" OK done\r\n")
				continue
			}
			io.WriteString(w, "+ \r\n")
			if readLine(r) == "" {
				return
			}
			if silent {
				io.Copy(io.Discard, r)
				return
			}
			io.WriteString(w, tag+" OK authenticated\r\n")
		}
	}
}

// TestStallOffWhileClientAnswers: the read side's stall timer
// went on counting after a "+" reached a command, while the client worked
// on its answer (an OAuth token fetched over the network in OnContinue, a
// SASL step that asks the user, a caller answering from Continuations):
// the server owes nothing until the client's line is out, yet an answer
// slower than the stall timeout cut the session as "no byte from the
// server". The timer is off from the "+" until the answer's bytes are
// handed to the connection, and on again from then: a server that then
// says nothing is still cut, exactly one stall timeout after the answer.
// Default options, each case in a testing/synctest bubble (stallBubble;
// it ran the stall timeout 200 times faster on the wall clock: 1.5 s).
func TestStallOffWhileClientAnswers(t *testing.T) {
	const stall = session.DefaultStallTimeout
	const slow = 2 * stall // the client's side of the continuation
	t.Run("OnContinue", func(t *testing.T) {
		stallBubble(t, authServer(false), func(t *testing.T, s *session.Session, ctx context.Context) {
			_, err := s.Run(ctx, authCmd(func([]byte) ([]byte, error) {
				time.Sleep(slow) // a token fetched over the network
				return []byte("dG9rZW4="), nil
			}))
			if err != nil {
				t.Fatalf("AUTHENTICATE whose OnContinue takes two stall timeouts, to a server that answers: %v", err)
			}
		})
	})
	t.Run("Continue", func(t *testing.T) {
		stallBubble(t, authServer(false), func(t *testing.T, s *session.Session, ctx context.Context) {
			p, err := s.Start(ctx, authCmd(nil))
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.Continuations():
			case <-ctx.Done():
				t.Fatal("no continuation request")
			}
			time.Sleep(slow) // the caller works on its answer
			if err := p.Continue(ctx, []byte("dG9rZW4=")); err != nil {
				t.Fatalf("Continue after two stall timeouts of the caller's work: %v", err)
			}
			if _, err := p.Wait(ctx); err != nil {
				t.Fatalf("AUTHENTICATE answered from Continuations after two stall timeouts: %v", err)
			}
		})
	})
	t.Run("silent after the answer", func(t *testing.T) {
		stallBubble(t, authServer(true), func(t *testing.T, s *session.Session, ctx context.Context) {
			var answered time.Time
			_, err := s.Run(ctx, authCmd(func([]byte) ([]byte, error) {
				answered = time.Now()
				return []byte("dG9rZW4="), nil
			}))
			d := time.Since(answered) // on the bubble's clock
			var te *session.TimeoutError
			if !errors.As(err, &te) || te.What != session.TimeoutStall {
				t.Fatalf("AUTHENTICATE whose answer the server never acknowledges: %v; want a stall *TimeoutError", err)
			}
			if d != stall {
				t.Errorf("AUTHENTICATE whose answer the server never acknowledges cut %v after the answer; want exactly %v", d, stall)
			}
		})
	})
}

// TestStallLiteralSlowBody: after
// a synchronizing literal's "+", the literal's body comes from the
// caller's io.Reader: the time it takes is the client's, not the server's
// silence, and is not cut (the body's bytes are not all out, so the
// command is owed nothing yet). Once all of it is out, a server that says
// nothing is cut, exactly one stall timeout after it. Default options,
// each case in a testing/synctest bubble (stallBubble; it ran the stall
// timeout 200 times faster on the wall clock: 0.9 s).
func TestStallLiteralSlowBody(t *testing.T) {
	const stall = session.DefaultStallTimeout
	const body = "Subject: x\r\n\r\nbody\r\n"
	server := func(silent bool) func(r *bufio.Reader, w io.Writer) {
		return func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting) // no LITERAL+: the literal waits for "+"
			line := readLine(r)
			tag, _, _ := strings.Cut(line, " ")
			i := strings.LastIndexByte(line, '{')
			n, err := strconv.Atoi(strings.TrimRight(line[i+1:], "}\r\n"))
			if i < 0 || err != nil {
				return
			}
			io.WriteString(w, "+ go\r\n")
			if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return
			}
			readLine(r)
			if silent {
				io.Copy(io.Discard, r)
				return
			}
			io.WriteString(w, tag+" OK appended\r\n")
		}
	}
	appendCmd := func(slow bool) *session.Command {
		return &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			var r io.Reader = strings.NewReader(body)
			if slow {
				r = &slowFirstReader{r: r, wait: 2 * stall}
			}
			e.SP().Mailbox("INBOX").SP().LiteralReader(int64(len(body)), r, false)
		}}
	}
	t.Run("slow body", func(t *testing.T) {
		stallBubble(t, server(false), func(t *testing.T, s *session.Session, ctx context.Context) {
			if _, err := s.Run(ctx, appendCmd(true)); err != nil {
				t.Fatalf("APPEND whose body's reader takes two stall timeouts after the \"+\": %v", err)
			}
		})
	})
	t.Run("silent after the body", func(t *testing.T) {
		stallBubble(t, server(true), func(t *testing.T, s *session.Session, ctx context.Context) {
			start := time.Now()
			_, err := s.Run(ctx, appendCmd(false))
			d := time.Since(start) // on the bubble's clock: no time passes before the body is out
			var te *session.TimeoutError
			if !errors.As(err, &te) || te.What != session.TimeoutStall {
				t.Fatalf("APPEND the server never answers: %v; want a stall *TimeoutError", err)
			}
			if d != stall {
				t.Errorf("APPEND the server never answers cut after %v; want exactly %v", d, stall)
			}
		})
	})
}

// slowFirstReader waits before its first read.
type slowFirstReader struct {
	r    io.Reader
	wait time.Duration
}

func (r *slowFirstReader) Read(p []byte) (int, error) {
	if r.wait > 0 {
		time.Sleep(r.wait)
		r.wait = 0
	}
	return r.r.Read(p)
}

// TestStallIdleAfterDone: IDLE waits on the server
// with no stall timeout before its DONE, however long (here two stall
// timeouts after its "+"), and has one once DONE is out: a server that
// does not answer the DONE is cut, exactly one stall timeout after it.
// The "+" it gets does not leave the timer off after DONE (the stall
// timer is off while the client owes a continuation answer). Default
// options, each case in a testing/synctest bubble (stallBubble; it ran
// the stall timeout 200 times faster on the wall clock: 1.5 s).
func TestStallIdleAfterDone(t *testing.T) {
	const stall = session.DefaultStallTimeout
	for _, silent := range []bool{false, true} {
		t.Run(map[bool]string{false: "answered", true: "silent after DONE"}[silent], func(t *testing.T) {
			stallBubble(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, lmGreeting)
				line := readLine(r)
				tag, _, _ := strings.Cut(line, " ")
				io.WriteString(w, "+ idling\r\n")
				if readLine(r) != "DONE" {
					return
				}
				if silent {
					io.Copy(io.Discard, r)
					return
				}
				io.WriteString(w, tag+" OK idle done\r\n")
			}, func(t *testing.T, s *session.Session, ctx context.Context) {
				p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
				if err != nil {
					t.Fatal(err)
				}
				select {
				case <-p.Continuations():
				case <-ctx.Done():
					t.Fatal("no continuation request")
				}
				time.Sleep(2 * stall)
				if err := p.Continue(ctx, []byte("DONE")); err != nil {
					t.Fatalf("DONE after two stall timeouts of IDLE: %v", err)
				}
				done := time.Now()
				_, err = p.Wait(ctx)
				d := time.Since(done) // on the bubble's clock
				var te *session.TimeoutError
				if silent && (!errors.As(err, &te) || te.What != session.TimeoutStall) {
					t.Fatalf("IDLE whose DONE the server never answers: %v; want a stall *TimeoutError", err)
				}
				if silent && d != stall {
					t.Errorf("IDLE whose DONE the server never answers cut %v after DONE; want exactly %v", d, stall)
				}
				if !silent && err != nil {
					t.Fatalf("IDLE answered after its DONE: %v", err)
				}
			})
		})
	}
}

// TestStallUploadPushesEarlier:
// a command left in the write buffer (the first of a batch) is pushed out
// to the server by the next command's long upload (a LITERAL+ body past
// the 16 KiB buffer). Its stall timeout started only when the upload's
// write returned: a server that never answers it went unnoticed for as
// long as the upload's reader took (a body copied from a slow source). It
// starts once its bytes are handed to the connection now: while the
// body's reader still waits, the session is cut by the stall timeout.
// Default options, in a testing/synctest bubble (stallBubble; it ran the
// stall timeout 200 times faster on the wall clock, and a loaded CI
// machine once let the reader's six stall timeouts, 1.8 s, pass first:
// stop 51); the reader waits at most six stall timeouts (the read side
// excuses a stall timeout after the last write).
func TestStallUploadPushesEarlier(t *testing.T) {
	const stall = session.DefaultStallTimeout
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] limits\r\n")
		io.Copy(io.Discard, r) // takes everything in, answers nothing
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		const size = 64 << 10
		endedWhileReading := make(chan bool, 1)
		body := &pausingReader{first: 32 << 10, size: size, wait: func() {
			deadline := time.Now().Add(6 * stall)
			for s.Err() == nil && time.Now().Before(deadline) {
				time.Sleep(stall / 20)
			}
			endedWhileReading <- s.Err() != nil
		}}
		ps, err := s.StartBatch(ctx, []*session.Command{{Name: "NOOP"}, {Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox("INBOX").SP().LiteralReader(size, body, false)
		}}})
		if err == nil {
			_, err = ps[0].Wait(ctx)
		}
		var te *session.TimeoutError
		if !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Fatalf("NOOP the server never answers, pushed out by an upload: %v; want a stall *TimeoutError", err)
		}
		if !<-endedWhileReading {
			t.Error("the session was not cut while the upload's reader waited six stall timeouts, the NOOP pushed out before and unanswered")
		}
	})
}

// pausingReader gives first bytes, calls wait once, then gives the rest of
// size.
type pausingReader struct {
	first, size, n int
	wait           func()
}

func (r *pausingReader) Read(p []byte) (int, error) {
	if r.n == r.size {
		return 0, io.EOF
	}
	if r.n == r.first && r.wait != nil {
		r.wait()
		r.wait = nil
	}
	end := r.size
	if r.n < r.first {
		end = r.first
	}
	k := min(len(p), end-r.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.n += k
	return k, nil
}

// TestStallIdleBeforeContinuation: a server that reads IDLE and never
// sends its "+" (nor anything else). The "+" is owed at once (RFC 2177),
// as any command's answer is: IDLE is exempt from the stall timeout only
// from its "+" on, until DONE. Before, it was exempt from its sending, and
// the session waited for as long as the caller did (commands.Idle: its
// restart timer, 29 min). Default options, in a testing/synctest bubble:
// cut exactly one stall timeout after IDLE went out, whether the caller
// took Continuations (as one answering the "+" does) or waits in Wait.
func TestStallIdleBeforeContinuation(t *testing.T) {
	for _, taken := range []bool{false, true} {
		t.Run(map[bool]string{false: "Wait", true: "Continuations taken"}[taken], func(t *testing.T) {
			stallBubble(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, lmGreeting)
				io.Copy(io.Discard, r) // IDLE read, no "+"
			}, func(t *testing.T, s *session.Session, ctx context.Context) {
				start := time.Now()
				p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
				if err != nil {
					t.Fatal(err)
				}
				if taken {
					p.Continuations()
				}
				_, err = p.Wait(ctx)
				bubbleWantStall(t, "IDLE with no \"+\"", err, time.Since(start))
			})
		})
	}
}
