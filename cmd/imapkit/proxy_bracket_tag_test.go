package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
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

// TestProxyBracketTagRefusedTagged: RFC 9051's tag is 1*<any ASTRING-CHAR
// except "+">, and "]" is an ASTRING-CHAR: "a]1" is a tag. Dovecot reads
// none there ("* BAD Invalid tag", no completion, no literal read), so
// the proxy does not relay such a line; but it took it for a line with
// no tag and answered "* BAD", which names no command: a client that
// ended the line at a synchronizing literal's header waits for a "+"
// that only a tagged answer replaces, and the proxy closed the
// connection with a BYE (TestProxyUntaggedRefusalAtSyncLiteralCloses).
// Now the line gets its tagged BAD, the session goes on, and the server
// gets none of it. Defaults.
func TestProxyBracketTagRefusedTagged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, send, tag string }{
		{"synchronizing literal", "a]1 APPEND Drafts {5}\r\n", "a]1"},
		{"no literal", "a]1 NOOP\r\n", "a]1"},
		{"bracket first", "]x LIST \"\" *\r\n", "]x"},
		{"after a non-synchronizing literal's body", "b]2 APPEND Drafts {3+}\r\nabc {5}\r\n", "b]2"},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startEchoUpstream(t, tagOK)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, tc.send)
			l, err := r.ReadString('\n')
			if want := tc.tag + " BAD imapkit proxy: "; !strings.HasPrefix(l, want) {
				t.Fatalf("the client got %q (%v); want %q... (tagged); trace:\n%s", l, err, want, shortLines(out.String()))
			}
			io.WriteString(c, "a2 NOOP\r\n")
			readClientTo(t, r, "a2 OK", out)
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if got := up.received(); got != "a2 NOOP\r\n" {
				t.Errorf("the server got %q; want only a2's NOOP", got)
			}
		})
	}
}

// TestBracketTagGrammar: bracketTag takes a first word for the client's
// tag where RFC 9051 has one with a "]" in it (ASTRING-CHARs, "+" not
// among them), ended by a space in the piece, and no longer than maxTag:
// nothing else is echoed as a tag.
func TestBracketTagGrammar(t *testing.T) {
	for _, c := range []struct{ line, tag string }{
		{"a]1 NOOP\r\n", "a]1"},
		{"] NOOP\r\n", "]"},
		{"a[1] NOOP\r\n", "a[1]"},
		{"a1 NOOP\r\n", ""},   // no "]": the Dialog's own tag
		{"a]+1 NOOP\r\n", ""}, // "+" is no tag's
		{"a]%1 NOOP\r\n", ""},
		{"a]1\r\n", ""}, // no space after it
		{"a]\"x\" NOOP\r\n", ""},
		{strings.Repeat("]", maxTag) + " NOOP\r\n", strings.Repeat("]", maxTag)},
		{strings.Repeat("]", maxTag+1) + " NOOP\r\n", ""},
	} {
		line, err := wire.NewTokenizer(strings.NewReader(c.line), &wire.TokenizerOptions{Commands: true}).AppendUntilLiteral(nil)
		if err != nil {
			t.Fatalf("%.40q: %v", c.line, err)
		}
		if got := bracketTag(line); got != c.tag {
			t.Errorf("bracketTag(%.40q) = %.40q; want %.40q", c.line, got, c.tag)
		}
	}
}
