package main

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestProxyRefusedOwedPasswordLiteralAnswered: a LOGIN whose password
// literal is over maxSecretLiteral, sent as the line owed to an
// unanswered challenge (printed as SASL data, so the proxy's BAD echoes
// no tag: "* BAD"), is refused and not relayed, and the client is not
// left waiting for its tag: the connection closes after the untagged BAD
// (before, it went on, and a client that sent "a2 LOGIN alice {n}"
// waited for a "+" or an "a2" answer that never came). With a
// synchronizing and a non-synchronizing literal. Defaults; the 30 s
// deadline of dialProxy only fails a client that would wait for ever.
func TestProxyRefusedOwedPasswordLiteralAnswered(t *testing.T) {
	t.Parallel()
	n := maxSecretLiteral + 1
	pass := saslSecret(n + 8)[:n]
	for _, tc := range []struct{ name, send string }{
		{"synchronizing", "a2 LOGIN alice {" + strconv.Itoa(n) + "}\r\n"},
		{"non-synchronizing", "a2 LOGIN alice {" + strconv.Itoa(n) + "+}\r\n" + pass + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startEchoUpstream(t, func(i int, _ string) string {
				return []string{"+ \r\na1 NO too slow\r\n", "a2 OK done\r\n", "a3 OK done\r\n"}[min(i, 2)]
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 AUTHENTICATE GSSAPI\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, tc.send)
			var got strings.Builder
			for {
				l, err := r.ReadString('\n')
				got.WriteString(l)
				if err != nil {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatalf("the client still waits for a2's answer (read %q); trace:\n%s", got.String(), shortLines(out.String()))
					}
					break // the proxy closed the connection
				}
				if strings.HasPrefix(l, "+") {
					t.Fatalf("the proxy asked for the refused literal: %q", l)
				}
				if strings.HasPrefix(l, "a2 ") {
					break
				}
			}
			if !strings.Contains(got.String(), "* BAD imapkit proxy: a password literal of more than") {
				t.Errorf("the client got %q; want the proxy's BAD", got.String())
			}
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if strings.Contains(up.received(), pass[:64]) {
				t.Errorf("the refused password literal reached the server")
			}
			if p := leakedPiece(out.String(), pass); p != "" {
				t.Errorf("the trace shows %q of the password", p)
			}
		})
	}
}

// TestProxyRefusedPasswordLiteralAfterUserNameEnds: a password literal
// over maxSecretLiteral after a first piece that went to the server (the
// user name a literal) cannot be answered BAD: the connection closes, and
// the client, which does not end its side, is not left waiting. Defaults;
// dialProxy's 30 s deadline only fails a client that would wait for ever.
func TestProxyRefusedPasswordLiteralAfterUserNameEnds(t *testing.T) {
	t.Parallel()
	n := maxSecretLiteral + 1
	pass := saslSecret(n + 8)[:n]
	for _, tc := range []struct{ name, send string }{
		{"synchronizing", "alice {" + strconv.Itoa(n) + "}\r\n"},
		{"non-synchronizing", "alice {" + strconv.Itoa(n) + "+}\r\n" + pass + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startEchoUpstream(t, tagOK)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN {5}\r\n")
			readClientTo(t, r, "+ go", out)
			io.WriteString(c, tc.send)
			got, err := io.ReadAll(r)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the client still waits (read %q); trace:\n%s", got, shortLines(out.String()))
			}
			if strings.Contains(up.received(), pass[:64]) {
				t.Errorf("the refused password literal reached the server")
			}
		})
	}
}
