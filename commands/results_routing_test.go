package commands_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// The tests of this file come from an audit of typed results under quirky
// servers (2026-12-04): responses that belong to another command, or to
// nobody, taken as a command's result. Each failed before its fix.

func resCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// resSelected is a client with INBOX selected on a scripted server that
// answers the first cmdName with lines (the tag's OK appended).
func resSelected(t *testing.T, caps, cmdName string, lines ...string) *commands.Client {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth(caps)
		cmd, err := c.Until(cmdName)
		if err != nil {
			return err
		}
		if err := c.Lines(append(lines, cmd.Tag+" OK done")...); err != nil {
			return err
		}
		return c.Serve()
	})
	if _, err := c.Select(resCtx(t), "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStatusOtherMailboxNotTaken: with NOTIFY set, a STATUS notification
// for another mailbox arriving while Status("INBOX") runs is not INBOX's
// answer (the session gives a STATUS command only its mailbox's); it was
// merged into INBOX's result (99 messages instead of 3).
func TestStatusOtherMailboxNotTaken(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 NOTIFY")
		cmd, err := c.Until("STATUS")
		if err != nil {
			return err
		}
		if err := c.Lines(
			"* STATUS INBOX (MESSAGES 3 UIDNEXT 4)",
			"* STATUS Other (MESSAGES 99 UIDNEXT 500)", // a NOTIFY notification
			cmd.Tag+" OK STATUS done"); err != nil {
			return err
		}
		return c.Serve()
	})
	ctx := resCtx(t)
	st, err := c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "INBOX" || st.Messages != 3 || st.UIDNext != 4 {
		t.Fatalf("Status(INBOX) = name %q messages %d uidnext %d; want INBOX 3 4", st.Name, st.Messages, st.UIDNext)
	}
}

// TestMyRightsBesideListMyRights: LIST RETURN (MYRIGHTS) (RFC 8440) and
// MYRIGHTS started at once: the LIST's MYRIGHTS responses go to the LIST,
// whose mailboxes carry them (MailboxInfo.MyRights), and MyRights returns
// its own mailbox's. MyRights took the LIST's (another mailbox's rights),
// and List had nowhere to put them.
func TestMyRightsBesideListMyRights(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ACL LIST-EXTENDED LIST-MYRIGHTS LITERAL+")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "LIST":
				err = c.Lines(
					`* LIST () "/" Shared`,
					`* MYRIGHTS Shared lr`,
					`* LIST () "/" INBOX`,
					`* MYRIGHTS INBOX lrswipkxtecda`,
					cmd.Tag+" OK LIST done")
			case "MYRIGHTS":
				// Another mailbox's first (a server's stray line): not
				// the answer.
				err = c.Lines(`* MYRIGHTS Shared lr`, `* MYRIGHTS INBOX lrswipkxtecda`, cmd.Tag+" OK MYRIGHTS done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	ctx := resCtx(t)
	var wg sync.WaitGroup
	var rights string
	var rerr error
	var listed []*commands.MailboxInfo
	wg.Add(1)
	go func() {
		defer wg.Done()
		listed, rerr = c.List(ctx, "*", &commands.ListOptions{ReturnMyRights: true})
	}()
	time.Sleep(50 * time.Millisecond)
	rights, err := c.MyRights(ctx, "INBOX")
	wg.Wait()
	if err != nil || rerr != nil {
		t.Fatal(err, rerr)
	}
	if rights != "lrswipkxtecda" {
		t.Fatalf("MyRights(INBOX) = %q; want lrswipkxtecda (took the LIST's MYRIGHTS for Shared)", rights)
	}
	if len(listed) != 2 || listed[0].MyRights != "lr" || listed[1].MyRights != "lrswipkxtecda" {
		for _, m := range listed {
			t.Logf("%s: %q", m.Name, m.MyRights)
		}
		t.Fatalf("List RETURN (MYRIGHTS): %d mailboxes, rights not carried", len(listed))
	}
}

// TestGetMetadataUnsolicited: an unsolicited METADATA (an entry list, RFC
// 5464 section 4.4.2, of another mailbox) during GETMETADATA is not part
// of its answer; it came back as an entry with a nil value, as if unset.
func TestGetMetadataUnsolicited(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 METADATA")
		cmd, err := c.Until("GETMETADATA")
		if err != nil {
			return err
		}
		if err := c.Lines(
			`* METADATA INBOX (/private/comment "hello")`,
			`* METADATA Other /shared/comment`,
			cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	out, _, err := c.GetMetadata(resCtx(t), "INBOX", []string{"/private/comment"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("GetMetadata(INBOX, /private/comment) = %d entries %q; want 1", len(out), out)
	}
}

// TestSearchSaveOnly: SEARCH RETURN (SAVE) gets no ESEARCH (RFC 5182
// section 2.1): Search reports no count, minimum or maximum. It reported
// HasCount with Count 0, as if nothing matched.
func TestSearchSaveOnly(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ESEARCH SEARCHRES", "UID SEARCH")
	r, err := c.Search(resCtx(t), &commands.Criteria{Flags: []string{`\Seen`}},
		&commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Save: true}})
	if err != nil {
		t.Fatal(err)
	}
	if r.HasCount || r.HasMin || r.HasMax {
		t.Fatalf("RETURN (SAVE): HasCount %v Count %d HasMin %v; nothing was returned", r.HasCount, r.Count, r.HasMin)
	}
}

// TestListMyRightsCyrus: against Cyrus 3 (LIST-MYRIGHTS), MyRights run
// while a LIST RETURN (MYRIGHTS) is in flight returns its own mailbox's
// rights (it returned whichever mailbox's the LIST brought first, the
// owner's rights for a shared mailbox in 16 of 20 rounds), and the LIST's
// mailboxes carry their rights.
func TestListMyRightsCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	for _, mb := range []string{"user/alice", "aaa-shared"} {
		if err := admin.Create(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := admin.SetACL(ctx, "aaa-shared", "alice", "lr"); err != nil {
		t.Fatal(err)
	}
	alice := cyClient(t, addr, "alice", "pass")
	for i := 0; i < 150; i++ {
		if err := alice.Create(ctx, fmt.Sprintf("INBOX/m%03d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	const target = "Shared Folders/aaa-shared"
	want, err := alice.MyRights(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := alice.MyRights(ctx, "INBOX"); other == want {
		t.Fatalf("same rights %q", want)
	}
	l, err := alice.List(ctx, "*", &commands.ListOptions{ReturnMyRights: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range l {
		if m.Name == target && m.MyRights != want || m.MyRights == "" {
			t.Fatalf("List RETURN (MYRIGHTS): %s has rights %q (MyRights says %q for %s)", m.Name, m.MyRights, want, target)
		}
	}
	bad := 0
	for i := 0; i < 20; i++ {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			alice.List(ctx, "*", &commands.ListOptions{ReturnMyRights: true})
		}()
		time.Sleep(time.Duration(i%4) * time.Millisecond)
		got, err := alice.MyRights(ctx, target)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			bad++
			t.Logf("round %d: MyRights(shared) = %q, want %q", i, got, want)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of 20 rounds: MyRights took the LIST's MYRIGHTS of another mailbox", bad)
	}
}

// TestNamespaceExtensions: a namespace's response extensions (RFC 2342
// section 5) are kept, by name, with their values as sent; Namespace
// dropped them (the codec decoded them).
func TestNamespaceExtensions(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 NAMESPACE")
		cmd, err := c.Until("NAMESPACE")
		if err != nil {
			return err
		}
		if err := c.Lines(
			`* NAMESPACE (("" "/" "X-PARAM" ("FLAG1" "FLAG2"))) (("~" "/")) (("#shared/" "/" "TRANSLATION" ("Gemeinsam")))`,
			cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	ns, err := c.Namespace(resCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%v %v %v", ns.Personal[0].Extensions, ns.Other[0].Extensions, ns.Shared[0].Extensions)
	if want := `map[X-PARAM:("FLAG1" "FLAG2")] map[] map[TRANSLATION:("Gemeinsam")]`; got != want {
		t.Fatalf("extensions %s; want %s", got, want)
	}
	if ns.Other[0].Extensions != nil {
		t.Fatal("a namespace without extensions has a map")
	}
}
