package session_test

import (
	"net"
	"strings"
	"testing"
)

// TestRedactEchoedPasswordMiddleInDecodeError: a server echoes the
// password in a flag list where a byte of it ('{') is a syntax error: the
// *wire.SyntaxError's excerpt (16 bytes from that byte) is the middle of
// the password, neither its start nor its end, and reached the command's
// error in the clear. Defaults.
func TestRedactEchoedPasswordMiddleInDecodeError(t *testing.T) {
	const pw = "Tr0ub4dor-{correct-horse-battery-staple}-and-more"
	hsRun(t, echoAtNoop("* FLAGS (\\Seen "+pw+")", "TAG OK done"), 0, 0, func(c *hsCase, conn net.Conn) {
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
		if strings.Contains(err.Error(), "horse") || strings.Contains(err.Error(), "{corr") {
			c.t.Errorf("the error holds part of the password: %q", err.Error())
		}
		c.s.Close()
	})
}
