package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestProxyBracketFirstTagLiteral: Dovecot takes "[a" for a tag (an
// ATOM-CHAR), and reads "[a STATUS x] {13}"'s literal as STATUS's second
// argument. The proxy's tokenizer reads the line as text after "x]" (a
// line that begins with '[' is a bare response code to it) and relays it
// with no literal: Dovecot's "+" for it is then taken for the go-ahead of
// the next line's ("b NOOP {0NNN}", 13 bytes: the literal Dovecot reads),
// and the body of that "literal", forwarded unread, runs as commands:
// "a2 CREATE box" creates the mailbox with no command in the proxy's
// trace; the proxy sees a2's completion out of step only once a2 has run.
// (If Dovecot's "+" came before the proxy read the second line, the proxy
// would close on a stray "+" and waitFor would fail: a bug all the same.)
func TestProxyBracketFirstTagLiteral(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	defer func() {
		if t.Failed() {
			t.Log(out.String())
		}
	}()
	lc.login("a0")
	box := fmt.Sprintf("B%d", time.Now().UnixNano()%1000000)
	hidden := "a2 CREATE " + box + "\r\n"
	second := fmt.Sprintf("b NOOP {%04d}", len(hidden))
	if len(second) != 13 {
		t.Fatal(second)
	}
	lc.send("[a STATUS x] {13}\r\n" + second + "\r\n" + hidden + "a3 NOOP\r\n")
	// Dovecot runs a2 whichever way the proxy reads the client (as a
	// command after "[a"'s literal, or as the body of b's): the proxy must
	// have relayed it as a command.
	waitFor(t, out, "S: a2 ")
	if !strings.Contains(out.String(), "C: a2 CREATE") {
		t.Fatalf("the server ran %q, which the proxy relayed as the body of b's literal (no command in its trace)", strings.TrimSpace(hidden))
	}
}
