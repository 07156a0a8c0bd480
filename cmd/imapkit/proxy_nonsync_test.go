package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestProxyNonSyncLiteral: a client's non-synchronizing literal that the
// server does not read. Dovecot 2.3 skips the rest of a NOOP's line to its
// LF, so the bytes after "a1 NOOP {n+}" run as a command of their own:
// relayed as a literal, "a2 CREATE box" hid from the proxy's trace (and
// from its plaintext-credentials check, had it been a LOGIN) while Dovecot
// created the mailbox. The proxy now sends such a header as synchronizing:
// Dovecot completes the NOOP without "+", the proxy drops what the client
// sent as the body, and the mailbox is not created, as the client meant.
// A literal the server reads (SELECT's mailbox name) goes through, and the
// client sees no "+" it did not ask for.
func TestProxyNonSyncLiteral(t *testing.T) {
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.send("a0 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	if got := lc.tagged("a0"); !strings.HasPrefix(got, "a0 OK") {
		t.Fatalf("LOGIN: %q", got)
	}
	box := fmt.Sprintf("N%d", time.Now().UnixNano()%1000000)
	hidden := "a2 CREATE " + box + "\r\n"
	lc.send(fmt.Sprintf("a1 NOOP {%d+}\r\n%s\r\na3 STATUS %s (MESSAGES)\r\n", len(hidden), hidden, box))
	for {
		l := lc.line()
		if strings.HasPrefix(l, "a2 ") {
			t.Fatalf("the server ran the literal's bytes as a command: %q\n%s", l, out.String())
		}
		if strings.HasPrefix(l, "+") {
			t.Fatalf("the client got a %q it did not ask for", l)
		}
		if strings.HasPrefix(l, "a3 ") {
			if !strings.HasPrefix(l, "a3 NO") {
				t.Fatalf("STATUS of the mailbox the literal would have created: %q", l)
			}
			break
		}
	}
	lc.send("a4 SELECT {5+}\r\nINBOX\r\n")
	for {
		l := lc.line()
		if strings.HasPrefix(l, "+") {
			t.Fatalf("the client got a %q it did not ask for", l)
		}
		if strings.HasPrefix(l, "a4 ") {
			if !strings.HasPrefix(l, "a4 OK") {
				t.Fatalf("SELECT with a non-synchronizing literal: %q", l)
			}
			break
		}
	}
	waitFor(t, out, "a4 OK")
	for _, want := range []string{"[dropped: ", "[withheld: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the trace:\n%s", want, out.String())
		}
	}
}
