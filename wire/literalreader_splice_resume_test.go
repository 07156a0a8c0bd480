package wire_test

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// deadlineOncePipe is the write end of an os.Pipe whose first ReadFrom
// meets a write deadline that has passed: before it, send lets the
// literal's body reach the tokenizer's connection, so that the kernel
// splice (os.File's ReadFrom from a *net.TCPConn) drains it from there.
type deadlineOncePipe struct {
	*os.File
	send func()
	done bool
}

func (p *deadlineOncePipe) ReadFrom(r io.Reader) (int64, error) {
	if !p.done {
		p.done = true
		p.send()
		p.SetWriteDeadline(time.Unix(1, 0))
		defer p.SetWriteDeadline(time.Time{})
	}
	return p.File.ReadFrom(r)
}

// TestLiteralReaderReadAgainAfterSpliceWriteDeadline: a client copies a
// FETCH body from a *net.TCPConn to a pipe (a child process's stdin)
// with io.Copy over LiteralReader, and the pipe's write deadline
// passes: os.File's ReadFrom splices, draining the body into the
// kernel's pipe, and throws it away when the write fails; the limiter
// counts only what was written (nothing). The reader is read again
// ("a LiteralReader that returns a timeout can be read again"): it
// must fail (the body's bytes are gone) or give the body, never the
// next line's bytes as the body. 26efa0c marks the loss (fwdLost) but
// only Forward looks at it: the literal stays open with its count as
// if nothing left the connection, and the rest of the stream is framed
// 10 bytes off, silently.
func TestLiteralReaderReadAgainAfterSpliceWriteDeadline(t *testing.T) {
	server, conn := tcpPair(t)
	head, body, next := "* 1 FETCH (BODY[] {10}\r\n", "0123456789", ")\r\n* 2 FETCH (FLAGS ())\r\n"
	if _, err := server.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Skip(err)
	}
	defer pr.Close()
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(pr); got <- b }()
	tk := wire.NewTokenizer(conn, nil)
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
	w := &deadlineOncePipe{File: pw, send: func() { server.Write([]byte(body + next)) }}
	n, err := io.Copy(w, lr)
	if err == nil {
		pw.Close()
		t.Skipf("the write deadline did not interrupt the splice (%d bytes)", n)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a hang detector only
	rest, rerr := io.ReadAll(lr)
	pw.Close()
	copied := <-got
	if rerr != nil {
		return // the loss is told
	}
	if all := string(copied) + string(rest); all != body {
		t.Fatalf("LiteralReader read again after a failed splice (%v, %d copied): the body is %q; want %q or an error", err, n, all, body)
	}
}
