package main

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestTableWriterMatchesTabwriter: on text without wide characters the
// table writer's output is text/tabwriter's, byte for byte: random tables
// whose lines have different numbers of cells (lines without a tab
// between them break the column blocks), empty cells, narrow non-ASCII
// letters, a last line without
// its newline.
func TestTableWriterMatchesTabwriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	words := []string{"", "a", "INBOX", "Sent Mail", "12345", "\\HasNoChildren", "-", "x y z", "Grüße", "Привет"}
	for i := range 20000 {
		var in strings.Builder
		for range rng.IntN(8) {
			for range rng.IntN(5) {
				in.WriteString(words[rng.IntN(len(words))] + "\t")
			}
			in.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(10) > 0 {
				in.WriteString("\n")
			}
		}
		var want, got bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
		tw.Write([]byte(in.String()))
		tw.Flush()
		dw := &tableWriter{w: &got}
		dw.Write([]byte(in.String()))
		if err := dw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("table %d %q:\ngot  %q\nwant %q", i, in.String(), got.String(), want.String())
		}
	}
}

// TestTableWriterWide: wide characters take two columns, combining marks
// none.
func TestTableWriterWide(t *testing.T) {
	var got bytes.Buffer
	dw := &tableWriter{w: &got}
	dw.Write([]byte("日本語\tx\nabc\ty\ne\u0301\tz\n"))
	dw.Flush()
	if want := "日本語  x\nabc     y\ne\u0301       z\n"; got.String() != want {
		t.Fatalf("got %q; want %q", got.String(), want)
	}
}
