package main

// The trace of the passing errors of Accept (acceptLog). Found by the
// stop 49 review of the proxy.

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// errListener is a net.Listener whose Accept returns the errors the test
// sends on errs, and net.ErrClosed once closed.
type errListener struct {
	errs   chan error
	once   sync.Once
	closed chan struct{}
}

func (l *errListener) Accept() (net.Conn, error) {
	select {
	case err := <-l.errs:
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *errListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *errListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1143}
}

// TestProxyAcceptErrorsTraceRateLimited: a run of passing Accept errors
// (out of file descriptors, EMFILE, which the proxy retries after a
// growing wait) prints few lines, and none is left out of the count, as
// the refusals over --max-connections. Before, each error printed its
// line, spaced only by the retry's wait (5 ms at first, then up to 1 s).
// The listener is the test's and returns EMFILE when told to (as the
// descriptor limit does in TestProxyServesAgainAfterDescriptorsRunOut),
// the clock is the test's, the interval an hour and the retry's wait none
// (its length recorded), so that the lines do not depend on the
// machine's speed: the first error is printed in full, the next 49 are
// counted; once the interval has passed, the next error prints the count
// (50, the latest named); those after it are counted again, and the
// proxy's stop prints their count. The waits grow from 5 ms to 1 s.
func TestProxyAcceptErrorsTraceRateLimited(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Unix(1e9, 0)
	waits := make(chan time.Duration, 100)
	hooks := &proxyHooks{
		now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
		every: time.Hour,
		wait: func(d time.Duration) <-chan time.Time {
			waits <- d
			c := make(chan time.Time, 1)
			c <- time.Time{}
			return c
		},
	}
	var buf syncBuffer
	cfg := &proxyConfig{upstream: &target{host: "127.0.0.1", addr: "127.0.0.1:1"}, out: &buf, errOut: io.Discard, dialTimeout: 30 * time.Second, hooks: hooks}
	ln := &errListener{errs: make(chan error), closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serveProxy(ctx, ln, cfg, false) }()
	emfile := &net.OpError{Op: "accept", Net: "tcp", Addr: ln.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	var got []time.Duration
	fail := func(n int) {
		for i := 0; i < n; i++ {
			ln.errs <- emfile
			got = append(got, <-waits) // the error's line (or count) is done
		}
	}
	lines := func() []string { return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") }
	fail(50)
	first := "* accept: accept tcp 127.0.0.1:1143: accept4: too many open files; retrying in 5ms"
	if l := lines(); len(l) != 1 || l[0] != first {
		t.Fatalf("after 50 errors of Accept in the interval the trace holds:\n%s\nwant the first error's line alone: %q", buf.String(), first)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	fail(1)
	want := "* accept: 50 more errors since the last such line; the latest: accept tcp 127.0.0.1:1143: accept4: too many open files; retrying in 1s"
	if l := lines(); len(l) != 2 || l[1] != want {
		t.Fatalf("after the interval the trace holds:\n%s\nwant a second line %q", buf.String(), want)
	}
	fail(5)
	if l := lines(); len(l) != 2 {
		t.Fatalf("5 more errors in the interval printed lines:\n%s", buf.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serveProxy: %v", err)
	}
	want = "* accept: 5 more errors since the last such line; the latest: accept tcp 127.0.0.1:1143: accept4: too many open files; retrying in 1s"
	if l := lines(); len(l) != 3 || l[2] != want {
		t.Fatalf("after the stop the trace holds:\n%s\nwant a third line %q", buf.String(), want)
	}
	// The retry's wait grows as before: 5 ms, doubled up to 1 s.
	d := 5 * time.Millisecond
	for i, g := range got {
		if g != d {
			t.Fatalf("wait %d after an error of Accept: %v; want %v (all: %v)", i+1, g, d, got)
		}
		d = min(2*d, time.Second)
	}
}
