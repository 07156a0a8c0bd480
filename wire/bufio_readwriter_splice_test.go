package wire_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
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

// embedsBufio is a writer type of a user's own that embeds a
// *bufio.Writer, so that it has its ReadFrom (and its Write, Flush).
type embedsBufio struct{ *bufio.Writer }

// delegatesReadFrom is one whose own ReadFrom hands the body to a
// *bufio.Writer's.
type delegatesReadFrom struct{ bw *bufio.Writer }

func (d delegatesReadFrom) Write(p []byte) (int, error)         { return d.bw.Write(p) }
func (d delegatesReadFrom) Flush() error                        { return d.bw.Flush() }
func (d delegatesReadFrom) ReadFrom(r io.Reader) (int64, error) { return d.bw.ReadFrom(r) }

// sendOnWriteConn is a deadlineOnceConn whose first Write calls send
// too: the body comes after the header, whether w's ReadFrom (which
// meets the write deadline) is called or not.
type sendOnWriteConn struct{ deadlineOnceConn }

func (c *sendOnWriteConn) Write(p []byte) (int, error) {
	n, err := c.TCPConn.Write(p)
	c.send()
	return n, err
}

// TestForwardLineResumedAfterSpliceWriteDeadlineThroughOwnType: the
// splice of TestForwardLineResumedAfterSpliceWriteDeadlineThroughBufio
// behind a type of the user's own that embeds a *bufio.Writer, or whose
// ReadFrom hands the body to one: its ReadFrom is bufio's, which hands it
// to the *net.TCPConn's splice, but maySplice did not see the bufio.Writer
// (as it did not see a *bufio.ReadWriter's before stop 58): the write
// deadline threw away the pipe's bytes, and the resumed ForwardLine took
// the next line's bytes for the body, silently. Such a writer is no
// longer handed the body's ReadFrom when the tokenizer reads a socket:
// its Write takes the body from the tokenizer's buffer, counted, and
// the line is relayed exactly (here with no failure: the write deadline
// came with the ReadFrom). A failure is either resumed or told
// (ErrForwardGap).
func TestForwardLineResumedAfterSpliceWriteDeadlineThroughOwnType(t *testing.T) {
	for _, name := range []string{"embeds", "delegates"} {
		t.Run(name, func(t *testing.T) {
			client, proxyIn := tcpPair(t)
			proxyOut, sink := tcpPair(t)
			head, body, next := "a1 APPEND INBOX {10}\r\n", "0123456789", " (x)\r\nz NOOP\r\ny NOOP\r\n"
			if _, err := client.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte)
			go func() { b, _ := io.ReadAll(sink); got <- b }()
			// The body comes once the header went out (its flush), so
			// that a ReadFrom of w's would splice it from the socket.
			var once sync.Once
			send := func() { once.Do(func() { client.Write([]byte(body + next)) }) }
			conn := &sendOnWriteConn{deadlineOnceConn{TCPConn: proxyOut, send: send}}
			bw := bufio.NewWriter(conn)
			var w io.Writer = embedsBufio{bw}
			if name == "delegates" {
				w = delegatesReadFrom{bw}
			}
			proxyIn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a hang detector only
			tk := wire.NewTokenizer(proxyIn, nil)
			err := tk.ForwardLine(w)
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("ForwardLine: %v; want the write deadline, or none", err)
				}
				// A new writer over the same connection resumes, as a
				// relay would.
				bw = bufio.NewWriter(proxyOut)
				err = tk.ForwardLine(bw)
			}
			var tag []byte
			if err == nil {
				bw.Flush()
				tag, err = tk.Tag()
			}
			client.Close()
			proxyOut.Close()
			out := <-got
			if err != nil && errors.Is(err, wire.ErrForwardGap) {
				return // the loss is told
			}
			if err != nil || string(tag) != "z" || !bytes.Equal(out, []byte(head+body+" (x)\r\n")) {
				t.Fatalf("ForwardLine through a type that %s a bufio.Writer's ReadFrom, after the write deadline: next tag %q (%v), relayed %q; want the tag \"z\" and %q, or ErrForwardGap", name, tag, err, out, head+body+" (x)\r\n")
			}
		})
	}
}
