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

// hookWriter calls hook before its first Write, then writes to w. It has
// no ReadFrom (a *tls.Conn, a relay's client side, has none either).
type hookWriter struct {
	w    io.Writer
	hook func()
}

func (h *hookWriter) Write(p []byte) (int, error) {
	if h.hook != nil {
		h.hook()
		h.hook = nil
	}
	return h.w.Write(p)
}

// TestForwardLineResumedAfterReadDeadlineInBodyFromTCP: a relay reads a
// *net.TCPConn (the server side) and writes to a writer whose ReadFrom
// never splices: a *bytes.Buffer, or a bufio.Writer over a *tls.Conn
// (the client side; bufio reads into its own buffer). The relay's idle
// read deadline passes as the literal's body begins, before a byte of
// it came: nothing was read, nothing can be lost. The resumed
// ForwardLine must relay the body and the line's rest. Since 26efa0c
// any ReadFrom failing inside a body read from a syscall.Conn is taken
// for a lossy splice (readFrom's kernelConn check looked at the source
// only), and the resumed call failed with ErrForwardGap: the relay had to
// drop the connection at every idle deadline inside a literal. Then a
// bufio.Writer, whose target cannot be seen, was taken for one that may
// splice whatever it did: a relay writing through one (over a *tls.Conn,
// which has no ReadFrom, so bufio read into its own buffer) lost the
// connection the same way. Now one is taken for a splice only when its
// target's ReadFrom ran and failed (bufio then keeps the error: "bufio
// over a ReadFrom", the writer dead anyway, stays loud, as its target may
// be a *net.TCPConn: TestForwardLineResumedAfterSpliceWriteDeadline).
func TestForwardLineResumedAfterReadDeadlineInBodyFromTCP(t *testing.T) {
	for _, name := range []string{"bytes.Buffer", "bufio.Writer", "bufio over a ReadFrom"} {
		t.Run(name, func(t *testing.T) {
			client, proxyIn := tcpPair(t)
			head, body, next := "a1 APPEND INBOX {10}\r\n", "0123456789", " (x)\r\nz NOOP\r\n"
			if _, err := client.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			var w io.Writer
			var flush func() error
			deadline := func() { proxyIn.SetReadDeadline(time.Unix(1, 0)) }
			switch name {
			case "bytes.Buffer":
				w, flush = &bufHook{hookWriter{w: &out, hook: deadline}}, func() error { return nil }
			case "bufio.Writer":
				bw := bufio.NewWriter(&hookWriter{w: &out, hook: deadline})
				w, flush = bw, bw.Flush
			default:
				bw := bufio.NewWriter(&bufHook{hookWriter{w: &out, hook: deadline}})
				w, flush = bw, bw.Flush
			}
			tk := wire.NewTokenizer(proxyIn, nil)
			err := tk.ForwardLine(w)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("ForwardLine: %v; want the read deadline", err)
			}
			proxyIn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a hang detector only
			if _, err := client.Write([]byte(body + next)); err != nil {
				t.Fatal(err)
			}
			err = tk.ForwardLine(w)
			if name == "bufio over a ReadFrom" {
				// bufio handed its ReadFrom to its target, which
				// cannot be seen: it may be a *net.TCPConn that
				// splices, so a ReadFrom through it that failed inside
				// the body leaves the stream out of step, loudly.
				if !errors.Is(err, wire.ErrOutOfStep) || !errors.Is(err, wire.ErrForwardGap) {
					t.Fatalf("resumed ForwardLine through a bufio.Writer whose target's ReadFrom failed: %v; want ErrOutOfStep and ErrForwardGap", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("resumed ForwardLine after a read deadline before the body's first byte: %v; want the line relayed", err)
			}
			flush()
			if want := head + body + " (x)\r\n"; out.String() != want {
				t.Fatalf("relayed %q; want %q", out.String(), want)
			}
		})
	}
}

// bufHook is a hookWriter with a bytes.Buffer's honest ReadFrom: what it
// read is what it wrote.
type bufHook struct{ hookWriter }

func (b *bufHook) ReadFrom(r io.Reader) (int64, error) {
	return b.w.(*bytes.Buffer).ReadFrom(r)
}

// TestForwardLineResumedAfterReadDeadlineInBodyFromPipe: the tokenizer
// reads a pipe (*os.File: a command tunnel's stdout), which no ReadFrom
// splices from (os and net splice from sockets only), and writes to a
// *bytes.Buffer. A read deadline before the body's first byte lost
// nothing; the resumed ForwardLine must relay the line. (kernelConn took
// every syscall.Conn, *os.File included, for a splice source: the
// resumed call failed with ErrForwardGap.)
func TestForwardLineResumedAfterReadDeadlineInBodyFromPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Skip(err)
	}
	defer pr.Close()
	defer pw.Close()
	head, body, next := "a1 APPEND INBOX {10}\r\n", "0123456789", " (x)\r\nz NOOP\r\n"
	if _, err := pw.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := &bufHook{hookWriter{w: &out, hook: func() { pr.SetReadDeadline(time.Unix(1, 0)) }}}
	tk := wire.NewTokenizer(pr, nil)
	if err := tk.ForwardLine(w); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ForwardLine: %v; want the read deadline", err)
	}
	pr.SetReadDeadline(time.Now().Add(5 * time.Second)) // a hang detector only
	if _, err := pw.Write([]byte(body + next)); err != nil {
		t.Fatal(err)
	}
	if err := tk.ForwardLine(w); err != nil {
		t.Fatalf("resumed ForwardLine after a pipe's read deadline before the body's first byte: %v; want the line relayed", err)
	}
	if want := head + body + " (x)\r\n"; out.String() != want {
		t.Fatalf("relayed %q; want %q", out.String(), want)
	}
}

// failWriter fails every Write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWriterDead }

var errWriterDead = errors.New("writer dead")

// TestLiteralWriteToDeadBufioWriterLosesNothing: a literal's reader
// written to a *bufio.Writer that failed before (its error kept: its
// ReadFrom returns it at once, reading nothing), the tokenizer reading a
// *net.TCPConn: nothing was read, nothing can be lost, and the literal
// is read again whole into another writer. maySplice took any
// bufio.Writer whose ReadFrom failed for one that may have spliced, and
// put the stream out of step.
func TestLiteralWriteToDeadBufioWriterLosesNothing(t *testing.T) {
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
	dead := bufio.NewWriter(failWriter{})
	dead.WriteString("x")
	if err := dead.Flush(); !errors.Is(err, errWriterDead) {
		t.Fatalf("Flush: %v", err)
	}
	lr, err := tk.LiteralReader()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := lr.(io.WriterTo).WriteTo(dead); n != 0 || !errors.Is(err, errWriterDead) {
		t.Fatalf("WriteTo a dead bufio.Writer: %d, %v; want 0 and its error", n, err)
	}
	if err := tk.Broken(); err != nil {
		t.Fatalf("after WriteTo a bufio.Writer dead before it, which read nothing: the stream is out of step: %v", err)
	}
	if _, err := client.Write([]byte("0123456789)\r\n")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	lr, err = tk.LiteralReader()
	if err != nil {
		t.Fatalf("LiteralReader again: %v", err)
	}
	if _, err := io.Copy(&out, lr); err != nil || out.String() != "0123456789" {
		t.Fatalf("the literal read again: %q, %v; want it whole", out.String(), err)
	}
	if tok, err := tk.Next(); err != nil || tok.Kind != wire.KindRParen {
		t.Fatalf("after the literal: %v, %v; want ')'", tok, err)
	}
}

// failReadFrom has a ReadFrom that fails at once (as a target that
// splices and meets a write deadline would, from bufio's view).
type failReadFrom struct{ failWriter }

func (failReadFrom) ReadFrom(io.Reader) (int64, error) { return 0, errWriterDead }

// TestLiteralWriteToAfterLostSpliceFails: a literal's reader written to
// a *bufio.Writer that handed its ReadFrom to its target, which failed,
// the tokenizer reading a *net.TCPConn: the target may have spliced and
// lost bytes, so the stream is out of step, and the literal's reader
// copied again (io.Copy, which uses its WriteTo) fails with ErrOutOfStep,
// as its Read does. WriteTo did not look: it relayed what came next as
// the rest of the body.
func TestLiteralWriteToAfterLostSpliceFails(t *testing.T) {
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
	if _, err := lr.(io.WriterTo).WriteTo(bufio.NewWriter(failReadFrom{})); !errors.Is(err, errWriterDead) {
		t.Fatalf("WriteTo: %v; want the target's error", err)
	}
	if err := tk.Broken(); !errors.Is(err, wire.ErrForwardGap) {
		t.Fatalf("after a bufio.Writer's target's ReadFrom failed: Broken() = %v; want ErrForwardGap", err)
	}
	if _, err := client.Write([]byte("0123456789)\r\n")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, lr); !errors.Is(err, wire.ErrOutOfStep) || out.Len() != 0 {
		t.Fatalf("the literal copied again after the loss: %q, %v; want nothing and ErrOutOfStep", out.String(), err)
	}
	// The literal's other readers say so too, as every call does.
	if _, err := tk.LiteralReader(); !errors.Is(err, wire.ErrOutOfStep) {
		t.Errorf("LiteralReader after the loss: %v; want ErrOutOfStep", err)
	}
	if b, err := tk.LiteralBytes(); !errors.Is(err, wire.ErrOutOfStep) {
		t.Errorf("LiteralBytes after the loss: %q, %v; want ErrOutOfStep", b, err)
	}
	if err := tk.RefuseLiteral(); !errors.Is(err, wire.ErrOutOfStep) {
		t.Errorf("RefuseLiteral after the loss: %v; want ErrOutOfStep", err)
	}
}
