package commands_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// waitParked waits until a goroutine is parked with every frame of frames
// in its stack (see parked): a forced ordering in place of a sleep ("A is
// blocked mid-literal"). It fails the test after hangBound, a hang
// detector: the state the test needs never came, and the test would check
// nothing.
func waitParked(t *testing.T, what string, frames ...string) {
	t.Helper()
	waitUntil(t, what, func() bool { return parked(frames...) })
}

// waitUntil waits until cond holds, looking every millisecond; it fails
// the test after hangBound (a hang detector, not a timing).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hangBound); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, hangBound)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// parked reports whether a goroutine is blocked (not running nor
// runnable, nor waiting for a mutex) with every frame of frames in its
// stack.
func parked(frames ...string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if parkedWith(g, frames) {
			return true
		}
	}
	return false
}

// parkedWith reports whether the goroutine g (one goroutine's part of
// runtime.Stack's text) is blocked with every frame of frames in its stack.
func parkedWith(g []byte, frames []string) bool {
	head, rest, _ := bytes.Cut(g, []byte("\n"))
	if bytes.Contains(head, []byte("[running")) || bytes.Contains(head, []byte("[runnable")) ||
		bytes.Contains(rest, []byte("sync.(*Mutex).Lock")) {
		return false
	}
	for _, f := range frames {
		if !bytes.Contains(rest, []byte(f)) {
			return false
		}
	}
	return true
}
