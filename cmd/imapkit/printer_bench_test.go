package main

import (
	"strings"
	"testing"
)

// BenchmarkPrinterLine: a server line printed (no credential kept), as the
// proxy's trace prints each: ASCII, and one with control bytes escaped.
func BenchmarkPrinterLine(b *testing.B) {
	for _, c := range []struct {
		name string
		line string
	}{
		{"ascii", "* 12 FETCH (UID 4711 FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] " + strings.Repeat("Subject: hello world ", 8) + ")"},
		{"escaped", strings.Repeat("a\tb\x01c", 40)},
	} {
		b.Run(c.name, func(b *testing.B) {
			line := []byte(c.line)
			p := printer{prefix: "[1] S: "}
			b.ReportAllocs()
			for b.Loop() {
				p.begin(false, "")
				p.add(line)
				p.end()
			}
		})
	}
}
