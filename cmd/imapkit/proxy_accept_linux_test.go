package main

// The descriptor limit (syscall.Rlimit, whose fields are uint64 here and
// int64 on FreeBSD, and which Windows lacks) and /proc/self/fd are
// Linux's: this test was in review39_proxy_test.go (now
// proxy_client_test.go), which then did not build for windows or freebsd.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestProxyServesAgainAfterDescriptorsRunOut: running out of file
// descriptors (EMFILE: many clients at once, each connection costing the
// proxy two descriptors) is a passing error of Accept, which the proxy
// retries (temporaryAccept): once descriptors are free again, the client
// left waiting in the backlog is served, and so is a new one. (Before,
// serveProxy returned on any error of Accept that was not its own
// shutdown, and the proxy stopped listening for good; the test was named
// for that bug.)
//
// The process's descriptor limit is lowered, and the descriptors under it
// taken (/dev/null), all but the one the client's Dial takes: the
// proxy's Accept of that client then fails for certain. The test waits for
// that failure by the retry's wait (proxyHooks.wait), which lasts until
// the descriptors are given back; before, it slept 500 ms twice and hoped
// that a burst of 40 clients had run the proxy out of them.
func TestProxyServesAgainAfterDescriptorsRunOut(t *testing.T) {
	up := startTestUpstream(t, "127.0.0.1:0", upstreamEcho)
	failed := make(chan struct{}) // closed at the first error of Accept
	freed := make(chan time.Time) // closed once descriptors are free
	var once sync.Once
	proxyHooksOf(t).wait = func(d time.Duration) <-chan time.Time {
		select {
		case <-freed:
			return time.After(d)
		default:
		}
		once.Do(func() { close(failed) })
		return freed
	}
	addr, _, stderr := startProxy(t, "--upstream", "imap://"+up.ln.Addr().String())
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	var files []*os.File
	giveBack := sync.OnceFunc(func() {
		for _, f := range files {
			f.Close()
		}
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	})
	t.Cleanup(giveBack)
	lim := old
	lim.Cur = uint64(len(fds) + 8)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	// Every descriptor under the limit taken (the limit bounds their
	// numbers: the holes below it are filled too).
	for len(files) < 1000 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				giveBack()
				t.Fatalf("opening %s: %v", os.DevNull, err)
			}
			break
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		giveBack()
		t.Skip("no descriptor to free under the lowered limit")
	}
	// One given back, for the client's own end: none is left for the
	// proxy to accept it.
	files[len(files)-1].Close()
	files = files[:len(files)-1]
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		giveBack()
		t.Fatalf("dialing the proxy with one descriptor free: %v", err)
	}
	defer c.Close()
	// A bound against a hang, not a timed assertion.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	greeting := make(chan string, 1)
	go func() {
		l, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			l += fmt.Sprintf(" (%v)", err)
		}
		greeting <- l
	}()
	select {
	case <-failed:
	case l := <-greeting:
		giveBack()
		t.Fatalf("out of descriptors, the proxy's Accept did not wait to retry: the client read %q:\n%s", l, stderr.String())
	}
	giveBack()
	close(freed)
	if l := <-greeting; !strings.HasPrefix(l, "* OK") {
		t.Fatalf("the client accepted after the descriptors ran out got no greeting: %q:\n%s", l, stderr.String())
	}
	// A new client is served too.
	c2, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("the proxy no longer accepts clients: %v\n%s", err, stderr.String())
	}
	defer c2.Close()
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := bufio.NewReader(c2).ReadString('\n')
	if err != nil || !strings.HasPrefix(l, "* OK") {
		t.Fatalf("no greeting after the descriptors ran out (%q, %v):\n%s", l, err, stderr.String())
	}
}
