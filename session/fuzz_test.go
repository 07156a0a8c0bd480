package session_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// FuzzSession replays fuzzed server bytes against pipelined commands (issue
// 7's session target). Each exec opens a session over a transport.Pipe
// with the library's defaults (a fixed TagPrefix only, so that inputs can
// name the tags) behind the fixed greeting fzGreeting, starts
//
//	A1 UID FETCH 1:* (UID FLAGS BODY.PEEK[])  (streams its sections)
//	A2 NOOP
//	A3 STATUS INBOX (MESSAGES UIDNEXT)         (collects its data)
//	A4 APPEND INBOX {5}                        (a synchronizing literal)
//
// and, once the server has read the APPEND's first line (so that A1 to A3
// are written and A4 waits for "+"), writes the input and closes its end.
// Like a real server, it stops after the input's first line that starts
// with "+" until it has read the literal (or for 2 s), so that a
// well-formed exchange stays well-formed.
//
// No timeout of the session is shortened: the server always hangs up after
// the input, so every command ends on the input's bytes or on the EOF that
// follows, and the defaults (StallTimeout 60 s, CommandTimeout 15 min) can
// never be what ends an exec. A command still waiting fzBound after the
// hang-up is a hang, and fails the exec.
//
// Each exec runs in a testing/synctest bubble (fzBubbled), as
// FuzzStartTLS's do: the server's wait for the literal (fzLiteralWait),
// its deadline and the bounds above are
// on the bubble's clock, which moves only when every goroutine of the
// exec waits: they cost no wall time, and a loaded machine cuts no flow
// short. An exec still running after startTLSRealGuard of real time (a
// wait the bubble's clock does not see: a sync.Mutex held, a spin) fails
// with every goroutine's stack.
//
// Invariants, per exec: no panic. A panic of the decoder's own code is
// recovered by the session (decodeNext), which ends with an *AbortError
// matching ErrDecoderPanic: an error of any command, or the session's Err,
// that matches it (or ErrPanicked: the harness's callbacks never panic)
// fails the exec (fzCheckPanics); any other panic (one the session does
// not recover) still kills the worker and go test reports it. Every
// started command ends within fzBound; every error's text and every trace line is valid
// UTF-8 without control bytes (C0, DEL, C1: no terminal escape reaches the
// user or a log); after Close no
// goroutine of the session is left. Every fzMemEvery execs, the heap in
// use after a GC must not have grown by more than fzMaxHeapGrowth since
// the first check.
//
// Seeds: the quirk captures of codec/testdata/quirks as server streams (as
// they are, whose tags A1..A9 hit the commands and beyond, and their
// untagged responses followed by a well-formed completion of A1..A4), and
// the byte-stream versions of the hostile scenarios (internal/fuzzseed).
func FuzzSession(f *testing.F) {
	caps, err := fuzzseed.Captures("../codec/testdata/quirks")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range caps {
		f.Add(c.Data)
		f.Add(append(fuzzseed.Untagged(c.Data), fuzzseed.Complete...))
	}
	for _, h := range fuzzseed.Hostile() {
		f.Add(h.Data)
	}
	var execs atomic.Int64
	var heap0 atomic.Uint64
	f.Fuzz(func(t *testing.T, data []byte) {
		fzExec(t, data, -1)
		if n := execs.Add(1); n%fzMemEvery == 1 {
			fzCheckHeap(t, &heap0)
		}
	})
}

const (
	fzGreeting = "* PREAUTH [CAPABILITY IMAP4rev1] fuzz server ready\r\n"
	// fzBound is how long the server lives, and a second more how long
	// an exec may take (generous: execs take milliseconds, on a shared
	// machine with the fuzzer niced). It must stay well under the 10 s
	// after which Go's fuzzing engine kills a worker ("deadlocked!"): an
	// exec stuck past it kills the worker while minimizing, and the
	// harness's report, with the goroutines' stacks, would be lost.
	fzBound = 4 * time.Second
	// fzLiteralWait is how long the server waits for the APPEND literal
	// after the input's first "+", on the exec's bubble's clock (it was
	// 2 s, then 250 ms of real time: minimizing a new input took minutes,
	// with no exec counted meanwhile; in the bubble the wait costs
	// nothing, as the clock moves only when the client waits too).
	fzLiteralWait = 250 * time.Millisecond
	// fzMemEvery is how often (in execs) the heap is checked.
	fzMemEvery = 500
	// fzMaxHeapGrowth bounds the growth of the heap in use across execs.
	fzMaxHeapGrowth = 128 << 20
)

// fzExec runs one exec of FuzzSession, in a synctest bubble
// (fzBubbled), and returns the errors the four commands ended with, in
// the order they ended. With cut >= 0, every read of the client after the
// greeting and cut more bytes fails (fzCutConn).
func fzExec(t *testing.T, data []byte, cut int) []error {
	t.Helper()
	var errs []error
	fzBubbled(t, func(t *testing.T) { errs = fzExecBubble(t, data, cut) })
	return errs
}

// fzBubbled runs exec in a synctest bubble under the real-clock guard of
// FuzzStartTLS (startTLSGuarded, startTLSRealGuard).
func fzBubbled(t *testing.T, exec func(t *testing.T)) {
	t.Helper()
	if stacks, _ := startTLSGuarded(t, exec); stacks != nil {
		t.Fatalf("the exec still running after %v of real time (waiting on what the bubble's clock does not see: a sync.Mutex, a syscall; or spinning)\n%s", startTLSRealGuard, stacks)
	}
}

// fzExecBubble is fzExec's exec, in its bubble.
func fzExecBubble(t *testing.T, data []byte, cut int) []error {
	n0 := runtime.NumGoroutine()
	pipe, server := transport.Pipe()
	client, cc := fzCut(pipe, cut)
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		server.SetDeadline(time.Now().Add(fzBound))
		if _, err := io.WriteString(server, fzGreeting); err != nil {
			return
		}
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, " APPEND ") {
				break
			}
		}
		// Like a real server, wait for the literal after the first "+"
		// line before sending the rest.
		first, rest := fzSplitContinuation(data)
		if _, err := server.Write(first); err != nil || rest == nil {
			return
		}
		// Not long: most inputs never make the client send it, and
		// then every exec (and each of the 200 execs of minimizing an
		// input) would last this long; a slow machine only cuts some
		// flows short.
		server.SetReadDeadline(time.Now().Add(fzLiteralWait))
		if _, err := r.ReadString('\n'); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
		server.Write(rest)
	}()

	ctx := context.Background()
	tr := &fzTrace{}
	s, err := session.Open(ctx, client, &session.Options{TagPrefix: "A", OnUnsolicited: func(codec.Response) {}, Trace: tr})
	if err != nil {
		// The greeting is fixed: Open must succeed.
		client.Close()
		<-srvDone
		t.Fatalf("Open: %v", err)
	}
	cmds := []*session.Command{
		{Name: "UID FETCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Raw("(UID FLAGS BODY.PEEK[])") },
			Sections: func(_ *codec.Fetch, _ *codec.Section, r io.Reader) error {
				_, err := io.Copy(io.Discard, r)
				return err
			}},
		{Name: "NOOP"},
		{Name: "STATUS", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX").SP().Raw("(MESSAGES UIDNEXT)") }},
	}
	ended := make(chan error, len(cmds)+1)
	for _, c := range cmds {
		p, err := s.Start(ctx, c)
		if err != nil {
			ended <- err
			continue
		}
		go func() { _, err := p.Wait(ctx); ended <- err }()
	}
	go func() {
		_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX").SP().Literal([]byte("hello")) }})
		ended <- err
	}()
	timeout := time.NewTimer(fzBound + time.Second)
	defer timeout.Stop()
	var errs []error
	for range len(cmds) + 1 {
		select {
		case err := <-ended:
			errs = append(errs, err)
		case <-timeout.C:
			t.Errorf("%d of %d commands did not end within %v of the server's hang-up; goroutines:\n%s", len(cmds)+1-len(errs), len(cmds)+1, fzBound, fuzzseed.Stacks())
			fzCloseBounded(t, s, srvDone)
		}
	}
	serr := s.Err()
	s.Close()
	client.Close()
	<-srvDone
	for _, err := range append(errs, serr) {
		if err == nil {
			continue
		}
		if msg := err.Error(); fuzzseed.Unsafe(msg) {
			t.Errorf("an error carries control bytes or invalid UTF-8: %q", msg)
		}
	}
	fzCheckPanics(t, append(errs, serr)...)
	if bad := tr.bad.Load(); bad != nil {
		t.Errorf("a trace line holds control bytes or invalid UTF-8: %q", *bad)
	}
	cc.check(t)
	fzCheckBubbleGoroutines(t, n0)
	return errs
}

// fzTrace is the session's Trace: it keeps nothing, and records the first
// line that holds a control byte or invalid UTF-8 (traces escape them).
type fzTrace struct{ bad atomic.Pointer[string] }

func (w *fzTrace) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	if fuzzseed.Unsafe(line) {
		w.bad.CompareAndSwap(nil, &line)
	}
	return len(p), nil
}

// fzSplitContinuation cuts data after its first line that starts with "+"
// (rest is nil when there is none).
func fzSplitContinuation(data []byte) (first, rest []byte) {
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			break
		}
		end += off + 1
		if data[off] == '+' {
			return data[:end], data[end:]
		}
		off = end
	}
	return data, nil
}

// fzCheckGoroutines fails the exec if goroutines of the session (or of the
// transport) are left (FuzzSessionPull's execs, on the real clock). It is
// cheap when nothing is left: it compares runtime.NumGoroutine with the
// count before the exec and looks at the stacks only when there are more,
// up to leakcheck.Hang (a goroutine past its last deferred call may still
// be listed for a moment).
func fzCheckGoroutines(t *testing.T, n0 int) {
	var left map[string]string
	if leakcheck.Until(leakcheck.Hang, func() bool {
		if runtime.NumGoroutine() <= n0 {
			return true
		}
		left = lkGoroutines()
		return len(left) == 0 // else others' goroutines (the fuzzing engine's)
	}) {
		return
	}
	var b bytes.Buffer
	for _, stack := range left {
		fmt.Fprintf(&b, "\n%s\n", stack)
	}
	t.Fatalf("%d goroutines of the session left after Close:%s", len(left), b.String())
}

// fzCheckBubbleGoroutines fails the exec if goroutines of the module are left
// in its bubble (bubbleGoroutinesLeft) once every other goroutine of the bubble
// waits, for a second of the bubble's clock (a timer of the session's may
// still end one). Other tests' goroutines, outside the bubble, are not
// looked at. It is cheap when nothing is left: it compares
// runtime.NumGoroutine with n0, the count at the exec's start, and reads
// the stacks only when there are more. That count is the process's, not
// the bubble's (no API counts a bubble's goroutines): goroutines outside
// it that ended during the exec (a parallel test's, the fuzzing engine's)
// can hide one of the bubble left behind. Such a one still fails the exec:
// at the bubble's end synctest.Test panics ("deadlock: main bubble
// goroutine has exited but blocked goroutines remain"), and the panic
// goes on from fzBubbled (TestFuzzBubbleLeakHiddenFromCountFails); only
// the report is poorer, and a goroutine that a timer would have ended
// within the second is reported too. Reading the stacks at every exec
// instead halved FuzzSession's execs (21,152 against 43,500 in 20 s, the
// same shared machine).
func fzCheckBubbleGoroutines(t *testing.T, n0 int) {
	synctest.Wait()
	for deadline := time.Now().Add(time.Second); ; {
		if runtime.NumGoroutine() <= n0 {
			return
		}
		left := bubbleGoroutinesLeft()
		if len(left) == 0 {
			return
		}
		if !time.Now().Before(deadline) {
			var b bytes.Buffer
			for _, stack := range left {
				fmt.Fprintf(&b, "\n%s\n", stack)
			}
			t.Fatalf("%d goroutines of the session left after Close:%s", len(left), b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fzCheckHeap records the heap in use after a GC on its first call and
// fails when a later call finds it grown by more than fzMaxHeapGrowth.
func fzCheckHeap(t *testing.T, heap0 *atomic.Uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if heap0.CompareAndSwap(0, ms.HeapInuse) {
		return
	}
	if grown := int64(ms.HeapInuse) - int64(heap0.Load()); grown > fzMaxHeapGrowth {
		t.Fatalf("the heap in use grew by %d MiB across execs; want < %d MiB", grown>>20, fzMaxHeapGrowth>>20)
	}
}

// TestFuzzSessionControl checks the harness on the well-formed exchange:
// every command succeeds with its data.
func TestFuzzSessionControl(t *testing.T) {
	for i, err := range fzExec(t, []byte("* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n"+fuzzseed.Complete), -1) {
		if err != nil {
			t.Errorf("command %d: %v", i, err)
		}
	}
	// A forged completion of the APPEND (before "+") is refused.
	var protocol bool
	for _, err := range fzExec(t, []byte("A4 OK [APPENDUID 1 2] never sent\r\n"), -1) {
		protocol = protocol || errors.Is(err, session.ErrProtocol)
	}
	if !protocol {
		t.Errorf("a forged APPEND completion was not refused with ErrProtocol")
	}
}

// fzCloseBounded closes a session whose commands did not end, and ends the
// exec, without waiting past fzBound/2 for Close: a reader stuck in a loop
// never lets Close return (stop 22), and the exec's report must still be
// seen before Go's fuzzing engine kills the worker.
func fzCloseBounded(t *testing.T, s *session.Session, srvDone <-chan struct{}) {
	closed := make(chan struct{})
	go func() {
		s.Close()
		<-srvDone
		close(closed)
	}()
	select {
	case <-closed:
		t.FailNow()
	case <-time.After(fzBound / 2):
		t.Fatalf("Close did not return within %v either", fzBound/2)
	}
}
