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
// unanswered challenge (LikelySASL: printed as SASL data, read by the
// server as a command), is refused and not relayed (docs/cli.md: a
// password literal of more than 16 KiB is not relayed; it once was, as
// secretLiteralRefused looked only at printer.secretLit, which a line
// printed as SASL data never sets, and only its first maxRawLine bytes
// were kept as a credential, so the trace could show its bytes past
// 16 KiB). Its answer echoes no tag ("* BAD"): a literal is owed (a
// "{n}" whose client may wait for "+", a "{n+}" whose body a client that
// meant the line as its SASL response never sends), so its framing is
// not known, and the connection closes after the BAD with the proxy's
// BYE (before, it went on, and a client that sent "a2 LOGIN alice {n}"
// waited for a "+" or an "a2" answer that never came). Nothing of the
// password reaches the server or the trace. With a synchronizing and a
// non-synchronizing literal, one byte and 2000 bytes over the bound.
// Defaults; the 30 s deadline of dialProxy only fails a client that
// would wait for ever.
func TestProxyRefusedOwedPasswordLiteralAnswered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		n       int  // the literal's size
		nonSync bool // "{n+}", its body sent at once
	}{
		{"synchronizing", maxSecretLiteral + 1, false},
		{"synchronizing, 2000 bytes over", maxSecretLiteral + 2000, false},
		{"non-synchronizing", maxSecretLiteral + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			pass := saslSecret(tc.n + 8)[:tc.n]
			send := "a2 LOGIN alice {" + strconv.Itoa(tc.n) + "}\r\n"
			if tc.nonSync {
				send = "a2 LOGIN alice {" + strconv.Itoa(tc.n) + "+}\r\n" + pass + "\r\n"
			}
			up := startEchoUpstream(t, func(i int, _ string) string {
				return []string{"+ \r\na1 NO too slow\r\n", "a2 OK done\r\n", "a3 OK done\r\n"}[min(i, 2)]
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 AUTHENTICATE GSSAPI\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, send)
			// The server's word on the literal: "+" (the body goes), or
			// a completion (the proxy's refusal: none goes).
			var answer string
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
					io.WriteString(c, pass+"\r\n")
					t.Fatalf("the proxy asked for the refused literal: %q", l)
				}
				if strings.HasPrefix(l, "a2 ") || strings.HasPrefix(l, "* BAD") {
					answer = l
					break
				}
			}
			// The line is printed as SASL data: its answer echoes no tag.
			if want := "* BAD imapkit proxy: a password literal of more than"; !strings.HasPrefix(answer, want) {
				t.Errorf("the client got %q for the literal, not %q...", answer, want)
			}
			// Its framing is not known: the connection ends, told.
			rest, err := io.ReadAll(r)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("after the untagged BAD the connection stays open (read %q); trace:\n%s", rest, shortLines(out.String()))
			}
			if want := "* BYE imapkit proxy: a refused command sent where a SASL response was owed"; !strings.HasPrefix(string(rest), want) {
				t.Errorf("after the untagged BAD the client got %q; want %q...", rest, want)
			}
			if strings.Contains(up.received(), pass[:64]) {
				t.Errorf("a password literal of %d bytes reached the server (docs/cli.md: one over 16 KiB is not relayed)", tc.n)
			}
			trace := out.String()
			if p := leakedPiece(trace, pass); p != "" {
				i := strings.Index(trace, p)
				t.Errorf("the trace shows %q (at %d of the %d-byte password): ...%.200s...", p, strings.Index(pass, p), tc.n, trace[max(i-100, 0):])
			}
		})
	}
}

// TestProxyRefusedOwedCommandAnsweredTagged: a command of two words or
// more the proxy refuses, sent as the line owed to an unanswered
// challenge (printed as SASL data), read whole with no literal: its
// framing is known and its first word is its tag (no SASL response has
// a space), so the proxy answers it tagged and the session goes on (the
// next command is relayed). Before, it answered "* NO" or "* BAD" and
// closed the connection. A STARTTLS the proxy has no certificate for, a
// command name over maxCommandName (with an argument). Defaults.
func TestProxyRefusedOwedCommandAnsweredTagged(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("X", maxCommandName+1)
	for _, tc := range []struct{ name, send, answer string }{
		{"STARTTLS", "a2 STARTTLS\r\n", "a2 NO imapkit proxy: no certificate"},
		{"long command name", "a2 " + long + " INBOX\r\n", "a2 BAD imapkit proxy: a command name over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startEchoUpstream(t, func(i int, line string) string {
				if i == 0 {
					return "+ \r\na1 NO too slow\r\n"
				}
				return tagOK(i, line)
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 AUTHENTICATE GSSAPI\r\n")
			readClientTo(t, r, "a1 NO", out)
			io.WriteString(c, tc.send)
			l, err := r.ReadString('\n')
			if !strings.HasPrefix(l, tc.answer) {
				t.Fatalf("the client got %q (%v); want %q... (tagged); trace:\n%s", l, err, tc.answer, shortLines(out.String()))
			}
			io.WriteString(c, "a3 NOOP\r\n")
			// (The fake server echoes each line untagged first.)
			if got := readClientTo(t, r, "a3 ", out); !strings.HasSuffix(got, "a3 OK done\r\n") {
				t.Fatalf("after the refusal, a3 NOOP got %q; want it relayed and answered; trace:\n%s", got, shortLines(out.String()))
			}
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if got := up.received(); strings.Contains(got, "a2") {
				t.Errorf("the refused command reached the server: %q", got)
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

// TestProxyRefusedOwedCommandCutAnsweredUntagged: a command of two words
// the proxy refuses, sent as the line owed to an unanswered challenge
// (printed as SASL data), whose first piece the tokenizer's MaxLineTokens
// cut (no literal in it, but no CRLF either): its framing is not known
// when it is classified, so it gets the untagged answer, the BYE, and
// the connection closes, as for an owed literal
// (TestProxyRefusedOwedPasswordLiteralAnswered). taggedRefusal's CRLF
// check guards it (without it the cut piece, which holds no literal, is
// answered tagged). Defaults.
func TestProxyRefusedOwedCommandCutAnsweredUntagged(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("X", maxCommandName+1)
	send := "a2 " + long + strings.Repeat(" 1", 40000) + "\r\n" // 80,003 tokens: past MaxLineTokens
	up := startEchoUpstream(t, func(i int, line string) string {
		if i == 0 {
			return "+ \r\na1 NO too slow\r\n"
		}
		return tagOK(i, line)
	})
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
	c, r := dialProxy(t, paddr)
	io.WriteString(c, "a1 AUTHENTICATE GSSAPI\r\n")
	readClientTo(t, r, "a1 NO", out)
	io.WriteString(c, send)
	l, err := r.ReadString('\n')
	if want := "* BAD imapkit proxy: a command name over"; !strings.HasPrefix(l, want) {
		t.Fatalf("the client got %q (%v) for a piece cut at MaxLineTokens; want %q... (untagged); trace:\n%s", l, err, want, shortLines(out.String()))
	}
	rest, err := io.ReadAll(r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the untagged BAD the connection stays open (read %q); trace:\n%s", rest, shortLines(out.String()))
	}
	if want := "* BYE imapkit proxy: a refused command sent where a SASL response was owed"; !strings.HasPrefix(string(rest), want) {
		t.Errorf("after the untagged BAD the client got %q; want %q...", rest, want)
	}
	if got := up.received(); strings.Contains(got, "a2") {
		t.Errorf("the refused command reached the server: %.200q", got)
	}
}

// TestProxyUntaggedRefusalAtSyncLiteralCloses: a line the proxy refuses
// with an untagged answer (it has no tag; or it is of one word after an
// AUTHENTICATE, and may be a SASL response) that ends at a
// synchronizing literal's header, in its first piece or after a
// non-synchronizing literal's body, or in a line that does not tokenize.
// Its client waits for a "+" (RFC 9051 7.5) that only a tagged answer
// replaces: "* BAD" ends no wait, and the session went on with the client
// waiting until its own timeout. The proxy now says why in the trace,
// sends "* BYE" and closes. The client here waits, as RFC 9051 says,
// for a "+" or the connection's end; dialProxy's 30 s deadline fails
// one that would wait for ever. (A line of one word that ends in a
// literal, "x{5}", has no tag: a literal is no part of one.) A tagged
// refusal of such a line ("a2 XWARMUP {5}") is its completion, and the
// session goes on. Defaults.
func TestProxyUntaggedRefusalAtSyncLiteralCloses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, before, line string
	}{
		{"no tag, a space first", "", " a1 NOOP {5}\r\n"},
		{"no tag, a byte no tag has", "", "%1 NOOP {5}\r\n"},
		{"a literal first", "", "{5}\r\n"},
		{"no tag, after a non-synchronizing literal", "", " a1 APPEND x {3+}\r\nabc {5}\r\n"},
		{"no tag, not tokenized", "", " a\x01b {5}\r\n"},
		{"one word after an AUTHENTICATE", "a1 AUTHENTICATE PLAIN\r\n", "x{5}\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startEchoUpstream(t, func(i int, line string) string {
				if strings.Contains(line, "AUTHENTICATE") {
					return "a1 NO [AUTHENTICATIONFAILED] no\r\n"
				}
				return tagOK(i, line)
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			if tc.before != "" {
				io.WriteString(c, tc.before)
				readClientTo(t, r, "a1 NO", out)
			}
			io.WriteString(c, tc.line)
			var got strings.Builder
			for {
				l, err := r.ReadString('\n')
				got.WriteString(l)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("the client still waits for a \"+\" (read %q); trace:\n%s", got.String(), shortLines(out.String()))
				}
				if err != nil {
					break // the proxy closed the connection
				}
				if strings.HasPrefix(l, "+") {
					t.Fatalf("the proxy asked for the refused literal's body: %q", got.String())
				}
			}
			if want := "* BYE imapkit proxy: a synchronizing literal on a line answered untagged"; !strings.HasPrefix(got.String(), "* BAD imapkit proxy: ") || !strings.Contains(got.String(), want) {
				t.Errorf("the client read %q; want the proxy's \"* BAD\", then %q..., then the end", got.String(), want)
			}
			if trace := out.String(); !strings.Contains(trace, "answered untagged (its client may wait for a \"+\"): closing") {
				t.Errorf("the trace does not say why the connection closed:\n%s", shortLines(trace))
			}
		})
	}
	t.Run("tagged", func(t *testing.T) {
		up := startEchoUpstream(t, tagOK)
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
		c, r := dialProxy(t, paddr)
		io.WriteString(c, "a2 XWARMUP {5}\r\n")
		if l, err := r.ReadString('\n'); !strings.HasPrefix(l, "a2 BAD imapkit proxy: XWARMUP is not relayed") {
			t.Fatalf("the client read %q (%v); want the tagged BAD; trace:\n%s", l, err, shortLines(out.String()))
		}
		io.WriteString(c, "a3 NOOP\r\n")
		readClientTo(t, r, "a3 OK", out)
	})
}
