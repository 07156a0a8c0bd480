package commands_test

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestUIDCommandLeavesFlagChange: a server reports another client's flag
// change as "* 3 FETCH (FLAGS (\Flagged))", without UID, during a UID
// STORE of message 1 (Dovecot and Cyrus do so during a UID FETCH: the
// concurrency audit of 2026-12-04 saw it on both). An answer to a UID
// command always carries the UID (RFC 9051 section 6.4.9), so the session
// leaves a FETCH of FLAGS alone without one to the unsolicited stream
// (OnUnsolicited). It routed it to the UID command as a "best guess": the
// change landed in StoreResult.Messages (or a Fetch's messages) with UID 0
// and never reached OnUnsolicited.
func TestUIDCommandLeavesFlagChange(t *testing.T) {
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
	c := selectedWatching(t, ctx, conn, srv, func(f *codec.Fetch) {
		mu.Lock()
		events = append(events, f)
		mu.Unlock()
	})
	res, err := c.Store(ctx, commands.UIDs(1), commands.AddFlags, []string{`\Seen`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitEvents(&mu, func() bool { return len(events) > 0 })
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

// TestUIDFetchLeavesFlagChange: as TestUIDCommandLeavesFlagChange, during
// a UID FETCH (Dovecot's "* 2 FETCH (FLAGS (\Recent $other))" while UID
// FETCH 5:6 ran): the Fetch yields its two messages, not a third with UID
// 0, and OnUnsolicited gets the change. A UID-less answer that holds what
// was asked (a quirky server) is still taken as the command's.
func TestUIDFetchLeavesFlagChange(t *testing.T) {
	var mu sync.Mutex
	var events []*codec.Fetch
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		c.Lines(`* 5 FETCH (UID 5 RFC822.SIZE 100)`,
			`* 2 FETCH (FLAGS (\Recent $other))`,
			`* 2 FETCH (FLAGS (\Seen) MODSEQ (9))`,
			`* 6 FETCH (RFC822.SIZE 200)`, // no UID: a quirky server's answer
			cmd.Tag+" OK done")
		return c.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := selectedWatching(t, ctx, conn, srv, func(f *codec.Fetch) {
		mu.Lock()
		events = append(events, f)
		mu.Unlock()
	})
	var sizes []int64
	for m, err := range c.Fetch(ctx, commands.UIDRange(5, 6), &commands.FetchItems{Size: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Size == 0 {
			t.Errorf("Fetch yielded seq %d UID %d with no size: another client's flag change taken as an answer", m.SeqNum, m.UID)
			continue
		}
		sizes = append(sizes, m.Size)
	}
	if len(sizes) != 2 || sizes[0] != 100 || sizes[1] != 200 {
		t.Errorf("sizes %v; want [100 200] (the quirky answer without UID too)", sizes)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvents(&mu, func() bool { return len(events) >= 2 })
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0].Seq != 2 || events[1].Seq != 2 {
		t.Errorf("OnUnsolicited got %d FETCHes; want message 2's two flag changes", len(events))
	}
}

// TestUIDFetchLeavesFlagChangeDovecot: the same on real Dovecot, which
// reports another session's flag change of a message outside the set, in
// the middle of a UID FETCH, without its UID: "* 2 FETCH (FLAGS (\Recent
// $other))". FetchAll returned it as a third message with UID 0, and
// OnUnsolicited never saw it (the concurrency audit of 2026-12-04).
func TestUIDFetchLeavesFlagChangeDovecot(t *testing.T) {
	var mu sync.Mutex
	var seqs []uint32
	mb := dvMailbox(t, testserver.Alice, 10)
	c := dvClient(t, testserver.Alice, &session.Options{OnUnsolicited: func(r codec.Response) {
		if f, ok := r.(*codec.Fetch); ok {
			mu.Lock()
			seqs = append(seqs, f.Seq)
			mu.Unlock()
		}
	}})
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{"$other"}, nil); err != nil {
		t.Fatal(err)
	}
	ms, err := c.FetchAll(ctx, commands.UIDRange(5, 6), &commands.FetchItems{Size: true, Envelope: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.UID != 5 && m.UID != 6 {
			t.Errorf("UID FETCH 5:6 yielded seq %d UID %d flags %v", m.SeqNum, m.UID, m.Flags)
		}
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvents(&mu, func() bool { return slices.Contains(seqs, 2) })
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(seqs, 2) {
		t.Errorf("OnUnsolicited got FETCHes of %v; want message 2's flag change", seqs)
	}
}

// selectedWatching opens a Client on a scripted server with the defaults
// but OnUnsolicited, which hands each unsolicited FETCH to onFetch, and
// selects INBOX.
func selectedWatching(t *testing.T, ctx context.Context, conn net.Conn, srv io.Closer, onFetch func(*codec.Fetch)) *commands.Client {
	t.Helper()
	s, err := session.Open(ctx, conn, &session.Options{OnUnsolicited: func(r codec.Response) {
		if f, ok := r.(*codec.Fetch); ok {
			onFetch(f)
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
	return c
}
