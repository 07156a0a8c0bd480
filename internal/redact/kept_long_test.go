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

// TestCoverReusedLinesJustOverCapture: a steady stream of lines a little
// longer than the session trace's capture (64 KiB and 64 bytes to
// 128 KiB: a status text, an unknown response's rest), each with a
// credential in it, allocates only each line redacted: the cover is
// kept from one line to the next, within what a cut line of the capture
// needs (capture/4+64 bytes, as TestKeptMemory), also between cut lines
// of the capture. Each such line let go of the cover and made it again
// (16 KiB a line, 2 allocations) until stop 62.
func TestCoverReusedLinesJustOverCapture(t *testing.T) {
	var x Set
	x.AddString("s3cret-pass")
	for _, n := range []int{capture + 64, capture + 4<<10, 2*capture - 64} {
		line := append([]byte("* OK echo s3cret-pass "), bytes.Repeat([]byte("q"), n-22)...)
		cutLine := line[:capture]
		x.Redact(line)
		if got := testing.AllocsPerRun(20, func() { x.Redact(line) }); got > 1 {
			t.Errorf("a %d-byte line costs %v allocations; want 1 (the line redacted)", len(line), got)
		}
		if got := testing.AllocsPerRun(20, func() { x.Redact(line); x.RedactCut(cutLine) }); got > 2 {
			t.Errorf("a %d-byte line and a cut line of %d cost %v allocations; want 2 (each redacted)", len(line), len(cutLine), got)
		}
		if got, want := x.KeptBytes(), capture/4+64; got > want {
			t.Errorf("the Set keeps %d bytes after a %d-byte line, want at most %d", got, len(line), want)
		}
	}
}
