package redact

import (
	"strconv"
	"strings"
	"testing"
)

// TestRedactExcerptEveryPlace: the excerpt of a syntax error (16 bytes
// from the error's place, quoted as strconv.Quote writes them) at every
// place of a line that echoes a credential shows no 6 bytes of it in a
// row, in any of its forms, whatever runes it holds.
func TestRedactExcerptEveryPlace(t *testing.T) {
	for _, sec := range []string{
		"correct-horse-battery-staple",
		"passé-wörd-ünïcode-lông-enough",
		"tab\there\"quoted\\slash-long-one",
		"日本語のパスワードです",
	} {
		var x Set
		x.AddString(sec)
		var forms []string
		x.Forms(func(f []byte, _ bool) { forms = append(forms, string(f)) })
		for _, line := range []string{"xx " + sec + " yy", sec, "\"" + sec + "\""} {
			for p := 0; p < len(line); p++ {
				got := excerptAt(line, p)
				red := x.RedactExcerpt(got)
				for _, f := range forms {
					for i := 0; i+6 <= len(f); i++ {
						if strings.Contains(red, f[i:i+6]) {
							t.Errorf("secret %q: excerpt %s redacted to %s shows %q", sec, got, red, f[i:i+6])
						}
					}
				}
			}
		}
	}
}

// TestRedactExcerptEdgePieceOverOneByte: an excerpt that ends with a
// credential's first bytes, or opens with its last, shows at most one
// byte of it at each edge: 2 bytes or more are redacted (minEdge). At 4,
// a hostile server placing an echo at an excerpt's edge showed the first
// 3 bytes and the last 3 (6 of an 8-byte password).
func TestRedactExcerptEdgePieceOverOneByte(t *testing.T) {
	for _, sec := range []string{"hunter2-SECRET", "qwertyui", "correct-horse-battery-staple"} {
		var x Set
		x.AddString(sec)
		for k := 2; k < len(sec) && k <= 15; k++ {
			cases := []struct{ got, piece string }{
				{strconv.Quote(strings.Repeat("x", 16-k)+sec[:k]) + "...", sec[:k]},
				{strconv.Quote(sec[len(sec)-k:]+strings.Repeat("y", 16-k)) + "...", sec[len(sec)-k:]},
			}
			if 2*k+3 <= 16 { // both edges, the echo twice
				both := strconv.Quote(sec[len(sec)-k:] + " x " + sec[:k])
				cases = append(cases, struct{ got, piece string }{both, sec[len(sec)-k:]}, struct{ got, piece string }{both, sec[:k]})
			}
			for _, c := range cases {
				red := x.RedactExcerpt(c.got)
				body := strings.TrimSuffix(red, "...")
				if strings.HasSuffix(strings.TrimSuffix(body, `"`), c.piece) || strings.HasPrefix(strings.TrimPrefix(body, `"`), c.piece) {
					t.Errorf("secret %q: excerpt %s redacted to %s shows %q", sec, c.got, red, c.piece)
				}
			}
		}
	}
}

// TestRedactExcerptLineEdges: a server that breaks its echo of a
// credential across a line end (at every place), or echoes one with a
// line break in it as sent: every excerpt of 16 bytes of the two lines
// shows no 6 bytes of it. An excerpt about the line end (a syntax error
// at its CR: "\r\nse-battery-sta") showed the rest that opens the second
// line, and one ending with its first part before the line end
// ("xx correct-hor\r\n") that part: only the excerpt's own edges were
// looked at.
func TestRedactExcerptLineEdges(t *testing.T) {
	const sec = "correct-horse-battery-staple"
	var x Set
	x.AddString(sec)
	x.AddString("left-part\r\nright-part")
	var lines []string
	for p := 1; p < len(sec); p++ {
		for _, end := range []string{"\r\n", "\n"} {
			lines = append(lines, "xx "+sec[:p]+end+sec[p:]+" yy")
		}
	}
	lines = append(lines, "xx left-part\r\nright-part yy")
	for _, line := range lines {
		for p := 0; p < len(line); p++ {
			got := excerptAt(line, p)
			red := x.RedactExcerpt(got)
			unq, err := strconv.Unquote(strings.TrimSuffix(red, "..."))
			if err != nil {
				t.Fatalf("excerpt %s redacted to %s: %v", got, red, err)
			}
			for _, s := range []string{sec, "left-part\r\nright-part"} {
				for i := 0; i+6 <= len(s); i++ {
					if strings.Contains(unq, s[i:i+6]) {
						t.Errorf("line %q: excerpt %s redacted to %s shows %q", line, got, red, s[i:i+6])
					}
				}
			}
		}
	}
}

// excerptAt is wire's excerpt of line at p: its 16 bytes from p quoted,
// "..." after them when the line goes on.
func excerptAt(line string, p int) string {
	got := strconv.Quote(line[p:min(len(line), p+16)])
	if p+16 < len(line) {
		got += "..."
	}
	return got
}

// TestRedactExcerptLiteralGaps: a server echoes a credential with
// literals inside it, its pieces in the text between them (the bodies
// junk) or in the bodies: an excerpt of 16 bytes of the echo shows no 6
// bytes of a piece, where the excerpt holds the header of the literal
// before the piece (a body's bounds are known from its header alone: an
// excerpt that opens in a junk body, "YYorse)", shows what it shows), and
// the middle piece of a syntax error's excerpt ("{3}\r\nXXXrrect-h ", the
// session's slog record of the undecodable FETCH) is redacted, as the
// trace's line is (RedactEdgesGaps). Until stop 62 that excerpt showed
// "rrect-h". Ordinary text beside a literal, and a piece of 2 bytes, are
// left as they are.
func TestRedactExcerptLiteralGaps(t *testing.T) {
	const pw = "hunter2-correct-horse"
	var x Set
	x.AddString(pw)
	for _, c := range []struct{ raw, want string }{
		{"{3}\r\nXXXrrect-h ", `"{3}\r\nXXX*** "`},
		{"{7}\r\nrrect-h {4}", `"{7}\r\n*** {4}"`},
		{"7}\r\nrrect-h {4}\r", `"7}\r\n*** {4}\r"`},
		{"X hunter2-co {11}", `"X *** {11}"`},
		{"-co  {2+}\r\nYYor", `"***  {2+}\r\nYYor"`},
		{"BODY[] {5}\r\nhello", `"BODY[] {5}\r\nhello"`},
		{"{3}\r\nabc UID 7)", `"{3}\r\nabc UID 7)"`},
		{"{3}\r\nXXXte {2}", `"{3}\r\nXXXte {2}"`},
		{"{3}\r\nXXXrrect-h\r", `"{3}\r\nXXX***\r"`},
		{"{3}\r\nXXXabc\r", `"{3}\r\nXXXabc\r"`},
	} {
		if got := x.RedactExcerpt(strconv.Quote(c.raw)); got != c.want {
			t.Errorf("RedactExcerpt(%q) = %s; want %s", c.raw, got, c.want)
		}
	}
	for _, c := range []struct {
		line string
		junk bool // the bodies are junk: a piece is known from its header
	}{
		{"* 1 FETCH (X hunter2-co {3}\r\nXXXrrect-h {2}\r\nYYorse)", true},
		{"* 1 FETCH (X hunter2-co {7}\r\nrrect-h {4}\r\norse)", false},
		{"* 1 FETCH (X hunter2-co {3}\r\nXXXrrect-h\r\norse)", true},
	} {
		line := c.line
		for p := 0; p < len(line); p++ {
			got := excerptAt(line, p)
			red := x.RedactExcerpt(got)
			unq, err := strconv.Unquote(strings.TrimSuffix(red, "..."))
			if err != nil {
				t.Fatalf("excerpt %s redacted to %s: %v", got, red, err)
			}
			for _, piece := range []string{"hunter2-co", "rrect-h", "orse"} {
				if at := strings.Index(line, piece); c.junk && at > strings.Index(line, "{") && p > strings.LastIndex(line[:at], "{") {
					continue // the excerpt opens past the header before it
				}
				for i := 0; i+min(6, len(piece)) <= len(piece); i++ {
					if s := piece[i : i+min(6, len(piece))]; strings.Contains(unq, s) {
						t.Errorf("line %q: excerpt %s redacted to %s shows %q", line, got, red, s)
					}
				}
			}
		}
	}
}
