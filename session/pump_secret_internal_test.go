package session

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestPumpBufferZeroedAfterSecret: a literal body of the caller's that
// may block (not a *bytes.Reader, *strings.Reader or *bytes.Buffer handed
// as it is) is read, when the context can end, on a goroutine into a
// 16 KiB buffer of pumpBuffers (ctxbody.go). That buffer went back to the
// pool holding the body's last bytes, a Secret command's included, where
// the write buffers it went on to are zeroed (giveBack; found by review).
// It is now zeroed as it goes back when the command is secret, and left
// as it is otherwise (no clear for every body). Defaults; a bubble.
func TestPumpBufferZeroedAfterSecret(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const secretBody = "s3cret-sasl-blob-in-a-literal-0123456789"
		var (
			mu   sync.Mutex
			seen []bool // per buffer given back: does it hold the body?
		)
		testHookPumpPut = func(buf []byte) {
			mu.Lock()
			seen = append(seen, bytes.Contains(buf, []byte(secretBody)))
			mu.Unlock()
		}
		defer func() { testHookPumpPut = nil }()
		s := pumpTestSession(t)
		ctx, cancel := context.WithCancel(context.Background()) // can end: the body is pumped
		defer cancel()
		for _, secret := range []bool{true, false} {
			cmd := &Command{Name: "XBLOB", Secret: secret, Args: func(e *wire.Encoder) {
				body := io.MultiReader(strings.NewReader(secretBody)) // may block, for all ctxBodies knows
				e.SP().LiteralReader(int64(len(secretBody)), body, false)
			}}
			if _, err := s.Run(ctx, cmd); err != nil {
				t.Fatalf("secret %v: %v", secret, err)
			}
			synctest.Wait() // the pump goroutine has given its buffer back
			mu.Lock()
			got := seen
			seen = nil
			mu.Unlock()
			switch {
			case len(got) != 1:
				t.Fatalf("secret %v: %d pump buffers given back, want 1", secret, len(got))
			case secret && got[0]:
				t.Error("a pump buffer went back to its pool holding a Secret command's literal body")
			case !secret && !got[0]:
				t.Error("a pump buffer of a command without a secret was cleared (or the hook saw another buffer)")
			}
		}
	})
}

// pumpTestSession opens a session, with the defaults, on a server in the
// calling bubble that answers every command OK, a LITERAL+ body skipped.
func pumpTestSession(t *testing.T) *Session { return okServerSession(t, "") }

// okServerSession is pumpTestSession with after (lines with their CR
// LF) sent after each tagged OK.
func okServerSession(t *testing.T, after string) *Session {
	c, srv := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer srv.Close()
		io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")
		r := bufio.NewReader(srv)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if i := strings.LastIndexByte(line, '{'); i >= 0 && strings.HasSuffix(line, "+}\r\n") {
				n, _ := strconv.ParseInt(line[i+1:len(line)-4], 10, 64)
				if _, err := io.CopyN(io.Discard, r, n); err != nil {
					return
				}
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
			tag, _, _ := strings.Cut(line, " ")
			io.WriteString(srv, tag+" OK done\r\n"+after)
		}
	}()
	s, err := Open(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); <-srvDone })
	return s
}

// secretPanicReader copies its secret into the buffer it is given, then
// panics: the pump's buffer holds a secret body's bytes as the Read
// panics.
type secretPanicReader struct{ secret string }

func (r secretPanicReader) Read(p []byte) (int, error) {
	copy(p, r.secret)
	panic("secretPanicReader panics")
}

// TestPumpBufferZeroedAfterPanic: a pump buffer whose Read panicked is not
// given back to pumpBuffers (the Read may still use it), and was let go to
// the collector holding what the Read had put in it: a Secret command's
// body. It is now zeroed first for a secret command (dropPumpBuffer), and
// left as it is otherwise. Defaults; a bubble; the panic reaches the
// caller, as before.
func TestPumpBufferZeroedAfterPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const secretBody = "s3cret-sasl-blob-before-a-panic-0123456789"
		var (
			mu   sync.Mutex
			seen []bool // per buffer dropped: does it hold the body?
		)
		testHookPumpDrop = func(buf []byte) {
			mu.Lock()
			seen = append(seen, bytes.Contains(buf, []byte(secretBody)))
			mu.Unlock()
		}
		defer func() { testHookPumpDrop = nil }()
		for _, secret := range []bool{true, false} {
			s := pumpTestSession(t)
			ctx, cancel := context.WithCancel(context.Background()) // can end: the body is pumped
			cmd := &Command{Name: "XBLOB", Secret: secret, Args: func(e *wire.Encoder) {
				e.SP().LiteralReader(int64(len(secretBody)), secretPanicReader{secretBody}, false)
			}}
			v := func() (v any) {
				defer func() { v = recover() }()
				s.Run(ctx, cmd)
				return nil
			}()
			cancel()
			if v == nil {
				t.Fatalf("secret %v: the body's panic did not reach the caller", secret)
			}
			synctest.Wait()
			mu.Lock()
			got := seen
			seen = nil
			mu.Unlock()
			switch {
			case len(got) != 1:
				t.Fatalf("secret %v: %d pump buffers dropped after the panic, want 1", secret, len(got))
			case secret && got[0]:
				t.Error("a pump buffer whose Read panicked went to the collector holding a Secret command's literal body")
			case !secret && !got[0]:
				t.Error("a pump buffer of a command without a secret was cleared (or the hook saw another buffer)")
			}
		}
	})
}
