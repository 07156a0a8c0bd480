package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
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
		srv, err := hostile.Listen(func(hc *hostile.Conn) error {
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
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		nc, br, _, out := proxiedConn(t, srv.Addr())
		fmt.Fprintf(nc, "A1 LOGIN alice {%d}\r\n", len(pw))
		if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+") {
			t.Fatalf("no continuation for the literal: %q %v", l, err)
		}
		fmt.Fprintf(nc, "%s\r\n", pw)
		// The echo's second line reads as a completion out of
		// step: the proxy closes.
		waitFor(t, out, "connection closed")
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
	srv, err := hostile.Listen(func(hc *hostile.Conn) error {
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
		if err := hc.Continue(response[:12]); err != nil {
			return err
		}
		if err := hc.Line(response[12:] + " BAD you sent that"); err != nil {
			return err
		}
		return hc.Reply(cmd.Tag, "NO no")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	nc, br, _, out := proxiedConn(t, srv.Addr())
	fmt.Fprintf(nc, "A1 AUTHENTICATE PLAIN\r\n")
	if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+") {
		t.Fatalf("no challenge: %q %v", l, err)
	}
	fmt.Fprintf(nc, "%s\r\n", response)
	// The echo's second line reads as a completion out of step: the
	// proxy closes.
	waitFor(t, out, "connection closed")
	if !strings.Contains(out.String(), "you sent that") {
		t.Fatalf("the server's echo is not in the proxy's output:\n%s", out.String())
	}
	if p := response[12:]; strings.Contains(out.String(), p) {
		t.Errorf("the proxy's output shows %q of the SASL response:\n%s", p, out.String())
	}
}
