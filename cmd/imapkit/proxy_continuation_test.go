package main

import (
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// Reproducers of the third review of the literal change (review 36c).

// TestProxyWithheldPlusHoldsAnswer: the server direction buffers
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
func TestProxyWithheldPlusHoldsAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a")
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

// TestProxyLongSASLLineCyrus: the Dialog calls the client's
// line after a SASL challenge a SASL response (Raw), and the proxy relays
// it whole, unread ("[SASL data redacted]"). Cyrus 3.6 reads at most
// 21,847 bytes of a SASL response (a base64 buffer), fails the
// AUTHENTICATE, and reads the rest of the line as a command of its own:
// here a LOGIN, which it runs. The session is logged in while the trace
// shows no command but a failed AUTHENTICATE; any command hides so.
// (Dovecot closes the connection on such a line: failing closed.)
func TestProxyLongSASLLineCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+cy.Addr)
	lc := dialLines(t, addr)
	lc.send("a AUTHENTICATE PLAIN\r\n")
	if l := lc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("no challenge: %q", l)
	}
	lc.send(strings.Repeat("A", 21847) + "z3 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	lc.send("z4 NOOP\r\n")
	got := readUntil(lc, "z4 ", 10*time.Second)
	trace := out.String()
	for _, l := range got {
		if strings.Contains(l, "z3 OK") && !strings.Contains(trace, "C: z3 ") {
			t.Errorf("the server ran a LOGIN the proxy did not see: %.80q\ntrace:\n%s", l, trace)
		}
	}
	// The client may not see it, the proxy closing on the completion of a
	// command it did not see (Event.Stray); the server must not have run
	// it: the line goes nowhere past the proxy's bound (maxRawLine).
	if strings.Contains(trace, "S: z3 ") {
		t.Errorf("the server answered z3, a command hidden in a SASL response:\n%.2000s", trace)
	}
}
