package printable_test

import (
	"testing"

	"github.com/imapkit/imapkit/internal/printable"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":          "plain text",
		"Grüße":               "Grüße",
		"a\x1b[2Jb":           `a\x1b[2Jb`,
		"bell\x07 del\x7f":    `bell\x07 del\x7f`,
		"csi \u009b c1":       `csi \xc2\x9b c1`,
		"bad \xff utf8":       `bad \xff utf8`,
		"line\r\nforged":      `line\x0d\x0aforged`,
		"":                    "",
		"\x00":                `\x00`,
		"tab\there":           `tab\x09here`,
		"nbsp\u00a0is fine":   "nbsp\u00a0is fine",
		"cut \xe2\x82 rune":   `cut \xe2\x82 rune`,
		"emoji \U0001F600 ok": "emoji \U0001F600 ok",
		// Line and paragraph separators: line ends to some log readers.
		"log\u2028forged": `log\xe2\x80\xa8forged`,
		"log\u2029forged": `log\xe2\x80\xa9forged`,
		// Bidirectional controls reorder what is shown (Trojan Source).
		"file\u202egpj.exe":                       `file\xe2\x80\xaegpj.exe`,
		"lre\u202a pdf\u202c lro\u202d rle\u202b": `lre\xe2\x80\xaa pdf\xe2\x80\xac lro\xe2\x80\xad rle\xe2\x80\xab`,
		"lri\u2066 rli\u2067 fsi\u2068 pdi\u2069": `lri\xe2\x81\xa6 rli\xe2\x81\xa7 fsi\xe2\x81\xa8 pdi\xe2\x81\xa9`,
		"lrm\u200e rlm\u200f alm\u061c":           `lrm\xe2\x80\x8e rlm\xe2\x80\x8f alm\xd8\x9c`,
		// A backslash before an 'x' is escaped: what reads \xNN is an
		// escape, never a server's text that looks like one.
		`fake \x1b esc`: `fake \x5cx1b esc`,
		`\x`:            `\x5cx`,
		"real \x1b esc": `real \x1b esc`,
		`\Seen \\ end\`: `\Seen \\ end\`,
		// Their neighbours are text.
		"zwj\u200d nnbsp\u202f ‧\u2027 wj\u2060 \u206a arabic\u061b": "zwj\u200d nnbsp\u202f ‧\u2027 wj\u2060 \u206a arabic\u061b",
	} {
		if got := printable.String(in); got != want {
			t.Errorf("String(%q) = %q; want %q", in, got, want)
		}
		if got := printable.Escape([]byte(in)); got != want {
			t.Errorf("Escape(%q) = %q; want %q", in, got, want)
		}
		if printable.Clean([]byte(in)) != (in == want) {
			t.Errorf("Clean(%q) = %v", in, !(in == want))
		}
	}
}

// TestUnsafe checks Unsafe against every rune it is about, and their
// neighbours.
func TestUnsafe(t *testing.T) {
	unsafe := func(r rune) bool {
		return r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x61c || r == 0x200e || r == 0x200f ||
			r >= 0x2028 && r <= 0x202e || r >= 0x2066 && r <= 0x2069
	}
	for r := rune(0); r < 0x3000; r++ {
		if got := printable.Unsafe(r); got != unsafe(r) {
			t.Errorf("Unsafe(%U) = %v", r, got)
		}
		if s := string(r); printable.Clean([]byte(s)) == unsafe(r) {
			t.Errorf("Clean(%q) = %v", s, !unsafe(r))
		}
	}
}

// TestQuoteChar: QuoteChar names a character as the text holds
// it, and a byte that is no character by itself in hex, never as the
// Latin-1 character of its value.
func TestQuoteChar(t *testing.T) {
	for s, want := range map[string]string{
		"é-x":     "'é'",
		"日本":      "'日'",
		"\xc3":    "0xc3",
		"\xe9abc": "0xe9",
		"a":       "'a'",
		"\x00":    `'\x00'`,
		"":        "end of input",
	} {
		if got := printable.QuoteChar(s); got != want {
			t.Errorf("QuoteChar(%q) = %s, want %s", s, got, want)
		}
	}
}
