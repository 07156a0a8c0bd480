package redact

import (
	"bytes"
	"testing"
)

// TestKeptMemoryLongLine: a line longer than the trace's capture (a
// status response's text, up to the tokenizer's 1 MiB line, redacted
// whole for the command's result and errors) with a credential in it
// left its cover, 2 bits a byte (256 KiB), kept in the Set for the rest
// of the session: what is kept is bounded as after a line of the capture.
func TestKeptMemoryLongLine(t *testing.T) {
	var x Set
	x.AddString("s3cret-pass")
	line := append([]byte("a1 NO echo s3cret-pass "), bytes.Repeat([]byte("q"), 1<<20-23)...)
	if got := x.Redact(line); !bytes.HasPrefix(got, []byte("a1 NO echo *** q")) {
		t.Fatalf("Redact = %.30q", got)
	}
	x.RedactCut(line)
	if got, want := x.KeptBytes(), capture/4+64; got > want {
		t.Errorf("the Set keeps %d bytes after a %d-byte line, want at most %d", got, len(line), want)
	}
}
