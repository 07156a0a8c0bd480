package main

// The descriptor limit (syscall.Rlimit, whose fields are uint64 here and
// int64 on FreeBSD, and which Windows lacks) and /proc/self/fd are
// Linux's: this test was in review39_proxy_test.go (now
// proxy_client_test.go), which then did not build for windows or freebsd.

import (
	"bufio"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProxyServesAgainAfterDescriptorsRunOut: running out of file
// descriptors (EMFILE: many clients at once, each connection costing the
// proxy two descriptors) is a passing error of Accept, which the proxy
// retries (temporaryAccept): once the clients leave, a new client is
// served and gets the greeting. (Before, serveProxy returned on any error
// of Accept that was not its own shutdown, and the proxy stopped
// listening for good; the test was named for that bug.) The descriptor
// limit is lowered for the test.
func TestProxyServesAgainAfterDescriptorsRunOut(t *testing.T) {
	up := startTestUpstream(t, "127.0.0.1:0", upstreamEcho)
	addr, _, stderr := startProxy(t, "--upstream", "imap://"+up.ln.Addr().String())
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = uint64(len(fds) + 40)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	var conns []net.Conn
	for i := 0; i < 40; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	time.Sleep(500 * time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	time.Sleep(500 * time.Millisecond)
	// The clients are gone and descriptors are free again: a new client
	// is served.
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("the proxy no longer accepts clients: %v\n%s", err, stderr.String())
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(l, "* OK") {
		t.Fatalf("no greeting after a burst of clients (%q, %v):\n%s", l, err, stderr.String())
	}
}
