package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProxyOwedLineBodyEchoedMidLiteralRedacted: the literal's body on a
// line printed as SASL data (the line owed to an unanswered challenge,
// here "a2 APPEND Drafts {n}": a LOGIN's literal over 16 KiB is refused,
// secretLiteralRefused) is kept as a credential, its first 16 KiB
// (forwardBody); but it is recorded only once the whole body has been
// relayed (ps.secrets.add after ForwardLiteral returns), while the relay
// sends the body on as it comes (the 32 KiB writer flushes when full). A
// body over 32 KiB that the client sends in two parts: the server has
// the first 32 KiB, echoes its first 20 KiB, and the trace prints the
// echo before the credential is recorded: in the clear. The client waits
// for the echo (and for its trace line) before it sends the rest, so the
// interleaving is forced, not timed. Defaults.
func TestProxyOwedLineBodyEchoedMidLiteralRedacted(t *testing.T) {
	t.Parallel()
	body := saslSecret(48 << 10)
	const first, sent = 20 << 10, 36 << 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second)) // against a hang only
		r, w := bufio.NewReader(c), c
		io.WriteString(w, "* OK ready\r\n")
		if _, err := r.ReadString('\n'); err != nil { // a1 AUTHENTICATE
			return
		}
		io.WriteString(w, "+ \r\na1 NO too slow\r\n")
		if _, err := r.ReadString('\n'); err != nil { // a2 APPEND Drafts {n}
			return
		}
		io.WriteString(w, "+ go\r\n")
		got := make([]byte, first)
		if _, err := io.ReadFull(r, got); err != nil {
			return
		}
		io.WriteString(w, "* OK echo "+string(got)+"\r\n")
		rest := make([]byte, len(body)-first+2)
		if _, err := io.ReadFull(r, rest); err != nil {
			return
		}
		io.WriteString(w, "a2 NO bad\r\n")
		io.Copy(io.Discard, r)
	}()
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+ln.Addr().String())
	c, r := dialProxy(t, paddr)
	until := func(prefix string) {
		t.Helper()
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v; trace:\n%s", prefix, err, shortLines(out.String()))
			}
			if strings.HasPrefix(l, prefix) {
				return
			}
		}
	}
	io.WriteString(c, "a1 AUTHENTICATE GSSAPI\r\n")
	until("a1 NO")
	io.WriteString(c, "a2 APPEND Drafts {"+strconv.Itoa(len(body))+"}\r\n")
	until("+ go")
	io.WriteString(c, body[:sent])
	until("* OK echo")
	// The echo's trace line (a hang detector only: the connection's
	// deadline ends the test otherwise).
	for !strings.Contains(out.String(), "S: * OK echo") {
		time.Sleep(5 * time.Millisecond)
	}
	io.WriteString(c, body[sent:]+"\r\n")
	until("a2 NO")
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, r)
	trace := out.String()
	if p := leakedPiece(trace, body[:maxRawLine]); p != "" {
		i := strings.Index(trace, p)
		t.Errorf("the trace shows %q of the recorded credential (the body's first 16 KiB), echoed before the body's end: ...%.200s...", p, trace[max(i-100, 0):])
	}
}
