package session_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// The regression tests of the hostile-server defects (a remote crash, a
// spinning reader, forged completions, leaked credentials and escapes),
// each with the library's defaults. The scripted hostile server in
// internal/hostile plays the wider suite.

// fake runs play as the server on the far end of an in-memory pipe and
// returns the client's end. play gets a reader of the client's lines.
func fake(t *testing.T, play func(r *bufio.Reader, w io.Writer)) net.Conn {
	t.Helper()
	return fakeOver(t, transport.Pipe, play)
}

// fakeOver is fake over the pipe pipe makes (client end first).
func fakeOver(t *testing.T, pipe func() (net.Conn, net.Conn), play func(r *bufio.Reader, w io.Writer)) net.Conn {
	t.Helper()
	client, server := pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		play(bufio.NewReader(server), server)
	}()
	t.Cleanup(func() {
		client.Close()
		server.Close()
		<-done
	})
	return client
}

// readLine reads one client line, "" at EOF.
func readLine(r *bufio.Reader) string {
	l, _ := r.ReadString('\n')
	return strings.TrimRight(l, "\r\n")
}

// openDefaults opens a session with the library's defaults (tags A1, A2,
// ... for readable scripts), opened within hangBound (a hang detector), as a
// careful user would.
func openDefaults(t *testing.T, conn net.Conn, trace io.Writer) *session.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	s, err := session.Open(ctx, conn, &session.Options{TagPrefix: "A", Trace: trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const greeting = "* OK [CAPABILITY IMAP4rev1 LITERAL+ STARTTLS] hostile\r\n"

func fetchCmd() *session.Command {
	return &session.Command{Name: "FETCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("1").SP().Raw("(BODY[])") }}
}

// TestDefectLiteralSizeCrash: one line used to crash the process: a
// literal size just over int64 wrapped negative and panicked the reader.
func TestDefectLiteralSizeCrash(t *testing.T) {
	for _, size := range []string{"9223372036854775808", "18446744073709551616", "9999999999"} {
		t.Run(size, func(t *testing.T) {
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, greeting)
				readLine(r)
				io.WriteString(w, "* 1 FETCH (BODY[] {"+size+"}\r\nsome bytes\r\nA1 OK done\r\n")
				io.Copy(io.Discard, r)
			})
			s := openDefaults(t, conn, nil)
			// The abort is the size's, not the hang context's (the
			// server sends no more than "some bytes": a reader that
			// tried to read the literal would wait for the context,
			// and fail as context.DeadlineExceeded, not as below).
			_, err := s.Run(hangCtx(t), fetchCmd())
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v; want the abort of the size, not the context's end", err)
			}
			if !errors.Is(err, session.ErrAborted) || !errors.Is(err, wire.ErrOutOfStep) {
				t.Fatalf("got %v; want an abort matching wire.ErrOutOfStep", err)
			}
			if !errors.Is(err, wire.ErrLiteralTooLarge) {
				t.Fatalf("got %v; want it to name ErrLiteralTooLarge", err)
			}
		})
	}
}

// TestDefectEndlessLine: an endless line used to be drained for ever
// without "line too long" reaching the caller.
func TestDefectEndlessLine(t *testing.T) {
	var read atomic.Int64
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, greeting)
		readLine(r)
		io.WriteString(w, "* OK ")
		buf := bytes.Repeat([]byte("a"), 64<<10)
		for {
			n, err := w.Write(buf)
			read.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	s := openDefaults(t, conn, nil)
	_, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
	if !errors.Is(err, session.ErrAborted) || !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("got %v; want an abort matching wire.ErrLineTooLong", err)
	}
	s.Close()
	if max := int64(4 * wire.DefaultMaxLineLength); read.Load() > max {
		t.Fatalf("the client took %d bytes of the endless line; want at most %d", read.Load(), max)
	}
}

// TestDefectForgedCompletion: a tagged OK for a command whose bytes were
// not all sent is a protocol violation, not a success.
func TestDefectForgedCompletion(t *testing.T) {
	t.Run("APPEND before +", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hostile\r\n")
			readLine(r) // A1 APPEND INBOX {5}
			io.WriteString(w, "A1 OK [APPENDUID 1 7] APPEND completed\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		_, err := s.Run(hangCtx(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox("INBOX").SP().Literal([]byte("hello"))
		}})
		if !errors.Is(err, session.ErrProtocol) || !errors.Is(err, session.ErrAborted) {
			t.Fatalf("got %v; want an abort matching ErrProtocol", err)
		}
	})
	t.Run("NO before + refuses the literal", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hostile\r\n")
			readLine(r)
			io.WriteString(w, "A1 NO [OVERQUOTA] too big\r\n")
			readLine(r)
			io.WriteString(w, "A2 OK NOOP done\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		_, err := s.Run(hangCtx(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox("INBOX").SP().Literal([]byte("hello"))
		}})
		if !errors.Is(err, session.ErrNo) {
			t.Fatalf("got %v; want ErrNo", err)
		}
		if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("the session did not go on: %v", err)
		}
	})
	t.Run("pipelined command not yet written", func(t *testing.T) {
		// The NOOP starts once the server has the APPEND, and the forged
		// OK comes once the NOOP waits for the write lock (fixed sleeps
		// of 30 and 100 ms assumed both on a loaded machine).
		appendRead := make(chan struct{})
		registered := make(chan struct{})
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hostile\r\n")
			readLine(r) // A1 APPEND INBOX {5}: waits for "+"
			close(appendRead)
			<-registered
			// A2 (the NOOP) is registered, waiting for the write lock.
			io.WriteString(w, "A2 OK NOOP completed\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, errs[0] = s.Run(hangCtx(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
				e.SP().Mailbox("INBOX").SP().Literal([]byte("hello"))
			}})
		}()
		go func() {
			defer wg.Done()
			select {
			case <-appendRead:
			case <-time.After(10 * time.Second):
			}
			_, errs[1] = s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
		}()
		for deadline := time.Now().Add(hangBound); session.WriteWaiters(s) == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		close(registered)
		wg.Wait()
		if !errors.Is(errs[1], session.ErrProtocol) && !errors.Is(errs[1], session.ErrNotSent) {
			t.Fatalf("NOOP: %v; want ErrProtocol", errs[1])
		}
		if !errors.Is(errs[0], session.ErrProtocol) {
			t.Fatalf("APPEND: %v; want ErrProtocol", errs[0])
		}
	})
}

// TestDefectEchoedPassword: a server that echoes the password, with
// terminal escapes, gets neither into the error nor into the trace.
func TestDefectEchoedPassword(t *testing.T) {
	const pass = "hunter2-SECRET"
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED-NOT] hostile\r\n")
		line := readLine(r)
		_ = line
		io.WriteString(w, "* OK echo "+pass+" \x1b]0;pwned\x07\r\n")
		io.WriteString(w, "A1 NO [AUTHENTICATIONFAILED] wrong password "+pass+" \x1b[2J\x07\x08\x08\r\n")
		readLine(r)
		io.WriteString(w, "* BYE bye "+pass+" \x1b[31m\r\n")
		io.Copy(io.Discard, r)
	})
	var trace bytes.Buffer
	var mu sync.Mutex
	s := openDefaults(t, conn, writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return trace.Write(p)
	}))
	_, err := s.Run(hangCtx(t), loginCommand("alice", pass))
	var se *session.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("got %v; want a StatusError", err)
	}
	checkClean := func(what, s string) {
		t.Helper()
		if strings.Contains(s, pass) {
			t.Errorf("%s holds the password: %q", what, s)
		}
		if strings.ContainsAny(s, "\x1b\x07\x08") {
			t.Errorf("%s holds raw control bytes: %q", what, s)
		}
	}
	checkClean("the error", err.Error())
	if bytes.Contains(se.Status.Text, []byte(pass)) {
		t.Errorf("Status.Text holds the password: %q", se.Status.Text)
	}
	if !bytes.Contains(se.Status.Text, []byte("\x1b[2J")) {
		t.Errorf("Status.Text lost the raw bytes: %q", se.Status.Text)
	}
	_, err = s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
	var be *session.ByeError
	if !errors.Is(err, session.ErrAborted) || !errors.As(err, &be) {
		t.Fatalf("after BYE: %v; want an abort with a *ByeError", err)
	}
	checkClean("the BYE error", err.Error())
	for _, h := range err.(*session.AbortError).History {
		checkClean("the history", h)
	}
	s.Close()
	mu.Lock()
	checkClean("the trace", trace.String())
	mu.Unlock()
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestDefectTypedRefusals: the refusals a caller must be able to match.
func TestDefectTypedRefusals(t *testing.T) {
	t.Run("BYE greeting", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* BYE [UNAVAILABLE] \x1b[31mtoo busy\r\n")
		})
		_, err := session.Open(hangCtx(t), conn, nil)
		var be *session.ByeError
		if !errors.Is(err, session.ErrGreeting) || !errors.As(err, &be) {
			t.Fatalf("got %v; want ErrGreeting and a *ByeError", err)
		}
		if be.Code() == nil || be.Code().Kind != codec.CodeUnavailable {
			t.Fatalf("the BYE's code was lost: %+v", be.Status)
		}
		if strings.Contains(err.Error(), "\x1b") {
			t.Fatalf("raw escape in %q", err)
		}
	})
	t.Run("bad greeting", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) { io.WriteString(w, "* NO go away\r\n") })
		if _, err := session.Open(hangCtx(t), conn, nil); !errors.Is(err, session.ErrGreeting) {
			t.Fatalf("got %v; want ErrGreeting", err)
		}
	})
	t.Run("not IMAP4", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) { io.WriteString(w, "* OK [CAPABILITY POP3] hi\r\n") })
		if _, err := session.Open(hangCtx(t), conn, nil); !errors.Is(err, session.ErrNotIMAP4) {
			t.Fatalf("got %v; want ErrNotIMAP4", err)
		}
	})
	t.Run("STARTTLS missing", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* OK [CAPABILITY IMAP4rev1] no tls here\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		if err := s.StartTLS(hangCtx(t), nil); !errors.Is(err, session.ErrStartTLSUnavailable) {
			t.Fatalf("got %v; want ErrStartTLSUnavailable", err)
		}
	})
	t.Run("COMPRESS missing", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		if err := s.Compress(hangCtx(t)); !errors.Is(err, session.ErrCompressUnavailable) {
			t.Fatalf("got %v; want ErrCompressUnavailable", err)
		}
	})
}

// TestDefectNotSent: a command whose context ends while it waits for its
// turn to be written is not sent, and says so.
func TestDefectNotSent(t *testing.T) {
	got := make(chan string, 10)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hostile\r\n")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			got <- strings.TrimRight(l, "\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	// APPEND holds the write lock while it waits for "+", which never
	// comes before the NOOP's deadline.
	go func() {
		s.Run(hangCtx(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox("INBOX").SP().Literal([]byte("hello"))
		}})
	}()
	// Wait until the server has the APPEND (a fixed 50 ms could end
	// before the APPEND took the write lock on a loaded machine: then
	// the NOOP went first).
	select {
	case l := <-got:
		if !strings.Contains(l, "APPEND") {
			t.Fatalf("the server got %q first; want the APPEND", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the APPEND did not reach the server in 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
	if !errors.Is(err, session.ErrNotSent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v; want ErrNotSent and DeadlineExceeded", err)
	}
	time.Sleep(100 * time.Millisecond)
	for len(got) > 0 {
		if l := <-got; strings.Contains(l, "NOOP") {
			t.Fatalf("the NOOP was sent: %q", l)
		}
	}
}

// TestDefectDefaultTimeouts: with the defaults, a server that sends its
// greeting and then nothing ends a command after DefaultStallTimeout, so
// does one that does not answer IDLE's DONE, and a server that sends no
// greeting ends Open after DefaultGreetingTimeout, without the caller
// giving a deadline; so does a server stalling in a streamed body the
// caller reads (bodyReadStalls), and one silent after STARTTLS's OK
// (startTLSStalls). Each case runs in a testing/synctest bubble over
// transport.Pipe (no socket): the library's default timeouts, unchanged,
// pass on the bubble's clock as soon as every goroutine waits, where they
// took 64 s of the test binary's wall time; the bubble's clock also says
// exactly how long each wait took, and synctest.Test fails the case if a
// goroutine of the bubble is left (blocked) at its end.
func TestDefectDefaultTimeouts(t *testing.T) {
	t.Cleanup(lkCheck(t))
	// The certificates are made outside the bubbles (files, real time).
	_, cliCfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"greeting", inBubble(greetingTimesOut)},
		{"stall", commandStalls},
		{"idle done", idleDoneStalls},
		{"body read", bodyReadStalls},
		{"starttls", inBubble(func() error { return startTLSStalls(cliCfg) })},
	} {
		t.Run(tc.name, tc.run)
	}
}

// inBubble runs check in a testing/synctest bubble, failing the test
// with its error.
func inBubble(check func() error) func(t *testing.T) {
	return func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			if err := check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// greetingTimesOut checks, with the defaults, that a server that sends no
// greeting ends Open after DefaultGreetingTimeout with a greeting
// *TimeoutError, the caller giving no deadline.
func greetingTimesOut() error {
	client, server := transport.Pipe()
	played := make(chan struct{})
	defer func() { client.Close(); server.Close(); <-played }()
	go func() {
		defer close(played)
		io.Copy(io.Discard, server)
	}()
	start := time.Now()
	_, err := session.Open(context.Background(), client, nil)
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutGreeting || !errors.Is(err, session.ErrTimeout) {
		return fmt.Errorf("got %v; want a greeting *TimeoutError", err)
	}
	if d := time.Since(start); d < session.DefaultGreetingTimeout || d > session.DefaultGreetingTimeout+session.DefaultGreetingTimeout/16 {
		return fmt.Errorf("took %v; want about %v", d, session.DefaultGreetingTimeout)
	}
	return nil
}

// commandStalls checks, with the defaults (stallBubble), that a server
// that sends its greeting and then nothing ends a command after
// DefaultStallTimeout with an abort carrying a stall *TimeoutError.
func commandStalls(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, greeting)
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		start := time.Now()
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		var te *session.TimeoutError
		if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Fatalf("got %v; want an abort with a stall *TimeoutError", err)
		}
		if d := time.Since(start); d < session.DefaultStallTimeout || d > session.DefaultStallTimeout+session.DefaultStallTimeout/16 {
			t.Fatalf("took %v; want about %v", d, session.DefaultStallTimeout)
		}
	})
}

// idleDoneStalls checks, with the defaults (stallBubble), that once
// IDLE's DONE is sent its answer is due like any command's: a server that
// does not send it stalls the session (IDLE itself waits on the server
// with no stall timeout).
func idleDoneStalls(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		readLine(r)
		io.WriteString(w, "+ idling\r\n")
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
		if err != nil {
			t.Fatal(err)
		}
		<-p.Continuations()
		start := time.Now()
		if err := p.Continue(ctx, []byte("DONE")); err != nil {
			t.Fatal(err)
		}
		_, err = p.Wait(ctx)
		var te *session.TimeoutError
		if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Fatalf("got %v; want an abort with a stall *TimeoutError", err)
		}
		if d := time.Since(start); d < session.DefaultStallTimeout || d > session.DefaultStallTimeout+session.DefaultStallTimeout/16 {
			t.Fatalf("took %v; want about %v", d, session.DefaultStallTimeout)
		}
	})
}

// hangBound bounds a test's context only to stop a real hang: CI runs
// three packages' tests at once under -race on 2 cores, and a loaded
// machine may be 20 times slower than usual, so work that takes a second
// there may take most of a minute (TestFloodResponseNames, 100,000
// responses, failed its old 20 s bound at a load average of 17).
// Not more: a regression that hangs many tests one after another must
// not take the test binary past its 30 minutes (go test -timeout), which
// loses every other test's result (revP56).
const hangBound = 2 * time.Minute

// hangCtx returns a context ended hangBound after the call: a hang
// detector, never a bound on the test's work. (It was ctx20, when the
// bound was 20 s.)
func hangCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	t.Cleanup(cancel)
	return ctx
}

// ctxBulk is hangCtx for a test that moves tens of megabytes through the
// session (millions of flags, bodies of 30 to 40 MiB): under -race that
// took 10 to 35 s on a 2-core machine with other work on it
// (TestResultBoundCountsCopies failed 5 runs of 5 at a load average of 4
// to 9 when the hang bound was 20 s). It only guards against a hang.
func ctxBulk(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestAbort: Abort ends the session as a failed connection does: the
// command in flight and later ones fail with an *AbortError that wraps the
// caller's reason, with the history of the exchanges; the first reason
// stays; no goroutine of the session is left.
func TestAbort(t *testing.T) {
	t.Cleanup(lkCheck(t))
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		readLine(r)
		io.WriteString(w, "+ idling\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Continuations()
	why := errors.New("the caller's reason")
	s.Abort(why)
	s.Abort(errors.New("a second reason"))
	var ae *session.AbortError
	if _, err := p.Wait(ctx); !errors.Is(err, why) || !errors.As(err, &ae) || len(ae.History) == 0 {
		t.Fatalf("IDLE in flight: %v; want an *AbortError with history wrapping the reason", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); !errors.Is(err, session.ErrAborted) || !errors.Is(err, why) {
		t.Fatalf("NOOP after Abort: %v", err)
	}
}

// TestFlushNotStrandedByGivingUp: a command that leaves its bytes in the
// write buffer for the writer waiting for the lock to flush, and that
// writer's context ends before it gets the lock. The APPEND's literal was
// written after the server's "+" while a NOOP waited to be written; the
// APPEND left its last bytes for the NOOP to flush, and the NOOP gave up:
// the literal was never sent, and the APPEND waited for an answer that
// could not come (until the stall timeout ended the session, 60 s). Now
// the writer that gives up flushes them once the lock is free.
func TestFlushNotStrandedByGivingUp(t *testing.T) {
	plus, asked := make(chan struct{}), make(chan struct{})
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readLine(r) // A1 APPEND INBOX {5}
		close(asked)
		<-plus
		io.WriteString(w, "+ go ahead\r\n")
		if l := readLine(r); l != "hello" {
			return
		}
		io.WriteString(w, "A1 OK APPEND completed\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	appended := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox("INBOX").SP().Literal([]byte("hello"))
		}})
		appended <- err
	}()
	// The APPEND holds the write lock while it waits for "+"; a NOOP
	// waits for the lock behind it.
	<-asked
	nctx, cancel := context.WithCancel(ctx)
	noop := make(chan error, 1)
	go func() { _, err := s.Run(nctx, &session.Command{Name: "NOOP"}); noop <- err }()
	for session.WriteWaiters(s) == 0 {
		time.Sleep(time.Millisecond)
	}
	skipped := false
	session.OnFlushSkipped(t, func() {
		// The APPEND counted on the NOOP; the NOOP gives up before the
		// APPEND lets the lock go.
		skipped = true
		cancel()
		if err := <-noop; !errors.Is(err, context.Canceled) {
			t.Errorf("NOOP: %v; want the context's error", err)
		}
	})
	close(plus)
	actx, acancel := context.WithTimeout(ctx, 5*time.Second)
	defer acancel()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatalf("APPEND: %v", err)
		}
	case <-actx.Done():
		t.Fatal("APPEND did not complete: its literal was left in the buffer")
	}
	if !skipped {
		t.Fatal("the APPEND flushed its literal itself: the test did not reach the case")
	}
}
