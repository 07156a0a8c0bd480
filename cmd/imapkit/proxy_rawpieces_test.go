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

// TestProxyRawLineInPiecesNotTokenized: a SASL response is text to the
// server (Event.Raw), and one that does not tokenize closes the
// connection: ForwardLine would take a "{n+}" at its end for a literal
// header and relay the next n bytes, a command the server runs, as the
// literal's body, hidden from the trace. The check ran only when the
// syntax error came in the line's first piece: a response of more tokens
// than one AppendUntilLiteral call hands out (wire.DefaultMaxLineTokens)
// reached the ErrSyntax branch with start false, and was relayed by
// ForwardLine, the command after it included. The upstream is scripted
// as a server that reads a SASL response to the end of its line.
func TestProxyRawLineInPiecesNotTokenized(t *testing.T) {
	t.Parallel()
	for name, resp := range map[string]string{
		"in pieces":     "abc" + strings.Repeat(" x", 40000) + " \x01 {18+}\r\n",
		"at first byte": "\x01 {18+}\r\n",
	} {
		t.Run(name, func(t *testing.T) { rawLineNotTokenized(t, resp) })
	}
}

// rawLineNotTokenized sends resp as the SASL response, then a command.
// The response may not tokenize where it begins, before the Dialog saw
// anything of it: the same holds.
func rawLineNotTokenized(t *testing.T, resp string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var ran []string              // commands the server read after the SASL response
	served := make(chan struct{}) // the server has read its connection to the end
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReaderSize(c, 1<<20)
		io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
		sasl := false
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if sasl { // the response, read as text to its CRLF
				sasl = false
				io.WriteString(c, "a1 NO bad response\r\n")
				continue
			}
			tag, cmd, _ := strings.Cut(strings.TrimSpace(l), " ")
			if cmd == "AUTHENTICATE PLAIN" {
				sasl = true
				io.WriteString(c, "+ \r\n")
				continue
			}
			mu.Lock()
			ran = append(ran, strings.TrimSpace(l))
			mu.Unlock()
			io.WriteString(c, tag+" OK done\r\n")
		}
	}()
	addr, out, _ := startProxy(t, "--upstream", "imap://"+ln.Addr().String())
	lc := dialLines(t, addr)
	lc.send("a1 AUTHENTICATE PLAIN\r\n")
	if l := lc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("AUTHENTICATE: %q", l)
	}
	hidden := "a2 CREATE Hidden\r\n"
	lc.send(resp + hidden)
	// Either the proxy closes the connection, or the server's answer to a2
	// comes and the trace must show the command. Then the client leaves,
	// and the test waits until the server has read its connection to the
	// end and the proxy has traced the session's end: what the server ran
	// and what the trace shows are then complete (a 200 ms pause stood in
	// for that, and a 3 s read deadline, which a loaded machine could
	// reach before the server's answer). A minute is a bound against a
	// hang.
	lc.c.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		l, err := lc.br.ReadString('\n')
		if err != nil {
			break
		}
		if strings.HasPrefix(l, "a2 ") {
			break
		}
	}
	lc.c.Close()
	select {
	case <-served:
	case <-time.After(time.Minute):
		t.Fatalf("a minute after the client left, the proxy still holds its upstream connection:\n%.600s", out.String())
	}
	waitFor(t, out, "* connection closed")
	mu.Lock()
	defer mu.Unlock()
	for _, c := range ran {
		if strings.HasPrefix(c, "a2 ") && !strings.Contains(out.String(), "C: a2 CREATE") {
			t.Fatalf("the server ran %q, which the trace does not show:\n%.600s", c, out.String())
		}
	}
}
