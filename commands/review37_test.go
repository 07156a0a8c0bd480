package commands_test

// Tests from a review of typed results in package commands (correctness
// under concurrency, aliasing, early exit and quirky servers), stop 37:
// each failed before its fix.

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"

	"github.com/imapkit/imapkit/commands"
)

// TestReview37GetMetadataInboxChildCase: GetMetadata of "inbox/<child>"
// (INBOX in another case, RFC 9051 section 5.1) on Dovecot, which answers
// "* METADATA INBOX/<child> (...)", its own spelling. GetMetadata compared
// the names as sent, INBOX alone case-insensitively, and dropped the
// entry as another mailbox's: an empty result and no error
// (codec.SameMailbox now).
func TestReview37GetMetadataInboxChildCase(t *testing.T) {
	c := dvClient(t, "alice", nil)
	ctx := dvCtx(t)
	name := "INBOX/zzaudit-meta"
	if err := c.Create(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Delete(dvCtx(t), name) })
	if err := c.SetMetadata(ctx, name, []commands.MetadataEntry{{Name: "/private/comment", Value: []byte("hello")}}); err != nil {
		t.Fatal(err)
	}
	// The server takes inbox/... as INBOX/...: STATUS and MYRIGHTS of the
	// same name work.
	if _, err := c.Status(ctx, "inbox/zzaudit-meta", commands.StatusMessages); err != nil {
		t.Fatal(err)
	}
	es, _, err := c.GetMetadata(ctx, "inbox/zzaudit-meta", []string{"/private/comment"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || string(es[0].Value) != "hello" {
		t.Fatalf(`GetMetadata("inbox/zzaudit-meta") = %+v; want the entry "hello" the server sent`, es)
	}
}

// TestReview37ListStatusInboxCase: LIST RETURN (STATUS) answered with the
// mailbox as "inbox" in its LIST and "INBOX" in its STATUS (INBOX is case
// insensitive, RFC 9051 section 5.1). List matched a STATUS (and a
// MYRIGHTS) to the held mailbox by exact name: INBOX's Status was nil.
func TestReview37ListStatusInboxCase(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 LIST-EXTENDED LIST-STATUS")
		cmd, err := c.Until("LIST")
		if err != nil {
			return err
		}
		if err := c.Lines(`* LIST () "/" inbox`, "* STATUS INBOX (MESSAGES 9)", cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	l, err := c.List(resCtx(t), "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || l[0].Status == nil || l[0].Status.Messages != 9 {
		t.Fatalf("List = %d mailboxes, first %+v; want inbox with Status MESSAGES 9", len(l), l[0])
	}
}

// TestReview37ExpungeVanishedTakenByUIDFetch: with QRESYNC on, Expunge(UID
// 2) run while a UID FETCH is in flight (from the Fetch loop's body, which
// the package allows). The server answers the UID EXPUNGE with a live
// "* VANISHED 2" before the FETCH's tagged OK (legal: RFC 9051 section
// 5.5). The session gave it to the oldest command that wants VANISHED, the
// UID FETCH (which takes only VANISHED (EARLIER)), and Expunge returned an
// empty Vanished though the server expunged UID 2 in answer to it.
func TestReview37ExpungeVanishedTakenByUIDFetch(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ENABLE UIDPLUS CONDSTORE QRESYNC")
		en, err := c.Until("ENABLE")
		if err != nil {
			return err
		}
		if err := c.Lines("* ENABLED QRESYNC", en.Tag+" OK enabled"); err != nil {
			return err
		}
		fetch, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		if err := c.Lines("* 1 FETCH (UID 1 FLAGS ())"); err != nil {
			return err
		}
		exp, err := c.Expect("UID EXPUNGE")
		if err != nil {
			return err
		}
		if err := c.Lines("* VANISHED 2", fetch.Tag+" OK fetch done", exp.Tag+" OK expunge done"); err != nil {
			return err
		}
		return c.Serve()
	})
	ctx := resCtx(t)
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var res *commands.ExpungeResult
	var eerr error
	n := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(1, 3), &commands.FetchItems{Flags: true}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 1 {
			set := commands.UIDs(2)
			res, eerr = c.Expunge(ctx, &set)
		}
		_ = m
	}
	if eerr != nil {
		t.Fatal(eerr)
	}
	if !res.Vanished.Contains(2) {
		t.Fatalf("Expunge(UID 2).Vanished = %v; want 2 (the server's VANISHED answered the UID EXPUNGE)", res.Vanished)
	}
}

// TestReview37MoveCopyUIDTakenByIdlePoll: on a server with MOVE and
// without IDLE, Idle polls with NOOP (whose Want takes every untagged
// response). Move runs on another goroutine while that NOOP is in flight;
// the server sends the MOVE's COPYUID as an untagged OK (RFC 6851 section
// 4.3, as Dovecot does) before the NOOP's tagged OK. Both commands take an
// untagged OK only as a fallback (a Want beyond their rules), and the
// session gave it to the oldest, the NOOP: Move returned a nil
// *CopyResult and no error, and Idle's onEvent got the Move's COPYUID.
func TestReview37MoveCopyUIDTakenByIdlePoll(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 MOVE UIDPLUS")
		noop, err := c.Until("NOOP")
		if err != nil {
			return err
		}
		move, err := c.Expect("UID MOVE")
		if err != nil {
			return err
		}
		if err := c.Lines("* OK [COPYUID 7 1 5] Moved UIDs.", "* 1 EXPUNGE",
			noop.Tag+" OK NOOP done", move.Tag+" OK Move completed"); err != nil {
			return err
		}
		return c.Serve()
	})
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var events []string
	idled := make(chan error, 1)
	go func() {
		idled <- c.Idle(ictx, &commands.IdleOptions{PollInterval: time.Hour}, func(r codec.Response) bool {
			mu.Lock()
			events = append(events, codec.ResponseName(r))
			mu.Unlock()
			return true
		})
	}()
	time.Sleep(50 * time.Millisecond) // the NOOP goes first
	cp, err := c.Move(ctx, commands.UIDs(1), "Archive")
	cancel()
	<-idled
	if err != nil {
		t.Fatal(err)
	}
	if cp == nil || cp.UIDValidity != 7 || !cp.Dst.Contains(5) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("Move(UID 1) = %+v; want COPYUID 7 1 5 (Idle's onEvent got %v)", cp, events)
	}
}

// TestReview37StatusSameMailboxReordered: two goroutines ask STATUS of the
// same mailbox for different items (MESSAGES, then UIDNEXT). The server,
// holding both, answers them in the other order, with each tagged OK
// after its own data: "* STATUS INBOX (UIDNEXT 9)", A2 OK, "* STATUS
// INBOX (MESSAGES 7)", A1 OK. The session gave a STATUS of a mailbox to
// the oldest STATUS command of that mailbox without an answer yet: the
// MESSAGES caller took the UIDNEXT answer (and later its own, merged), and
// the UIDNEXT caller, ended by its OK with nothing, failed with a
// *MissingError. Status's Want now takes only answers with an item it
// asked for.
func TestReview37StatusSameMailboxReordered(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		a, err := c.Until("STATUS")
		if err != nil {
			return err
		}
		b, err := c.Expect("STATUS")
		if err != nil {
			return err
		}
		first, second := a, b
		if !strings.Contains(a.Args, "UIDNEXT") {
			first, second = b, a // answer the UIDNEXT one first
		}
		if err := c.Lines("* STATUS INBOX (UIDNEXT 9)", first.Tag+" OK done",
			"* STATUS INBOX (MESSAGES 7)", second.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	ctx := resCtx(t)
	var wg sync.WaitGroup
	var msgs, next *commands.MailboxStatus
	var e1, e2 error
	wg.Add(2)
	go func() {
		defer wg.Done()
		msgs, e1 = c.Status(ctx, "INBOX", commands.StatusMessages)
	}()
	time.Sleep(50 * time.Millisecond) // the MESSAGES one goes first
	go func() {
		defer wg.Done()
		next, e2 = c.Status(ctx, "INBOX", commands.StatusUIDNext)
	}()
	wg.Wait()
	if e1 != nil || e2 != nil {
		t.Fatalf("Status(MESSAGES) = %+v, %v; Status(UIDNEXT) = %+v, %v; want 7 and 9, no error", msgs, e1, next, e2)
	}
	if !msgs.Has(commands.StatusMessages) || msgs.Messages != 7 || !next.Has(commands.StatusUIDNext) || next.UIDNext != 9 {
		t.Fatalf("Status(MESSAGES) = items %v messages %d; Status(UIDNEXT) = items %v uidnext %d; want 7 and 9",
			msgs.Items, msgs.Messages, next.Items, next.UIDNext)
	}
}

// TestReview37UIDFetchStreamedBodyBeforeUID: two goroutines fetch BODY[]
// of UID 1 and UID 2 (sets apart: pipelined). The server puts each
// message's UID after its body (any order of FETCH items is legal, RFC
// 9051 section 7.5.2) and interleaves the answers. A body over the
// tokenizer's string limit is streamed, routed before the UID is read:
// the session gave it to the oldest UID FETCH in flight, and the rest of
// the response (with the UID) by UID to the other: the first Fetch
// yielded a second message, UID 0 with UID 2's body, and the second
// yielded UID 2 without its body. Such a body is now kept in the FETCH,
// which goes by its UID.
func TestReview37UIDFetchStreamedBodyBeforeUID(t *testing.T) {
	body := strings.Repeat("x", 100<<10)
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		a, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		b, err := c.Expect("UID FETCH")
		if err != nil {
			return err
		}
		if strings.HasPrefix(a.Args, "2 ") {
			a, b = b, a
		}
		for _, uid := range []int{1, 2} {
			if err := c.WriteString(fmt.Sprintf("* %d FETCH (BODY[] {%d}\r\n%s UID %d)\r\n", uid, len(body), body, uid)); err != nil {
				return err
			}
		}
		if err := c.Lines(a.Tag+" OK done", b.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	got := make([][]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m, err := range c.Fetch(ctx, commands.UIDs(uint32(i+1)), &commands.FetchItems{Sections: []commands.FetchSection{commands.WholeMessage}}) {
				if err != nil {
					errs[i] = err
					return
				}
				var n int64
				for {
					s, err := m.NextSection()
					if err != nil {
						break
					}
					k, _ := io.Copy(io.Discard, s)
					n += k
				}
				got[i] = append(got[i], fmt.Sprintf("UID %d with %d body bytes", m.UID, n))
			}
		}()
		time.Sleep(50 * time.Millisecond) // UID 1's goes first
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || fmt.Sprint(got) != fmt.Sprintf("[[UID 1 with %[1]d body bytes] [UID 2 with %[1]d body bytes]]", len(body)) {
		t.Fatalf("Fetch(UID 1) yielded %q (%v), Fetch(UID 2) yielded %q (%v); want each its own message, UID and body", got[0], errs[0], got[1], errs[1])
	}
}
