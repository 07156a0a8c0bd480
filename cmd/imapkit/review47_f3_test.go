package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestReview47FTraceByeNotDelivered (found by review): the proxy closes
// on a server line out of step while the client reads nothing.
// closeClient's flush of what was relayed (and of the BYE behind it)
// fails on the --timeout bound, but the trace printed "P: * BYE ..." as
// if the client had it
// (clientOut.finish reports wrote = true when the BYE went into the
// buffer, whatever the Flush after it returned), and the stall was not
// reported at all: serve printed "a write to the client made no progress"
// before closeClient only. The trace said the client was told, when it
// received nothing. (--timeout is sped up 100 times: 300 ms, as the
// stall is what is tested; the bound itself is the default's.)
func TestReview47FTraceByeNotDelivered(t *testing.T) {
	clientWriteSpeed(t, 100)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "* OK ready\r\n")
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(c, tag+" OK done\r\nzz9 OK forged\r\n")
		io.Copy(io.Discard, r)
	}()
	buf := &syncBuffer{}
	cfg := &proxyConfig{
		upstream:    &target{host: "127.0.0.1", addr: ln.Addr().String()},
		out:         buf,
		dialTimeout: 30 * time.Second,
	}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: buf}}
	client, proxyEnd := net.Pipe() // no buffer: a client that does not read blocks the proxy's writes
	defer client.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		ps.serve(context.Background(), proxyEnd)
	}()
	client.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(client)
	if g, err := r.ReadString('\n'); err != nil || g != "* OK ready\r\n" {
		t.Fatalf("greeting %q, %v", g, err)
	}
	if _, err := io.WriteString(client, "a1 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	// The client reads nothing more.
	select {
	case <-served:
	case <-time.After(3 * time.Second):
		t.Fatal("serve did not end")
	}
	<-upDone
	trace := buf.String()
	if strings.Contains(trace, "P: * BYE") {
		t.Errorf("the trace prints the proxy's BYE as sent, though the client received nothing (the flush failed):\n%s", trace)
	}
	if !strings.Contains(trace, "made no progress") {
		t.Errorf("the trace does not say the client read nothing (the flush in closeClient timed out):\n%s", trace)
	}
}

// TestReview47FStrayUntokenizedRelayed (found by review): a completion
// of a tag the proxy never relayed closes the relay, with the proxy's BYE (stop 47), but only
// when the line tokenizes. "zz9 OK{x" (no SP after OK, then a "{" that
// opens no literal) fails to tokenize after "zz9 OK": Dialog.Server sets
// Event.Stray for it all the same, but serverToClient's wire.ErrSyntax
// path relayed the line unchanged (ForwardLongLine) and went on, never
// looking at ev.Stray: the forged completion reached the client and the
// session continued, out of step.
func TestReview47FStrayUntokenizedRelayed(t *testing.T) {
	got, trace := review47ProxyRun(t, []string{
		"* OK ready\r\n",
		"%T OK done\r\nzz9 OK{x\r\n",
		"%T OK selected\r\n",
	}, []string{"a1 NOOP\r\n", "a2 NOOP\r\n"}, []int{2, 1})
	for _, l := range got {
		if strings.HasPrefix(l, "zz9 ") {
			t.Fatalf("a completion of a tag the proxy never relayed reached the client: %q (want the BYE, then the end)\ntrace:\n%s", got, trace)
		}
	}
	if len(got) < 3 || got[2] != review47ByeOutOfStep {
		t.Fatalf("the client read %q; want the BYE after a1's OK\ntrace:\n%s", got, trace)
	}
}

// review47FClientSideBye runs serve between a client on net.Pipe and an
// upstream that answers the client's a1 with its completion and then
// sends flood at once (20,000 untagged lines are more than the proxy's
// buffers to the client hold: net.Pipe holds nothing); once the client
// read the completion, it sends a refused command with a token over 1 MiB, on
// which the proxy closes with a BYE of its own, and the function returns
// when the proxy's client direction reported that fault (the BYE is due).
// With a flood, the server's direction is then still relaying.
func review47FClientSideBye(t *testing.T, flood string) (client net.Conn, r *bufio.Reader, trace *syncBuffer, served <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "* OK ready\r\n")
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(c, tag+" OK done\r\n"+flood)
		io.Copy(io.Discard, r)
	}()
	buf := &syncBuffer{}
	cfg := &proxyConfig{
		upstream:    &target{host: "127.0.0.1", addr: ln.Addr().String()},
		out:         buf,
		dialTimeout: 30 * time.Second,
	}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: buf}}
	client, proxyEnd := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ps.serve(context.Background(), proxyEnd)
	}()
	t.Cleanup(func() {
		client.Close()
		<-done
		<-upDone
	})
	client.SetDeadline(time.Now().Add(5 * time.Second)) // against a hang
	r = bufio.NewReader(client)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(client, "a1 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	go io.WriteString(client, "a2 SEARCH "+strings.Repeat("1 ", 35000)+"TEXT \""+strings.Repeat("x", 1100000)+"\"\r\n")
	for !strings.Contains(buf.String(), "* client side: a refused command with a token") {
		select {
		case <-done:
			t.Fatalf("serve ended before the fault:\n%.2000s", buf.String())
		case <-time.After(5 * time.Millisecond): // polls for a condition: no timed assertion
		}
	}
	return client, r, buf, done
}

// TestReview47FNothingAfterClientSideBye (found by review): the proxy
// closes on a client's fault (a refused command with a token over 1 MiB)
// with a BYE of its own, while the server's direction still relays lines
// it has read (or reads until closeAll closes the upstream, which comes
// after the BYE). Before, those lines reached the client after the BYE:
// nothing may follow it.
func TestReview47FNothingAfterClientSideBye(t *testing.T) {
	client, r, _, served := review47FClientSideBye(t, strings.Repeat("* 1 EXISTS\r\n", 20000))
	var got []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break
		}
		got = append(got, l)
	}
	client.Close()
	<-served
	bye := -1
	for i, l := range got {
		if strings.HasPrefix(l, "* BYE ") {
			bye = i
			break
		}
	}
	if bye < 0 {
		t.Fatalf("no BYE among the %d lines the client read", len(got))
	}
	if bye != len(got)-1 {
		t.Errorf("%d lines after the proxy's BYE (%q), the first %q", len(got)-1-bye, got[bye], got[bye+1])
	}
}

// TestReview47FClientSideByeNotSent (found by review): as
// TestReview47FTraceByeNotDelivered, for the BYE the client's direction
// sends (ps.bye): it was printed before it was written, and printed all
// the same when the client read nothing (here: the BYE's flush stalls on
// the --timeout bound), or when the server's direction had ended and it
// was not written at all. It is printed once the client has it.
// (--timeout is sped up 100 times: 300 ms, as the stall is what is
// tested; no flood, lest the server's direction stall before the fault.)
func TestReview47FClientSideByeNotSent(t *testing.T) {
	clientWriteSpeed(t, 100)
	_, _, trace, served := review47FClientSideBye(t, "")
	// The client reads nothing more.
	select {
	case <-served:
	case <-time.After(4 * time.Second):
		t.Fatal("serve did not end")
	}
	if s := trace.String(); strings.Contains(s, "P: * BYE") {
		t.Errorf("the trace prints the proxy's BYE as sent, though the client read nothing:\n%.3000s", s)
	}
	if s := trace.String(); !strings.Contains(s, "made no progress") {
		t.Errorf("the trace does not say the client read nothing:\n%.3000s", s)
	}
}
