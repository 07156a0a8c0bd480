package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestProxyPlusTagCyrus: Cyrus accepts "+" as a tag and completes
// the command with "+ OK Completed", a line the Dialog cannot tell from a
// continuation request. Pipelined before "a1 NOOP {n+}", that completion is
// taken for the server's go-ahead on the NOOP's literal (sent upstream as
// "{n}"), so the proxy relays the body, while Cyrus answers the NOOP with
// BAD, skips to the LF and runs the body as a command: here a LOGIN with
// the password, in plaintext to a remote upstream, which the proxy
// refuses when it sees it as a command.
func TestProxyPlusTagCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	ip := nonLoopbackIP(t)
	tp := newTapOn(t, net.JoinHostPort(ip, "0"), cy.Addr)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String())
	lc := dialLines(t, addr)
	// The proxy refuses the LOGIN it sees.
	lc.send("a0 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	if got := lc.tagged("a0"); !strings.HasPrefix(got, "a0 NO [PRIVACYREQUIRED]") {
		t.Fatalf("LOGIN: %q", got)
	}
	hidden := "a2 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n"
	lc.send(fmt.Sprintf("+ NOOP\r\na1 NOOP {%d+}\r\n%s\r\na3 NOOP\r\n", len(hidden), hidden))
	var got []string
	for {
		l := lc.line()
		got = append(got, l)
		if strings.HasPrefix(l, "a3 ") {
			break
		}
	}
	// The tap recorded a3, and all before it, before Cyrus had it:
	// what went upstream is in toServer (it waited 100 ms for that).
	tp.ln.Close()
	if up := tp.toServer.String(); strings.Contains(up, testserver.Password) {
		t.Errorf("the password went upstream in plaintext (%q):\nclient got %q\ntrace:\n%s", up, got, out.String())
	}
	for _, l := range got {
		if strings.HasPrefix(l, "a2 ") {
			t.Errorf("the server ran the literal's bytes as a command: %q", l)
		}
	}
}

// TestProxyUntokenizedNonSync: on a secure upstream (loopback) a
// line the tokenizer rejects is relayed with ForwardLine, which relays a
// "{n+}" at its end with its body, as it came: no ForwardAsSync, no wait
// for the server's word. Dovecot skips the rest of a NOOP's line and runs
// the body as a command, which the trace shows only as "a1 NOOP  [not
// tokenized: relayed unchanged]": the stop-35 hole, still open there.
func TestProxyUntokenizedNonSync(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a0")
	box := fmt.Sprintf("U%d", time.Now().UnixNano()%1000000)
	hidden := "a2 CREATE " + box + "\r\n"
	lc.send(fmt.Sprintf("a1 NOOP \x01 {%d+}\r\n%s\r\na3 STATUS %s (MESSAGES)\r\n", len(hidden), hidden, box))
	for {
		l := lc.line()
		if strings.HasPrefix(l, "a2 ") {
			t.Errorf("the server ran the literal's bytes as a command: %q\n%s", l, out.String())
		}
		if strings.HasPrefix(l, "a3 ") {
			if !strings.HasPrefix(l, "a3 NO") {
				t.Errorf("STATUS of the mailbox the literal would have created: %q", l)
			}
			break
		}
	}
}

// earlyNOServer is a scripted IMAP server with LITERAL+ and MULTIAPPEND
// that refuses an APPEND as soon as it has read the first message (as
// Dovecot does when saving it fails: client_send_box_error, then no "+"
// for a later synchronizing literal of the command,
// cmd_append_send_literal_continue), and reads the rest of the command:
// the bodies of non-synchronizing literals; a synchronizing one ends it.
func earlyNOServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	lit := regexp.MustCompile(`\{([0-9]+)(\+?)\}\r\n$`)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				io.WriteString(c, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND] scripted\r\n")
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					tag, rest, _ := strings.Cut(l, " ")
					cmd, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
					switch strings.ToUpper(cmd) {
					case "APPEND":
						m := lit.FindStringSubmatch(l)
						if m == nil {
							io.WriteString(c, tag+" BAD no literal\r\n")
							continue
						}
						if m[2] == "" {
							io.WriteString(c, "+ OK\r\n")
						}
						n, _ := strconv.Atoi(m[1])
						if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
							return
						}
						io.WriteString(c, tag+" NO [TOOBIG] the first message was refused after it was read\r\n")
						for {
							l, err := br.ReadString('\n')
							if err != nil {
								return
							}
							m := lit.FindStringSubmatch(l)
							if m == nil || m[2] == "" {
								break // the line ends; a sync literal gets no "+"
							}
							n, _ := strconv.Atoi(m[1])
							if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
								return
							}
						}
					case "LOGOUT":
						io.WriteString(c, "* BYE bye\r\n"+tag+" OK bye\r\n")
						return
					case "CAPABILITY":
						io.WriteString(c, "* CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND\r\n"+tag+" OK done\r\n")
					default:
						io.WriteString(c, tag+" OK done\r\n")
					}
				}
			}(c)
		}
	}()
	return ln.Addr().String()
}

// TestProxyMultiAppendEarlyNO: a LITERAL+ client's MULTIAPPEND
// whose parts reach the proxy as the client produces them (header, first
// message, then the second message's header when it is ready), to a
// server that refuses the APPEND right after the first message (as
// Dovecot does when saving it fails). The NO completes the command before
// the proxy reads the second literal's header: ExpectContinuation finds no
// pending command with the tag (litID 0), so only a "+" ends the wait,
// and none comes. The client gets its NO, but its next command never
// reaches the server: the client direction waits for ever. Before the
// change the "{n+}" went up as it came and the session went on.
func TestProxyMultiAppendEarlyNO(t *testing.T) {
	t.Parallel()
	up := earlyNOServer(t)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br.ReadString('\n') // greeting
	io.WriteString(c, "a1 APPEND INBOX {5+}\r\n")
	time.Sleep(200 * time.Millisecond)
	io.WriteString(c, "hello")
	time.Sleep(200 * time.Millisecond) // the second message is being read from elsewhere
	io.WriteString(c, " {5+}\r\nworld\r\na2 NOOP\r\n")
	for _, want := range []string{"a1 NO", "a2 OK"} {
		l, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(l, want) {
			t.Fatalf("got %q, %v; want %s...\n%s", l, err, want, out.String())
		}
	}
}
