package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/session"
)

// pcCtx is a context of the caller's own type: context.AfterFunc runs a
// goroutine for each registration on it until it ends, so a registration
// left behind shows as a goroutine.
type pcCtx struct {
	context.Context
	done chan struct{}
}

func (c *pcCtx) Done() <-chan struct{} { return c.done }
func (c *pcCtx) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// TestPullContextReleased: the context a pulled command's Next was called
// with is released once the pulling is over: by Wait after a loop that
// stopped early, and by the session's end. A registration left behind
// kept the Pending and its whole Session alive until the caller's
// context ended (100 of 100 left, and 50 of 50 after Close). Found by an
// audit in stop 32.
func TestPullContextReleased(t *testing.T) {
	ctx := &pcCtx{Context: context.Background(), done: make(chan struct{})}
	defer close(ctx.done)
	before := runtime.NumGoroutine()
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(w, "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n"+tag+" OK done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	for i := 0; i < 40; i++ {
		p, err := s.Start(ctx, pullUIDFetch("(UID)"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Next(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil { // the rest is queued, p ends
			t.Fatal(err)
		}
		<-p.Done()
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	for i := 0; i < 20; i++ {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			readLine(r)
			io.WriteString(w, "* 1 FETCH (UID 1)\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		p, err := s.Start(ctx, pullUIDFetch("(UID)"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Next(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := p.Next(ctx); !errors.Is(err, session.ErrClosed) {
			t.Fatal(err)
		}
	}
	// The sessions' goroutines end after Close returns: wait for them, up
	// to leakcheck.Hang.
	leakcheck.Until(leakcheck.Hang, func() bool { return runtime.NumGoroutine()-before <= 8 })
	if d := runtime.NumGoroutine() - before; d > 8 {
		t.Errorf("%d goroutines left by 60 pulled commands whose pulling is over", d)
	}
}
