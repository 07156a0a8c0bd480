package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// a46Lit matches a literal's header at the end of a client line.
var a46Lit = regexp.MustCompile(`\{(\d+)\+?\}$`)

// TestReview46ATraceBareCRCredential: a reviewer suspected that a
// credential with a bare CR in it (a LOGIN password sent as a literal, an
// atom or a quoted string, an AUTHENTICATE response line or initial
// response) might have its start printed in the proxy's trace, the CR
// cutting it before the redaction rule. The proxy runs with its default
// trace; the upstream answers every literal's "+" and refuses each login.
// Neither half of the password ("PWDA", "PWDB") may be in the trace. None
// is: a literal's body is never printed, nor a line that does not
// tokenize (the proxy answers it BAD, or closes); the test stays as a
// guard, with a plain LOGIN as its control (a9: it fails when LOGIN's
// password is not redacted).
func TestReview46ATraceBareCRCredential(t *testing.T) {
	up, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 AUTH=PLAIN LITERAL+"); err != nil {
			return err
		}
		for {
			line, err := c.ReadLine()
			if err != nil {
				return err
			}
			cmd := hostile.ParseCommand(line)
			for m := a46Lit.FindStringSubmatch(line); m != nil; m = a46Lit.FindStringSubmatch(line) {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				if !strings.HasSuffix(m[0], "+}") {
					if err := c.Continue("go"); err != nil {
						return err
					}
				}
				if _, err := c.ReadLiteral(n); err != nil {
					return err
				}
				if line, err = c.ReadLine(); err != nil {
					return err
				}
			}
			switch {
			case cmd.Name == "LOGOUT":
				return c.Lines("* BYE bye", cmd.Tag+" OK LOGOUT done")
			case cmd.Name == "AUTHENTICATE" && len(strings.Fields(cmd.Line)) == 3:
				if err := c.Continue(""); err != nil {
					return err
				}
				if _, err := c.ReadLine(); err != nil {
					return err
				}
			}
			if err := c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] no"); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.Addr())
	const pw = "PWDA\rPWDB"
	for i, c := range []struct {
		lines []string // sent one after the other, each after a "+"
	}{
		{[]string{"a1 LOGIN {11}\r\n", "USERA\rUSERB {9}\r\n", pw + "\r\n"}},
		{[]string{"a2 LOGIN user {9}\r\n", pw + "\r\n"}},
		{[]string{"a3 LOGIN user {9+}\r\n" + pw + "\r\n"}},
		{[]string{"a4 LOGIN user " + pw + "\r\n"}},
		{[]string{"a5 LOGIN user \"" + pw + "\"\r\n"}},
		{[]string{"a6 AUTHENTICATE PLAIN\r\n", pw + "\r\n"}},
		{[]string{"a7 AUTHENTICATE PLAIN " + pw + "\r\n"}},
		{[]string{"a8 LOGIN {9}\r\n", pw + " " + pw + "\r\n"}},
		// Without a CR: the control, which the redaction rule covers.
		{[]string{"a9 LOGIN user PWDA\r\n"}},
	} {
		tag := fmt.Sprintf("a%d", i+1)
		conn, r := r45PDial(t, paddr)
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		var got []string
		for j, l := range c.lines {
			if _, err := conn.Write([]byte(l)); err != nil {
				t.Fatalf("%s: %v", tag, err)
			}
			if j == len(c.lines)-1 {
				break
			}
			// The "+" before the next part (or the command's end).
			s, err := r.ReadString('\n')
			got = append(got, s)
			if err != nil || !strings.HasPrefix(s, "+") {
				break
			}
		}
		for {
			s, err := r.ReadString('\n')
			got = append(got, s)
			if err != nil || strings.HasPrefix(s, tag+" ") || strings.HasPrefix(s, "* BYE") {
				break
			}
		}
		conn.Close()
		t.Logf("%s: the client got %q", tag, got)
	}
	// The trace of each connection's end: every line printed by then.
	trace := out.String()
	for _, half := range []string{"PWDA", "PWDB"} {
		if strings.Contains(trace, half) {
			t.Errorf("%q of the password is in the proxy's trace:\n%s", half, trace)
		}
	}
	if testing.Verbose() {
		t.Logf("trace:\n%s", trace)
	}
}
