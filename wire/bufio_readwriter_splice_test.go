package wire_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// TestForwardLineResumedAfterSpliceWriteDeadlineThroughBufio: the splice
// of TestForwardLineResumedAfterSpliceWriteDeadline behind a
// *bufio.Writer, or behind a *bufio.ReadWriter (what an http.Hijacker
// hands over, net/textproto's pair), which promotes its Writer's
// ReadFrom: the body goes by kernel splice all the same, and the write
// deadline throws away what the pipe held. maySplice knew the
// *bufio.Writer but not the *bufio.ReadWriter: the resumed ForwardLine
// took the next line's bytes for the body, the relay silently out of
// step with both peers.
func TestForwardLineResumedAfterSpliceWriteDeadlineThroughBufio(t *testing.T) {
	for _, name := range []string{"bufio.Writer", "bufio.ReadWriter"} {
		t.Run(name, func(t *testing.T) {
			client, proxyIn := tcpPair(t)
			proxyOut, sink := tcpPair(t)
			head, body, next := "a1 APPEND INBOX {10}\r\n", "0123456789", " (x)\r\nz NOOP\r\ny NOOP\r\n"
			if _, err := client.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte)
			go func() { b, _ := io.ReadAll(sink); got <- b }()
			conn := &deadlineOnceConn{TCPConn: proxyOut, send: func() { client.Write([]byte(body + next)) }}
			bw := bufio.NewWriter(conn)
			var w io.Writer = bw
			if name == "bufio.ReadWriter" {
				w = bufio.NewReadWriter(bufio.NewReader(bytes.NewReader(nil)), bw)
			}
			tk := wire.NewTokenizer(proxyIn, nil)
			err := tk.ForwardLine(w)
			if err == nil {
				t.Skip("the write deadline did not interrupt the splice")
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("ForwardLine: %v; want the write deadline", err)
			}
			proxyIn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a hang detector only
			// bufio keeps its target's error: a new one over the same
			// connection resumes, as a relay would.
			bw = bufio.NewWriter(proxyOut)
			rerr := tk.ForwardLine(bw)
			var tag []byte
			if rerr == nil {
				bw.Flush()
				tag, rerr = tk.Tag()
			}
			client.Close()
			proxyOut.Close()
			out := <-got
			if rerr != nil && errors.Is(rerr, wire.ErrForwardGap) {
				return // the loss is told
			}
			if rerr != nil || string(tag) != "z" || !bytes.Equal(out, []byte(head+body+" (x)\r\n")) {
				t.Fatalf("resumed ForwardLine after the splice's write deadline through a %s: next tag %q (%v), relayed %q; want the tag \"z\" and %q, or ErrForwardGap", name, tag, rerr, out, head+body+" (x)\r\n")
			}
		})
	}
}

// TestLiteralWriteToBufioReadWriterLostSpliceFails: as
// TestLiteralWriteToAfterLostSpliceFails, the bufio.Writer inside a
// *bufio.ReadWriter: its target's ReadFrom failed, it may have spliced,
// and the stream is out of step.
func TestLiteralWriteToBufioReadWriterLostSpliceFails(t *testing.T) {
	client, proxyIn := tcpPair(t)
	if _, err := client.Write([]byte("* 1 FETCH (BODY[] {10}\r\n")); err != nil {
		t.Fatal(err)
	}
	proxyIn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a hang detector only
	tk := wire.NewTokenizer(proxyIn, nil)
	for {
		tok, err := tk.Next()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == wire.KindLiteral {
			break
		}
	}
	lr, err := tk.LiteralReader()
	if err != nil {
		t.Fatal(err)
	}
	rw := bufio.NewReadWriter(bufio.NewReader(bytes.NewReader(nil)), bufio.NewWriter(failReadFrom{}))
	if _, err := lr.(io.WriterTo).WriteTo(rw); !errors.Is(err, errWriterDead) {
		t.Fatalf("WriteTo: %v; want the target's error", err)
	}
	if err := tk.Broken(); !errors.Is(err, wire.ErrForwardGap) {
		t.Fatalf("after a bufio.ReadWriter's target's ReadFrom failed: Broken() = %v; want ErrForwardGap", err)
	}
}
