package commands_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview42CAStoreSeqSentAfterQueuedExpunge: a Store by sequence number is
// sent after an EXPUNGE that the session read while the Store waited for
// its turn, and acts on another message.
//
// A Fetch loop by sequence numbers (FETCH 1:*); at its first message
// another goroutine starts a NOOP, which waits for the FETCH to end (it
// may cause EXPUNGE, RFC 9051 5.5). Then the loop body calls
// Store(SeqNums(3), +\Flagged): at that call the session has read no
// EXPUNGE (Exists 5, Renumbered unchanged), so 3 names message 3. The
// Store waits for the FETCH too (overlapping sets), and the NOOP, which
// came first, goes first: the server answers it with "* 1 EXPUNGE"
// (another client expunged message 1), and the session then sends
// "STORE 3": the message that was number 4 when Store was called is
// flagged, Store returns nil. With \Deleted and an EXPUNGE after, the
// wrong message is lost. A command split in parts checks this
// (splitRun.command: Command.CheckRenumbered, "a part that waited behind
// another goroutine's NOOP went out after the NOOP's EXPUNGE"); a single
// command on sequence numbers does not: it should be refused
// (ErrRenumbered) or sent before the NOOP.
func TestReview42CAStoreSeqSentAfterQueuedExpunge(t *testing.T) {
	var mu sync.Mutex
	var order []string
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1", each: func(cmd *hostile.Command) {
		mu.Lock()
		order = append(order, cmd.Name+" "+cmd.Args)
		mu.Unlock()
	}, on: handlers{
		"SELECT": answer("* 5 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 6] x"),
		"FETCH": func(hc *hostile.Conn, cmd *hostile.Command) (err error) {
			for i := 1; i <= 5 && err == nil; i++ {
				body := fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i)
				err = hc.WriteString(fmt.Sprintf("* %d FETCH (UID %d FLAGS () BODY[] {%d}\r\n%s)\r\n", i, i, len(body), body))
				if err == nil {
					err = hc.Sleep(150 * time.Millisecond)
				}
			}
			if err == nil {
				err = hc.Line(cmd.Tag + " OK done")
			}
			return err
		},
		// Another client expunged message 1.
		"NOOP":  answer("* 1 EXPUNGE"),
		"STORE": answer(),
	}}.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	noop := make(chan error, 1)
	var storeErr error
	var countAtCall uint32
	var renumberedBefore bool
	first := true
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Flags: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		if !first {
			continue
		}
		first = false
		_ = m
		mark := c.Session().Renumbered()
		go func() { noop <- c.Noop(ctx) }()
		time.Sleep(50 * time.Millisecond) // the NOOP waits for the FETCH
		countAtCall, _ = c.Exists()
		renumberedBefore = c.Session().Renumbered() != mark
		_, storeErr = c.Store(ctx, commands.SeqNums(3), commands.AddFlags, []string{`\Flagged`}, nil)
	}
	if err := <-noop; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("commands: %q; Store: %v; count at the call %d", order, storeErr, countAtCall)
	if renumberedBefore {
		t.Fatal("the EXPUNGE was read before the Store call: no case")
	}
	noopAt, storeAt := -1, -1
	for i, l := range order {
		switch {
		case strings.HasPrefix(l, "NOOP"):
			noopAt = i
		case strings.HasPrefix(l, "STORE 3 "):
			storeAt = i
		}
	}
	if storeErr == nil && storeAt > noopAt && noopAt >= 0 {
		t.Errorf("Store(SeqNums(3)), called when message 3 was message 3 (count %d, no EXPUNGE read), was sent as %q after the NOOP whose answer expunged message 1: it flagged the message that was number 4", countAtCall, order[storeAt])
	}
}

// TestReview42CAStoreSeqAfterReadExpungeSent: the check of
// TestReview42CAStoreSeqSentAfterQueuedExpunge takes the count at the
// call. An EXPUNGE the session read before the call (numbers worked out
// after it are current) does not refuse a Store, Copy, Fetch or Search by
// sequence numbers.
func TestReview42CAStoreSeqAfterReadExpungeSent(t *testing.T) {
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1", on: handlers{
		"SELECT": answer("* 5 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 6] x"),
		"NOOP":   answer("* 1 EXPUNGE"),
		"FETCH":  answer("* 3 FETCH (UID 4 FLAGS ())"),
		"SEARCH": answer("* SEARCH 3"),
	}}.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil { // reads "* 1 EXPUNGE"
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.SeqNums(3), commands.AddFlags, []string{`\Flagged`}, nil); err != nil {
		t.Fatalf("Store after an EXPUNGE read before the call: %v", err)
	}
	if _, err := c.Copy(ctx, commands.SeqNums(3), "Archive"); err != nil {
		t.Fatalf("Copy after an EXPUNGE read before the call: %v", err)
	}
	for _, err := range c.Fetch(ctx, commands.SeqNums(3), &commands.FetchItems{UID: true, Flags: true}) {
		if err != nil {
			t.Fatalf("Fetch after an EXPUNGE read before the call: %v", err)
		}
	}
	set := commands.SeqNums(3)
	if _, err := c.Search(ctx, &commands.Criteria{Set: &set}, nil); err != nil {
		t.Fatalf("Search after an EXPUNGE read before the call: %v", err)
	}
}
