package main

import (
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// Reproducers of the third review of the literal change (review 36c).

// TestProxyReview36cWithheldPlusHoldsAnswer: the server direction buffers
// a line when more of the server's output is already read (ShouldFlush
// false) and flushes at the end of a later line. The "+" that answers a
// {n+} literal sent upstream as {n} is withheld: read with
// Forward(io.Discard) and no endLine, so nothing flushes. Dovecot answers
// a pipelined "a0 NOOP" and the "+ OK" for the APPEND's literal in one
// write: a0's answer stays in the proxy's buffer until the server's next
// line (here the APPEND's completion, after the body). A LITERAL+ client
// that waits for a0 before it sends the body (a legal order: nothing in
// LITERAL+ ties the body to the answers) waits for ever; any client gets
// a0's answer late.
func TestProxyReview36cWithheldPlusHoldsAnswer(t *testing.T) {
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.send("a LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	if got := lc.tagged("a"); !strings.HasPrefix(got, "a OK") {
		t.Fatalf("LOGIN: %q", got)
	}
	for i := 0; i < 3; i++ {
		lc.send("a0 NOOP\r\na1 APPEND INBOX {5+}\r\n")
		lc.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		l, err := lc.br.ReadString('\n')
		if err != nil {
			t.Fatalf("run %d: no answer to a0 within 3 s while the APPEND's body is pending (%v); trace:\n%s", i, err, out.String())
		}
		if !strings.HasPrefix(l, "a0 OK") {
			t.Fatalf("run %d: got %q", i, l)
		}
		lc.send("hello\r\n")
		if got := lc.tagged("a1"); !strings.HasPrefix(got, "a1 OK") {
			t.Fatalf("APPEND: %q", got)
		}
	}
}
