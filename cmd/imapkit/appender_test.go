package main

import (
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/transport"
)

// settleBlocked reports whether a goroutine is blocked in
// appender.settle, waiting for a Read left running.
func settleBlocked() bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "(*appender).settle(") && strings.Contains(g, "[chan receive") {
			return true
		}
	}
	return false
}

// stuckReader is a message whose first Read blocks until release is
// closed (a file on a stalled mount, a source body not arriving): entered
// is closed when that Read starts; returned and closed are set when it
// has returned and when it was closed.
type stuckReader struct {
	entered, release chan struct{}
	once             sync.Once
	returned, closed atomic.Bool
}

func (r *stuckReader) Read(p []byte) (int, error) {
	r.once.Do(func() { close(r.entered) })
	<-r.release
	r.returned.Store(true)
	return 0, io.ErrUnexpectedEOF
}

func (r *stuckReader) Close() error {
	r.closed.Store(true)
	return nil
}

// TestAppenderSettle: settle, which copy calls before it reads
// its source session again, had no test of its own. An APPEND whose
// context ends while a Read of its message blocks returns after the
// write's grace with that Read left running (the session leaves it on a
// goroutine of its own, as net/http leaves a request body's); settle must
// return only once that Read has returned and its reader was closed
// (heldReader). With settle a no-op it returns at once, the Read still
// blocked and the reader open.
func TestAppenderSettle(t *testing.T) {
	addr := serveTCP(t, func(c net.Conn) {
		defer c.Close()
		io.WriteString(c, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] fake destination\r\n")
		io.Copy(io.Discard, c) // the APPEND's line; its literal never comes
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := transport.Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(ctx, nc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	r := &stuckReader{entered: make(chan struct{}), release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(r.release)
		}
	}
	defer release()
	a := newAppender(c, "INBOX", true)
	actx, acancel := context.WithCancel(ctx)
	go func() {
		<-r.entered
		acancel()
	}()
	if _, err := a.send(actx, []appendItem{{r: r, size: 10}}); err == nil {
		t.Fatal("send: nil error; want the context's end")
	}
	if len(a.busy) != 1 || r.returned.Load() {
		t.Fatalf("after send: %d Reads left running, the Read returned: %v; want 1, false (the test's premise)", len(a.busy), r.returned.Load())
	}
	type result struct{ returned, closed bool }
	settled := make(chan result, 1)
	go func() {
		a.settle()
		settled <- result{r.returned.Load(), r.closed.Load()}
	}()
	// Released once settle is seen waiting (blocked in settle), or has
	// returned (wrongly) before: not after a fixed pause, which a slow
	// settle could outlast and so return rightly only thanks to the
	// release.
	var got result
	for deadline := time.Now().Add(time.Minute); len(settled) == 0 && !settleBlocked(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("settle neither returned nor blocked within a minute")
		}
	}
	select {
	case got = <-settled:
	default:
		release()
		got = <-settled
	}
	if !got.returned || !got.closed {
		t.Errorf("settle returned with the Read returned %v, the reader closed %v; want both (it waits for the Read left running)", got.returned, got.closed)
	}
	if len(a.busy) != 0 {
		t.Errorf("after settle: %d Reads still listed", len(a.busy))
	}
}
