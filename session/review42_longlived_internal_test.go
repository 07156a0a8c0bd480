package session

import (
	"math"
	"testing"
)

// TestReview42BCTraceCountWraps: the history ring counts every line traced in an
// int (tracer.count), which is never reset. On 386 (int is 32 bits) a
// long-lived session passes 2^31 lines (a proxy or sync tool at 1,000
// commands a second: about 12 days); the count turns negative and the next
// abort error, which builds its History from it (read.go abort ->
// tracer.history), panics in make([]string, 0, n) with n < 0, on the
// reader goroutine: the whole program dies instead of getting an
// *AbortError. The test puts the count where 2^31-1 lines (math.MaxInt on
// 386) leave it.
func TestReview42BCTraceCountWraps(t *testing.T) {
	tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
	tr.secrets = &secrets{}
	tr.line('C', []byte("A1 NOOP"))
	tr.count = math.MaxInt // as after 2^31-1 lines on 386
	tr.line('C', []byte("A2 NOOP"))
	tr.server([]byte("A2 OK done\r\n"))
	var h []string
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("history panics once the line count has wrapped: %v", r)
			}
		}()
		h = tr.history()
	}()
	if len(h) == 0 || h[len(h)-1] != "S: A2 OK done" {
		t.Fatalf("history = %q; want the last lines", h)
	}
}

// TestReview42BCTraceCountBounded: however many lines are traced, the
// ring's count stays at its length, and history shows the last lines.
func TestReview42BCTraceCountBounded(t *testing.T) {
	tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
	tr.secrets = &secrets{}
	for i := 0; i < 3*defaultHistory+1; i++ {
		tr.line('C', []byte("A NOOP"))
		if tr.count > len(tr.ring) {
			t.Fatalf("after %d lines count = %d, past the ring's %d", i+1, tr.count, len(tr.ring))
		}
	}
	tr.server([]byte("A OK done\r\n"))
	if h := tr.history(); len(h) != defaultHistory || h[len(h)-1] != "S: A OK done" {
		t.Fatalf("history = %q", h)
	}
}
