package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
)

// TestProxyOwedLineBodyPastCaptureEchoedRedacted: the literal's body on a
// line printed as SASL data (the line owed to an unanswered challenge) is
// kept as a credential, its first maxRawLine (16 KiB) bytes. A body of
// 24 KiB that the server echoes whole, in a line the trace prints up to
// maxPrinted bytes after the redaction: the first 16 KiB became "***",
// and what followed it, the body past the capture, was printed. Nothing
// of the body may show. Defaults.
func TestProxyOwedLineBodyPastCaptureEchoedRedacted(t *testing.T) {
	t.Parallel()
	body := saslSecret(24 << 10)
	c, r, out, done := owedLiteral(t, body, len(body), len(body), func(r *bufio.Reader, w io.Writer, got []byte) {
		r.ReadString('\n') // the line's end
		io.WriteString(w, "a2 NO bad message "+string(got)+" rejected\r\n* BYE gone\r\n")
		io.Copy(io.Discard, r)
	})
	io.WriteString(c, "\r\n")
	readClientTo(t, r, "a2 NO", out)
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, r)
	<-done
	trace := out.String()
	if !strings.Contains(trace, "S: a2 NO bad message") {
		t.Fatalf("no echo in the trace:\n%s", shortLines(trace))
	}
	if p := leakedPiece(trace, body); p != "" {
		i := strings.Index(trace, p)
		t.Errorf("the trace shows %q, at %d of the %d-byte body (kept: its first %d): ...%.200s...", p, strings.Index(body, p), len(body), maxRawLine, trace[max(i-100, 0):])
	}
}
