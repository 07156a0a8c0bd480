package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestIdleStopKeepsLaterEvents: a program idles and returns false from
// onEvent at the first event, to go and sync. Another client flags
// messages 1 and 2 in one STORE: Dovecot sends two FETCH responses in one
// batch, the second after onEvent said stop and before the answer to DONE.
// It still goes to onEvent. Idle dropped it, and as a FETCH the IDLE took
// it was neither an OnUnsolicited event nor kept for Responses: the flag
// change was lost. Found by the synchronisation audit of 2026-12-04 (real
// Dovecot).
func TestIdleStopKeepsLaterEvents(t *testing.T) {
	var mu sync.Mutex
	seen := map[uint32]bool{} // sequence numbers of FETCH responses reachable
	note := func(r codec.Response) {
		if f, ok := r.(*codec.Fetch); ok {
			mu.Lock()
			seen[f.Seq] = true
			mu.Unlock()
		}
	}
	idling := newLineSignal("S: + ")
	c := dvClient(t, testserver.Alice, &session.Options{OnUnsolicited: note, Trace: idling})
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 4)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var first codec.Response
	go func() {
		done <- c.Idle(ctx, nil, func(r codec.Response) bool {
			note(r)
			if _, ok := r.(*codec.Fetch); ok {
				first = r
				return false // stop at the first change, to sync
			}
			return true
		})
	}()
	idling.wait(t) // the IDLE is under way: Dovecot sends the STORE's changes to it
	if _, err := other.Store(ctx, commands.UIDs(1, 2), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20 s")
	}
	// What the docs point to for what Idle did not deliver: the session.
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Session().Responses("FETCH") {
		note(r)
	}
	waitEvents(&mu, func() bool { return seen[1] && seen[2] })
	mu.Lock()
	defer mu.Unlock()
	if !seen[1] || !seen[2] {
		t.Fatalf("flag changes reachable for messages %v (first to onEvent: %+v); want 1 and 2", seen, first)
	}
}

// TestIdlePollStopKeepsLaterEvents: the same on a server without IDLE
// (Idle polls with NOOP): onEvent says stop at the first FETCH of a NOOP's
// answer; the rest of that answer (message 2's flag change), which the
// NOOP took, still goes to onEvent. Idle dropped it.
func TestIdlePollStopKeepsLaterEvents(t *testing.T) {
	var mu sync.Mutex
	seen := map[uint32]bool{}
	note := func(r codec.Response) {
		if f, ok := r.(*codec.Fetch); ok {
			mu.Lock()
			seen[f.Seq] = true
			mu.Unlock()
		}
	}
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("NOOP")
		if err != nil {
			return err
		}
		c.Lines(`* 1 FETCH (FLAGS (\Seen))`, `* 2 FETCH (FLAGS (\Flagged))`, cmd.Tag+" OK NOOP completed")
		return c.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, &session.Options{OnUnsolicited: note})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); srv.Close() })
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	err = c.Idle(ctx, nil, func(r codec.Response) bool {
		note(r)
		_, isFetch := r.(*codec.Fetch)
		return !isFetch // stop at the first change, to sync
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Responses("FETCH") {
		note(r)
	}
	waitEvents(&mu, func() bool { return seen[1] && seen[2] })
	mu.Lock()
	defer mu.Unlock()
	if !seen[1] || !seen[2] {
		t.Fatalf("flag changes reachable for messages %v; want 1 and 2", seen)
	}
}
