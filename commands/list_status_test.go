package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestListStatusRefusedItem replays LIST-STATUS answered BAD for one
// STATUS item (testdata/list/status_refused.txt): List asks again without
// it and reports it as Status does.
func TestListStatusRefusedItem(t *testing.T) {
	c, ctx := scripted(t, "list/status_refused")
	l, err := c.List(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages | commands.StatusDeleted | commands.StatusAppendLimit})
	if err != nil || len(l) != 3 {
		t.Fatalf("LIST-STATUS without DELETED and APPENDLIMIT: %v, %d mailboxes", err, len(l))
	}
	for i, want := range []struct {
		name     string
		messages uint32
	}{{"INBOX", 3}, {"Archive", 0}, {"Archive/2024", 7}} {
		m := l[i]
		if m.Name != want.name {
			t.Fatalf("mailbox %d: %q; want %q", i, m.Name, want.name)
		}
		if want.messages == 0 {
			if m.Status != nil {
				t.Fatalf("%s (\\Noselect) has a STATUS: %+v", m.Name, m.Status)
			}
			continue
		}
		st := m.Status
		if st == nil || st.Messages != want.messages || st.Refused != commands.StatusDeleted|commands.StatusAppendLimit ||
			!st.Has(commands.StatusAppendLimit) || st.AppendLimit != 1000 || st.Has(commands.StatusDeleted) {
			t.Fatalf("%s: STATUS %+v; want MESSAGES %d, DELETED and APPENDLIMIT refused, APPENDLIMIT 1000 from the capability", m.Name, st, want.messages)
		}
	}

	l, err = c.List(ctx, "INBOX", &commands.ListOptions{ReturnStatus: commands.StatusAppendLimit})
	if err != nil || len(l) != 1 || l[0].Status == nil || l[0].Status.AppendLimit != 1000 ||
		l[0].Status.Refused != commands.StatusAppendLimit || l[0].Status.Messages != 3 {
		t.Fatalf("LIST-STATUS APPENDLIMIT alone: %v %+v", err, l)
	}

	_, err = c.List(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusDeleted})
	var ie *commands.StatusItemError
	if !errors.As(err, &ie) || ie.Item != commands.StatusDeleted || ie.Name != "DELETED" || !errors.Is(err, session.ErrBad) {
		t.Fatalf("LIST-STATUS DELETED alone: %v", err)
	}
	_, err = c.List(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages | commands.StatusUnseen})
	if errors.As(err, &ie) || !errors.Is(err, session.ErrBad) {
		t.Fatalf("LIST-STATUS BAD Syntax error: %v", err)
	}

	var names []string
	var last error
	for m, err := range c.ListIter(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages | commands.StatusAppendLimit}) {
		if err != nil {
			last = err
			continue
		}
		names = append(names, m.Name)
		if m.Status != nil && m.Status.Refused != 0 {
			t.Fatalf("%s: Refused %v with nothing refused", m.Name, m.Status.Refused)
		}
	}
	if len(names) != 3 || !errors.Is(last, session.ErrBad) || errors.As(last, &ie) {
		t.Fatalf("LIST-STATUS refused after mailboxes were handed out: %v, then %v; want a, b, c and the BAD", names, last)
	}

	if _, err := c.List(ctx, "*", nil); !errors.Is(err, session.ErrBad) {
		t.Fatalf("LIST without STATUS: %v", err)
	}
}

// TestListStatusCyrus: Cyrus 3.6 refuses a whole LIST-STATUS for
// APPENDLIMIT (which it advertises) or DELETED; List asks again without
// them and the counts agree with STATUS.
func TestListStatusCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	alice := cyClient(t, addr, "alice", "pass")
	if err := alice.Create(ctx, "Work", nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := alice.AppendBytes(ctx, "Work", []byte("Subject: x\r\n\r\nhello\r\n"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alice.AppendBytes(ctx, "INBOX", []byte("Subject: y\r\n\r\nhello\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	capLimit := uint64(4294967295) // Cyrus's APPENDLIMIT=n
	for _, tc := range []struct {
		ask, refused commands.StatusItem
	}{
		{commands.StatusMessages | commands.StatusUIDNext | commands.StatusAppendLimit, commands.StatusAppendLimit},
		{commands.StatusMessages | commands.StatusDeleted | commands.StatusAppendLimit | commands.StatusSize, commands.StatusDeleted | commands.StatusAppendLimit},
		{commands.StatusAppendLimit, commands.StatusAppendLimit},
	} {
		l, err := alice.List(ctx, "*", &commands.ListOptions{ReturnStatus: tc.ask})
		if err != nil {
			t.Fatalf("LIST-STATUS %v: %v", tc.ask, err)
		}
		got := map[string]*commands.MailboxStatus{}
		for _, m := range l {
			got[m.Name] = m.Status
		}
		for name, want := range map[string]uint32{"INBOX": 1, "Work": 2} {
			st := got[name]
			if st == nil {
				t.Fatalf("LIST-STATUS %v: no STATUS for %s in %d mailboxes", tc.ask, name, len(l))
			}
			if st.Refused != tc.refused || st.Messages != want || !st.Has(commands.StatusAppendLimit) || st.AppendLimit != capLimit {
				t.Fatalf("LIST-STATUS %v: %s: %+v; want MESSAGES %d, refused %v, APPENDLIMIT %d", tc.ask, name, st, want, tc.refused, capLimit)
			}
			if tc.ask&commands.StatusSize != 0 && (!st.Has(commands.StatusSize) || st.Size == 0) {
				t.Fatalf("LIST-STATUS %v: %s: no SIZE: %+v", tc.ask, name, st)
			}
			one, err := alice.Status(ctx, name, commands.StatusMessages|commands.StatusUIDNext)
			if err != nil || one.Messages != st.Messages || (tc.ask&commands.StatusUIDNext != 0 && one.UIDNext != st.UIDNext) {
				t.Fatalf("STATUS %s: %v %+v; LIST-STATUS said %+v", name, err, one, st)
			}
		}
	}
	_, err := alice.List(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusDeleted})
	var ie *commands.StatusItemError
	if !errors.As(err, &ie) || ie.Item != commands.StatusDeleted || !errors.Is(err, session.ErrBad) {
		t.Fatalf("LIST-STATUS (DELETED): %v", err)
	}
	// The session goes on after Cyrus's "* BAD Invalid tag".
	if l, err := alice.List(ctx, "*", nil); err != nil || len(l) < 2 {
		t.Fatalf("LIST after the refusals: %v %d", err, len(l))
	}
}

// TestListStatusInboxCase: LIST RETURN (STATUS) answered with the
// mailbox as "inbox" in its LIST and "INBOX" in its STATUS (INBOX is case
// insensitive, RFC 9051 section 5.1). List matched a STATUS (and a
// MYRIGHTS) to the held mailbox by exact name: INBOX's Status was nil.
func TestListStatusInboxCase(t *testing.T) {
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

// TestListStatusUIDValidityZero: the same through LIST-STATUS:
// one mailbox whose STATUS holds UIDVALIDITY 0 failed the STATUS
// response, and with it the whole ListIter.
func TestListStatusUIDValidityZero(t *testing.T) {
	cl := hostileClient(t, fakeServer{caps: "IMAP4rev1 LIST-EXTENDED LIST-STATUS", on: handlers{
		"LIST": answer(`* LIST () "/" INBOX`, "* STATUS INBOX (MESSAGES 3 UIDVALIDITY 0)",
			`* LIST () "/" Sent`, "* STATUS Sent (MESSAGES 2 UIDVALIDITY 5)"),
	}}.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := map[string]uint32{}
	uidv := map[string]uint32{}
	for m, err := range cl.ListIter(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages | commands.StatusUIDValidity}) {
		if err != nil {
			t.Fatalf("ListIter: %v; want INBOX (MESSAGES 3) and Sent", err)
		}
		if m.Status != nil {
			got[m.Name] = m.Status.Messages
			uidv[m.Name] = m.Status.UIDValidity
		}
	}
	if got["INBOX"] != 3 || got["Sent"] != 2 || uidv["INBOX"] != 0 || uidv["Sent"] != 5 {
		t.Errorf("MESSAGES %v, UIDVALIDITY %v; want INBOX 3 (UIDVALIDITY unknown), Sent 2 (5)", got, uidv)
	}
}

// TestListStatusUTF8MixedEncodings: in UTF-8 mode a server may write a
// LIST-STATUS answer's LIST in UTF-8 and its STATUS in modified UTF-7, or
// the other way (testdata/utf8/list_status_mixed.txt). The STATUS was
// paired to its LIST by the names as sent only, so "aé" and "b&AOk-" had
// no Status. A STATUS of a name that only decodes alike ("R&-D" after
// the LIST of "R&D", another mailbox in UTF-8 mode) gives way to one of
// the exact name.
func TestListStatusUTF8MixedEncodings(t *testing.T) {
	c, ctx := scripted(t, "utf8/list_status_mixed")
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	l, err := c.List(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages})
	if err != nil || len(l) != 4 {
		t.Fatalf("LIST-STATUS: %v, %d mailboxes; want 4", err, len(l))
	}
	for i, want := range []struct {
		name     string
		messages uint32
	}{{"aé", 1}, {"b&AOk-", 2}, {"R&D", 3}, {"R&-D", 4}} {
		m := l[i]
		if m.Name != want.name {
			t.Errorf("mailbox %d: %q; want %q", i, m.Name, want.name)
			continue
		}
		if m.Status == nil || m.Status.Messages != want.messages || m.Status.Name != m.Name || m.Status.Has(commands.StatusUIDNext) {
			t.Errorf("%q: Status %+v; want MESSAGES %d, no UIDNEXT, named %q", m.Name, m.Status, want.messages, m.Name)
		}
	}
}
