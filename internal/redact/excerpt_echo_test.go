package redact

import (
	"strconv"
	"strings"
	"testing"
)

// TestRedactExcerptQuotedEcho: a server that echoes a credential in one of
// its forms with escapes of its own (the wire-quoted form a LOGIN sent,
// "pa\\ss\"w0rd", echoed as it came) gets it into a syntax error's
// excerpt quoted again by strconv.Quote ("pa\\\\ss\\\"w0rd"), which is
// none of the forms as text: the excerpt must show none of it, at every
// place of the echo, for every form echoed. What shows is looked for as
// the excerpt writes it: 8 bytes of the echo quoted.
func TestRedactExcerptQuotedEcho(t *testing.T) {
	for _, sec := range []string{
		`pa\ss"w0rd-secret-long`,
		"tab\there\"quoted\\slash-long-one",
		"passé-wörd-ünïcode-lông-enough",
		"日本語のパスワードです",
		"ctl\x01\x02bytes-and-more-here",
		"bad\xffutf8\xfe-and-more-here-x",
	} {
		var x Set
		x.AddString(sec)
		var echoes []string
		x.Forms(func(f []byte, _ bool) { echoes = append(echoes, string(f)) })
		for _, e := range echoes {
			qe := strconv.Quote(e)
			qe = qe[1 : len(qe)-1]
			for _, line := range []string{"xx " + e + " yy", e, "\"" + e + "\""} {
				for p := 0; p < len(line); p++ {
					got := strconv.Quote(line[p:min(len(line), p+16)])
					if p+16 < len(line) {
						got += "..."
					}
					red := x.RedactExcerpt(got)
					for i := 0; i+8 <= len(qe); i++ {
						if strings.Contains(red, qe[i:i+8]) {
							t.Fatalf("secret %q echoed as %q: excerpt %s redacted to %s shows %q", sec, e, got, red, qe[i:i+8])
						}
					}
				}
			}
		}
	}
}
