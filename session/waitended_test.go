package session_test

import (
	"context"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// TestWaitEndedBeforeCancel: Wait with a context that has ended, for a
// command that has ended too, returns the command's result, every time:
// select chose at random between the two, and a caller counting the parts
// of a split command that were done (commands' splitRun) under-reported
// about half the time. Found by a concurrency audit in stop 32.
func TestWaitEndedBeforeCancel(t *testing.T) {
	s := lmOpen(t, &session.Options{}, func(tag, line string) string { return tag + " OK done\r\n" })
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 64; i++ {
		p, err := s.Start(hangCtx(t), &session.Command{Name: "NOOP"})
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		r, err := p.Wait(done)
		if err != nil || r == nil || r.Status == nil {
			t.Fatalf("try %d: %v, %v; want the NOOP's OK", i, r, err)
		}
	}
}
