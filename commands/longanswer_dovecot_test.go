package commands_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// longSubject is the subject number of message i (0-based) of the
// mailboxes of TestLongAnswersDovecot and TestLongAnswersCyrus: in a
// scattered order, two messages each, so that SORT (SUBJECT) has no
// ranges and ORDEREDSUBJECT makes n/2 threads of two.
func longSubject(i, n int) int { return (i * 7919) % (n / 2) }

// checkLongAnswers runs SORT (SUBJECT), ESORT and THREAD ORDEREDSUBJECT
// on the selected mailbox of n messages made with longSubject, checks
// their answers, and that the session goes on (NOOP).
func checkLongAnswers(t *testing.T, ctx context.Context, c *commands.Client, n int) {
	t.Helper()
	// The expected order: by subject, then by sequence number.
	want := make([]uint32, n)
	for i := range want {
		want[i] = uint32(i + 1)
	}
	slices.SortStableFunc(want, func(a, b uint32) int {
		return longSubject(int(a-1), n) - longSubject(int(b-1), n)
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
	if l, _ := es.All.Len(); l != uint64(n) {
		t.Fatalf("ESort: %d numbers", l)
	}
	threads, err := c.Thread(ctx, "ORDEREDSUBJECT", nil, nil)
	if err != nil || len(threads) != n/2 {
		t.Fatalf("Thread: %d threads, %v", len(threads), err)
	}
	for _, th := range threads {
		if len(th.Children) != 1 || longSubject(int(th.Num-1), n) != longSubject(int(th.Children[0].Num-1), n) {
			t.Fatalf("Thread: %+v is not two messages of one subject", th)
		}
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after the long answers: %v", err)
	}
}

// TestLongAnswersDovecot: Dovecot's SORT, ESORT and THREAD answers for a
// mailbox of 20,000 messages (about 120 KB each), read by a session whose
// line bound is 64 KiB. It stands for a mailbox of 150,000 messages and
// the default 1 MiB, which takes a minute to seed; TestLongAnswers has
// those sizes with the defaults, from a scripted server. Before the
// decoder read such lines without keeping their bytes, each of these
// ended the session with wire.ErrLineTooLong.
func TestLongAnswersDovecot(t *testing.T) {
	// Waits on Dovecot, in mailboxes of its own (dvMailbox).
	t.Parallel()
	const n = 20000
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = []byte(fmt.Sprintf("Subject: s%05d\r\nDate: Mon, 1 Jan 2024 00:%02d:%02d +0000\r\nMessage-ID: <%d@imapkit>\r\n\r\nbody %d\r\n",
			longSubject(i, n), i/60%60, i%60, i, i))
	}
	// A mailbox of its own each run: with -count=2 the second run seeded
	// the first run's mailbox again, and SORT found 40,000 messages.
	dvMailboxN.Lock()
	dvMailboxN.n++
	name := fmt.Sprintf("long%d-%s", dvMailboxN.n, sanitize(t.Name()))
	dvMailboxN.Unlock()
	if err := dvServer(t).SeedMailbox("alice", name, msgs); err != nil {
		t.Fatal(err)
	}
	c := dvClient(t, "alice", &session.Options{Tokenizer: &wire.TokenizerOptions{MaxLineLength: 64 << 10}})
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	checkLongAnswers(t, ctx, c, n)
}
