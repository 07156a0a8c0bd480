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
