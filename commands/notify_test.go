package commands_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestNotify: NOTIFY SET with every filter and event, its STATUS answer,
// the events during IDLE (STATUS and LIST for other mailboxes, EXISTS and
// FETCH with the items asked for the selected one), BADEVENT, NOTIFY NONE.
func TestNotify(t *testing.T) {
	c, ctx := scripted(t, "notify/notify")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	all := commands.NotifyMessageNew | commands.NotifyMessageExpunge
	st, err := c.Notify(ctx, &commands.NotifyOptions{Status: true},
		commands.NotifyGroup{Filter: commands.NotifySelected, Events: all | commands.NotifyFlagChange,
			Fetch: &commands.FetchItems{UID: true, Flags: true, Sections: []commands.FetchSection{{Specifier: "HEADER.FIELDS", Fields: []string{"FROM", "SUBJECT"}}}}},
		commands.NotifyGroup{Filter: commands.NotifySubtree, Mailboxes: []string{"Lists", "Grüße"}, Events: all},
		commands.NotifyGroup{Filter: commands.NotifyMailboxes, Mailboxes: []string{"Junk"}},
		commands.NotifyGroup{Filter: commands.NotifyInboxes, Events: all | commands.NotifyMailboxName | commands.NotifySubscriptionChange},
		commands.NotifyGroup{Filter: commands.NotifyPersonal, Events: commands.NotifyMailboxMetadataChange | commands.NotifyServerMetadataChange | commands.NotifyAnnotationChange})
	if err != nil || len(st) != 2 || st[0].Name != "Lists/imap" || st[0].Messages != 10 || st[1].Name != "Grüße" || st[1].UIDNext != 1 {
		t.Fatalf("NOTIFY SET STATUS: %v %+v", err, st)
	}
	var events []string
	err = c.Idle(ctx, nil, func(r codec.Response) bool {
		switch r := r.(type) {
		case *codec.MailboxStatus:
			events = append(events, "STATUS "+string(r.Mailbox))
		case *codec.List:
			name, _ := codec.DecodeMailbox(r.Mailbox)
			events = append(events, "LIST "+name)
		case *codec.Exists:
			events = append(events, "EXISTS")
		case *codec.Fetch:
			events = append(events, "FETCH "+string(r.Sections[0].Data))
			return false
		}
		return true
	})
	want := []string{"STATUS Lists/imap", "LIST Grüße/neu", "EXISTS", "FETCH Subject: new message\r\n"}
	if err != nil || !slices.Equal(events, want) {
		t.Fatalf("IDLE: %v %q; want %q", err, events, want)
	}
	_, err = c.Notify(ctx, nil, commands.NotifyGroup{Filter: commands.NotifySelectedDelayed, Events: all},
		commands.NotifyGroup{Filter: commands.NotifySubscribed, Events: commands.NotifyMailboxMetadataChange})
	var se *session.StatusError
	if !errors.As(err, &se) || !errors.Is(err, session.ErrNo) || se.Status.Code == nil || string(se.Status.Code.Name) != "BADEVENT" {
		t.Fatalf("NOTIFY of an unknown event: %v", err)
	}
	if err := c.NotifyNone(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestNotifyChecks: what Notify refuses before sending anything, and a
// server without NOTIFY.
func TestNotifyChecks(t *testing.T) {
	c, ctx := scripted(t, "notify/unsupported")
	if _, err := c.Notify(ctx, nil, commands.NotifyGroup{Filter: commands.NotifyPersonal}); !errors.Is(err, commands.ErrUnsupported) {
		t.Errorf("Notify without NOTIFY: %v", err)
	}
	if err := c.NotifyNone(ctx); !errors.Is(err, commands.ErrUnsupported) {
		t.Errorf("NotifyNone without NOTIFY: %v", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	d, ctx := scripted(t, "notify/checks")
	for _, groups := range [][]commands.NotifyGroup{
		nil,
		{{}},
		{{Filter: commands.NotifySubtree}},
		{{Filter: commands.NotifyPersonal, Mailboxes: []string{"x"}}},
		{{Filter: commands.NotifyPersonal, Events: commands.NotifyMessageNew, Fetch: &commands.FetchItems{UID: true}}},
		{{Filter: commands.NotifySelected, Events: commands.NotifyMessageExpunge, Fetch: &commands.FetchItems{UID: true}}},
		{{Filter: commands.NotifySelected, Events: commands.NotifyMessageNew, Fetch: &commands.FetchItems{ChangedSince: 5}}},
		{{Filter: commands.NotifySelected, Events: commands.NotifyMessageNew, Fetch: &commands.FetchItems{Sections: []commands.FetchSection{{Specifier: "HEADER.FIELDS"}}}}},
	} {
		if _, err := d.Notify(ctx, nil, groups...); err == nil || errors.Is(err, commands.ErrUnsupported) {
			t.Errorf("Notify(%+v): %v", groups, err)
		}
	}
	if err := d.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestNotifyDovecot: with NOTIFY set, a mailbox another session appends
// to, one it creates and a message it appends to the selected mailbox come
// to Idle as STATUS, LIST and EXISTS with the FETCH asked for; after
// NOTIFY NONE another mailbox's changes no longer come.
func TestNotifyDovecot(t *testing.T) {
	// The other session acts once IDLE is running, not after a fixed
	// sleep: RFC 5465 lets a server send notifications between commands
	// too, where they go to OnUnsolicited, not to Idle's callback.
	// (Dovecot holds them until IDLE or the next command: with IDLE
	// planted 500 ms late the test still passed.)
	idling := &traceWatch{want: "S: + ", seen: make(chan struct{})}
	c := dvClient(t, testserver.Alice, &session.Options{Trace: idling})
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 2)
	side := dvMailbox(t, testserver.Alice, 1)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	all := commands.NotifyMessageNew | commands.NotifyMessageExpunge
	st, err := c.Notify(ctx, &commands.NotifyOptions{Status: true},
		commands.NotifyGroup{Filter: commands.NotifySelected, Events: all | commands.NotifyFlagChange, Fetch: &commands.FetchItems{UID: true, Flags: true}},
		commands.NotifyGroup{Filter: commands.NotifyPersonal, Events: all | commands.NotifyMailboxName})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(st, func(s *commands.MailboxStatus) bool { return s.Name == side })
	if i < 0 || st[i].Messages != 1 || slices.ContainsFunc(st, func(s *commands.MailboxStatus) bool { return s.Name == mb }) {
		t.Fatalf("NOTIFY SET STATUS: %d statuses, %s at %d", len(st), side, i)
	}
	created := mb + "-created" // mb's name is new to each run
	ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		select {
		case <-idling.seen:
		case <-ictx.Done():
			errc <- errors.New("IDLE did not start")
			return
		}
		bg := context.Background()
		_, err := other.AppendBytes(bg, side, testserver.SampleMessage(3), nil)
		if err == nil {
			err = other.Create(bg, created, nil)
		}
		if err == nil {
			_, err = other.AppendBytes(bg, mb, testserver.SampleMessage(4), nil)
		}
		if err != nil {
			cancel() // the events will not come: end Idle
		}
		errc <- err
	}()
	seen := map[string]bool{}
	err = c.Idle(ictx, nil, func(r codec.Response) bool {
		switch r := r.(type) {
		case *codec.MailboxStatus:
			if string(r.Mailbox) == side && r.Messages == 2 {
				seen["status"] = true
			}
		case *codec.List:
			if string(r.Mailbox) == created {
				seen["list"] = true
			}
		case *codec.Exists:
			if r.Count == 3 {
				seen["exists"] = true
			}
		case *codec.Fetch:
			if r.UID == 3 && r.Seq == 3 {
				seen["fetch"] = true
			}
		}
		return len(seen) < 4
	})
	if err := <-errc; err != nil {
		t.Fatalf("the other session: %v", err)
	}
	if err != nil || len(seen) != 4 {
		t.Fatalf("Idle: %v; saw %v", err, seen)
	}
	// The control, with NOTIFY still set: another session's append to
	// side, then a NOOP, whose answer brings the STATUS (Dovecot sends
	// what it holds at the next command). The same steps after NOTIFY
	// NONE then show that no notification comes, with no wait for one
	// (a wall-clock wait let a loaded machine pass a NONE not sent).
	c.Response("STATUS")
	if _, err := other.AppendBytes(ctx, side, testserver.SampleMessage(5), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(c.Response("STATUS"), func(r codec.Response) bool {
		st, ok := r.(*codec.MailboxStatus)
		return ok && string(st.Mailbox) == side && st.Messages == 3
	}) {
		t.Fatalf("with NOTIFY set, an append to %s then a NOOP: no STATUS (MESSAGES 3) with the NOOP's answer; the check after NOTIFY NONE needs one", side)
	}
	if err := c.NotifyNone(ctx); err != nil {
		t.Fatal(err)
	}
	c.Response("STATUS")
	if _, err := other.AppendBytes(ctx, side, testserver.SampleMessage(6), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Response("STATUS"); len(got) != 0 {
		t.Fatalf("after NOTIFY NONE, an append to %s then a NOOP: %d STATUS responses; want none", side, len(got))
	}
}

// TestNotifyStatusMerge: a notification's STATUS beside the answer to
// STATUS or LIST-STATUS for the same mailbox does not hide the items asked
// for.
func TestNotifyStatusMerge(t *testing.T) {
	c, ctx := scripted(t, "notify/status-merge")
	if _, err := c.Notify(ctx, nil, commands.NotifyGroup{Filter: commands.NotifyPersonal, Events: commands.NotifyMessageNew | commands.NotifyMessageExpunge}); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx, "Lists", commands.StatusMessages|commands.StatusUIDNext|commands.StatusSize)
	if err != nil || st.Messages != 11 || st.UIDNext != 40 || st.Size != 9000 || st.Unseen != 2 ||
		st.Items != commands.StatusMessages|commands.StatusUIDNext|commands.StatusSize|commands.StatusUnseen {
		t.Fatalf("STATUS: %v %+v", err, st)
	}
	l, err := c.List(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages | commands.StatusSize})
	if err != nil || len(l) != 1 || l[0].Status == nil || l[0].Status.Messages != 12 || l[0].Status.Size != 9000 || l[0].Status.UIDNext != 41 {
		t.Fatalf("LIST-STATUS: %v %+v", err, l)
	}
}

// traceWatch is a session trace that closes seen once a line holding want
// has been traced.
type traceWatch struct {
	want string
	seen chan struct{}
	mu   sync.Mutex
	buf  []byte
	once sync.Once
}

func (w *traceWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if strings.Contains(string(w.buf[:i]), w.want) {
			w.once.Do(func() { close(w.seen) })
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// TestNotifyInvalidMailboxNameDovecot: ErrMailboxName guards every
// name written by Client.mailbox, but Notify writes its groups' mailboxes
// itself (notify.go encodeNotifyGroup: e.Mailbox(c.encodeMailbox(m))):
// "Old\xff" still goes as modified UTF-7 with U+FFFD, and the server
// watches a mailbox nobody named, with no error.
func TestNotifyInvalidMailboxNameDovecot(t *testing.T) {
	ctx := dvCtx(t)
	c := dvClient(t, "alice", nil)
	_, err := c.Notify(ctx, nil, commands.NotifyGroup{Filter: commands.NotifyMailboxes, Mailboxes: []string{"Old\xff"},
		Events: commands.NotifyMessageNew | commands.NotifyMessageExpunge})
	if !errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Notify for mailbox %q: %v; want ErrMailboxName", "Old\xff", err)
	}
}
