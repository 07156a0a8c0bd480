package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestStatusRefusedItem replays STATUS answered BAD for one item: Status
// asks again without it and says which items it dropped, or returns a
// *StatusItemError when nothing is left to ask.
func TestStatusRefusedItem(t *testing.T) {
	c, ctx := scripted(t, "status/refused")
	st, err := c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext|commands.StatusAppendLimit)
	if err != nil || st.Messages != 3 || st.UIDNext != 9 || st.Refused != commands.StatusAppendLimit || st.Has(commands.StatusAppendLimit) {
		t.Fatalf("STATUS without APPENDLIMIT: %v %+v", err, st)
	}
	st, err = c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusSize|commands.StatusAppendLimit)
	if err != nil || st.Messages != 3 || st.Refused != commands.StatusAppendLimit|commands.StatusSize {
		t.Fatalf("STATUS without APPENDLIMIT and SIZE: %v %+v", err, st)
	}
	_, err = c.Status(ctx, "INBOX", commands.StatusAppendLimit)
	var ie *commands.StatusItemError
	if !errors.As(err, &ie) || ie.Item != commands.StatusAppendLimit || ie.Name != "APPENDLIMIT" || !errors.Is(err, session.ErrBad) {
		t.Fatalf("STATUS APPENDLIMIT alone: %v", err)
	}
	_, err = c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUnseen)
	if errors.As(err, &ie) || !errors.Is(err, session.ErrBad) {
		t.Fatalf("STATUS BAD Syntax error: %v", err)
	}
	_, err = c.Status(ctx, "Nope", commands.StatusMessages|commands.StatusAppendLimit)
	if !errors.Is(err, session.ErrNo) {
		t.Fatalf("STATUS of a missing mailbox: %v", err)
	}
}

// TestStatusAppendLimitCyrus asks Cyrus 3.6 for APPENDLIMIT, which it
// advertises (APPENDLIMIT=n) but refuses in STATUS, and for DELETED,
// which it does not know.
func TestStatusAppendLimitCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	alice := cyClient(t, addr, "alice", "pass")
	if _, err := alice.AppendBytes(ctx, "INBOX", []byte("Subject: x\r\n\r\nhello\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	st, err := alice.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext|commands.StatusAppendLimit)
	if err != nil || st.Messages != 1 || st.UIDNext != 2 || st.Refused != commands.StatusAppendLimit ||
		!st.Has(commands.StatusAppendLimit) || st.AppendLimit != 4294967295 {
		t.Fatalf("STATUS (MESSAGES UIDNEXT APPENDLIMIT): %v %+v", err, st)
	}
	st, err = alice.Status(ctx, "INBOX", commands.StatusAppendLimit)
	if err != nil || st.AppendLimit != 4294967295 || st.Messages != 1 {
		t.Fatalf("STATUS (APPENDLIMIT): %v %+v", err, st)
	}
	if _, err := alice.Status(ctx, "nosuch", commands.StatusAppendLimit); !errors.Is(err, session.ErrNo) {
		t.Fatalf("STATUS (APPENDLIMIT) of a missing mailbox: %v", err)
	}
	st, err = alice.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusDeleted|commands.StatusAppendLimit)
	if err != nil || st.Messages != 1 || st.Refused != commands.StatusDeleted|commands.StatusAppendLimit {
		t.Fatalf("STATUS (MESSAGES DELETED APPENDLIMIT): %v %+v", err, st)
	}
	_, err = alice.Status(ctx, "INBOX", commands.StatusDeleted)
	var ie *commands.StatusItemError
	if !errors.As(err, &ie) || ie.Item != commands.StatusDeleted || !errors.Is(err, session.ErrBad) {
		t.Fatalf("STATUS (DELETED): %v", err)
	}
}

// TestStatusSameMailboxReordered: two goroutines ask STATUS of the
// same mailbox for different items (MESSAGES, then UIDNEXT). The server,
// holding both, answers them in the other order, with each tagged OK
// after its own data: "* STATUS INBOX (UIDNEXT 9)", A2 OK, "* STATUS
// INBOX (MESSAGES 7)", A1 OK. The session gave a STATUS of a mailbox to
// the oldest STATUS command of that mailbox without an answer yet: the
// MESSAGES caller took the UIDNEXT answer (and later its own, merged), and
// the UIDNEXT caller, ended by its OK with nothing, failed with a
// *MissingError. Status's Want now takes only answers with an item it
// asked for.
func TestStatusSameMailboxReordered(t *testing.T) {
	firstIn := make(chan struct{}) // the server has read the first STATUS
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		a, err := c.Until("STATUS")
		if err != nil {
			return err
		}
		close(firstIn)
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
	// The MESSAGES one goes first: the UIDNEXT one starts once the server
	// has read it. (A 50 ms pause stood in for that: on a loaded machine
	// the UIDNEXT one could go first, and the server's reordered answer
	// then came in the order asked, the fault not met.)
	select {
	case <-firstIn:
	case <-time.After(hangBound):
		t.Fatal("the server never read the first STATUS")
	}
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

// TestStatusInboxDotOtherMailbox: on a server whose delimiter is
// "/", "inbox.x" and "INBOX.x" are two mailboxes (Cyrus 3.6 keeps both
// apart, see TestCyrusInboxDotIsAnotherMailbox). A NOTIFY STATUS
// event for INBOX.x that comes after the answer to STATUS inbox.x and
// before its OK: with codec.SameMailbox, which takes "." for a delimiter
// whatever the server's, the session gave the other mailbox's STATUS to
// the command, which merged it over its own answer (99 instead of 1). The
// session routes STATUS by exact name again (INBOX alone in any case).
func TestStatusInboxDotOtherMailbox(t *testing.T) {
	c := hostileClientOpts(t, nil, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 NOTIFY")
		cmd, err := c.Until("STATUS")
		if err != nil {
			return err
		}
		if err := c.Lines(`* STATUS inbox.x (MESSAGES 1)`, `* STATUS INBOX.x (MESSAGES 99)`, cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	st, err := c.Status(resCtx(t), "inbox.x", commands.StatusMessages)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 1 {
		t.Fatalf("Status(inbox.x).Messages = %d; want 1 (INBOX.x's 99 is another mailbox's, with delimiter /)", st.Messages)
	}
}

// TestCyrusInboxDotIsAnotherMailbox: on Cyrus 3.6 (delimiter
// "/"), "INBOX.zzrev" and "inbox.zzrev" are two mailboxes (one message in
// one, none in the other), which codec.SameMailbox calls the same: the
// fact behind the test above, kept so that a Cyrus that changes it is
// noticed.
func TestCyrusInboxDotIsAnotherMailbox(t *testing.T) {
	_, c := cyAlice(t)
	ctx := dvCtx(t)
	for _, n := range []string{"INBOX.zzrev", "inbox.zzrev"} {
		if err := c.Create(ctx, n, nil); err != nil {
			t.Logf("create %s: %v", n, err)
		}
		t.Cleanup(func() { c.Delete(dvCtx(t), n) })
	}
	if _, err := c.Append(ctx, "inbox.zzrev", strings.NewReader("Subject: x\r\n\r\nx\r\n"), 17, nil); err != nil {
		t.Log(err)
	}
	a, err := c.Status(ctx, "INBOX.zzrev", commands.StatusMessages)
	t.Logf("INBOX.zzrev %+v %v", a, err)
	b, err := c.Status(ctx, "inbox.zzrev", commands.StatusMessages)
	t.Logf("inbox.zzrev %+v %v", b, err)
	l, _ := c.List(ctx, "*", nil)
	var names []string
	for _, m := range l {
		names = append(names, m.Name+" delim "+m.Delim)
	}
	ns, _ := c.Namespace(ctx)
	t.Logf("LIST: %v; NS %+v", names, ns)
	if a == nil || b == nil || a.Messages == b.Messages {
		t.Fatalf("one mailbox")
	}
}

// TestStatusUIDValidityZero: servers do send UIDVALIDITY 0
// (WinWebMail 4.4, SmarterMail 13, Apache James before JAMES-3074) and
// UIDNEXT 0 (node-imap #549). 0f0d470 made a STATUS answer holding either
// a *codec.DecodeError, so Status failed, losing MESSAGES and the rest. The
// 0 item is now taken as not sent: Has false, its value 0 (unknown), the
// rest of the answer kept, the session in step.
func TestStatusUIDValidityZero(t *testing.T) {
	for _, c := range []struct {
		line          string
		zero          commands.StatusItem
		uidNext, uidV uint32
	}{
		{"* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 0)", commands.StatusUIDValidity, 4, 0},
		{"* STATUS INBOX (MESSAGES 3 UIDNEXT 0 UIDVALIDITY 9)", commands.StatusUIDNext, 0, 9},
	} {
		t.Run(c.line, func(t *testing.T) {
			cl := hostileClient(t, fakeServer{caps: "IMAP4rev1", on: handlers{"STATUS": answer(c.line)}}.serve)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := cl.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext|commands.StatusUIDValidity)
			if err != nil {
				t.Fatalf("Status: %v; want MESSAGES 3 (the 0 item unknown)", err)
			}
			if st.Messages != 3 || st.UIDNext != c.uidNext || st.UIDValidity != c.uidV {
				t.Errorf("Messages %d UIDNext %d UIDValidity %d; want 3 %d %d", st.Messages, st.UIDNext, st.UIDValidity, c.uidNext, c.uidV)
			}
			if st.Has(c.zero) || !st.Has(commands.StatusMessages) {
				t.Errorf("Items %#x; want MESSAGES, not the item sent as 0 (%#x)", st.Items, c.zero)
			}
			if err := cl.Noop(ctx); err != nil {
				t.Fatalf("NOOP after: %v", err)
			}
		})
	}
}

// TestStatusNameAsGiven: MailboxStatus.Name of Status is the name the
// caller gave. In UTF-8 mode names are kept as sent, and a server that
// still writes them in modified UTF-7 answers the STATUS of "aé" with
// "a&AOk-" (the session routes it by its decoded name): Status returned
// "a&AOk-", a name the caller never used, which in UTF-8 mode is another
// mailbox's. Without UTF-8 mode, "inbox" answered "INBOX" is "inbox".
func TestStatusNameAsGiven(t *testing.T) {
	t.Run("UTF8=ACCEPT", func(t *testing.T) {
		c, ctx := scripted(t, "utf8/status_answered_utf7")
		if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"aé", "R&-D"} {
			st, err := c.Status(ctx, name, commands.StatusMessages)
			if err != nil || st.Name != name || st.Messages != uint32(i+1) {
				t.Errorf("Status(%q) in UTF-8 mode: %v %+v; want Name %q, MESSAGES %d", name, err, st, name, i+1)
			}
		}
	})
	t.Run("IMAP4rev1", func(t *testing.T) {
		c, ctx := scripted(t, "status/name_as_given")
		for i, name := range []string{"inbox", "aé"} {
			st, err := c.Status(ctx, name, commands.StatusMessages)
			if err != nil || st.Name != name || st.Messages != uint32(i+3) {
				t.Errorf("Status(%q): %v %+v; want Name %q, MESSAGES %d", name, err, st, name, i+3)
			}
		}
	})
}
