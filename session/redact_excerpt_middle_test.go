package session_test

import (
	"fmt"
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

// TestRedactEchoShortPieceInExcerptBetweenLiterals: a server echoes the
// password with literals inside it where a response cannot hold it (a
// flag list), so that the syntax error's excerpt (16 bytes from the
// '{' after its first part) is `"{3}\r\nXXXQz {2}\r\n"`: the password's
// piece of 2 bytes between the two junk bodies, its first part before
// the excerpt and its rest after it. Redacted in the excerpt alone, the
// piece joined nothing (the parts either side unseen) and showed in the
// command's error and the slog record of the undecodable response,
// where the trace's line had it redacted. Bodies shown as "<N bytes>"
// and traced, with the trace writer and the logger set and with the
// history alone (defaults otherwise).
func TestRedactEchoShortPieceInExcerptBetweenLiterals(t *testing.T) {
	const pw = "hunter2-coQzect-horse"
	for i, echo := range []string{
		"* FLAGS (\\Seen hunter2-co{3}\r\nXXXQz {2}\r\nYYect-horse)\r\n",
		"* FLAGS (\\Seen hunter2-co {3}\r\nXXXQz {2}\r\nYYect-horse)\r\n",
		"* FLAGS (\\Seen hunter2-co{3}\r\nXXXQ{2}\r\nYYzect-horse)\r\n",
	} {
		echo := echo + "TAG NO bad password\r\nxx"
		for _, literals := range []bool{false, true} {
			for _, traced := range []bool{false, true} {
				t.Run(fmt.Sprintf("echo %d, literals traced %v, traced %v", i, literals, traced), func(t *testing.T) {
					echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "Qz", "XXXQ{", "XXXQ\\", "ect-horse"}, traced, literals)
				})
			}
		}
	}
}

// TestRedactEchoShortPieceAfterStreamedBody: the echo of
// TestRedactEchoShortPieceInExcerptBetweenLiterals in a FETCH after a
// body too large to keep in the line (over the default MaxStringLiteral),
// which leaves the tokenizer's buffer as it is read: the bytes the
// tokenizer holds of the line then lack the body, its header kept, and
// read from their start they have the body's size taken from what
// follows it, the literals' headers around the password's piece unseen.
// The piece must not show in the command's error or the slog record,
// with the literals traced or not (defaults otherwise).
func TestRedactEchoShortPieceAfterStreamedBody(t *testing.T) {
	const pw = "hunter2-coQzect-horse"
	const n = 70000
	echo := "* 1 FETCH (BODY[] {70000}\r\n" + strings.Repeat("a", n) +
		" FLAGS (\\Seen hunter2-co{3}\r\nXXXQz {2}\r\nYYect-horse))\r\nTAG NO bad password\r\nxx"
	for _, literals := range []bool{false, true} {
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("literals traced %v, traced %v", literals, traced), func(t *testing.T) {
				echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "Qz", "XXXQ{", "XXXQ\\", "ect-horse"}, traced, literals)
			})
		}
	}
}
