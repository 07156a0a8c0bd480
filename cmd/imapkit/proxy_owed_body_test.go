package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/imapkit/imapkit/wire"
)

// startLiteralRefuser starts a server (a recordingUpstream) that refuses
// every synchronizing literal (a tagged NO instead of "+": a LOGIN's
// password literal, as a server that wants TLS first refuses it) and
// answers every other line with its tag's OK, the command's name in its
// text ("a2 OK NOOP completed"), as Dovecot does. It records every byte
// it read.
func startLiteralRefuser(t *testing.T) *recordingUpstream {
	t.Helper()
	return startRecordingUpstream(t, func(c net.Conn, r *bufio.Reader) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			answer := f[0] + " OK done\r\n"
			switch {
			case strings.HasSuffix(line, "}\r\n"):
				answer = f[0] + " NO [PRIVACYREQUIRED] not without TLS\r\n"
			case len(f) > 1:
				answer = f[0] + " OK " + strings.ToUpper(f[1]) + " completed\r\n"
			}
			if _, err := io.WriteString(c, answer); err != nil {
				return
			}
		}
	})
}

// checkPasswordNotRelayed reads what the proxy relays to the client c (r)
// up to the answer of its "a3 NOOP", half-closes and reads the rest, then
// checks that neither the literal refuser up nor the trace out got the
// password ("secret").
func checkPasswordNotRelayed(t *testing.T, c net.Conn, r *bufio.Reader, up *recordingUpstream, out interface{ String() string }) {
	t.Helper()
	got := readClientTo(t, r, "a3 OK", out)
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, r)
	if rec := up.received(); strings.Contains(rec, "secret") {
		t.Errorf("the server got the password literal's body as a command: %q; the client read %q", rec, got)
	}
	if trace := out.String(); strings.Contains(trace, "secret") {
		t.Errorf("the trace shows the password:\n%s", shortLines(trace))
	}
}

// TestProxyRefusedPasswordLiteralBodyNotRelayed: a LOGIN whose password
// literal the server refuses at its synchronizing header ("a1 NO"
// instead of "+"), then the body sent all the same, as a client that did
// not wait for the "+" sends it: a password with a space in it, "secret
// pw", read as the tag "secret" and the command "PW". The proxy relayed
// it as a command (printed redacted, but the server got the password as
// a command line, and may echo it in a BAD to the client and its logs).
// It is not relayed now, nor is a body with a line break in it (each of
// its lines begins inside the body's bytes); the client's next command
// is. Defaults.
func TestProxyRefusedPasswordLiteralBodyNotRelayed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, secret string }{
		{"a space", "secret pw"},
		{"three words", "my secret words"},
		{"a line break", "ab\r\nsecret pw"},
		// Its first line has a command's shape, an extension's the
		// library does not know, and ends inside the body's bytes: it
		// is not told from a command that a client that waited sends
		// there, and is not relayed.
		{"an extension's shape, then a line break", "x2 xsecret\r\nmore pw"},
		// Its size announced in characters, not UTF-8 bytes (one fewer
		// than it has): the body runs past where its CRLF would be, as
		// an extension's command a client that waited sends there
		// does; its command name ("DE") is no extension's (no "X").
		{"a byte more than announced", "secret de passé"},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN alice {"+strconv.Itoa(utf8.RuneCountInString(tc.secret))+"}\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, tc.secret+"\r\na3 NOOP\r\n")
			checkPasswordNotRelayed(t, c, r, up, out)
		})
	}
}

// TestProxyCommandAfterRefusedPasswordLiteralPrinted: after a password
// literal the server refused at its header, a client that waited (RFC
// 9051) sends its next command, "a2 NOOP". It was printed redacted as
// the literal's body maybe, and its words of 3 bytes or more kept as
// credentials, so that the server's answer printed "*** OK ***
// completed". A well-formed command there (a tag, a command name the
// library knows) is printed and relayed as any other; but one whose line
// is the literal's length to the byte (its body and the LOGIN's CRLF,
// as a client that did not wait sends it) is taken for the body all the
// same: not printed, not relayed, answered with its tag (a client that
// meant it resends it, then relayed). Defaults.
func TestProxyCommandAfterRefusedPasswordLiteralPrinted(t *testing.T) {
	t.Parallel()
	t.Run("a command", func(t *testing.T) {
		up := startLiteralRefuser(t)
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
		c, r := dialProxy(t, paddr)
		io.WriteString(c, "a1 LOGIN alice {8}\r\n")
		readClientTo(t, r, "a1 NO", out)
		io.WriteString(c, "a2 NOOP\r\n")
		readClientTo(t, r, "a2 OK NOOP completed", out)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, r)
		trace := out.String()
		for _, want := range []string{"C: a2 NOOP\n", "S: a2 OK NOOP completed\n"} {
			if !strings.Contains(trace, want) {
				t.Errorf("the trace lacks %q:\n%s", want, shortLines(trace))
			}
		}
	})
	t.Run("a command the literal's length", func(t *testing.T) {
		up := startLiteralRefuser(t)
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
		c, r := dialProxy(t, paddr)
		io.WriteString(c, "a1 LOGIN alice {8}\r\n")
		readClientTo(t, r, "a1 NO", out)
		io.WriteString(c, "a2 CHECK\r\n") // 8 bytes: as the body would be
		if l, err := r.ReadString('\n'); !strings.HasPrefix(l, "a2 BAD imapkit proxy: ") {
			t.Fatalf("the client got %q (%v); want the proxy's tagged BAD; trace:\n%s", l, err, shortLines(out.String()))
		}
		io.WriteString(c, "a2 CHECK\r\n") // sent again: relayed
		readClientTo(t, r, "a2 OK CHECK completed", out)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, r)
		if rec := up.received(); strings.Count(rec, "a2 CHECK") != 1 {
			t.Errorf("the server got %q; want the second a2 CHECK alone", rec)
		}
		if trace := out.String(); strings.Count(trace, "C: a2 CHECK") != 1 {
			t.Errorf("the trace shows the line the literal's length, or not the second:\n%s", shortLines(trace))
		}
	})
}

// TestProxyRefusedPasswordLiteralBodyCloseSaysWhy: a refused password
// literal's body that reads as two words and ends in a synchronizing
// literal's header ("secret pw {5}"): answered untagged (its framing is
// not known), then the connection closes, as for the response owed to a
// challenge; the trace and the BYE said it was such a response, which it
// was not. They say now that it may be a password literal's body.
// Defaults.
func TestProxyRefusedPasswordLiteralBodyCloseSaysWhy(t *testing.T) {
	t.Parallel()
	const secret = "secret pw {5}"
	up := startLiteralRefuser(t)
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
	c, r := dialProxy(t, paddr)
	io.WriteString(c, "a1 LOGIN alice {"+strconv.Itoa(len(secret))+"}\r\n")
	readClientTo(t, r, "a1 NO", out)
	io.WriteString(c, secret+"\r\n")
	got, _ := io.ReadAll(r)
	const bye = "* BYE imapkit proxy: a refused line that may be a password literal's body, its framing not known: closing"
	if !strings.Contains(string(got), bye) {
		t.Errorf("the client read %q; want %q", got, bye)
	}
	waitFor(t, out, "connection closed")
	if trace := out.String(); !strings.Contains(trace, "may be a password literal's body") || strings.Contains(trace, "secret") {
		t.Errorf("the trace does not say why, or shows the password:\n%s", trace)
	}
	if strings.Contains(up.received(), "secret") {
		t.Errorf("the server got the body: %q", up.received())
	}
}

// TestProxyRefusedUserLiteralRestNotRelayed: a LOGIN whose user name is a
// synchronizing literal ("a1 LOGIN {5}"), refused at its header by the
// server, then the rest of the command sent all the same by a client
// that did not wait for the "+": the name's body and the password, "alice
// hunter2", read as the tag "alice" and the command "HUNTER2". Only a
// password literal's body was owed: this line was printed whole ("C: alice
// hunter2") and relayed, the server's "alice OK HUNTER2 completed" printed
// too. Now the line that begins inside the refused name's body and runs
// past it is taken for the rest of the LOGIN: printed redacted, not
// relayed; the client's next command is. Defaults.
func TestProxyRefusedUserLiteralRestNotRelayed(t *testing.T) {
	t.Parallel()
	for _, rest := range []string{"alice hunter2\r\n", "alice \"hunter2\"\r\n", "alice {7}\r\nhunter2\r\n"} {
		t.Run(strings.TrimSpace(rest), func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN {5}\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, rest+"a3 NOOP\r\n")
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if rec := up.received(); strings.Contains(rec, "hunter2") {
				t.Errorf("the server got the password: %q", rec)
			}
			if trace := out.String(); strings.Contains(trace, "hunter2") || strings.Contains(trace, "HUNTER2") {
				t.Errorf("the trace shows the password:\n%s", shortLines(trace))
			}
		})
	}
}

// TestProxyCommandAfterRefusedUserLiteral: a client that waited after its
// user name's literal was refused sends its next command. It is relayed,
// unless it has a space where the name's body would end, as the rest of
// the LOGIN would ("a2 NOOP" after a 2-byte name): then it is answered
// with its tag, not relayed; sent again, it is relayed. Defaults.
func TestProxyCommandAfterRefusedUserLiteral(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		size   string
		answer string
	}{
		{"no space where the name ends", "5", "a2 OK NOOP completed"},
		{"a space where the name ends", "2", "a2 BAD imapkit proxy: "},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN {"+tc.size+"}\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, "a2 NOOP\r\n")
			if l, err := r.ReadString('\n'); !strings.HasPrefix(l, tc.answer) {
				t.Fatalf("the client got %q (%v); want %q...; trace:\n%s", l, err, tc.answer, shortLines(out.String()))
			}
			io.WriteString(c, "a2 NOOP\r\n")
			readClientTo(t, r, "a2 OK NOOP completed", out)
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			want := "a1 LOGIN {" + tc.size + "}\r\na2 NOOP\r\n"
			if tc.size == "5" {
				want += "a2 NOOP\r\n"
			}
			if rec := up.received(); rec != want {
				t.Errorf("the server got %q; want %q", rec, want)
			}
		})
	}
}

// TestProxyRefusedPasswordLiteralBodyEndingInLiteralHeader: a refused
// password literal's body that ends like a non-synchronizing literal's
// header ("secret {3+}"), sent with the LOGIN's CRLF by a client that did
// not wait: the line is the body's length to the byte, so the "{3+}" is
// the password's, and no literal body follows. The proxy read the
// client's next command as that body: "a3 NOOP" was swallowed and never
// answered, and the client waited for ever (after "pw {999999+}", for a
// megabyte it never sends). Now no body is read: the line is answered
// (untagged and the connection closed for two words, its tag for a
// command's shape) and the next command gets its answer. Defaults; the
// read deadline is a hang detector only.
func TestProxyRefusedPasswordLiteralBodyEndingInLiteralHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{"secret {3+}", "* BYE imapkit proxy: "},
		{"pw {999999+}", "* BYE imapkit proxy: "},
		{"a2 APPEND x {3+}", "a3 OK NOOP completed"},
	} {
		t.Run(tc.body, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN alice {"+strconv.Itoa(len(tc.body))+"}\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, tc.body+"\r\na3 NOOP\r\n")
			c.SetReadDeadline(time.Now().Add(time.Minute)) // a hang detector only
			var got strings.Builder
			for !strings.Contains(got.String(), tc.want) {
				l, err := r.ReadString('\n')
				got.WriteString(l)
				if err != nil {
					t.Fatalf("the client read %q (%v); want %q: the next command was taken for the literal's body; trace:\n%s", got.String(), err, tc.want, shortLines(out.String()))
				}
			}
			c.Close()
			if rec := up.received(); strings.Contains(rec, "secret") || strings.Contains(rec, "APPEND") || strings.Contains(rec, "pw") {
				t.Errorf("the server got the body: %q; trace:\n%s", rec, shortLines(out.String()))
			}
		})
	}
}

// TestProxyExtensionCommandAfterRefusedPasswordLiteral: after a password
// literal refused at its header, a client that waited (RFC 9051) sends
// an ordinary command the library has no rules for (XLIST, Gmail's;
// X-prefixed extensions). It was answered with the proxy's BAD, as a
// line that may be the literal's body, which the server never sent: a
// command the library knows was relayed there, one it did not know was
// not. A line that runs past where the body and the LOGIN's CRLF would
// end, its CRLF not there, is no line of the body: it is relayed, known
// or not; so are ID and GETMETADATA, which the library knows. Defaults.
func TestProxyExtensionCommandAfterRefusedPasswordLiteral(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ line, answer string }{
		{`a2 XLIST "" "*"`, "a2 OK XLIST completed"},
		{`a2 XAPPLEPUSHSERVICE aps-version 2`, "a2 OK XAPPLEPUSHSERVICE completed"},
		{`a2 ID ("name" "mutt")`, "a2 OK ID completed"},
		{`a2 GETMETADATA "" /shared/comment`, "a2 OK GETMETADATA completed"},
	} {
		t.Run(tc.line, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN alice {8}\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, tc.line+"\r\n")
			if l, err := r.ReadString('\n'); !strings.HasPrefix(l, tc.answer) {
				t.Fatalf("the client got %q (%v); want the server's %q; trace:\n%s", l, err, tc.answer, shortLines(out.String()))
			}
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if rec, want := up.received(), "a1 LOGIN alice {8}\r\n"+tc.line+"\r\n"; rec != want {
				t.Errorf("the server got %q; want %q", rec, want)
			}
			if trace := out.String(); !strings.Contains(trace, "C: "+tc.line+"\n") {
				t.Errorf("the trace lacks the command:\n%s", shortLines(trace))
			}
		})
	}
}

// TestProxyLineAfterRefusedLiteralOfUnknownSizeOwed: a LOGIN the proxy
// refuses (its tag over maxTag) whose synchronizing literal comes in a
// later piece of its line, past MaxLineTokens: the proxy does not know
// the literal's size, so it does not know where its body would end, and
// the next line is taken for (a part of) it, whatever its length, as
// docs/security.md has it; an extension's command there that runs past
// a one-byte body is not relayed on that ground. Nor is a line with a
// space where a one-byte user name's body would end, "u check mate" (the
// body "u", then the LOGIN's rest, its password "check mate", as a
// client that did not wait sends them), though it names a command the
// library knows (CHECK): it is taken for the LOGIN's rest (owedRest), as
// it was before the literal's size counted (owedSized), and neither
// relayed nor printed. Defaults.
func TestProxyLineAfterRefusedLiteralOfUnknownSizeOwed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ line, tag, word string }{
		{"a2 XLIST \"\" \"*\"", "a2", "XLIST"},
		{"u check mate", "u", "mate"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			tag := strings.Repeat("t", maxTag+1)
			io.WriteString(c, tag+" LOGIN alice"+strings.Repeat(" x", 40000)+" {8}\r\n")
			readClientTo(t, r, tag+" BAD imapkit proxy: ", out)
			io.WriteString(c, tc.line+"\r\n")
			if l, err := r.ReadString('\n'); !strings.HasPrefix(l, tc.tag+" BAD imapkit proxy: ") {
				t.Fatalf("the client got %q (%v); want the proxy's BAD; trace:\n%s", l, err, shortLines(out.String()))
			}
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if rec := up.received(); strings.Contains(rec, tc.word) {
				t.Errorf("the server got %q", rec)
			}
			if trace := out.String(); strings.Contains(trace, tc.word) {
				t.Errorf("the trace shows the line:\n%s", shortLines(trace))
			}
		})
	}
}

// TestProxyExtensionCommandAfterRefusedEmptyPasswordLiteral: a password
// literal of size 0 ("{0}", an empty password) refused at its header, by
// the server's NO or the proxy's BAD (a tag over maxTag), then a client
// that waited sends an extension's command, "a2 XLIST": its size is
// known, so the command, which runs past where the empty body and the
// LOGIN's CRLF would end, is relayed, as after a literal of any other
// known size (TestProxyExtensionCommandAfterRefusedPasswordLiteral). It
// got the proxy's BAD: a size of 0 was taken for a size not known. Defaults.
func TestProxyExtensionCommandAfterRefusedEmptyPasswordLiteral(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("t", maxTag+1)
	for _, tc := range []struct{ name, login, refusal string }{
		{"the server's NO", "a1 LOGIN alice {0}", "a1 NO"},
		{"the proxy's BAD", long + " LOGIN alice {0}", long + " BAD imapkit proxy: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, tc.login+"\r\n")
			readClientTo(t, r, tc.refusal, out)
			io.WriteString(c, "a2 XLIST \"\" \"*\"\r\n")
			if l, err := r.ReadString('\n'); !strings.HasPrefix(l, "a2 OK XLIST completed") {
				t.Fatalf("the client got %q (%v); want the server's \"a2 OK XLIST completed\"; trace:\n%s", l, err, shortLines(out.String()))
			}
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if rec := up.received(); !strings.HasSuffix(rec, "a2 XLIST \"\" \"*\"\r\n") {
				t.Errorf("the server got %q", rec)
			}
		})
	}
}

// TestProxyBodyAfterUntokenizedLiteralHeaderNotRelayed: a LOGIN or
// AUTHENTICATE whose synchronizing literal's header does not tokenize
// (more than 18 digits, or a size over the 1 GiB MaxLiteral) is refused
// by the proxy ("cannot be tokenized"), its client waiting for a "+"
// that never comes; a client that did not wait sends the body all the
// same, here a password with a space in it, "x2 XLIST secret", read as a
// tag and an extension's command. Nothing was owed after such a line:
// the body was relayed to the server as a command and printed whole in
// the trace ("C: x2 XLIST secret"). The line after it is owed now, as
// after a literal of a size not known
// (TestProxyLineAfterRefusedLiteralOfUnknownSizeOwed): the proxy's BAD,
// never relayed or printed; the client's next command is relayed.
// Defaults.
func TestProxyBodyAfterUntokenizedLiteralHeaderNotRelayed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, line string }{
		{"20 digits", "a1 LOGIN alice {99999999999999999999}"},
		{"over 1 GiB after a byte that does not tokenize", "a1 LOGIN al\x01ice {1073741825}"},
		{"a known size after a byte that does not tokenize", "a1 LOGIN al\x01ice {15}"},
		{"a user name's", "a1 LOGIN {99999999999999999999}"},
		{"AUTHENTICATE", "a1 AUTHENTICATE PLAIN {99999999999999999999}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, tc.line+"\r\nx2 XLIST secret\r\n")
			readClientTo(t, r, "a1 BAD imapkit proxy: ", out)
			if l, err := r.ReadString('\n'); !strings.Contains(l, " BAD imapkit proxy: ") {
				t.Fatalf("the client got %q (%v) for the body; want the proxy's BAD; trace:\n%s", l, err, shortLines(out.String()))
			}
			io.WriteString(c, "a3 NOOP\r\n")
			if l, err := r.ReadString('\n'); !strings.HasPrefix(l, "a3 OK NOOP completed") {
				t.Fatalf("the client got %q (%v); want the server's \"a3 OK NOOP completed\"; trace:\n%s", l, err, shortLines(out.String()))
			}
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if rec := up.received(); strings.Contains(rec, "secret") || !strings.HasSuffix(rec, "a3 NOOP\r\n") {
				t.Errorf("the server got %q; want only \"a3 NOOP\\r\\n\"", rec)
			}
			if trace := out.String(); strings.Contains(trace, "secret") || strings.Contains(trace, "XLIST") {
				t.Errorf("the trace shows the body:\n%s", shortLines(trace))
			}
		})
	}
}

// TestProxyUnderCountedPasswordLiteralSentAtOnceNotRelayed: a LOGIN whose
// password literal announces fewer bytes than it has (characters counted,
// or a client's slip) sent with its body at once, without waiting for
// the "+", which the server refuses at the header ("a1 NO"). The body runs
// past where its CRLF would be, as the next command of a client that
// waited does; with a second word that starts with X (an x-command's
// shape, XLIST) or is a command the library knows, it was relayed as a
// command and printed. Bytes the proxy had read from the client before it
// relayed the refusal were sent before the client could have read it: a
// client that waited sends nothing there, so they are the body, whatever
// their shape, and are not relayed; an XLIST sent after the refusal still
// is (TestProxyExtensionCommandAfterRefusedPasswordLiteral). Defaults.
func TestProxyUnderCountedPasswordLiteralSentAtOnceNotRelayed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, secret string }{
		{"an x-command's shape", "secret Xmas12"},
		{"a known command's shape", "secret NOOP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := startLiteralRefuser(t)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN alice {"+strconv.Itoa(len(tc.secret)-1)+"}\r\n"+tc.secret+"\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, "a3 NOOP\r\n")
			checkPasswordNotRelayed(t, c, r, up, out)
		})
	}
}

// TestProxyPasswordLiteralRefusalMarkedBeforeItIsTold: the count of the
// client's bytes read as the server's refusal of a password literal
// begins (completedAt) must be recorded before the refusal is handed to
// the client's direction (wire.Dialog.Server's verdict), which reads it
// as soon as it has the verdict. Before, it was recorded after: a server's
// direction that lost the processor between the two left the client's
// direction the previous completion's mark (or none), and an
// under-counted password sent at once with an x-command's shape ("{12}"
// for "secret Xmas12") was relayed as a command. The serverLine hook
// holds the server's direction just after the verdict, until the client's
// direction is done with what it read; in a synctest bubble, in memory,
// with the defaults (an upstream on loopback: the LOGIN is relayed).
func TestProxyPasswordLiteralRefusalMarkedBeforeItIsTold(t *testing.T) {
	passwordLiteralRefusedAtOnce(t, "a1 NO [PRIVACYREQUIRED] not without TLS\r\n")
}

// TestProxyUntokenizedRefusalOfPasswordLiteralMarked: the same rule on
// a server's refusal that does not tokenize ("a1 NO{x": the tokens before
// the error tell the Dialog it completes a1, and the rest is relayed
// untokenized). Before, that path took no mark (completedAt), and an
// under-counted password sent at once behind the LOGIN went to the server
// as a command and into the trace. Set up as
// TestProxyPasswordLiteralRefusalMarkedBeforeItIsTold.
func TestProxyUntokenizedRefusalOfPasswordLiteralMarked(t *testing.T) {
	passwordLiteralRefusedAtOnce(t, "a1 NO{x\r\n")
}

// passwordLiteralRefusedAtOnce: a client sends "a1 LOGIN alice {12}" and
// its under-counted password ("secret Xmas12") at once; the server
// answers the header with refusal. Neither the server nor the trace may
// get the password.
func passwordLiteralRefusedAtOnce(t *testing.T, refusal string) {
	synctest.Test(t, func(t *testing.T) {
		var got bytes.Buffer
		served := make(chan struct{})
		hold := func(ev wire.Event) {
			if ev.Kind == wire.LineCompletion && ev.Tag == "a1" {
				synctest.Wait() // the client's direction is done with the bytes it read
			}
		}
		client, trace, done := pipeProxySession(t, func(c net.Conn) {
			defer close(served)
			io.WriteString(c, "* OK ready\r\n")
			br := bufio.NewReader(c)
			if l, err := br.ReadString('\n'); err != nil || l != "a1 LOGIN alice {12}\r\n" {
				return
			}
			io.WriteString(c, refusal)
			io.Copy(&got, br) // until the proxy's end
		}, func(cfg *proxyConfig) {
			cfg.hooks.serverLine = hold
			// On loopback: the proxy relays the LOGIN (its defaults).
			dial := cfg.hooks.dial
			cfg.hooks.dial = func(ctx context.Context, addr string) (net.Conn, error) {
				c, err := dial(ctx, addr)
				return loopbackConn{c}, err
			}
		})
		br := bufio.NewReader(client)
		if l, err := br.ReadString('\n'); err != nil || l != "* OK ready\r\n" {
			t.Fatalf("greeting %q (%v)", l, err)
		}
		go io.WriteString(client, "a1 LOGIN alice {12}\r\nsecret Xmas12\r\n")
		// The proxy's answer to the body's line may come first: the
		// hook held the server's direction.
		readLinesTo(t, br, "a1 NO")
		client.Close()
		<-done
		<-served
		if strings.Contains(got.String(), "secret") {
			t.Errorf("the server got the password literal's body as a command: %q", got.String())
		}
		if s := trace.String(); strings.Contains(s, "secret") {
			t.Errorf("the trace shows the password:\n%s", s)
		}
	})
}

// loopbackConn is a connection whose peer is on loopback (isLoopback): an
// in-memory upstream the proxy relays credentials to.
type loopbackConn struct{ net.Conn }

func (loopbackConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143}
}

// readLinesTo reads br's lines up to one with want in it, and returns what
// it read; an error before it fails the test.
func readLinesTo(t *testing.T, br *bufio.Reader, want string) string {
	t.Helper()
	var read string
	for !strings.Contains(read, want) {
		l, err := br.ReadString('\n')
		read += l
		if err != nil {
			t.Fatalf("the client read %q (%v); want %q", read, err, want)
		}
	}
	return read
}
