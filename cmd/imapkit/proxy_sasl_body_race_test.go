package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestProxyOwedLineBodyEchoedMidLiteralRedacted: the literal's body on a
// line printed as SASL data (the line owed to an unanswered challenge,
// here "a2 APPEND Drafts {n}": a LOGIN's literal over 16 KiB is refused,
// secretLiteralRefused) is kept as a credential, its first 16 KiB
// (forwardBody); but it is recorded only once the whole body has been
// relayed (ps.secrets.add after ForwardLiteral returns), while the relay
// sends the body on as it comes (the 32 KiB writer flushes when full). A
// body over 32 KiB that the client sends in two parts: the server has
// the first 32 KiB, echoes its first 20 KiB, and the trace prints the
// echo before the credential is recorded: in the clear. The client waits
// for the echo (and for its trace line) before it sends the rest, so the
// interleaving is forced, not timed. Defaults.
func TestProxyOwedLineBodyEchoedMidLiteralRedacted(t *testing.T) {
	t.Parallel()
	body := saslSecret(48 << 10)
	const first, sent = 20 << 10, 36 << 10
	c, r, out, _ := owedLiteral(t, body, sent, first, func(r *bufio.Reader, w io.Writer, got []byte) {
		io.WriteString(w, "* OK echo "+string(got)+"\r\n")
		rest := make([]byte, len(body)-first+2)
		if _, err := io.ReadFull(r, rest); err != nil {
			return
		}
		io.WriteString(w, "a2 NO bad\r\n")
		io.Copy(io.Discard, r)
	})
	readClientTo(t, r, "* OK echo", out)
	// The echo's trace line (a hang detector only: the connection's
	// deadline ends the test otherwise).
	for !strings.Contains(out.String(), "S: * OK echo") {
		time.Sleep(5 * time.Millisecond)
	}
	io.WriteString(c, body[sent:]+"\r\n")
	readClientTo(t, r, "a2 NO", out)
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, r)
	trace := out.String()
	if p := leakedPiece(trace, body[:maxRawLine]); p != "" {
		i := strings.Index(trace, p)
		t.Errorf("the trace shows %q of the recorded credential (the body's first 16 KiB), echoed before the body's end: ...%.200s...", p, trace[max(i-100, 0):])
	}
}
