package session_test

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestReview39VWantPanicInNextDeadlocks: a Command.Want that panics. Want is
// called under the session's mu (targetLocked, from deliver), on whatever
// goroutine routes: here the caller of Next, which drives the reading
// coroutine. 1804c98's driveFor recovers the panic and calls s.abort,
// which locks mu, still held by the goroutine that panicked inside
// readOne: the caller of Next deadlocks (it never gets the panic back),
// and every later use of the session (Close included) blocks on mu.
// Before 1804c98 the panic reached the caller (Next's deferred Unlock
// released the mu held). Whatever the fix, Next must come back (with the
// panic) and Close must return.
func TestReview39VWantPanicInNextDeadlocks(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		// The caller waits in Next first: the first FETCH is lent to
		// it, and from then on it drives the reading coroutine.
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "* 1 FETCH (UID 10)\r\n")
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "* 2 FETCH (UID 20)\r\n")
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "A1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	// No t.Cleanup(s.Close): it would hang the test binary.
	s, err := session.Open(ctx20(t), conn, &session.Options{TagPrefix: "A"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := pullUIDFetch("(UID)")
	cmd.Want = func(r codec.Response) bool {
		if f, ok := r.(*codec.Fetch); ok && f.Seq == 2 {
			panic("zz: Want panics")
		}
		return true
	}
	p, err := s.Start(ctx20(t), cmd)
	if err != nil {
		t.Fatal(err)
	}
	back := make(chan any, 1)
	go func() {
		defer func() { back <- recover() }()
		for {
			if _, err := p.Next(context.Background()); err != nil {
				return
			}
		}
	}()
	select {
	case v := <-back:
		t.Logf("Next came back: %v", v)
	case <-time.After(5 * time.Second):
		t.Fatal("Next never came back after Command.Want panicked: the session's mu is held by the recovery (deadlock)")
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs after Command.Want panicked in Next")
	}
}
