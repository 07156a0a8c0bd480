package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// review48AUpstream is a scripted upstream server on loopback: script
// runs for each connection (closed when it returns, or at the test's
// end); the connections and the listener end with the test.
func review48AUpstream(t *testing.T, script func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				script(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// TestReview48AStalledMidLineAnswer: an upstream that sends part of a
// line (a FETCH's literal header, no body) and then stalls, keeping the
// connection open. The proxy's own answers to the client wait for the
// server's line to end (an answer inside it would corrupt it): before,
// they waited as long as the server kept the connection open, and a
// client's command that the proxy answers itself (a STARTTLS without a
// certificate) got no answer, for ever. Now a server that sends nothing
// more of its line for --timeout while an answer waits ends the
// connection: the client gets what was relayed, then the end, and the
// trace says why. Default options (--timeout 30 s), run 60 times faster
// (clientWriteSpeed: the same bound as each write to the client; the
// test would take 30 s otherwise).
func TestReview48AStalledMidLineAnswer(t *testing.T) {
	clientWriteSpeed(t, 60)
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		_ = l
		// The literal's header alone: the proxy flushes it to the client
		// (nothing more buffered), which reads it before it sends the
		// command the proxy answers: the server's direction is then in
		// the middle of the line.
		io.WriteString(c, "* 1 FETCH (BODY[] {10}\r\n")
		// Stalls: reads (and drops) what comes until the proxy closes.
		io.Copy(io.Discard, br)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 FETCH 1 BODY[]\r\n")
	if got := lc.line(); got != "* 1 FETCH (BODY[] {10}\r\n" {
		t.Fatalf("FETCH: %q", got)
	}
	lc.send("a2 STARTTLS\r\n")
	// A bound against a hang, not a timed assertion: the proxy's bound
	// is 0.5 s here.
	lc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(lc.br)
	if err != nil {
		t.Fatalf("after the stall the client read %q, then %v; want the relayed bytes, then the connection's end\ntrace:\n%s", rest, err, out.String())
	}
	if len(rest) > 0 {
		t.Errorf("after the stall the client read %q; want nothing more (no answer inside the server's line)", rest)
	}
	waitFor(t, out, "* connection closed")
	trace := out.String()
	if !strings.Contains(trace, "sent nothing more of its line for 30s") {
		t.Errorf("the trace does not say why the connection closed:\n%s", trace)
	}
	if strings.Contains(trace, "P: a2") {
		t.Errorf("the trace prints the proxy's answer, which never reached the client:\n%s", trace)
	}
}

// TestReview48ASlowLineWaited: the bound of TestReview48AStalledMidLineAnswer
// is on a stall, not on a line's length in time: a literal's body that
// keeps coming (a byte every 150 ms, 1.2 s in all, past the bound of
// 0.5 s here) is waited for, and the proxy's answer follows the line.
// Default options, run 60 times faster (clientWriteSpeed, as there).
func TestReview48ASlowLineWaited(t *testing.T) {
	clientWriteSpeed(t, 60)
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		io.WriteString(c, "* 1 FETCH (BODY[] {8}\r\n")
		for i := 0; i < 8; i++ {
			// Progress well within the bound (0.5 s): a byte every
			// 150 ms.
			time.Sleep(150 * time.Millisecond)
			if _, err := io.WriteString(c, "x"); err != nil {
				return
			}
		}
		io.WriteString(c, ")\r\n"+tag+" OK done\r\n")
		io.Copy(io.Discard, br)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 FETCH 1 BODY[]\r\n")
	if got := lc.line(); got != "* 1 FETCH (BODY[] {8}\r\n" {
		t.Fatalf("FETCH: %q", got)
	}
	lc.send("a2 STARTTLS\r\n")
	if got := lc.line(); got != "xxxxxxxx)\r\n" {
		t.Fatalf("the rest of the FETCH: %q\ntrace:\n%s", got, out.String())
	}
	// The proxy's answer and the server's next line, in either order
	// (the server's may come first: it was read with the FETCH's end).
	got := lc.line() + lc.line()
	if !strings.Contains(got, "a2 NO imapkit proxy: no certificate") || !strings.Contains(got, "a1 OK done\r\n") {
		t.Fatalf("read %q; want the proxy's NO to a2 and a1's OK\ntrace:\n%s", got, out.String())
	}
}
