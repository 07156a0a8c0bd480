package commands_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestLongAnswersCyrus is TestLongAnswersDovecot on Cyrus: SORT, ESORT and
// THREAD answers for 10,000 messages (about 60 KB each), read by a session
// whose line bound is 32 KiB, standing for 150,000 messages under the
// default 1 MiB. The messages go in one MULTIAPPEND (10 s: Cyrus writes
// each to disk).
func TestLongAnswersCyrus(t *testing.T) {
	const n = 10000
	addr, c0 := cyAlice(t)
	ctx := dvCtx(t)
	msgs := make([]commands.AppendMessage, n)
	for i := range msgs {
		m := fmt.Appendf(nil, "Subject: s%05d\r\nMessage-ID: <%d@imapkit>\r\n\r\nbody %d\r\n", (i*7919)%(n/2), i, i)
		msgs[i] = commands.AppendMessage{R: bytes.NewReader(m), Size: int64(len(m))}
	}
	if _, err := c0.AppendMany(ctx, "INBOX", msgs); err != nil {
		t.Fatal(err)
	}
	conn, err := transport.Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(ctx, conn, &auth.Options{Session: &session.Options{Tokenizer: &wire.TokenizerOptions{MaxLineLength: 32 << 10}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, "alice", "pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	want := make([]uint32, n)
	for i := range want {
		want[i] = uint32(i + 1)
	}
	slices.SortStableFunc(want, func(a, b uint32) int {
		return (int(a-1)*7919)%(n/2) - (int(b-1)*7919)%(n/2)
	})
	keys := []commands.SortKey{{Key: "SUBJECT"}}
	got, err := c.Sort(ctx, keys, nil, nil)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Sort: %d numbers, %v", len(got), err)
	}
	es, err := c.ESort(ctx, keys, nil, nil)
	if err != nil {
		t.Fatalf("ESort: %v", err)
	}
	if l, _ := es.All.Len(); l != n {
		t.Fatalf("ESort: %d numbers", l)
	}
	threads, err := c.Thread(ctx, "ORDEREDSUBJECT", nil, nil)
	if err != nil || len(threads) != n/2 {
		t.Fatalf("Thread: %d threads, %v", len(threads), err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after the long answers: %v", err)
	}
}
