package commands_test

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// progressCtx returns a context that ends when progress has not moved
// for quiet, or with the test: a hang detector for a test whose fake
// server writes much (tens of MB, seconds to minutes of the client's
// work under -race). A bound on the test's whole time was tripped by a
// loaded machine (TestStoreLargeAnswer's 2 minutes at a load of 16: "UIDs
// in parts: ... context deadline exceeded"), where a slow run still
// moves; a client that stops reading does not, and ends within 2*quiet.
// The context's cause says how far it came.
func progressCtx(t *testing.T, quiet time.Duration, progress func() int64) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	stopped := make(chan struct{})
	t.Cleanup(func() {
		cancel(nil)
		<-stopped
	})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(quiet)
		defer tick.Stop()
		last := progress()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n := progress()
			if n == last {
				cancel(fmt.Errorf("no progress for %v: stuck at %d", quiet, n))
				return
			}
			last = n
		}
	}()
	return ctx
}

// progressReader counts into n the bytes read from r (a fake server's
// answer, as it writes it): progressCtx's progress.
type progressReader struct {
	r io.Reader
	n *atomic.Int64
}

func (p progressReader) Read(b []byte) (int, error) {
	k, err := p.r.Read(b)
	p.n.Add(int64(k))
	return k, err
}
