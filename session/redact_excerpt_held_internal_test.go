package session

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestRedactSyntaxHeldJoinsPiecesOutsideExcerpt: a syntax error's
// excerpt redacted as a part of the line the tokenizer holds
// (redactSyntaxHeld) has a credential's piece redacted where it joins the
// parts either side of the excerpt, outside it (a piece of 1 or 2 bytes
// between junk bodies, the password's start before the excerpt and its
// rest after it), and what is not the credential's left shown; the
// excerpt alone (redactSyntax) shows that piece; so it does when the
// excerpt's bytes lie earlier in the line too (a body of the same 16
// bytes), the cover read at the error's offset. Whole forms, and an
// excerpt not found in the held bytes, are as redactSyntax has them.
func TestRedactSyntaxHeldJoinsPiecesOutsideExcerpt(t *testing.T) {
	x := &secrets{}
	x.add([]byte("hunter2-coQzect-horse"))
	for _, c := range []struct {
		name, held string
		at         int    // where the excerpt's bytes begin in held
		want       string // the excerpt redacted
	}{
		{"2-byte piece", "* FLAGS (\\Seen hunter2-co{3}\r\nXXXQz {2}\r\nYYect-horse)\r\n", 25,
			`"{3}\r\nXXX*** {2}\r\n"...`},
		{"1-byte pieces", "* FLAGS (\\Seen hunter2-co{3}\r\nXXXQ{2}\r\nYYzect-horse)\r\n", 25,
			`"{3}\r\nXXX***{2}\r\nYY"...`},
		{"the rest of the line read ahead", "* FLAGS (\\Seen hunter2-co{3}\r\nXXXQz {2}\r\nYYect-horse)\r\n* 1 EXISTS\r\n", 25,
			`"{3}\r\nXXX*** {2}\r\n"...`},
		{"the excerpt's bytes earlier in the line too", "* 1 FETCH (BODY[] {16}\r\n{3}\r\nXXXQz {2}\r\n FLAGS (\\Seen hunter2-co{3}\r\nXXXQz {2}\r\nYYect-horse))\r\n", 64,
			`"{3}\r\nXXX*** {2}\r\n"...`},
		{"whole form", "* FLAGS (\\Seen {hunter2-coQzect-horse)\r\n", 15, `"{***"...`},
		{"no piece", "* FLAGS (\\Seen {3}\r\nXXXab {2}\r\nYYcd)\r\n", 15, `"{3}\r\nXXXab {2}\r\n"...`},
	} {
		held := []byte(c.held)
		b := held[c.at:]
		se := &wire.SyntaxError{Offset: 1000 + int64(c.at), Expected: "flag", Got: excerptOf(b)}
		x.redactSyntaxHeld(se, held, 1000)
		x.redactSyntax(se)
		if se.Got != c.want {
			t.Errorf("%s: redactSyntaxHeld then redactSyntax = %s, want %s", c.name, se.Got, c.want)
		}
	}
}

// excerptOf is wire's excerpt of b: its first 16 bytes quoted, "..."
// after them when cut.
func excerptOf(b []byte) string {
	if len(b) > 16 {
		return strconv.Quote(string(b[:16])) + "..."
	}
	return strconv.Quote(string(b))
}

// TestHeldWindowStopsAtLineEnd: the window of held bytes an excerpt is
// redacted in (heldGaps) ends with the line the excerpt's last byte lies
// in, literals' bodies and their CR LFs skipped by their headers: a
// hostile server's short malformed lines, each read ahead of by the
// tokenizer's buffer, would otherwise have the lines after redacted again
// for each one (work that grows with the lines times the read-ahead).
func TestHeldWindowStopsAtLineEnd(t *testing.T) {
	line := "* FLAGS (a{5}\r\n\r\n\r\nb {1}\r\n\n)\r\n"
	held := []byte(line + strings.Repeat("* FLAGS ({\r\n", 1000))
	at := strings.Index(line, "{")
	start, end, gaps := heldGaps(held, 0, at+16, 64<<10)
	if start != 0 || end != len(line) {
		t.Fatalf("window [%d, %d); want [0, %d), the line the excerpt lies in", start, end, len(line))
	}
	// The window's start; "{5}" CR LF, its body's end; " {1}" CR LF (the
	// header from its brace, the space before it left to the rules), its
	// body's end; the line end.
	const want = "[{0 0} {10 15} {20 20} {21 26} {27 27} {28 30}]" // {From To}
	if fmt.Sprint(gaps) != want {
		t.Errorf("gaps %v; want %v", gaps, want)
	}
}
