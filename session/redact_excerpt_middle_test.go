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

// TestRedactEchoedPasswordStartAtExcerptEnd: a server echoes the password
// 13 bytes after a syntax error's byte, so that the error's excerpt (16
// bytes from that byte) ends with the password's first 3 bytes, which a
// part under 4 bytes let through to the command's error. Defaults.
func TestRedactEchoedPasswordStartAtExcerptEnd(t *testing.T) {
	const pw = "hunter2-correct-horse"
	hsRun(t, echoAtNoop("* FLAGS (\\Seen {abcdefghijk "+pw+")", "TAG OK done"), 0, 0, func(c *hsCase, conn net.Conn) {
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
		if !strings.Contains(err.Error(), "{abcdefghijk") {
			c.t.Fatalf("the error quotes no excerpt from the error's byte: %q", err.Error())
		}
		if strings.Contains(err.Error(), `hun"`) {
			c.t.Errorf("the error's excerpt ends with the password's first bytes: %q", err.Error())
		}
		c.s.Close()
	})
}
