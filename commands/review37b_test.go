package commands_test

// A second review of stop 37's fixes: each test failed on them.

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

func rev37Client(t *testing.T, opts *session.Options, sc hostile.Scenario) *commands.Client {
	t.Helper()
	conn, srv := hostile.Pipe(sc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, opts)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); srv.Close() })
	return commands.New(s)
}

// TestReview37bFetchPartsBodyBeforeUID: ONE Fetch loop of a UID
// set long enough to be split into parts (commands sends fetchAhead parts
// ahead: several UID FETCH in flight), against a server that puts UID
// after BODY[] and answers in order. At 86f7418 such a body went to the
// command whose answer was due next; that guess failed where a UID of a
// part's set no longer exists (TestReview37dFetchPartsGapInterleaved). A
// body that more than one part may own is kept in the FETCH (within
// MaxResultBytes, 64 MiB by default) and the FETCH goes by its UID: the
// loop yields both messages whole (a 1 MiB bound here failed the loop:
// such bodies past the bound come with a ResultTooLargeError).
func TestReview37bFetchPartsBodyBeforeUID(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	small := strings.Repeat("y", 100<<10)
	c := rev37Client(t, nil, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		a, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		b, err := c.Expect("UID FETCH")
		if err != nil {
			return err
		}
		if err := c.WriteString(fmt.Sprintf("* 1 FETCH (BODY[] {%d}\r\n%s UID 1)\r\n%s OK done\r\n", len(big), big, a.Tag)); err != nil {
			return err
		}
		if err := c.WriteString(fmt.Sprintf("* 3 FETCH (BODY[] {%d}\r\n%s UID 3)\r\n%s OK done\r\n", len(small), small, b.Tag)); err != nil {
			return err
		}
		return c.Serve()
	})
	c.SetMaxSetLength(1) // "1" and "3": two parts, both sent ahead
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	var ferr error
	for m, err := range c.Fetch(ctx, commands.UIDs(1, 3), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: -1}) {
		if err != nil {
			ferr = err
			break
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
		got = append(got, fmt.Sprintf("UID %d: %d bytes", m.UID, n))
	}
	want := fmt.Sprintf("[UID 1: %d bytes UID 3: %d bytes]", len(big), len(small))
	if ferr != nil || fmt.Sprint(got) != want {
		t.Fatalf("Fetch yielded %v, error %v; want %s and no error (the body streamed, as before)", got, ferr, want)
	}
}

// TestReview37bStatusInboxDotOtherMailbox: on a server whose delimiter is
// "/", "inbox.x" and "INBOX.x" are two mailboxes (Cyrus 3.6 keeps both
// apart, see TestReview37bCyrusInboxDotIsAnotherMailbox). A NOTIFY STATUS
// event for INBOX.x that comes after the answer to STATUS inbox.x and
// before its OK: with codec.SameMailbox, which takes "." for a delimiter
// whatever the server's, the session gave the other mailbox's STATUS to
// the command, which merged it over its own answer (99 instead of 1). The
// session routes STATUS by exact name again (INBOX alone in any case).
func TestReview37bStatusInboxDotOtherMailbox(t *testing.T) {
	c := rev37Client(t, nil, func(c *hostile.Conn) error {
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

// TestReview37bCyrusInboxDotIsAnotherMailbox: on Cyrus 3.6 (delimiter
// "/"), "INBOX.zzrev" and "inbox.zzrev" are two mailboxes (one message in
// one, none in the other), which codec.SameMailbox calls the same: the
// fact behind the test above, kept so that a Cyrus that changes it is
// noticed.
func TestReview37bCyrusInboxDotIsAnotherMailbox(t *testing.T) {
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
