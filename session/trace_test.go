package session_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestTraceKeepsLargestCommand: with default Options (no Trace, no
// Logger: only the 20-line history ring), every command sent is rendered
// by Encoded.AppendRedacted into the tracer's scratch buffer
// (tracer.cbuf), which is kept for reuse at its peak capacity. One
// command with a 20 MB in-memory argument (a literal written with
// Encoder.Literal, as commands.Client.Do/Xatom callers, SETMETADATA's
// StringBytes values or the CLI's raw/shell literals produce) leaves a
// 20 MB copy of its bytes held by the session for the rest of its life,
// idle or not, although the history keeps at most 240 bytes of a line and
// the session promises that an idle session holds neither its Encoder
// "nor the buffer its largest command grew" (write.go encoderPool,
// idle.go).
func TestTraceKeepsLargestCommand(t *testing.T) {
	ctx := context.Background()
	s := scriptedOpen(t, nil, func(tag, line string) string { return tag + " OK done\r\n" })
	for i := 0; i < 10; i++ {
		s.Run(ctx, &session.Command{Name: "NOOP"})
	}
	h0 := gcHeap()
	const size = 20 << 20
	func() {
		msg := []byte(strings.Repeat("z", size))
		if _, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX").SP().Literal(msg) }}); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 100; i++ {
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
	}
	h1 := gcHeap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the APPEND %d, after it and 100 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("the session still holds a copy of a 20 MB command sent earlier: heap +%d MB", grown>>20)
	}
}

// TestTraceKeepsLargestLine is TestTraceKeepsLargestCommand
// with a Trace writer, which sees whole lines: a 20 MB command line (a
// long raw argument) is rendered whole for it, but the scratch buffer it
// grew is not kept for the next command. The argument is one long atom of
// a command that names no message set: a raw set of 10 million ranges
// traced the same line but was also parsed for routing (an 80 MB range
// slice), which took most of the test's minute under -race and checked
// nothing about the trace.
func TestTraceKeepsLargestLine(t *testing.T) {
	ctx := context.Background()
	s := scriptedOpen(t, &session.Options{Trace: io.Discard}, func(tag, line string) string { return tag + " OK done\r\n" })
	for i := 0; i < 10; i++ {
		s.Run(ctx, &session.Command{Name: "NOOP"})
	}
	h0 := gcHeap()
	const size = 20 << 20
	func() {
		arg := strings.Repeat("x", size)
		if _, err := s.Run(ctx, &session.Command{Name: "XLONG", Args: func(e *wire.Encoder) { e.SP().Raw(arg) }}); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 100; i++ {
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
	}
	h1 := gcHeap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the long command %d, after it and 100 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("the session still holds a copy of a 20 MB command line sent earlier: heap +%d MB", grown>>20)
	}
}
