package session_test

import (
	"bytes"
	"runtime"
	"strings"
	"time"
)

// waitGoroutineParked waits until a goroutine is blocked (not running nor
// runnable, nor waiting for a mutex; in state when not "", as the stack's
// header says it: "chan receive") with every frame of frames in its
// stack, and reports whether it saw one within hangBound (a bound against
// a hang, not a timing: the caller fails when it did not; it was 10 s).
func waitGoroutineParked(state string, frames ...string) bool {
	for deadline := time.Now().Add(hangBound); time.Now().Before(deadline); {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range bytes.Split(buf, []byte("\n\n")) {
			head, rest, _ := bytes.Cut(g, []byte("\n"))
			if bytes.Contains(head, []byte("[running")) || bytes.Contains(head, []byte("[runnable")) ||
				bytes.Contains(rest, []byte("sync.(*Mutex).Lock")) {
				continue
			}
			if state != "" && !bytes.Contains(head, []byte("["+state)) {
				continue
			}
			all := true
			for _, f := range frames {
				if !strings.Contains(string(rest), f) {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	return false
}
