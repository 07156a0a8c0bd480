package main

// The proxy's writes to the server: a server that stops reading (its
// window full) while the client sends a lot. Found by the stop 48 review
// of the proxy (the commit message says so).

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/leakcheck"
)

// TestProxyServerNotReadingEnds: an upstream that lets the client send
// an APPEND's literal ("+"), then neither reads nor writes, keeping the
// connection open, while the client sends the body (64 MiB announced,
// sent until the buffers are full); and the same after COMPRESS, where the
// relay copies the client's bytes without decoding them. Before, the
// proxy's write to the server had no bound: it blocked for ever, the
// proxy stopped reading the client, and the connection, its goroutines
// and descriptors stayed for as long as the server kept it open. Now a
// write to the server that makes no progress for --timeout ends the
// connection: the client reads its end, the trace says why, and no
// goroutine or descriptor is left. Default options, run 120 times
// faster (clientWriteSpeed: the --timeout bounds, 30 s otherwise).
func TestProxyServerNotReadingEnds(t *testing.T) {
	clientWriteSpeed(t, 120)
	lc := leakcheck.Start()
	for _, tc := range []struct {
		name    string
		command string // the client's command after the greeting
		answer  string // the server's answer, after which it stops reading
	}{
		{"AppendLiteral", "a1 APPEND INBOX {67108864}\r\n", "+ go ahead\r\n"},
		{"AfterCompress", "a1 COMPRESS DEFLATE\r\n", "a1 OK DEFLATE active\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := hostileUpstream(t, func(c *hostile.Conn) error {
				// A small receive buffer: the proxy's writes stall
				// after little (a test that stays cheap).
				if tcp, ok := c.Net().(*net.TCPConn); ok {
					tcp.SetReadBuffer(4 << 10)
				}
				c.Greet("IMAP4rev1 COMPRESS=DEFLATE")
				if _, err := c.ReadLine(); err != nil {
					return err
				}
				c.WriteString(tc.answer)
				return c.Stall() // reads nothing, writes nothing
			})
			addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
			// dialProxyGreeted's deadline is a bound against a hang, not a
			// timed assertion: the proxy's bound is 250 ms here.
			c, br := dialProxyGreeted(t, addr)
			io.WriteString(c, tc.command)
			if l, err := br.ReadString('\n'); l != tc.answer {
				t.Fatalf("read %q (%v); want %q", l, err, tc.answer)
			}
			// The body (or the compressed stream), until the proxy stops
			// reading and the buffers are full; the proxy's end (or the
			// test's) ends it.
			sent := sendUntilFails(c)
			rest, err := io.ReadAll(br)
			if err != nil || len(rest) > 0 {
				t.Errorf("after the server stopped reading the client read %q (%v); want the connection's end\ntrace:\n%s", rest, err, out.String())
			}
			c.Close()
			<-sent
			waitFor(t, out, "[1] * connection closed")
			if !strings.Contains(out.String(), "[1] * server side: a write to the server made no progress for 30s (it reads nothing): closing") {
				t.Errorf("the trace does not say why the connection closed:\n%s", out.String())
			}
			// The stall once, not also as a failed write (clientErr).
			if tr := out.String(); strings.Count(tr, "[1] * server side") != 1 || strings.Contains(tr, "[1] * client side") {
				t.Errorf("the trace has more than the stall's line:\n%s", tr)
			}
		})
	}
	if err := goroutinesLeft(lc); err != nil {
		t.Errorf("left after the proxy's connections: %v", err)
	}
}

// stepConn is a net.Conn whose Write writes at most step bytes and then
// fails as a write deadline does (step 0: nothing), until fails writes
// failed; then it writes all.
type stepConn struct {
	net.Conn
	step, fails int
	got         []byte
}

func (c *stepConn) SetWriteDeadline(time.Time) error { return nil }

func (c *stepConn) Write(p []byte) (int, error) {
	if c.fails > 0 {
		c.fails--
		n := min(c.step, len(p))
		c.got = append(c.got, p[:n]...)
		return n, &net.OpError{Op: "write", Err: timeoutError{}}
	}
	c.got = append(c.got, p...)
	return len(p), nil
}

// timeoutError is os.ErrDeadlineExceeded as a net.Conn reports it.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Is(e error) bool { return e == os.ErrDeadlineExceeded }

// TestProxyServerSlowWriteNotCut: the bound on a write to the server is
// on a stretch without progress, not on the write's length in time: a
// write whose every stretch of --timeout brings some bytes (a server that
// reads slowly) goes on to its end; one whose stretch brings none fails
// with the deadline's error and records the stall.
func TestProxyServerSlowWriteNotCut(t *testing.T) {
	var stalled atomic.Bool
	msg := []byte(strings.Repeat("y", 100))
	slow := &stepConn{step: 3, fails: 20}
	c := &upstreamConn{Conn: slow, bound: time.Minute, stalled: &stalled}
	if n, err := c.Write(msg); n != len(msg) || err != nil || string(slow.got) != string(msg) || stalled.Load() {
		t.Fatalf("a write making progress in each stretch: %d bytes, %v, stalled %v; want all, no error", n, err, stalled.Load())
	}
	stuck := &stepConn{step: 0, fails: 1}
	c = &upstreamConn{Conn: stuck, bound: time.Minute, stalled: &stalled}
	if n, err := c.Write(msg); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) || !stalled.Load() {
		t.Fatalf("a write without progress for the bound: %d bytes, %v, stalled %v; want the deadline's error, stalled", n, err, stalled.Load())
	}
}

// TestProxyFinishedLineNotHeld (found by review): a server that sends a
// finished line and part of the next ("* 1 EXISTS\r\n* 2 EX") and then
// pauses. The client gets the finished line while the server holds the
// rest: before, it stayed in the proxy's buffer (more of the server's
// bytes were buffered behind it, so no flush) until the next line ended,
// for as long as the server paused. The fake sends the rest only once
// the client has read the first line (a channel, not a sleep); default
// options.
func TestProxyFinishedLineNotHeld(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	up := hostileUpstream(t, func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1")
		if _, err := c.ReadLine(); err != nil {
			return err
		}
		c.WriteString("* 1 EXISTS\r\n* 2 EX")
		select {
		case <-release:
		case <-time.After(10 * time.Second): // a bound against a hang
		}
		return c.WriteString("ISTS\r\na1 OK done\r\n")
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 NOOP\r\n")
	// A bound against a hang, not a timed assertion (the fake holds the
	// rest for up to 10 s).
	lc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := lc.br.ReadString('\n')
	if err != nil || l != "* 1 EXISTS\r\n" {
		t.Fatalf("the client read %q (%v) while the server held the next line's part; want \"* 1 EXISTS\"\ntrace:\n%s", l, err, out.String())
	}
	close(release)
	for _, want := range []string{"* 2 EXISTS\r\n", "a1 OK done\r\n"} {
		if got := lc.line(); got != want {
			t.Fatalf("then %q; want %q", got, want)
		}
	}
}
