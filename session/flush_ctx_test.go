package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// The tests here: the flushes of the write buffer outside a command's own
// write (StartBatch's, before a later command waits for its turn; a
// writer's that ends without writing its command, for the commands before
// it) honour the caller's context as a command's write does. Found by
// review (stop 52): they took the write lock without the context and
// wrote outside the write watch, so a caller whose context ended while the
// server took no bytes waited for the write stall bound (4 min with the
// defaults). Library defaults throughout; synctest bubbles, whose clock
// reaches the bounds at once when everything waits.

// heldServer is a server, over transport.Pipe, that greets (PREAUTH,
// LITERAL+) and reads nothing until go is closed; then it answers every
// command OK (a LITERAL+ body skipped).
func heldServer(srv io.ReadWriteCloser, start <-chan struct{}) {
	defer srv.Close()
	io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")
	<-start
	r := bufio.NewReaderSize(srv, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(line, '{'); i >= 0 && strings.HasSuffix(line, "+}\r\n") {
			n, err := strconv.ParseInt(line[i+1:len(line)-4], 10, 64)
			if err != nil {
				return
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
		tag, _, _ := strings.Cut(line, " ")
		if _, err := io.WriteString(srv, tag+" OK done\r\n"); err != nil {
			return
		}
	}
}

// heldSession opens a session, with the defaults, on heldServer in the
// calling test's bubble. Calling the returned func lets the server read;
// the session is closed, and the server waited for, when the test ends.
func heldSession(t *testing.T) (*session.Session, func()) {
	t.Helper()
	c, srv := transport.Pipe()
	start := make(chan struct{})
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		heldServer(srv, start)
	}()
	s, err := session.Open(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	let := sync.OnceFunc(func() { close(start) })
	t.Cleanup(func() {
		s.Close()
		let()
		<-srvDone
	})
	return s, let
}

// fillingBatch is the start of the batches here: an APPEND that leaves
// 8 KiB of the pipe free, less its line (larger than the write buffer, it
// goes out at once, and does not wait), and a NOOP of 12 KiB, which stays
// in the write buffer and is larger than what the pipe has left: whoever
// flushes it waits for the server.
func fillingBatch() []*session.Command {
	msg := strings.Repeat("y", transport.PipeBufferSize-8<<10)
	return []*session.Command{
		{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Raw("INBOX").SP().Literal([]byte(msg)) }},
		{Name: "NOOP", Args: func(e *wire.Encoder) { e.SP().Raw(strings.Repeat("n", 12<<10)) }},
	}
}

// TestStartBatchFlushHonoursContext: StartBatch flushes what its earlier
// commands left in the write buffer before a later one waits for its turn
// (here one that runs alone). With a server that reads nothing, that
// flush waits, and the caller's context ending must end it: StartBatch
// returns then with the context's error, the later command not sent, and
// the session aborted (the flush was cut: the earlier commands' bytes may
// be half out), as for a command's own write. Before the fix it returned
// after the write stall bound (4 min).
func TestStartBatchFlushHonoursContext(t *testing.T) {
	const at = 10 * time.Second
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		// A deadline also bounds the batch's commands (CommandTimeout's
		// grace past it: before the fix, 70 s).
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), at)
		}, context.DeadlineExceeded},
		// Cancelled: no deadline, only the write stall bound (before
		// the fix, 4 min).
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(at, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
				s, _ := heldSession(t)
				ctx, cancel := tc.ctx()
				defer cancel()
				start := time.Now()
				ps, err := s.StartBatch(ctx, append(fillingBatch(), &session.Command{Name: "XALONE"})) // unknown: runs alone
				if took := time.Since(start); took >= session.DefaultStallTimeout {                    // the bubble's clock
					t.Fatalf("StartBatch returned %v after it began, its context ending at %v: %v", took, at, err)
				}
				if !errors.Is(err, tc.want) || !errors.Is(err, session.ErrNotSent) {
					t.Fatalf("StartBatch: %v, want the context's error, not sent", err)
				}
				if len(ps) != 2 {
					t.Fatalf("StartBatch gave %d commands, want the 2 sent", len(ps))
				}
				if !errors.Is(s.Err(), session.ErrAborted) {
					t.Fatalf("session after a cut flush: %v, want aborted", s.Err())
				}
				for _, p := range ps {
					if _, err := p.Wait(context.Background()); !errors.Is(err, session.ErrAborted) {
						t.Errorf("%s: %v, want aborted", p.Tag(), err)
					}
				}
			})
		})
	}
}

// TestStartBatchCanceledInArgsDoesNotWaitForFlush: a batch's command
// whose context ends while it is encoded (its Args) is not sent, and the
// bytes its batch's earlier commands left in the write buffer are flushed
// for them (flushForOthers). That flush is theirs, not bounded by the
// context that ended (cutting it would abort the session over a command
// that was not sent); the write stall bound is its bound. But the caller
// whose context ended does not wait for it: StartBatch returns at once,
// the flush goes on without it, and once the server reads the earlier
// commands complete and the session goes on. Before the fix StartBatch
// returned after the flush, here the write stall bound (4 min), which
// aborted the session.
func TestStartBatchCanceledInArgsDoesNotWaitForFlush(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		s, serverReads := heldSession(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		start := time.Now()
		ps, err := s.StartBatch(ctx, append(fillingBatch(), &session.Command{Name: "NOOP", Args: func(*wire.Encoder) { cancel() }}))
		took := time.Since(start) // the bubble's clock
		if took >= session.DefaultStallTimeout {
			t.Fatalf("StartBatch returned %v after its context's end: %v", took, err)
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrNotSent) {
			t.Fatalf("StartBatch: %v, want the context's error, not sent", err)
		}
		if len(ps) != 2 {
			t.Fatalf("StartBatch gave %d commands, want the 2 sent", len(ps))
		}
		serverReads()
		for _, p := range ps {
			if _, err := p.Wait(context.Background()); err != nil {
				t.Errorf("%s: %v", p.Tag(), err)
			}
		}
		if _, err := s.Run(context.Background(), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("NOOP after: %v", err)
		}
	})
}

// plusServer is a server, over transport.Pipe, that greets (PREAUTH, no
// LITERAL+) and answers every command OK as it comes, but a command with
// a synchronizing literal: its "+" waits until plus is closed.
func plusServer(srv io.ReadWriteCloser, plus <-chan struct{}) {
	defer srv.Close()
	io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
	r := bufio.NewReader(srv)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(line, '{'); i >= 0 && strings.HasSuffix(line, "}\r\n") {
			n, err := strconv.ParseInt(line[i+1:len(line)-3], 10, 64)
			if err != nil {
				return
			}
			<-plus
			io.WriteString(srv, "+ go on\r\n")
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
		tag, _, _ := strings.Cut(line, " ")
		if _, err := io.WriteString(srv, tag+" OK done\r\n"); err != nil {
			return
		}
	}
}

// TestStartBatchFlushLockHonoursContext: StartBatch's flush of its earlier
// commands waits for the write lock while another goroutine's APPEND holds
// it, waiting for its "+". The caller's context ending must end that wait:
// StartBatch returns then, the later command not sent (the context's
// error), and the session goes on: the earlier commands' bytes, written
// before the APPEND's, go out with it, and every command completes. Before
// the fix the flush took the lock without the context and StartBatch
// returned when the stall timeout (60 s) aborted the session.
func TestStartBatchFlushLockHonoursContext(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		c, srv := transport.Pipe()
		plus := make(chan struct{})
		let := sync.OnceFunc(func() { close(plus) })
		srvDone := make(chan struct{})
		go func() {
			defer close(srvDone)
			plusServer(srv, plus)
		}()
		s, err := session.Open(context.Background(), c, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			s.Close()
			let()
			<-srvDone
		}()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const at = 10 * time.Second
		time.AfterFunc(at, cancel)
		type started struct {
			p   *session.Pending
			err error
		}
		appended := make(chan started, 1)
		batch := []*session.Command{
			{Name: "NOOP"},
			{Name: "NOOP", Args: func(*wire.Encoder) {
				// Under the write lock: the APPEND waits for it, and
				// takes it when this command's write is done.
				go func() {
					p, err := s.Start(context.Background(), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
						e.SP().Raw("INBOX").SP().Literal([]byte("hello"))
					}})
					appended <- started{p, err}
				}()
				synctest.Wait()
			}},
			{Name: "XALONE"}, // unknown: runs alone, waits for the rest
		}
		start := time.Now()
		ps, err := s.StartBatch(ctx, batch)
		if took := time.Since(start); took >= session.DefaultStallTimeout { // the bubble's clock
			t.Fatalf("StartBatch returned %v after it began, its context ending at %v: %v", took, at, err)
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrNotSent) {
			t.Fatalf("StartBatch: %v, want the context's error, not sent", err)
		}
		if s.Err() != nil {
			t.Fatalf("session after a flush that gave up waiting for the write lock: %v", s.Err())
		}
		let()
		a := <-appended
		if a.err != nil {
			t.Fatalf("APPEND: %v", a.err)
		}
		for _, p := range append(ps, a.p) {
			if _, err := p.Wait(context.Background()); err != nil {
				t.Errorf("%s: %v", p.Tag(), err)
			}
		}
		if _, err := s.Run(context.Background(), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("NOOP after: %v", err)
		}
	})
}

// The tests below were found by review (stop 52) of the change above.

// TestUnsentAfterBufferedReleasesEncoder: a batch's command whose Args
// fails is not sent, and the bytes its earlier command left in the write
// buffer are flushed for it by flushBehind, on a goroutine of its own,
// after that command's send has returned. The Encoder (and the 64 KiB
// buffer the failed command grew, with its bytes: a Password's, say) must
// go back to the pool once that flush leaves nothing to write, as
// TestReleasesEncoder promises ("a session holds its command Encoder only
// while something is to be written"). Before the fix send released it
// before flushBehind's goroutine flushed, found the buffer not empty and
// kept it, and nothing released it after.
func TestUnsentAfterBufferedReleasesEncoder(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		s, serverReads := heldSession(t)
		serverReads()
		big := strings.Repeat("a", 64<<10)
		ps, err := s.StartBatch(context.Background(), []*session.Command{
			{Name: "NOOP"},
			{Name: "NOOP", Args: func(e *wire.Encoder) { e.SP().Atom(big).SP().Atom("not an atom") }},
		})
		if err == nil || len(ps) != 1 {
			t.Fatalf("StartBatch: %d started, %v; want 1 and the Args' error", len(ps), err)
		}
		if _, err := ps[0].Wait(context.Background()); err != nil {
			t.Fatalf("the first NOOP: %v", err)
		}
		synctest.Wait()
		if session.HeldEncoder(s) {
			t.Fatal("everything answered, nothing to write: the session still holds its Encoder")
		}
	})
}

// countCtx is a context that never ends and counts the context.AfterFunc
// registrations made on it and not stopped (it is its own afterFuncer:
// no cancelCtx inside, so context.AfterFunc asks it).
type countCtx struct {
	done chan struct{}
	mu   sync.Mutex
	live int
}

func newCountCtx() *countCtx { return &countCtx{done: make(chan struct{})} }

func (c *countCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *countCtx) Done() <-chan struct{}       { return c.done }
func (c *countCtx) Err() error                  { return nil }
func (c *countCtx) Value(any) any               { return nil }

func (c *countCtx) AfterFunc(func()) func() bool {
	c.mu.Lock()
	c.live++
	c.mu.Unlock()
	stopped := false
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if stopped {
			return false
		}
		stopped = true
		c.live--
		return true
	}
}

func (c *countCtx) registered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// wantNoneLeft fails t when, once every goroutine of the bubble waits, a
// context.AfterFunc registration (the write watch of a closed session) is
// left on c.
func (c *countCtx) wantNoneLeft(t *testing.T) {
	t.Helper()
	synctest.Wait()
	if n := c.registered(); n != 0 {
		t.Fatalf("the session is closed, yet %d context.AfterFunc registration(s) of its write watch remain on the caller's context", n)
	}
}

// TestBatchFlushAfterCloseLeavesNoWatch: a batch's later command that
// waits for its turn (one that runs alone) when the session is closed ends
// not sent (ErrClosed). The batch's flush must not begin the write watch
// then: on a watch abortWith has closed, begin registered a new
// context.AfterFunc on the caller's context that nothing stopped, holding
// the dead Session (1 KiB, its connection, its trace history) for as long
// as the context lives (a program's root context: one Session for each
// reconnect). Before the fix start flushed again after register gave up,
// and flush began the watch without looking at the session's end, as send
// does.
func TestBatchFlushAfterCloseLeavesNoWatch(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		s, _ := heldSession(t) // takes the NOOP into the pipe, never answers it
		ctx := newCountCtx()
		time.AfterFunc(time.Second, func() { s.Close() })
		ps, err := s.StartBatch(ctx, []*session.Command{{Name: "NOOP"}, {Name: "XALONE"}}) // unknown: runs alone
		if !errors.Is(err, session.ErrClosed) || !errors.Is(err, session.ErrNotSent) || len(ps) != 1 {
			t.Fatalf("StartBatch: %d started, %v; want 1 and ErrClosed, not sent", len(ps), err)
		}
		ctx.wantNoneLeft(t)
	})
}

// closingHandler is a slog.Handler that runs close at the first record
// of a command's start ("imap command"), on the writer's goroutine.
type closingHandler struct{ close func() }

func (h closingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h closingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h closingHandler) WithGroup(string) slog.Handler            { return h }
func (h closingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "imap command" {
		h.close()
	}
	return nil
}

// TestBatchFlushAfterEndLeavesNoWatch: the session is closed after a
// batch's first command was written into the buffer (by the Logger's
// handler, as the command starts) and before the second registers: the
// second ends not sent (ErrClosed), and start flushes what the first left
// in the buffer. That flush must leave the ended session alone: no write
// on its closed connection, no write watch begun on the caller's context
// (registered on a closed watch, nothing would stop it). flush looks at
// the session's end as send does; writeWatch.begin, once the watch is
// closed, does nothing either: this test fails with both checks removed.
// Options.Logger is set to close the session at that point.
func TestBatchFlushAfterEndLeavesNoWatch(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		c, srv := transport.Pipe()
		start := make(chan struct{})
		srvDone := make(chan struct{})
		go func() {
			defer close(srvDone)
			heldServer(srv, start)
		}()
		var s *session.Session
		closeOnce := sync.OnceFunc(func() { s.Close() })
		s, err := session.Open(context.Background(), c, &session.Options{Logger: slog.New(closingHandler{close: func() { closeOnce() }})})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			s.Close()
			close(start)
			<-srvDone
		}()
		ctx := newCountCtx()
		ps, err := s.StartBatch(ctx, []*session.Command{{Name: "NOOP"}, {Name: "NOOP"}})
		if !errors.Is(err, session.ErrClosed) || !errors.Is(err, session.ErrNotSent) || len(ps) != 1 {
			t.Fatalf("StartBatch: %d started, %v; want 1 and ErrClosed, not sent", len(ps), err)
		}
		ctx.wantNoneLeft(t)
	})
}

// TestWriteWatchNotBegunAfterClose: the writers look at the session's end
// after taking the write lock, but Close (abortWith) does not take it and
// may end the session after that look, before the write watch is begun:
// here while the command's Args runs. The watch, closed, must not
// register on the caller's context then (as above, it would keep the dead
// Session reachable from it). Before the fix begin did not know the watch
// was closed.
func TestWriteWatchNotBegunAfterClose(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		s, _ := heldSession(t)
		ctx := newCountCtx()
		_, err := s.Run(ctx, &session.Command{Name: "NOOP", Args: func(*wire.Encoder) { s.Close() }})
		if !errors.Is(err, session.ErrClosed) {
			t.Fatalf("Run: %v, want ErrClosed", err)
		}
		ctx.wantNoneLeft(t)
	})
}

// TestBatchFlushCutErrorMatchesAborted: when the batch's flush of its
// earlier commands is cut by the batch's context (a server that reads
// nothing), the session is aborted by that very call. StartBatch's error,
// that of the later command, which was not sent, matches the context's
// error and the *AbortError (ErrAborted), as the error of a command whose
// own write the context cut (doc.go's Cancellation), and ErrNotSent (it
// was not sent: docs/errors.md tells a caller not to retry it on this
// session, which has ended, since it matches ErrAborted), not
// ErrWriteCut (nothing of it was written). Before the fix it was a
// *NotSentError wrapping the context's error alone: a caller following
// docs/errors.md retried on the dead session.
func TestBatchFlushCutErrorMatchesAborted(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		s, _ := heldSession(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.StartBatch(ctx, append(fillingBatch(), &session.Command{Name: "XALONE"}))
		if !errors.Is(s.Err(), session.ErrAborted) {
			t.Fatalf("the case is not made: session %v, StartBatch %v", s.Err(), err)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, session.ErrAborted) || !errors.Is(err, session.ErrNotSent) {
			t.Fatalf("StartBatch: %v; the session aborted by this call's cut flush (%v): want the context's error, ErrAborted and ErrNotSent", err, s.Err())
		}
		var ae *session.AbortError
		if !errors.As(err, &ae) {
			t.Fatalf("StartBatch: %v, want an *AbortError in it", err)
		}
		if errors.Is(err, session.ErrWriteCut) {
			t.Fatalf("StartBatch: %v; the later command was not written: not ErrWriteCut", err)
		}
	})
}

// TestCloseLeavesNoFlushBehindGoroutine: a command that gives up waiting
// for the write lock (its context ended) leaves the bytes buffered before
// it to flushBehind's goroutine, which waits for the lock. Close's doc
// promises "No goroutine of the session is left when Close returns" (and
// Done's, that every goroutine it started has returned), yet that
// goroutine went on waiting after Close, for as long as the lock's holder
// kept it: here an APPEND whose body's Read blocks (the caller's code).
// Now it gives up once the session has ended, and the reader waits for it
// as it ends: Close waits for it, and not for the Read. The hook holds the
// goroutine a (bubble's) second as it returns, so that a Close that does
// not wait for it finds it there. Found by review (stop 52).
func TestCloseLeavesNoFlushBehindGoroutine(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		session.OnBehindEnd(t, func() { time.Sleep(time.Second) })
		s, _ := heldSession(t)
		pr, pw := io.Pipe()
		defer pw.CloseWithError(errors.New("test over"))
		ctxA, cancelA := context.WithCancel(context.Background()) // can end, never does here
		defer cancelA()
		aDone := make(chan struct{})
		go func() {
			defer close(aDone)
			s.Run(ctxA, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
				e.SP().Atom("INBOX").SP().LiteralReader(10, pr, false)
			}})
		}()
		synctest.Wait() // A holds the write lock, its body's Read blocked
		ctxB, cancelB := context.WithTimeout(context.Background(), time.Second)
		defer cancelB()
		_, err := s.Run(ctxB, &session.Command{Name: "NOOP"})
		if !errors.Is(err, session.ErrNotSent) {
			t.Fatalf("NOOP: %v, want not sent (its context ended waiting for the write lock)", err)
		}
		synctest.Wait() // flushBehind's goroutine waits for the write lock
		s.Close()
		select {
		case <-s.Done():
		default:
			t.Fatal("Close returned before Done was closed")
		}
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		pw.CloseWithError(errors.New("test over"))
		<-aDone
		// The bubble's time: a goroutine left behind (the fault) ends
		// before the bubble does, which would panic otherwise.
		time.Sleep(2 * time.Second)
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "flushBehind") {
				t.Fatalf("Close returned and Done is closed, yet a flushBehind goroutine of the session is left:\n%s", g)
			}
		}
	})
}
