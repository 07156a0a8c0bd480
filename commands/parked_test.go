package commands_test

import (
	"bytes"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
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
func parked(frames ...string) bool { return parkedCount(frames...) > 0 }

// parkedCount counts the goroutines blocked with every frame of frames in
// their stack (see parked).
func parkedCount(frames ...string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if parkedWith(g, frames) {
			n++
		}
	}
	return n
}

// queuedWithin reports whether n goroutines come to be parked in the
// session's queue with frame (see waitQueued) within hangBound; unlike
// waitQueued it may be called from any goroutine (a fake server's).
func queuedWithin(n int, frame string) bool {
	for deadline := time.Now().Add(hangBound); parkedCount(frame, "session.(*Session).start(") < n; {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// waitQueued waits until n goroutines are parked in the session's queue
// (Session.start) with the frame of the command they run (for instance
// "commands.(*Client).Store"): a forced ordering in place of a sleep
// ("the other commands are queued meanwhile").
func waitQueued(t *testing.T, n int, frame string) {
	t.Helper()
	waitUntil(t, "commands queued", func() bool {
		return parkedCount(frame, "session.(*Session).start(") >= n
	})
}

// heldAnswer is a server handler that answers only once the test
// releases it: the test sees the command come (In), queues what it needs
// behind it, then calls Release. The test defers Release too, so that a
// failed test does not leave the server's handler waiting when the
// server is closed; the handler's wait is bounded by hangBound.
type heldAnswer struct {
	in, release   chan struct{}
	inOnce, rOnce sync.Once
}

func newHeldAnswer() *heldAnswer {
	return &heldAnswer{in: make(chan struct{}), release: make(chan struct{})}
}

// Handler answers with lines and the tagged OK once released.
func (h *heldAnswer) Handler(lines ...string) func(*hostile.Conn, *hostile.Command) error {
	return func(hc *hostile.Conn, cmd *hostile.Command) error {
		h.inOnce.Do(func() { close(h.in) })
		select {
		case <-h.release:
		case <-time.After(hangBound):
		}
		return hc.Lines(append(lines, cmd.Tag+" OK done")...)
	}
}

// In waits until the server has the command (a hang detector: hangBound).
func (h *heldAnswer) In(t *testing.T) {
	t.Helper()
	select {
	case <-h.in:
	case <-time.After(hangBound):
		t.Fatalf("the server did not get the held command within %v", hangBound)
	}
}

// Release lets the handler answer.
func (h *heldAnswer) Release() { h.rOnce.Do(func() { close(h.release) }) }

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
