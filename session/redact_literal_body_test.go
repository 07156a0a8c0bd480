package session_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestRedactEchoAcrossLiteralBody: a server echoes the password across a
// literal's body in a line: its first part just before the literal's
// header (the rest in the body), or its rest just after the body (the
// first part at the body's end). The trace shows the body as "<N
// bytes>", which no part of a credential's is: neither part is a whole
// form, nor at the line's edges, and the trace, the slog records and
// AbortError.History showed both ("* 1 FETCH (X-ECHO hunter2-co {11}
// <11 bytes> UID 7)", "* 2 FETCH (BODY[] {10} <10 bytes>rrect-horse UID
// 8)"), and the first part before a body that ends the line. With the
// trace writer and the logger set (defaults otherwise) and with the
// history alone.
func TestRedactEchoAcrossLiteralBody(t *testing.T) {
	const pw = "hunter2-correct-horse"
	echo := "* 1 FETCH (X-ECHO hunter2-co {11}\r\nrrect-horse UID 7)\r\n" +
		"* 2 FETCH (BODY[] {10}\r\nhunter2-co" + "rrect-horse UID 8)\r\n" +
		"* LIST () \"/\" hunter2-co {11}\r\nrrect-horse\r\n" +
		"TAG NO bad password\r\nxx"
	for _, traced := range []bool{false, true} {
		echoAtLoginHidden(t, echo, pw, []string{"hunter2-co", "rrect-horse", "-co", "rrect"}, traced)
	}
}

// TestRedactEchoAcrossTracedLiteralHeader: with literals traced
// (Options.TraceLiterals), the trace shows a literal's body after its
// header and a space ("{11} rrect-horse"), and a password the server
// echoed with its first part before the header and its rest in the body
// showed both ("X-ECHO hunter2-co {11} rrect-horse UID 7)"): neither is
// a whole form, nor at the line's edges, and no "<N bytes>" marks the
// body. TraceLiterals shows literals, never secrets. A body that ends
// the line, and a first part in a body before another literal. With the
// trace writer and the logger set (defaults otherwise) and with the
// history alone.
func TestRedactEchoAcrossTracedLiteralHeader(t *testing.T) {
	const pw = "hunter2-correct-horse"
	echo := "* 1 FETCH (X-ECHO hunter2-co {11}\r\nrrect-horse UID 7)\r\n" +
		"* LIST () \"/\" hunter2-co {11}\r\nrrect-horse\r\n" +
		"* 2 FETCH (A {10}\r\nhunter2-co {11}\r\nrrect-horse)\r\n" +
		"TAG NO bad password\r\nxx"
	for _, traced := range []bool{false, true} {
		echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "rrect-horse", "-co", "rrect"}, traced, true)
	}
}

// TestRedactEchoMiddlePieceBetweenLiterals: a server echoes the password
// with literals inside it, a middle piece of it between two of them,
// neither a start nor an end of it: with literals shown as "<N bytes>",
// their bodies junk ("hunter2-co {3}" CR LF "XXXrrect-h {2}" CR LF
// "YYorse"); with literals traced, the pieces in the bodies ("{7}" CR LF
// "rrect-h {4}" CR LF "orse"), each header a gap; and with literals
// traced, the junk bodies shown ("{3} XXXrrect-h {2} YYorse"), each
// body's end a gap of no width (the piece after it). The trace, the slog
// records and the history showed the middle piece ("rrect-h") until
// stop 62, its first and last redacted; with the junk bodies traced,
// the middle piece and the last ("orse") until the body's end was a gap.
// A middle piece that runs to the line end ("XXXrrect-h" CR LF "orse"):
// the syntax error's excerpt ("{3}\r\nXXXrrect-h\r", its LF cut off)
// showed it in the slog records until its CR was taken for a line end. With the trace writer and the
// logger set and with the history alone.
func TestRedactEchoMiddlePieceBetweenLiterals(t *testing.T) {
	const pw = "hunter2-correct-horse"
	for _, c := range []struct {
		name, echo string
		literals   bool
	}{
		{"bodies shown as <N bytes>", "* 1 FETCH (X hunter2-co {3}\r\nXXXrrect-h {2}\r\nYYorse)\r\n", false},
		{"literals traced", "* 1 FETCH (X hunter2-co {7}\r\nrrect-h {4}\r\norse)\r\n", true},
		{"junk bodies traced", "* 1 FETCH (X hunter2-co {3}\r\nXXXrrect-h {2}\r\nYYorse)\r\n", true},
		{"middle piece to the line end", "* 1 FETCH (X hunter2-co {3}\r\nXXXrrect-h\r\norse)\r\n", false},
		{"middle piece to the line end, traced", "* 1 FETCH (X hunter2-co {3}\r\nXXXrrect-h\r\norse)\r\n", true},
	} {
		echo := c.echo + "TAG NO bad password\r\nxx"
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, traced %v", c.name, traced), func(t *testing.T) {
				echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "rrect-h", "orse"}, traced, c.literals)
			})
		}
	}
}

// TestRedactEchoShortPieceBetweenLiterals: a server echoes the password
// with literals inside it, a piece of 2 bytes of it between two ("X
// hunter2-co {3}" CR LF "XXXQz {2}" CR LF "YYect-horse)"): too short to be
// taken for the password's alone, it is redacted where it joins the
// parts found beside it; the trace, the slog records and the history
// showed "Qz" until stop 63. Bodies shown as "<N bytes>" and traced
// (junk), with the trace writer and the logger set and with the history
// alone (defaults otherwise).
func TestRedactEchoShortPieceBetweenLiterals(t *testing.T) {
	const pw = "hunter2-coQzect-horse"
	echo := "* XECHO hunter2-co {3}\r\nXXXQz {2}\r\nYYect-horse\r\nTAG NO bad password\r\nxx"
	for _, literals := range []bool{false, true} {
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("literals traced %v, traced %v", literals, traced), func(t *testing.T) {
				echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "Qz", "ect-horse"}, traced, literals)
			})
		}
	}
}

// TestRedactEchoAfterJunkBodyBehindHeaderLikeText: with literals traced,
// a line with text that reads as a literal's header before a real one
// (a quoted "a {19} b") has the end of that text's "body" fall inside
// the real body; the real body's end was left out (one end waited at a
// time), and a credential's rest after a junk body ("XXXrrect-horse")
// showed in the trace, the slog records and the history until stop 63.
// Literals traced, with the trace writer and the logger set and with the
// history alone (defaults otherwise).
func TestRedactEchoAfterJunkBodyBehindHeaderLikeText(t *testing.T) {
	const pw = "hunter2-correct-horse"
	echo := "* XECHO \"a {19} b\" hunter2-co {3}\r\nXXXrrect-horse\r\nTAG NO bad password\r\nxx"
	for _, traced := range []bool{false, true} {
		t.Run(fmt.Sprintf("traced %v", traced), func(t *testing.T) {
			echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "rrect-h", "orse"}, traced, true)
		})
	}
}

// TestRedactEchoAfterJunkBodyBehindManyHeaderLikeTexts: with literals
// traced, a line with eight texts that read as literals' headers before
// a real one (a quoted "{70} {70} ..."), each "body" ending past the
// real body's end: the real body's end waited behind eight others and
// was left out (up to 8 were kept), and a credential's rest after a
// junk body ("XXXrrect-horse") showed in the trace, the slog records and
// the history until stop 63. Literals traced, with the trace writer and
// the logger set and with the history alone (defaults otherwise).
func TestRedactEchoAfterJunkBodyBehindManyHeaderLikeTexts(t *testing.T) {
	const pw = "hunter2-correct-horse"
	echo := "* XECHO \"" + strings.Repeat("{70} ", 8) + "\" hunter2-co {3}\r\nXXXrrect-horse" + strings.Repeat(" ", 50) + ")\r\nTAG NO bad password\r\nxx"
	for _, traced := range []bool{false, true} {
		t.Run(fmt.Sprintf("traced %v", traced), func(t *testing.T) {
			echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "rrect-h", "orse"}, traced, true)
		})
	}
}

// TestRedactEchoJunkAndCredentialBody: with literals traced, a server
// echoes the password with literals inside it, a body junk then a piece
// of it ("* XECHO hunter2-co {10}" CR LF "XXXrrect-h {2}" CR LF
// "YYorse"): the piece is redacted where it joins the parts beside it;
// the trace, the slog records and the history showed "rrect-h" until
// stop 63. Bodies shown as "<N bytes>" too (nothing of the body shows).
// With the trace writer and the logger set and with the history alone.
func TestRedactEchoJunkAndCredentialBody(t *testing.T) {
	const pw = "hunter2-correct-horse"
	echo := "* XECHO hunter2-co {10}\r\nXXXrrect-h {2}\r\nYYorse\r\nTAG NO bad password\r\nxx"
	for _, literals := range []bool{false, true} {
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("literals traced %v, traced %v", literals, traced), func(t *testing.T) {
				echoAtLoginHiddenLiterals(t, echo, pw, []string{"hunter2-co", "rrect-h", "orse"}, traced, literals)
			})
		}
	}
}

// TestRedactEchoFromLiteralBodyOverLineEnd: a server echoes the password
// from a literal's body through the text after it, which lies wholly
// inside the password, and on over the line end: the next line opens
// with its rest ("* XECHO {17}" CR LF "you sent hunter2-" "co" CR LF
// "rrect-horse BAD you sent that"). The text after the body is neither a
// start nor an end of the password; the carry to the next line must
// still take that line's start for the rest (the proxy showed it,
// TestProxyEchoFromBodyOverLineEndRedacted in cmd/imapkit). With 2 and 5
// bytes after the body, and with a long password whose text after the
// body is longer than the 32 bytes the tracer keeps of a line as
// received. With the trace writer and the logger set and with the
// history alone, literals traced and not (defaults otherwise).
func TestRedactEchoFromLiteralBodyOverLineEnd(t *testing.T) {
	const long = "hunter2-correct-horse-battery-staple-and-more-words-again"
	for _, c := range []struct {
		name, pw, body, after, rest string
	}{
		{"two bytes after the body", "hunter2-correct-horse", "you sent hunter2-", "co", "rrect-horse"},
		{"five bytes after the body", "hunter2-correct-horse", "you sent hunter2-co", "rrect", "-horse"},
		{"40 bytes after the body", long, "you sent hunter2-", long[8:48], long[48:]},
	} {
		echo := fmt.Sprintf("* XECHO {%d}\r\n%s%s\r\n%s BAD you sent that\r\nTAG NO bad password\r\nxx",
			len(c.body), c.body, c.after, c.rest)
		for _, traced := range []bool{false, true} {
			for _, literals := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s, traced %v, literals %v", c.name, traced, literals), func(t *testing.T) {
					echoAtLoginHiddenLiterals(t, echo, c.pw, []string{c.rest}, traced, literals)
				})
			}
		}
	}
}
