package session_test

import (
	"net"
	"strings"
	"testing"
)

// TestRedactSyntaxExcerptInWrappedError: a response malformed at a byte of
// an echoed password, whose rest cannot be skipped (a literal header past
// the limit: the stream is out of step), fails with the syntax error
// wrapped with the skip's (fmt.Errorf, its message made at once): the
// excerpt redacted in the *wire.SyntaxError afterwards was still whole in
// that message, and the session's error showed the password. Defaults.
func TestRedactSyntaxExcerptInWrappedError(t *testing.T) {
	const pw = "Tr0ub4dor-{correct-horse-battery-staple}-and-more"
	hsRun(t, echoAtNoop("* FLAGS (\\Seen "+pw+" {99999999999999}", "TAG OK done"), 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, hsOpts())
		if s == nil {
			return
		}
		if _, err := c.run(loginCommand("alice", pw)); err != nil {
			c.t.Fatalf("LOGIN: %v", err)
		}
		_, err := c.run(hsNoop())
		if err == nil {
			c.t.Fatalf("NOOP: no error")
		}
		for _, e := range []string{err.Error(), errString(s.Err())} {
			if strings.Contains(e, "horse") || strings.Contains(e, "{corr") {
				c.t.Errorf("the error holds part of the password: %q", e)
			}
		}
		c.s.Close()
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
