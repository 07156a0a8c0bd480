package session_test

import "testing"

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
