package session_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// panicWriter panics on the first write holding marker.
type panicWriter struct{ marker string }

func (w *panicWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.marker)) {
		panic("zz: trace writer panics")
	}
	return len(p), nil
}

// callerInNext waits (up to waitGoroutineParked's 10 s) until a
// goroutine waits in Pending.Next: the fake servers of the panic tests
// send their first response then, so that it goes to the caller, who
// then drives the reading. Were the caller still on its way (the 300 ms
// these servers slept were not enough on a loaded machine), the reader
// goroutine would read on and meet the panic itself: the panic the test
// wants at the caller ends the test binary. A caller that never comes
// fails its test all the same.
func callerInNext() { waitGoroutineParked("", "session.(*Pending).Next") }

// callerBackInNext waits until the caller's Next has returned k
// responses (*got, counted by its loop) and the caller waits in Next
// again: the next line the server sends is read by the caller, who drives
// the reading, not by the reader goroutine. The servers slept 200 or
// 300 ms for that, which a loaded machine may not give. A caller that
// never comes back fails its test all the same (waitGoroutineParked's
// bound, then the test's own).
func callerBackInNext(got *atomic.Int32, k int32) {
	for deadline := time.Now().Add(hangBound); got.Load() < k && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // hang detector's poll
	}
	callerInNext()
}

// runTestInChild runs the test named name in a child process with ZZ_CHILD=1
// and returns its combined output.
func runTestInChild(t *testing.T, name string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "ZZ_CHILD=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestTracePanicInNextIsFatal: a Trace writer (or a slog handler, or
// another command's OnData/Sections) that panics while a pulled command's
// caller drives the reading coroutine in Next. The panic comes out of
// s.co.next() with s.mu unlocked, and Next's deferred s.mu.Unlock() turns
// it into "fatal error: sync: unlock of unlocked mutex": the process dies
// whatever the caller's recover, and the session state (co.running) would
// be left claimed anyway. Run in a child process: a fatal error cannot
// be caught.
func TestTracePanicInNextIsFatal(t *testing.T) {
	if os.Getenv("ZZ_CHILD") == "1" {
		tracePanicChild(t)
		return
	}
	out, err := runTestInChild(t, "TestTracePanicInNextIsFatal")
	if !strings.Contains(out, "ZZ RECOVERED") {
		t.Fatalf("the trace writer's panic did not reach the caller of Next as a panic (err %v):\n%s", err, firstLines(out, 12))
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

func tracePanicChild(t *testing.T) {
	var nexts atomic.Int32 // the responses Next returned
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		// The caller waits in Next before the first response comes, so
		// that it is lent to it and the caller reads the second itself
		// (sent at once, the first was queued, and the reader goroutine,
		// reading on, met the panic: 1 run in 10 under -race). Waited
		// for, not slept for: a caller that reached Next 300 ms late
		// (a loaded machine) had the panic on the reader goroutine.
		callerInNext()
		io.WriteString(w, "* 1 FETCH (UID 10)\r\n")
		callerBackInNext(&nexts, 1)
		io.WriteString(w, "* 2 FETCH (UID 20)\r\n")
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "A1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A", Trace: &panicWriter{marker: "* 2 FETCH"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Start(hangCtx(t), pullUIDFetch("(UID)"))
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				println("ZZ RECOVERED", v.(string))
			}
		}()
		for {
			_, err := p.Next(context.Background())
			if err != nil {
				return
			}
			nexts.Add(1)
		}
	}()
	s.Close()
}

// oncePanicWriter panics on the first write holding marker, once.
type oncePanicWriter struct {
	marker string
	done   bool
}

func (w *oncePanicWriter) Write(p []byte) (int, error) {
	if !w.done && bytes.Contains(p, []byte(w.marker)) {
		w.done = true
		panic("zz: trace writer panics")
	}
	return len(p), nil
}

// TestTracePanicOnSend: the Trace writer panics as a command's line is
// traced (recovered by the caller of Run). The command stays registered
// in flight, never sent and never finished: every command that waits for
// the commands in flight (LOGOUT, SELECT, ...) waits for it, and with
// the defaults the session is aborted StallTimeout (60 s) later with
// "no byte from the server", though nothing was asked of the server.
func TestTracePanicOnSend(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			io.WriteString(w, tag+" OK "+rest+" done\r\n")
		}
	})
	s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A", Trace: &oncePanicWriter{marker: "NOOP"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	func() {
		defer func() { recover() }()
		s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
	}()
	ctx := hangCtx(t)
	for _, name := range []string{"CHECK", "LOGOUT"} {
		if _, err := s.Run(ctx, &session.Command{Name: name, AnyState: true}); err != nil && !errors.Is(err, session.ErrClosed) {
			t.Fatalf("%s after a panic in the trace writer: %v", name, err)
		}
	}
}

// TestArgsPanicKeepsCommandInFlight: a Command's Args function panics as the command is
// encoded (recovered by the caller of Run): nothing was sent, but the
// command stays in flight as in TestTracePanicOnSend: LOGOUT waits for
// it, and the session is aborted StallTimeout later.
func TestArgsPanicKeepsCommandInFlight(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			io.WriteString(w, tag+" OK "+rest+" done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	p := func() (v any) {
		defer func() { v = recover() }()
		s.Run(hangCtx(t), &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) { panic("zz: Args panics") }})
		return nil
	}()
	if p == nil {
		t.Fatal("no panic")
	}
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, &session.Command{Name: "LOGOUT"}); err != nil && !errors.Is(err, session.ErrClosed) {
		t.Fatalf("LOGOUT after a panic in a command's Args: %v", err)
	}
}

// TestWantPanicInNextDeadlocks: a Command.Want that panics. Want is
// called under the session's mu (targetLocked, from deliver), on whatever
// goroutine routes: here the caller of Next, which drives the reading
// coroutine. 1804c98's driveFor recovers the panic and calls s.abort,
// which locks mu, still held by the goroutine that panicked inside
// readOne: the caller of Next deadlocks (it never gets the panic back),
// and every later use of the session (Close included) blocks on mu.
// Before 1804c98 the panic reached the caller (Next's deferred Unlock
// released the mu held). Whatever the fix, Next must come back (with the
// panic) and Close must return.
func TestWantPanicInNextDeadlocks(t *testing.T) {
	var nexts atomic.Int32 // the responses Next returned
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		// The caller waits in Next first: the first FETCH is lent to
		// it, and from then on it drives the reading coroutine.
		callerInNext()
		io.WriteString(w, "* 1 FETCH (UID 10)\r\n")
		callerBackInNext(&nexts, 1)
		io.WriteString(w, "* 2 FETCH (UID 20)\r\n")
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "A1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	// No t.Cleanup(s.Close): it would hang the test binary.
	s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := pullUIDFetch("(UID)")
	cmd.Want = func(r codec.Response) bool {
		if f, ok := r.(*codec.Fetch); ok && f.Seq == 2 {
			panic("zz: Want panics")
		}
		return true
	}
	p, err := s.Start(hangCtx(t), cmd)
	if err != nil {
		t.Fatal(err)
	}
	back := make(chan any, 1)
	go func() {
		defer func() { back <- recover() }()
		for {
			if _, err := p.Next(context.Background()); err != nil {
				return
			}
			nexts.Add(1)
		}
	}()
	select {
	case v := <-back:
		t.Logf("Next came back: %v", v)
	case <-time.After(time.Minute):
		t.Fatal("Next never came back after Command.Want panicked: the session's mu is held by the recovery (deadlock)")
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close hangs after Command.Want panicked in Next")
	}
}

// TestWantPanicInBlameFatal: 3fc8c67 marks a Command.Want's call
// (inWant) so that driveFor's recovery, when the panic came from a Want
// called with mu held, unlocks mu. But blame (read.go), which calls
// Pending.wants for an undecodable untagged FETCH, holds mu with a
// deferred Unlock: that Unlock runs while the panic unwinds, and driveFor
// then finds inWant still set and unlocks mu a second time: "fatal error:
// sync: unlock of unlocked mutex", which no recover catches: the whole
// program dies. Here the Want reads the FETCH's envelope (it asked for
// ENVELOPE), nil in the empty FETCH that blame probes Want with, and the
// server sends one FETCH line the codec cannot decode. Run in a child
// process: the fatal error would end the test binary.
func TestWantPanicInBlameFatal(t *testing.T) {
	if os.Getenv("ZZ_WANT_BLAME_CHILD") == "1" {
		wantBlamePanicChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestWantPanicInBlameFatal$", "-test.v")
	cmd.Env = append(os.Environ(), "ZZ_WANT_BLAME_CHILD=1")
	out, _ := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if strings.Contains(string(out), "fatal error") {
		t.Fatalf("a panic in Command.Want, called by blame for an undecodable FETCH while Next drives, kills the program (fatal error, no recover can catch it); it should reach Next's caller as a panic, with the session aborted")
	}
	if !strings.Contains(string(out), "ZZ: Next came back") {
		t.Fatalf("Next did not come back with the panic")
	}
}

func wantBlamePanicChild(t *testing.T) {
	var nexts atomic.Int32 // the responses Next returned
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		callerInNext()
		io.WriteString(w, "* 1 FETCH (UID 10 ENVELOPE (NIL \"hi\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
		callerBackInNext(&nexts, 1)
		// Undecodable (a UID that is not a number): blamed on the
		// command that wants FETCH.
		io.WriteString(w, "* 2 FETCH (UID xyz ENVELOPE NIL)\r\n")
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "A1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := pullUIDFetch("(UID ENVELOPE)")
	cmd.Want = func(r codec.Response) bool {
		if f, ok := r.(*codec.Fetch); ok {
			// Only messages with a subject: f.Envelope is there, as
			// ENVELOPE was asked for.
			return len(f.Envelope.Subject) > 0
		}
		return false
	}
	p, err := s.Start(hangCtx(t), cmd)
	if err != nil {
		t.Fatal(err)
	}
	back := make(chan any, 1)
	go func() {
		defer func() { back <- recover() }()
		for {
			if _, err := p.Next(context.Background()); err != nil {
				t.Logf("Next: %v", err)
				return
			}
			nexts.Add(1)
		}
	}()
	select {
	case v := <-back:
		t.Logf("ZZ: Next came back: %v", v)
	case <-time.After(time.Minute):
		t.Fatal("Next never came back")
	}
	s.Close()
}

// TestWantPanicInSectionHandler: a Command.Want that panics
// (user code: docs/session.md says such a panic ends the program, and
// efd821f says a panic of the user's code run within the decoder "is not
// caught and goes on as before") is called by the session's
// sectionHandler from within the decoder, with s.mu held
// (targetLocked -> routeLocked -> callWant). decodeNext's recover takes
// it for a decoder bug (only Sections and reads are marked as user code),
// and the session then takes s.mu again (readOne's s.Err()): the reader
// goroutine deadlocks on its own lock, and every later call that needs
// it, Close included, hangs for ever. Run in a child process: the child
// must end with the Want's panic, not hang.
func TestWantPanicInSectionHandler(t *testing.T) {
	if os.Getenv("IMAPKIT_WANT_PANIC_CHILD") == "1" {
		wantPanicChild(t)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWantPanicInSectionHandler$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "IMAPKIT_WANT_PANIC_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		// Its goroutines' stacks show where it is stuck.
		cmd.Process.Signal(quitSignal)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		t.Fatalf("the child hung: its Run (1 min context) and Close never returned (SIGQUIT after 3 min); output:\n%s", trimStacks(out.String()))
	}
	s := out.String()
	if strings.Contains(s, "ZZ: Close hung") {
		t.Fatalf("the Want's panic was swallowed and the session deadlocked: Close never returned; output:\n%s", s)
	}
	if err == nil || !strings.Contains(s, "panic: the user's Want panics") || strings.Contains(s, "a bug in imapkit") {
		t.Fatalf("want the Want's own panic to end the child; err %v, output:\n%s", err, s)
	}
}

func wantPanicChild(t *testing.T) {
	ctx, s := hostileOpen(t, time.Minute, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("FETCH")
		if err != nil {
			return err
		}
		c.Line("* 1 FETCH (UID 7 BODY[] {5000}\r\n" + strings.Repeat("x", 5000) + ")")
		c.Reply(cmd.Tag, "OK")
		return c.Serve()
	})
	_, err := s.Run(ctx, &session.Command{Name: "FETCH", AnyState: true,
		Args: func(e *wire.Encoder) { e.SP().Raw("1").SP().Raw("(BODY[])") },
		Want: func(codec.Response) bool { panic("the user's Want panics") },
		Sections: func(_ *codec.Fetch, _ *codec.Section, r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		}})
	fmt.Printf("ZZ: Run returned %v\n", err)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		fmt.Println("ZZ: Close returned")
	case <-time.After(time.Minute):
		fmt.Println("ZZ: Close hung")
		os.Exit(7)
	}
}

// trimStacks keeps, of the child's output, what is not a goroutine's stack
// and the stacks that go through this module (where it is stuck).
func trimStacks(s string) string {
	var b strings.Builder
	for i, block := range strings.Split(s, "\n\n") {
		if i == 0 || !strings.HasPrefix(block, "goroutine ") || strings.Contains(block, "imapkit/imapkit/session") {
			b.WriteString(block)
			b.WriteString("\n\n")
		}
	}
	return b.String()
}
