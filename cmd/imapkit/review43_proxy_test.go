package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// r43FlakyWriter is a trace destination whose writes number fail (from
// 1) fail with ENOSPC, as a full disk's do; the others are kept.
type r43FlakyWriter struct {
	mu   sync.Mutex
	n    int
	fail map[int]bool
	b    strings.Builder
}

func (w *r43FlakyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if w.fail[w.n] {
		return 0, fmt.Errorf("write /trace: %w", syscall.ENOSPC)
	}
	return w.b.Write(p)
}

func (w *r43FlakyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestReview43MProxyTraceWriteError: the proxy ignored the errors of its
// trace writes: a full disk lost lines of the trace without a word, and
// the proxy exited 0. Now the first error is reported on stderr (once),
// the connection goes on working, the trace says where lines were lost
// when writing works again, and the exit status is 3.
func TestReview43MProxyTraceWriteError(t *testing.T) {
	up, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		return c.Serve()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := interrupted
	interrupted = ctx
	defer func() { interrupted = old }()
	trace := &r43FlakyWriter{fail: map[int]bool{2: true, 3: true, 4: true}}
	stderr := &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(testEnv(t), []string{"proxy", "--listen", "127.0.0.1:0", "--upstream", "imap://" + up.Addr(), "--once"}, strings.NewReader(""), trace, stderr)
	}()
	var addr string
	for i := 0; i < 500 && addr == ""; i++ {
		if _, rest, ok := strings.Cut(stderr.String(), "listening on "); ok {
			addr, _, _ = strings.Cut(rest, ",")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if addr == "" {
		t.Fatalf("the proxy did not start: %s", stderr.String())
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	var got []string
	readTo := func(tag string) {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the proxy's answer: %v (got %q)", err, got)
			}
			got = append(got, l)
			if strings.HasPrefix(l, tag+" ") {
				return
			}
		}
	}
	readTo("*")
	for _, tag := range []string{"a1", "a2", "a3", "a4"} {
		fmt.Fprintf(c, "%s NOOP\r\n", tag)
		readTo(tag)
	}
	fmt.Fprintf(c, "a5 LOGOUT\r\n")
	readTo("a5")
	c.Close()
	var exit int
	select {
	case exit = <-code:
	case <-time.After(20 * time.Second):
		cancel()
		exit = <-code
	}
	errs := stderr.String()
	t.Logf("exit %d\nstderr: %s\ntrace: %s", exit, errs, trace.String())
	if !strings.Contains(got[len(got)-1], "a5 OK") {
		t.Errorf("the connection did not go on working: %q", got)
	}
	if n := strings.Count(errs, "no space left on device"); n != 1 {
		t.Errorf("stderr reports the trace's write error %d times, want once: %q", n, errs)
	}
	if !strings.Contains(trace.String(), "lines lost") {
		t.Errorf("the trace does not say where lines were lost: %q", trace.String())
	}
	if exit != exitConnFail {
		t.Errorf("exit %d with lines of the trace lost; want %d", exit, exitConnFail)
	}
}
