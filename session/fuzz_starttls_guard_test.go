package session_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of FuzzStartTLS's harness (starttls_test.go): each exec
// runs in a synctest bubble, whose clock stops while a goroutine of the
// exec waits on what is not durably blocking; a real-clock guard reports
// such a hang; a failed check ends the exec's goroutines first.

const (
	guardGreet = "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"
	guardCaps  = "* CAPABILITY IMAP4rev1\r\n%T OK done\r\n"
)

// guardShort sets startTLSRealGuard to 300 ms for the test: the guard is
// what is tested, and its 8 s would make the test too slow for make test.
// The exec these tests run takes a few ms when nothing holds it.
func guardShort(t *testing.T) {
	old := startTLSRealGuard
	startTLSRealGuard = 300 * time.Millisecond
	t.Cleanup(func() { startTLSRealGuard = old })
}

// guardHeld runs one exec whose server's handshake (GetConfigForClient)
// calls held while mu is locked, and checks that the guard reports it
// with the stacks; then unlocks mu and waits for the exec to end, so that
// nothing is left behind.
func guardHeld(t *testing.T, held func(mu *sync.Mutex), want string) {
	guardShort(t)
	srv, cli := startTLSConfigs(t)
	var mu sync.Mutex
	mu.Lock()
	srv.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		held(&mu)
		return nil, nil
	}
	stacks, ended := startTLSGuarded(t, func(t *testing.T) {
		startTLSBubble(t, srv, cli, []byte(guardGreet), []byte("%T OK go\r\n"), []byte(guardCaps), startTLSFault{})
	})
	mu.Unlock()
	<-ended
	if stacks == nil {
		t.Fatalf("the exec ended within the guard (%v): want it held, and reported", startTLSRealGuard)
	}
	if !bytes.Contains(stacks, []byte(want)) {
		t.Fatalf("the guard's report does not show the waiting goroutine (%q):\n%s", want, stacks)
	}
}

// TestStartTLSExecGuardMutex: the server waits on a sync.Mutex in the
// handshake, which is not durably blocking: the bubble's clock stops and
// the exec's own watchdogs (on that clock) never fire; it waited for ever
// (go test's -timeout, or the fuzzing engine's kill without the exec's
// stacks). The real-clock guard reports it with every stack. Found by
// review.
func TestStartTLSExecGuardMutex(t *testing.T) {
	guardHeld(t, func(mu *sync.Mutex) {
		mu.Lock() // the wait on the mutex is the point: a wait the bubble's clock cannot see
		defer mu.Unlock()
	}, "TestStartTLSExecGuardMutex")
}

// TestStartTLSExecGuardLeakOnMutex: the exec leaves a goroutine waiting on
// a sync.Mutex: the leak check starts with synctest.Wait, which waits for
// it to block durably, for ever (its 2 s allowance on the stopped clock
// too). The guard reports it. Found by review.
func TestStartTLSExecGuardLeakOnMutex(t *testing.T) {
	guardHeld(t, func(mu *sync.Mutex) {
		go func() {
			mu.Lock() // the wait on the mutex is the point: a leaked goroutine the bubble's clock cannot see
			defer mu.Unlock()
		}()
	}, "TestStartTLSExecGuardLeakOnMutex")
}

// TestStartTLSExecFailedCheckEnds: a check of the exec that failed while
// the session was open (here the error-kind check, made to fail, on
// StartTLS after a PREAUTH greeting, a *StateError, the server waiting for
// a command) ended startTLSBubble with the session and the pipe open:
// synctest.Test then panicked ("main bubble goroutine has exited but
// blocked goroutines remain"), which ended the whole test binary (the
// reviewer's test of a tagged BYE did). The exec now closes them and
// waits for the server whatever the checks decide: the child test fails
// with the check's message and no panic. Found by review.
func TestStartTLSExecFailedCheckEnds(t *testing.T) {
	if os.Getenv("IMAPKIT_GUARD_CHILD") == "1" {
		startTLSTyped = func(error) bool { return false } // the child process's only
		srv, cli := startTLSConfigs(t)
		if stacks, _ := startTLSGuarded(t, func(t *testing.T) {
			startTLSBubble(t, srv, cli, []byte("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] in\r\n"), []byte("%T OK go\r\n"),
				[]byte(guardCaps), startTLSFault{})
		}); stacks != nil {
			t.Fatalf("the exec still running after %v:\n%s", startTLSRealGuard, stacks)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestStartTLSExecFailedCheckEnds$", "-test.count=1")
	cmd.Env = append(os.Environ(), "IMAPKIT_GUARD_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child passed; want its check to fail:\n%s", out)
	}
	if strings.Contains(string(out), "panic") || !strings.Contains(string(out), "StartTLS failed with an error of no documented kind") || !strings.Contains(string(out), "--- FAIL: TestStartTLSExecFailedCheckEnds") {
		t.Fatalf("the child: %v; want it to fail with the check's message, without a panic:\n%s", err, out)
	}
}
