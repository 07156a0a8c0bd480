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
				raw := line[p:min(len(line), p+16)]
				got := strconv.Quote(raw)
				if p+16 < len(line) {
					got += "..."
				}
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
