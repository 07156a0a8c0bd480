package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestUIDCommandLeavesFetchWithoutUID: a server reports another client's
// flag change as "* 3 FETCH (FLAGS (\Flagged))", without UID, during a UID
// STORE of message 1. An answer to a UID command always carries the UID
// (RFC 9051 section 6.4.9), so the session leaves it to the unsolicited
// stream (OnUnsolicited). It routed it to the UID STORE as a "best guess":
// the change landed in StoreResult.Messages with UID 0 and never reached
// OnUnsolicited. (Dovecot sends the UID, so it cannot show this.) Found by
// the synchronisation audit of 2026-12-04.
func TestUIDCommandLeavesFetchWithoutUID(t *testing.T) {
	var mu sync.Mutex
	var events []*codec.Fetch
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		cmd, err := c.Until("UID STORE")
		if err != nil {
			return err
		}
		c.Lines(`* 3 FETCH (FLAGS (\Flagged))`, `* 1 FETCH (UID 1 FLAGS (\Seen))`, cmd.Tag+" OK done")
		return c.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, &session.Options{OnUnsolicited: func(r codec.Response) {
		if f, ok := r.(*codec.Fetch); ok {
			mu.Lock()
			events = append(events, f)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); srv.Close() })
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.Store(ctx, commands.UIDs(1), commands.AddFlags, []string{`\Seen`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for _, m := range res.Messages {
		if m.UID != 1 {
			t.Errorf("UID STORE 1 result holds seq %d with UID %d: another client's change taken as its answer", m.SeqNum, m.UID)
		}
	}
	got := false
	for _, f := range events {
		got = got || f.Seq == 3
	}
	if !got {
		t.Errorf("the flag change of message 3 never reached OnUnsolicited")
	}
}
