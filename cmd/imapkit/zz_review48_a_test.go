package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestZZSlowTokenAfterLiteralCut(t *testing.T) {
	clientWriteSpeed(t, 60)
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		io.WriteString(c, "* 1 FETCH (BODY[1] {3}\r\n")
		time.Sleep(50 * time.Millisecond)
		io.WriteString(c, `abc BODY[2] "`)
		for i := 0; i < 40; i++ { // 1 s in all, a byte every 25 ms
			time.Sleep(25 * time.Millisecond)
			if _, err := io.WriteString(c, "x"); err != nil {
				return
			}
		}
		io.WriteString(c, "\")\r\n"+tag+" OK done\r\n")
		io.Copy(io.Discard, br)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 FETCH 1 (BODY[1] BODY[2])\r\n")
	if got := lc.line(); got != "* 1 FETCH (BODY[1] {3}\r\n" {
		t.Fatalf("FETCH: %q", got)
	}
	lc.send("a2 STARTTLS\r\n")
	// A bound against a hang, not a timed assertion.
	lc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := lc.br.ReadString('\n')
	want := `abc BODY[2] "` + strings.Repeat("x", 40) + "\")\r\n"
	if rest != want {
		t.Fatalf("the rest of the FETCH: %q (%v); want %q (the server never stalled: a byte every 25 ms, the bound 250 ms)\ntrace:\n%s", rest, err, want, out.String())
	}
}

func TestZZHalfClosedClientSlowAnswer(t *testing.T) {
	clientWriteSpeed(t, 120)
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		time.Sleep(700 * time.Millisecond) // a slow SEARCH
		io.WriteString(c, "* SEARCH 1 2 3\r\n"+tag+" OK done\r\n")
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 SEARCH TEXT foo\r\n")
	if err := lc.c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// A bound against a hang, not a timed assertion.
	lc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(lc.br)
	if string(got) != "* SEARCH 1 2 3\r\na1 OK done\r\n" {
		t.Fatalf("the half-closed client read %q (%v); want the server's answer to its command\ntrace:\n%s", got, err, out.String())
	}
}

type review48ZZGatedListener struct {
	net.Listener
	gate chan struct{}
}

func TestZZRefusedClientLosesBye(t *testing.T) {
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		io.Copy(io.Discard, c)
	})
	target, err := parseURL("imap://" + up)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &review48ZZGatedListener{Listener: inner, gate: make(chan struct{}, 4)}
	out := &syncBuffer{}
	cfg := &proxyConfig{upstream: target, out: out, errOut: io.Discard, dialTimeout: 30 * time.Second, maxConns: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveProxy(ctx, ln, cfg, false) }()
	defer func() {
		cancel()
		close(ln.gate)
		<-done
	}()
	ln.gate <- struct{}{}
	first := dialLines(t, inner.Addr().String()) // holds the one slot
	_ = first
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "a1 CAPABILITY\r\n") // before the greeting
	time.Sleep(20 * time.Millisecond)      // in the proxy's socket, unread
	ln.gate <- struct{}{}
	waitFor(t, out, "refused")
	// A bound against a hang, not a timed assertion.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != fmt.Sprintf(proxyRefusedBye, 1) {
		t.Fatalf("the refused client read %q (%v); want the proxy's BYE, then the end\ntrace:\n%s", got, err, out.String())
	}
}

func TestZZClientGoneTrickleHolds(t *testing.T) {
	clientWriteSpeed(t, 120)
	trickled := make(chan struct{})
	up := review48AUpstream(t, func(c net.Conn) {
		defer close(trickled)
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
		io.WriteString(c, "* 1 FETCH (BODY[] {1000}\r\n")
		for i := 0; i < 15; i++ { // 1.5 s, a byte every 100 ms
			time.Sleep(100 * time.Millisecond)
			if _, err := io.WriteString(c, "x"); err != nil {
				return
			}
		}
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 FETCH 1 BODY[]\r\n")
	if got := lc.line(); got != "* 1 FETCH (BODY[] {1000}\r\n" {
		t.Fatalf("FETCH: %q", got)
	}
	lc.c.Close() // the client is gone
	<-trickled
	if !strings.Contains(out.String(), "[1] * connection closed") {
		t.Fatalf("1.5 s after the client left (the bound 250 ms), its session is still relaying a trickle into a buffer:\n%s", out.String())
	}
}

func TestZZHalfClosedFlowingAnswerKept(t *testing.T) {
	clientWriteSpeed(t, 120)
	testOwedAnswerSpeed = 1500
	t.Cleanup(func() { testOwedAnswerSpeed = 0 })
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		for i := 1; i <= 30; i++ {
			time.Sleep(50 * time.Millisecond)
			if _, err := fmt.Fprintf(c, "* %d EXPUNGE\r\n", 1); err != nil {
				return
			}
		}
		io.WriteString(c, tag+" OK done\r\n")
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 EXPUNGE\r\n")
	if err := lc.c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// A bound against a hang, not a timed assertion.
	lc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(lc.br)
	want := strings.Repeat("* 1 EXPUNGE\r\n", 30) + "a1 OK done\r\n"
	if string(got) != want {
		t.Fatalf("the half-closed client read %q (%v); want the whole answer\ntrace:\n%s", got, err, out.String())
	}
}

func review48ZZStallTrace(t *testing.T) string {
	clientWriteSpeed(t, 120)
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
		io.WriteString(c, "* 1 FETCH (BODY[] {10}\r\n")
		io.Copy(io.Discard, br)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 FETCH 1 BODY[]\r\n")
	if got := lc.line(); got != "* 1 FETCH (BODY[] {10}\r\n" {
		t.Fatalf("FETCH: %q", got)
	}
	lc.send("a2 STARTTLS\r\n")
	lc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.ReadAll(lc.br)
	waitFor(t, out, "* connection closed")
	return out.String()
}

func TestZZStallCloseTraceNoise(t *testing.T) {
	trace := review48ZZStallTrace(t)
	if strings.Contains(trace, "use of closed network connection") {
		t.Errorf("the trace prints the proxy's own close of the upstream as a server error:\n%s", trace)
	}
}

func TestZZStallCloseTraceOmitsRelayed(t *testing.T) {
	trace := review48ZZStallTrace(t)
	if !strings.Contains(trace, "S: * 1 FETCH (BODY[]") {
		t.Errorf("the trace omits the part of the line relayed to the client:\n%s", trace)
	}
}
