package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestProxyEchoAcrossLineEndRedacted: a server echoes a LOGIN's password
// across a line end in its NO, each of the two lines holding a part of
// it and neither a whole form: a password literal with a line break in
// it echoed as sent, and a password the server breaks in two. The
// proxy's trace printed both parts, each line being redacted alone (the
// second line reads as a completion out of step: the proxy closes).
// Also after a first line longer than the proxy prints (maxPrinted and
// the longest credential's printed form), cut before the password's
// first part: its next line opened with the rest, printed, the carry
// being emptied after a cut line. Defaults.
func TestProxyEchoAcrossLineEndRedacted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, pw string
		at       int // where the server breaks the echo, if it does
		parts    []string
	}{
		{"line break in the password", "hunter2-correct\r\nhorse-battery-staple", -1,
			[]string{"hunter2", "correct", "horse", "battery", "staple"}},
		{"password broken in two", "hunter2-correct-horse-battery-staple", 19,
			[]string{"hunter2", "correct", "-hor", "se-bat", "battery", "staple"}},
		// The first line, with a bare LF, does not tokenize: relayed
		// unchanged, printed up to its text; the second opens with
		// the rest after the break, no printed carry before it.
		{"bare LF in the password", "hunter2-correct\nhorse-battery-staple", -1,
			[]string{"hunter2", "correct", "horse", "battery", "staple"}},
	} {
		for _, pad := range []int{0, maxPrinted + 1000} {
			proxyEchoAcrossLineEnd(t, c.name, c.pw, c.at, pad, c.parts)
		}
	}
}

// proxyEchoAcrossLineEnd runs a case of TestProxyEchoAcrossLineEndRedacted:
// the server's echo of pw (broken at at, if at >= 0) after pad bytes of
// text, which must show none of parts.
func proxyEchoAcrossLineEnd(t *testing.T, name, pw string, at, pad int, parts []string) {
	t.Run(fmt.Sprintf("%s, %d bytes before", name, pad), func(t *testing.T) {
		t.Parallel()
		addr := hostileUpstream(t, func(hc *hostile.Conn) error {
			if err := hc.Greet("IMAP4rev1"); err != nil {
				return err
			}
			for {
				cmd, err := hc.ReadCommand()
				if err != nil {
					return nil
				}
				if cmd.Name == "LOGOUT" {
					return hc.Answer(cmd)
				}
				if err := hc.Continue("go ahead"); err != nil {
					return err
				}
				lit, err := hc.ReadLiteral(cmd.Literal)
				if err != nil {
					return err
				}
				if _, err := hc.ReadLine(); err != nil {
					return err
				}
				echo := string(lit)
				if at >= 0 {
					echo = echo[:at] + "\r\n" + echo[at:]
				}
				if err := hc.Line("* OK you sent " + strings.Repeat("x", pad) + " " + echo + " as your password"); err != nil {
					return err
				}
				if err := hc.Reply(cmd.Tag, "NO wrong password"); err != nil {
					return err
				}
			}
		})
		// The echo's second line reads as a completion out of
		// step: the proxy closes.
		out := loginLiteralUntil(t, addr, pw, "connection closed")
		if !strings.Contains(out.String(), "as your password") {
			t.Fatalf("the server's echo is not in the proxy's output:\n%s", out.String())
		}
		for _, p := range parts {
			if strings.Contains(out.String(), p) {
				t.Errorf("the proxy's output shows %q of the password:\n%s", p, out.String())
			}
		}
	})
}

// TestProxyEchoAcrossChallengeLineEndRedacted: a server echoes a SASL
// response across the end of a challenge ("+ AHVzZXIAc2Vj" CR LF
// "cmV0cHc= BAD ..."). The challenge is printed as SASL data, "[SASL data
// redacted, N bytes]", and the carry to the next line held that text,
// not the challenge's bytes: the next line opened with the response's
// rest, printed ("S: cmV0cHc= BAD ..."). Defaults.
func TestProxyEchoAcrossChallengeLineEndRedacted(t *testing.T) {
	t.Parallel()
	const response = "AHVzZXIAc2VjcmV0cHc=" // PLAIN: user, secretpw
	trace := proxyChallengeEcho(t, response, 12)
	if p := response[12:]; strings.Contains(trace, p) {
		t.Errorf("the proxy's output shows %q of the SASL response:\n%s", p, trace)
	}
}

// proxyChallengeEcho runs a client's AUTHENTICATE PLAIN with response
// through the proxy to a server that echoes response across a line end:
// its first at bytes in a challenge, the rest opening the next line
// ("... BAD you sent that", which reads as a completion out of step: the
// proxy closes). It returns the proxy's output.
func proxyChallengeEcho(t *testing.T, response string, at int) string {
	t.Helper()
	addr := hostileUpstream(t, func(hc *hostile.Conn) error {
		if err := hc.Greet("IMAP4rev1 AUTH=PLAIN"); err != nil {
			return err
		}
		cmd, err := hc.ReadCommand()
		if err != nil {
			return nil
		}
		if err := hc.Continue(""); err != nil {
			return err
		}
		if _, err := hc.ReadLine(); err != nil {
			return err
		}
		if err := hc.Continue(response[:at]); err != nil {
			return err
		}
		if err := hc.Line(response[at:] + " BAD you sent that"); err != nil {
			return err
		}
		return hc.Reply(cmd.Tag, "NO no")
	})
	nc, br, _, out := proxiedConn(t, addr)
	fmt.Fprintf(nc, "A1 AUTHENTICATE PLAIN\r\n")
	if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+") {
		t.Fatalf("no challenge: %q %v", l, err)
	}
	fmt.Fprintf(nc, "%s\r\n", response)
	waitFor(t, out, "connection closed")
	trace := out.String()
	if !strings.Contains(trace, "you sent that") {
		t.Fatalf("the server's echo is not in the proxy's output:\n%s", trace)
	}
	return trace
}

// TestProxyEchoAfterUnprintedLineEndRedacted: a server line whose end the
// trace does not show, and the next line opening with the rest of a
// credential whose start was there: a line that does not tokenize from
// its first byte ("\x01 ... hunter2-corr": relayed unchanged, printed as
// "[not tokenized: relayed unchanged]" with nothing of its content), and
// a line that ends in a literal (a LIST's mailbox name, "{14}" and its
// body: printed "{14 bytes}"). The first left the carry as the line
// before it had it (settle skipped the edges of an empty printed line),
// the second carried its printed "{14 bytes}", not the body's bytes: the
// next line's "ect-horse" showed. Their ends are unseen now, as a cut
// line's: the next line's start is taken for a credential's rest where
// it may be one. (The second line reads as a completion out of step:
// the proxy closes.) Defaults.
func TestProxyEchoAfterUnprintedLineEndRedacted(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-correct-horse"
	for _, tc := range []struct{ name, first string }{
		{"not tokenized", "\x01 you sent hunter2-corr"},
		{"a literal last", "* LIST () \"/\" {14}\r\nx hunter2-corr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// (A NO follows, which the proxy, closed, does not
			// read.)
			trace := proxyLoginLiteralEcho(t, pw, []string{tc.first, "ect-horse as your password"}, "connection closed")
			if !strings.Contains(trace, "as your password") {
				t.Fatalf("the server's second line is not in the trace:\n%s", trace)
			}
			if strings.Contains(trace, "ect-horse") {
				t.Errorf("the trace shows \"ect-horse\" of the password:\n%s", trace)
			}
		})
	}
}

// loginLiteralUntil logs in through a proxy of the server at addr as
// alice, the password pw sent as a synchronizing literal once the "+"
// came, and returns the proxy's output once it holds wait.
func loginLiteralUntil(t *testing.T, addr, pw, wait string) *syncBuffer {
	t.Helper()
	nc, br, _, out := proxiedConn(t, addr)
	fmt.Fprintf(nc, "A1 LOGIN alice {%d}\r\n", len(pw))
	if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+") {
		t.Fatalf("no continuation for the literal: %q %v", l, err)
	}
	fmt.Fprintf(nc, "%s\r\n", pw)
	waitFor(t, out, wait)
	return out
}

// TestProxyStartTLSRestartsCarry: the server's lines after the STARTTLS
// handshake are a new stream: its first line does not follow the
// completion before the handshake on the wire (TLS records do), nor does
// any echo go on across it. The proxy kept its carry (secretSet.carry)
// through the switch, as the library's tracer does not (its restart): the
// STARTTLS completion here ends with the first bytes of the password
// ("hunter2", in the clear, where anyone on the path may have written
// them), and the first line over TLS, "* OK still here", opens with what
// would be its rest ("* OK"): it was printed "*** still here". Defaults.
func TestProxyStartTLSRestartsCarry(t *testing.T) {
	t.Parallel()
	const pw = "hunter2* OK"
	dir := t.TempDir()
	srvCfg, _, err := testserver.TLSConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	up := hostileUpstream(t, func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 STARTTLS")
		cmd, err := c.ReadCommand() // A1 LOGIN alice {n}
		if err != nil {
			return err
		}
		c.Continue("go ahead")
		if _, err := c.ReadLiteral(cmd.Literal); err != nil {
			return err
		}
		if _, err := c.ReadLine(); err != nil {
			return err
		}
		c.Reply(cmd.Tag, "OK logged in")
		if cmd, err = c.ReadCommand(); err != nil { // A2 STARTTLS
			return err
		}
		c.Reply(cmd.Tag, "OK begin TLS hunter2")
		if err := c.StartTLS(srvCfg); err != nil {
			return err
		}
		if cmd, err = c.ReadCommand(); err != nil { // A3 NOOP
			return err
		}
		c.Lines("* OK still here")
		return c.Reply(cmd.Tag, "OK done")
	})
	certOut := filepath.Join(t.TempDir(), "proxy.pem")
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up, "--ca-file", filepath.Join(dir, "tls", "ca.pem"), "--self-signed", "--cert-out", certOut)
	raw, br := dialProxyGreeted(t, addr)
	fmt.Fprintf(raw, "A1 LOGIN alice {%d}\r\n", len(pw))
	if l, err := br.ReadString('\n'); !strings.HasPrefix(l, "+") {
		t.Fatalf("LOGIN: %q (%v)", l, err)
	}
	fmt.Fprintf(raw, "%s\r\n", pw)
	if l, err := br.ReadString('\n'); !strings.HasPrefix(l, "A1 OK") {
		t.Fatalf("LOGIN: %q (%v)", l, err)
	}
	io.WriteString(raw, "A2 STARTTLS\r\n")
	if l, err := br.ReadString('\n'); !strings.HasPrefix(l, "A2 OK") {
		t.Fatalf("STARTTLS: %q (%v)", l, err)
	}
	c := proxyTLSClient(t, raw, certOut, out)
	tr := bufio.NewReader(c)
	io.WriteString(c, "A3 NOOP\r\n")
	for {
		l, err := tr.ReadString('\n')
		if err != nil {
			t.Fatalf("NOOP: %v\ntrace:\n%s", err, out.String())
		}
		if strings.HasPrefix(l, "A3 ") {
			break
		}
	}
	waitFor(t, out, "S: A3 OK done")
	if trace := out.String(); !strings.Contains(trace, "S: * OK still here\n") {
		t.Errorf("the first line over TLS is not printed whole:\n%s", trace)
	}
}

// TestProxyEchoAcrossLongChallengeLineEndRedacted: as
// TestProxyEchoAcrossChallengeLineEndRedacted, with a SASL response's
// first part in the challenge longer than the printer keeps of a line it
// prints as SASL data (pastLen, 64 bytes as printed): the carry held the
// challenge's last 64 bytes, in none of which a start of the response
// lies, and nothing marked the line's end unseen, so the next line's
// rest of the response ("... BAD you sent that") was printed. Defaults.
func TestProxyEchoAcrossLongChallengeLineEndRedacted(t *testing.T) {
	t.Parallel()
	// PLAIN: user, a 90-byte password; its base64 is 128 bytes.
	pw := "correct-horse-battery-staple-" + strings.Repeat("0123456789", 6) + "x"
	response := base64.StdEncoding.EncodeToString([]byte("\x00user\x00" + pw))
	for _, at := range []int{12, 62, 63, 100, len(response) - 2} {
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			t.Parallel()
			trace := proxyChallengeEcho(t, response, at)
			if p := response[at:]; strings.Contains(trace, p) {
				t.Errorf("the proxy's output shows %q of the SASL response (its first %d bytes in the challenge):\n%s", p, at, trace)
			}
		})
	}
}

// TestProxyEchoAcrossMidLineLiteralRedacted: a server line with a literal
// in its middle (text, the literal's body, more text: a FETCH with BODY[]
// and then UID) is printed with the body as "{N bytes}", relayed
// unprinted. A credential the server echoes across the body's edges has
// a part on the printed side of each: its first part at the end of the
// text before the literal (its rest in the body), or its rest at the
// start of the text after the body (its first part in the body's end).
// Neither part is at the printed line's edges, where Edges looks, and
// neither is a whole form: both were printed. Defaults.
func TestProxyEchoAcrossMidLineLiteralRedacted(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-correct-horse"
	for _, tc := range []struct {
		name, before, body, after string
	}{
		// The body's end the password's first part, the text after
		// it the rest.
		{"rest after the body", "* 1 FETCH (BODY[] ", "you sent hunter2-co", "rrect-horse UID 7)"},
		// The text before the literal the first part, the body its
		// rest.
		{"first part before the body", "* 1 FETCH (X-ECHO hunter2-co ", "rrect-horse as sent", " UID 7)"},
		{"first part before the body, no space", "* 1 FETCH (X-ECHO hunter2-co", "rrect-horse as sent", " UID 7)"},
		{"both", "* 1 FETCH (X-ECHO hunter2-co ", "rrect-horse or hunter2-co", "rrect-horse UID 7)"},
		// A body that ends the line: the text before it.
		{"first part before a body last", "* LIST () \"/\" hunter2-co ", "rrect-horse", ""},
	} {
		echo := fmt.Sprintf("%s{%d}\r\n%s%s", tc.before, len(tc.body), tc.body, tc.after)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trace := proxyLoginLiteralEcho(t, pw, []string{echo}, "A1 NO wrong password")
			if !strings.Contains(trace, "bytes}") {
				t.Fatalf("the server's line with a literal is not in the trace:\n%s", trace)
			}
			for _, p := range []string{"hunter2-co", "rrect-horse", "-co", "rrect"} {
				if strings.Contains(trace, p) {
					t.Errorf("the trace shows %q of the password:\n%s", p, trace)
				}
			}
		})
	}
}

// TestProxyEchoMiddlePieceBetweenLiteralsRedacted: a server echoes the
// password with literals inside it, a middle piece of it between two of
// them ("X hunter2-co {3}" CR LF "XXXrrect-h {2}" CR LF "YYorse)", the
// bodies relayed unprinted): the proxy printed "X ***{3
// bytes}rrect-h{2 bytes}***)" until stop 62, the middle piece neither a
// start nor an end of the text around it. Defaults.
func TestProxyEchoMiddlePieceBetweenLiteralsRedacted(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-correct-horse"
	echo := "* 1 FETCH (X hunter2-co {3}\r\nXXXrrect-h {2}\r\nYYorse)"
	trace := proxyLoginLiteralEcho(t, pw, []string{echo}, "A1 NO wrong password")
	if !strings.Contains(trace, "{2 bytes}") {
		t.Fatalf("the server's line with two literals is not in the trace:\n%s", trace)
	}
	for _, p := range []string{"hunter2-co", "rrect-h", "orse"} {
		if strings.Contains(trace, p) {
			t.Errorf("the trace shows %q of the password:\n%s", p, trace)
		}
	}
}

// TestProxyEchoShortPieceBetweenLiteralsRedacted: a server echoes the
// password with literals inside it, a piece of 2 bytes of it between two
// ("X hunter2-co {3}" CR LF "XXXQz {2}" CR LF "YYect-horse)", the bodies
// relayed unprinted): too short to be taken for the password's alone, it
// is redacted where it joins the parts printed beside it; the proxy
// printed "X *** {3 bytes}Qz {2 bytes}***)" until stop 63. Defaults.
func TestProxyEchoShortPieceBetweenLiteralsRedacted(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-coQzect-horse"
	echo := "* 1 FETCH (X hunter2-co {3}\r\nXXXQz {2}\r\nYYect-horse)"
	trace := proxyLoginLiteralEcho(t, pw, []string{echo}, "A1 NO wrong password")
	if !strings.Contains(trace, "{2 bytes}") {
		t.Fatalf("the server's line with two literals is not in the trace:\n%s", trace)
	}
	for _, p := range []string{"hunter2-co", "Qz", "ect-horse"} {
		if strings.Contains(trace, p) {
			t.Errorf("the trace shows %q of the password:\n%s", p, trace)
		}
	}
}

// TestProxyEchoFromBodyOverLineEndRedacted: a credential the server
// echoes from a literal's body (relayed unprinted) through the text after
// it, which lies wholly inside the credential, and on over the line end:
// the next line opens with its rest. The text after the body is neither
// a start nor an end of it, and the carry to the next line held only
// that text, no start: the next line's rest was printed, as it was after
// a line ending in a body before stop 60. Defaults.
func TestProxyEchoFromBodyOverLineEndRedacted(t *testing.T) {
	t.Parallel()
	const pw = "hunter2-correct-horse"
	for _, tc := range []struct {
		name, body, after, next string
	}{
		{"two bytes after the body", "you sent hunter2-", "co", "rrect-horse BAD you sent that"},
		{"five bytes after the body", "you sent hunter2-co", "rrect", "-horse BAD you sent that"},
	} {
		echo := fmt.Sprintf("* 1 FETCH (BODY[] {%d}\r\n%s%s", len(tc.body), tc.body, tc.after)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The next line reads as a completion out of step: the
			// proxy closes.
			trace := proxyLoginLiteralEcho(t, pw, []string{echo, tc.next}, "connection closed")
			if !strings.Contains(trace, "you sent that") {
				t.Fatalf("the server's next line is not in the proxy's output:\n%s", trace)
			}
			if rest := strings.TrimSuffix(tc.next, " BAD you sent that"); strings.Contains(trace, rest) {
				t.Errorf("the proxy's output shows %q, the rest of the password after the line end:\n%s", rest, trace)
			}
		})
	}
}

// proxyLoginLiteralEcho runs a client's LOGIN with pw as a literal
// through the proxy to a server that answers it with lines, then a NO
// ("wrong password"), and returns the proxy's output once it holds wait.
func proxyLoginLiteralEcho(t *testing.T, pw string, lines []string, wait string) string {
	t.Helper()
	addr := hostileUpstream(t, func(hc *hostile.Conn) error {
		if err := hc.Greet("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := hc.ReadCommand()
		if err != nil {
			return nil
		}
		if err := hc.Continue("go ahead"); err != nil {
			return err
		}
		if _, err := hc.ReadLiteral(cmd.Literal); err != nil {
			return err
		}
		if _, err := hc.ReadLine(); err != nil {
			return err
		}
		for _, l := range lines {
			if err := hc.Line(l); err != nil {
				return err
			}
		}
		if err := hc.Reply(cmd.Tag, "NO wrong password"); err != nil {
			return err
		}
		return hc.Serve()
	})
	return loginLiteralUntil(t, addr, pw, wait).String()
}
