package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
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
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a0")
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

// TestProxyTaglessLine: a line without a tag, as a server reads it (one
// that begins with "*", a quoted string or a space), is no command:
// Dovecot answers "* BAD Invalid tag", reads no literal on it, and runs
// the bytes after "* NOOP {n+}" as the next command. Relayed as a literal,
// "b2 CREATE box" hid there; with the literal sent as synchronizing the
// relay waited for a word Dovecot never sends (neither "+" nor a
// completion: the connection stalled). The proxy answers such a line
// itself with "* BAD" and relays none of it, literals included, and the
// session goes on. (One that ends at a synchronizing literal's header,
// " a1 NOOP {5}", "%1 NOOP {5}" and "a*1 NOOP {5}" here before stop 59,
// whose client waits for a "+" no untagged answer replaces, now closes
// the connection after a "* BYE": TestProxyUntaggedRefusalAtSyncLiteralCloses.
// The first words no tag may be are tried with a hidden command here.)
func TestProxyTaglessLine(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a0")
	box := fmt.Sprintf("T%d", time.Now().UnixNano()%1000000)
	hidden := "b2 CREATE " + box + "\r\n"
	for i, line := range []string{
		fmt.Sprintf("* NOOP {%d+}\r\n%s\r\n", len(hidden), hidden),
		fmt.Sprintf("\"x\" NOOP {%d+}\r\n%s\r\n", len(hidden), hidden),
		fmt.Sprintf(" a1 NOOP {%d+}\r\n%s\r\n", len(hidden), hidden),
		"(x) NOOP\r\n",
		// A first word no tag may be (Dovecot: "Invalid tag").
		fmt.Sprintf("%%1 NOOP {%d+}\r\n%s\r\n", len(hidden), hidden),
		fmt.Sprintf("a*1 NOOP {%d+}\r\n%s\r\n", len(hidden), hidden),
	} {
		tag := fmt.Sprintf("c%d", i)
		lc.send(line + tag + " STATUS " + box + " (MESSAGES)\r\n")
		if got := lc.line(); !strings.HasPrefix(got, "* BAD imapkit proxy: a line without a tag") {
			t.Fatalf("%q: %q; want the proxy's * BAD", line, got)
		}
		for {
			l := lc.line()
			if strings.HasPrefix(l, "b2 ") {
				t.Fatalf("%q: the server ran the literal's bytes as a command: %q\n%s", line, l, out.String())
			}
			if strings.HasPrefix(l, tag+" ") {
				if !strings.HasPrefix(l, tag+" NO") {
					t.Fatalf("%q: STATUS of the mailbox the hidden command would have created: %q", line, l)
				}
				break
			}
		}
	}
}

// TestProxyUntokenizedSyncLiteral: a command that does not tokenize (a
// control byte in a mailbox name) and announces a synchronizing literal
// gets the proxy's BAD, not relayed; the client, which waits for a "+",
// sends no body and goes on with its next command. The proxy read the
// rest of the line with ForwardLine, which took that next command for the
// literal's body: it was never answered.
func TestProxyUntokenizedSyncLiteral(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, _, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a0")
	lc.send("a1 APPEND Box\x01 {30}\r\n")
	if got := lc.line(); !strings.HasPrefix(got, "a1 BAD imapkit proxy") {
		t.Fatalf("APPEND: %q; want the proxy's BAD", got)
	}
	lc.send("a2 NOOP\r\n")
	if got := lc.tagged("a2"); !strings.HasPrefix(got, "a2 OK") {
		t.Fatalf("NOOP: %q", got)
	}
}

// TestProxyTagAloneCyrus: a tag with no command name ("y" alone). Cyrus
// answers it "* BAD Invalid tag" and never completes it, so a Dialog that
// relayed it kept it pending for ever (1,024 of them and every later
// command waited for room); the proxy answers it itself, tagged, so the
// client gets its completion too.
func TestProxyTagAloneCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	addr, _, _ := startProxy(t, "--upstream", "imap://"+cy.Addr)
	lc := dialLines(t, addr)
	lc.send("y\r\nz NOOP\r\n")
	if got := lc.line(); !strings.HasPrefix(got, "y BAD imapkit proxy: no command name") {
		t.Fatalf("a tag alone: %q; want the proxy's tagged BAD", got)
	}
	if got := lc.tagged("z"); !strings.HasPrefix(got, "z OK") {
		t.Fatalf("NOOP: %q", got)
	}
}

// TestProxyStrayCompletion: a completion whose tag is no command the proxy
// relayed means the server ran a command the proxy did not see (Cyrus ran
// one hidden in a long SASL response). The proxy cannot undo it, but
// closes the connection without relaying the answer, so that nothing more
// gets through. The upstream is scripted: a real server answers only what
// it was sent.
func TestProxyStrayCompletion(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "* OK scripted\r\n")
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(c, "hidden OK ran a command you did not see\r\n"+tag+" OK done\r\n")
		}
	}()
	addr, out, _ := startProxy(t, "--upstream", "imap://"+ln.Addr().String())
	lc := dialLines(t, addr)
	lc.send("a1 NOOP\r\n")
	got := readUntil(lc, "a1 ", 5*time.Second)
	for _, l := range got {
		if strings.HasPrefix(l, "hidden ") || strings.HasPrefix(l, "a1 ") {
			t.Fatalf("the client got %q after a completion of a command the proxy did not see\n%s", l, out.String())
		}
	}
	waitFor(t, out, "* connection closed")
}
