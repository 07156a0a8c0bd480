package wire_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// deadlineOnceConn is a *net.TCPConn as a relay writes to it, whose first
// ReadFrom meets a write deadline that has passed (a relay's write
// timeout): before it, send lets the literal's body reach the reader's
// connection, so that the kernel splice takes it from there.
type deadlineOnceConn struct {
	*net.TCPConn
	send func()
	done bool
}

func (c *deadlineOnceConn) ReadFrom(r io.Reader) (int64, error) {
	if !c.done {
		c.done = true
		c.send() // splice waits for it to be readable
		c.SetWriteDeadline(time.Unix(1, 0))
		defer c.SetWriteDeadline(time.Time{})
	}
	return c.TCPConn.ReadFrom(r)
}

func tcpPair(t *testing.T) (a, b *net.TCPConn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// TestForwardLineResumedAfterSpliceWriteDeadline: a relay from one TCP
// connection to another, the writer a *net.TCPConn (or a bufio.Writer
// over one, which hands it its ReadFrom): the literal's body goes by
// kernel splice, which drains the source into a pipe and then writes to
// the destination. A write deadline there leaves the drained bytes in
// the pipe, which is thrown away, and the limiter counts only what was
// written (net's spliceFrom: lr.N -= written), so the tokenizer's
// "what left the connection" is not what left it: no ErrForwardGap, and
// the resumed ForwardLine takes the next line's bytes for the body
// (the relay is silently out of step with both peers).
func TestForwardLineResumedAfterSpliceWriteDeadline(t *testing.T) {
	client, proxyIn := tcpPair(t)
	proxyOut, sink := tcpPair(t)
	head, body, next := "a1 APPEND INBOX {10}\r\n", "0123456789", " (x)\r\nz NOOP\r\ny NOOP\r\n"
	if _, err := client.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(sink); got <- b }()
	w := &deadlineOnceConn{TCPConn: proxyOut, send: func() { client.Write([]byte(body + next)) }}
	tk := wire.NewTokenizer(proxyIn, nil)
	err := tk.ForwardLine(w)
	if err == nil {
		t.Skip("the write deadline did not interrupt the splice")
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ForwardLine: %v; want the write deadline", err)
	}
	proxyIn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a hang detector only
	rerr := tk.ForwardLine(w)
	var tag []byte
	if rerr == nil {
		tag, rerr = tk.Tag()
	}
	client.Close()
	proxyOut.Close()
	out := <-got
	if rerr != nil && errors.Is(rerr, wire.ErrForwardGap) {
		return // the loss is told
	}
	if rerr != nil || string(tag) != "z" || !bytes.Equal(out, []byte(head+body+" (x)\r\n")) {
		t.Fatalf("resumed ForwardLine after the splice's write deadline: next tag %q (%v), relayed %q; want the tag \"z\" and %q, or ErrForwardGap", tag, rerr, out, head+body+" (x)\r\n")
	}
}
