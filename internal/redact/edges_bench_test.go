package redact

import (
	"strconv"
	"strings"
	"testing"
)

// benchLines are server lines of an ordinary session, as a trace reads
// them (line ends apart).
var benchLines = [][]byte{
	[]byte("* 12 FETCH (UID 4012 FLAGS (\\Seen) INTERNALDATE \"07-Dec-2026 13:40:09 +0000\" RFC822.SIZE 4521)"),
	[]byte("* OK [UIDNEXT 4013] Predicted next UID"),
	[]byte("* 13 EXISTS"),
	[]byte("A12 OK Fetch completed (0.001 + 0.000 secs)."),
	[]byte("* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Messages\""),
	[]byte("A13 NO [ALREADYEXISTS] Mailbox already exists"),
}

// BenchmarkEdgesLine measures what a line of a trace costs the
// redaction: Edges, then RedactEdges, a line at a time over ordinary
// lines, with a password and its PLAIN response kept (plain), and with a
// password that holds two line breaks (crlf), with a 1,500-byte token
// (longToken); a line with a literal's body inside it, then an ordinary
// one (literalGap: RedactEdgesGaps); and a line after one that ends in a
// literal's body (afterLiteral).
func BenchmarkEdgesLine(b *testing.B) {
	for _, c := range []struct {
		name    string
		secrets []string
	}{
		{"plain", []string{"hunter2-correct", "AHVzZXIAaHVudGVyMi1jb3JyZWN0"}},
		{"crlf", []string{"pass\r\nword\r\nmore-secret", "AHVzZXIAcGFzcw0Kd29yZA0KbW9yZS1zZWNyZXQ="}},
		{"longToken", []string{strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 75), "hunter2-correct"}}, // 1,500 bytes
	} {
		b.Run(c.name, func(b *testing.B) {
			var x Set
			for _, s := range c.secrets {
				x.AddString(s)
			}
			var carry Carry
			crlf := []byte("\r\n")
			i := 0
			for b.Loop() {
				line := benchLines[i%len(benchLines)]
				i++
				head, tail := x.Edges(&carry, line, crlf)
				x.RedactEdges(line, head, tail, false)
			}
		})
	}
	b.Run("literalGap", func(b *testing.B) {
		// A FETCH line with a literal's body inside it, shown as "{N
		// bytes}" (the proxy's gap), then an ordinary line.
		var x Set
		x.AddString("hunter2-correct")
		x.AddString("AHVzZXIAaHVudGVyMi1jb3JyZWN0")
		var carry Carry
		crlf := []byte("\r\n")
		fetch := []byte("* 12 FETCH (UID 4012 BODY[] {4521 bytes} FLAGS (\\Seen))")
		gaps := []Gap{{From: 28, To: 40}}
		i := 0
		for b.Loop() {
			line, g := fetch, gaps
			if i%2 == 1 {
				line, g = benchLines[1], nil
			}
			i++
			head, tail := x.Edges(&carry, line, crlf)
			x.RedactEdgesGaps(line, head, tail, false, g)
		}
	})
	b.Run("afterLiteral", func(b *testing.B) {
		// A FETCH line ending in a literal's body, carried from its
		// last bytes (CarryPart), then the next line.
		var x Set
		x.AddString("hunter2-correct")
		x.AddString("AHVzZXIAaHVudGVyMi1jb3JyZWN0")
		var carry Carry
		crlf := []byte("\r\n")
		fetch := []byte("* 12 FETCH (UID 4012 BODY[] <4521 bytes>)")
		last := []byte("d of the message body here.)")
		for b.Loop() {
			x.Edges(&carry, fetch, crlf)
			x.CarryPart(&carry, last, crlf)
			line := benchLines[0]
			head, tail := x.Edges(&carry, line, crlf)
			x.RedactEdges(line, head, tail, false)
		}
	})
}

// BenchmarkRedactEdgesGapsHostile measures RedactEdgesGaps of a hostile
// line of 64 KiB of gaps (hostileGapLine), 1 to 1,000 bytes of near
// matches of 16 credentials of 4 KB between them: its time and, with
// -benchmem, what it allocates (the line it returns).
func BenchmarkRedactEdgesGapsHostile(b *testing.B) {
	for _, seg := range []int{1, 9, 100, 1000} {
		x, line, gaps := hostileGapLine(seg, false)
		b.Run(strconv.Itoa(seg), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.RedactEdgesGaps(line, 0, 0, false, gaps)
			}
		})
	}
}
