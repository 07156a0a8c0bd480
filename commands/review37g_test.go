package commands_test

// A fourth review of stop 37's fixes (a8a82a6, e23cc0f, 7b2c63d): the
// tests not named as controls failed on them.

import (
	"bytes"
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

// TestReview37gNormalizeCRLFBoundaryCRLF: a message of 1025 bytes whose
// last two bytes are CRLF, appended with NormalizeCRLF from an unchanged
// bytes.Reader. The crlfReader reads 1024-byte chunks: after the first,
// the CR at byte 1024 has been converted to CRLF (out == want) while the
// final LF (which converts to nothing) is still unread (in < size), and
// e23cc0f's check takes that for a grown message: errChanged, the session
// aborted. Expected: the APPEND succeeds, the message sent as it is.
func TestReview37gNormalizeCRLFBoundaryCRLF(t *testing.T) {
	for _, k := range []int{1, 3} {
		c, s, ctx := r37eStart(t, "LITERAL+ UIDPLUS", r37eAppendUID())
		msg := append(bytes.Repeat([]byte("a"), 1024*k-1), '\r', '\n') // 1024k+1 bytes
		_, err := c.Append(ctx, "INBOX", bytes.NewReader(msg), int64(len(msg)), &commands.AppendOptions{NormalizeCRLF: true})
		if err != nil {
			t.Fatalf("%d bytes ending in CRLF (CR the last byte of a 1024-byte chunk): Append: %v (session: %v)", len(msg), err, c.Session().Err())
		}
		cmds := s.commands()
		if sent := cmds[len(cmds)-1].Lits[0]; !bytes.Equal(sent, msg) {
			t.Fatalf("sent %d bytes, want the %d unchanged", len(sent), len(msg))
		}
	}
}

// TestReview37gNormalizeCRLFControls: last byte CR, empty message,
// exactly one chunk, CRLF not on a boundary: all must go through.
func TestReview37gNormalizeCRLFControls(t *testing.T) {
	for name, msg := range map[string][]byte{
		"lastCR":     append(bytes.Repeat([]byte("a"), 1023), '\r'),
		"lastCR1025": append(bytes.Repeat([]byte("a"), 1024), '\r'),
		"chunk":      bytes.Repeat([]byte("a"), 1024),
		"crlf1026":   append(bytes.Repeat([]byte("a"), 1024), '\r', '\n'),
		"lf1025":     append(bytes.Repeat([]byte("a"), 1024), '\n'),
	} {
		c, _, ctx := r37eStart(t, "LITERAL+ UIDPLUS", r37eAppendUID())
		if _, err := c.Append(ctx, "INBOX", bytes.NewReader(msg), int64(len(msg)), &commands.AppendOptions{NormalizeCRLF: true}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// bodyUIDLastServer answers a UID FETCH of UID 5 with a body of size
// bytes before the UID (legal: RFC 9051 sets no order of FETCH items).
// With beside set, it first waits for the command named beside (sent by
// another goroutine while the UID FETCH is in flight) and answers it after
// the FETCH, with extra before its OK.
func bodyUIDLastServer(size int, beside, extra string) hostile.Scenario {
	return func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		f, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		var b *hostile.Command
		if beside != "" {
			if b, err = c.Expect(beside); err != nil {
				return err
			}
		}
		if err := c.WriteString(fmt.Sprintf("* 3 FETCH (BODY[] {%d}\r\n", size)); err != nil {
			return err
		}
		if _, err := c.Copy(io.LimitReader(zeros{}, int64(size))); err != nil {
			return err
		}
		if err := c.WriteString(" UID 5)\r\n" + f.Tag + " OK done\r\n"); err != nil {
			return err
		}
		if b != nil {
			if err := c.WriteString(extra + b.Tag + " OK done\r\n"); err != nil {
				return err
			}
		}
		return c.Serve()
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// fetchOneBig runs Fetch(UIDs(5), BODY[]) and, with beside, another
// command started 200 ms later on another goroutine; it returns the bytes
// the body yielded and the Fetch's error.
func fetchOneBig(t *testing.T, size int, beside string, extra string, other func(ctx context.Context, c *commands.Client) error) (int64, error) {
	c := rev37Client(t, &session.Options{MaxResultBytes: 1 << 20}, bodyUIDLastServer(size, beside, extra))
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	if other != nil {
		go func() {
			time.Sleep(200 * time.Millisecond)
			done <- other(ctx, c)
		}()
	}
	var n int64
	var ferr error
	for m, err := range c.Fetch(ctx, commands.UIDs(5), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			ferr = err
			break
		}
		for {
			s, err := m.NextSection()
			if err != nil {
				break
			}
			k, _ := io.Copy(io.Discard, s)
			n += k
		}
	}
	if other != nil {
		if err := <-done; err != nil {
			t.Logf("other command: %v", err)
		}
	}
	return n, ferr
}

// TestReview37gFetchBodyUIDLastAlone: the control: one UID FETCH in
// flight, its 8 MiB body before its UID, MaxResultBytes 1 MiB: streamed.
func TestReview37gFetchBodyUIDLastAlone(t *testing.T) {
	n, err := fetchOneBig(t, 8<<20, "", "", nil)
	if err != nil || n != 8<<20 {
		t.Fatalf("Fetch: %d bytes, %v; want %d, no error", n, err, 8<<20)
	}
}

// rev37gBigMailbox appends n messages of 200 KiB (over MaxStringLiteral:
// streamed) to a fresh mailbox and expunges UID 2.
func rev37gBigMailbox(t *testing.T, c *commands.Client, ctx context.Context, name string, n int) {
	if err := c.Create(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		msg := []byte(fmt.Sprintf("Subject: m%d\r\n\r\n%s\r\n", i+1, bytes.Repeat([]byte("y"), 200<<10+i)))
		if _, err := c.Append(ctx, name, bytes.NewReader(msg), int64(len(msg)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func rev37gFetchSizes(t *testing.T, ctx context.Context, c *commands.Client, set commands.Set) ([]string, error) {
	var got []string
	for m, err := range c.Fetch(ctx, set, &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			return got, err
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
		got = append(got, fmt.Sprintf("%d:%d", m.UID, n))
	}
	return got, nil
}

func rev37gSplitRun(t *testing.T, c *commands.Client) {
	ctx := dvCtx(t)
	rev37gBigMailbox(t, c, ctx, "big37g", 5)
	c.SetMaxSetLength(1)
	got, err := rev37gFetchSizes(t, ctx, c, commands.UIDs(1, 2, 3, 4, 5, 6))
	t.Logf("split Fetch: %v %v", got, err)
	if err != nil || len(got) != 4 {
		t.Errorf("split Fetch: %v, %v; want UIDs 1,3,4,5", got, err)
	}
	c.SetMaxSetLength(0)
	got, err = rev37gFetchSizes(t, ctx, c, commands.UIDRange(1, 0))
	t.Logf("1:*: %v %v", got, err)
	if err != nil || len(got) != 4 {
		t.Errorf("Fetch 1:*: %v, %v; want 4 messages", got, err)
	}
	got, err = rev37gFetchSizes(t, ctx, c, commands.UIDRange(100, 0))
	t.Logf("100:*: %v %v", got, err)
	if err != nil {
		t.Errorf("Fetch 100:*: %v, %v", got, err)
	}
	got, err = rev37gFetchSizes(t, ctx, c, commands.SeqRange(2, 0))
	t.Logf("seq 2:*: %v %v", got, err)
	if err != nil || len(got) != 3 {
		t.Errorf("Fetch seq 2:*: %v, %v; want 3 messages", got, err)
	}
}

func TestReview37gSplitFetchDovecot(t *testing.T) {
	rev37gSplitRun(t, dvClient(t, "alice", nil))
}

func TestReview37gSplitFetchCyrus(t *testing.T) {
	_, c := cyAlice(t)
	rev37gSplitRun(t, c)
}

// TestReview37gReplaceDuringFirstSelect: one goroutine selects Drafts (the
// server takes 300 ms to answer), another calls Replace 100 ms later, as a
// caller that pipelines does. The REPLACE would go out after the SELECT
// (the session holds commands behind a SELECT); e23cc0f's check reads
// Session.Mailbox(), which is "" until the SELECT's OK, and refuses with a
// *session.StateError though the mailbox is being selected.
func TestReview37gReplaceDuringFirstSelect(t *testing.T) {
	c, _, ctx := r37eStart(t, "LITERAL+ UIDPLUS REPLACE", func(cmd r37eCmd) string {
		switch {
		case strings.Contains(cmd.Text, " SELECT "):
			time.Sleep(300 * time.Millisecond)
			return "* 4 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(cmd.Text, " REPLACE "):
			return "* OK [APPENDUID 1 2001] ok\r\n* 5 EXISTS\r\n* 4 EXPUNGE\r\n" + cmd.Tag + " OK Replace completed\r\n"
		}
		return ""
	})
	sel := make(chan error, 1)
	go func() { _, err := c.Select(ctx, "Drafts", nil); sel <- err }()
	time.Sleep(100 * time.Millisecond)
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	res, err := c.Replace(ctx, commands.SeqNums(4), "Drafts", bytes.NewReader(msg), int64(len(msg)), nil)
	if serr := <-sel; serr != nil {
		t.Fatal(serr)
	}
	if err != nil {
		t.Fatalf("Replace pipelined behind the SELECT of its mailbox: %v", err)
	}
	t.Logf("Replace: %+v", res)
}

// TestReview37gFetchBodyBesideStoreSmall: control, a body under
// MaxResultBytes beside the UID STORE: kept in the FETCH, yielded whole.
func TestReview37gFetchBodyBesideStoreSmall(t *testing.T) {
	n, err := fetchOneBig(t, 512<<10, "UID STORE", "", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Store(ctx, commands.UIDs(7), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{Silent: true})
		return err
	})
	if err != nil || n != 512<<10 {
		t.Fatalf("%d bytes, %v", n, err)
	}
}
