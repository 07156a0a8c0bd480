package commands_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// oddNums returns the numbers 1, 3, 5, ... below n: scattered, as a search's
// answer is, so that each takes its own bytes on the wire.
func oddNums(uid bool, n uint32) commands.Set {
	s := commands.Set{UID: uid}
	for i := uint32(1); i < n; i += 2 {
		s.Nums.AddNum(i)
	}
	return s
}

// TestLongSetsDovecot runs Fetch, Store, Search, Copy, Move and Expunge with the
// library's defaults on sets longer than a command line may be: 20,000
// scattered UIDs take 114 KB, and Dovecot answers a set past 64 KiB with
// BAD "Too long argument"; 2,000 scattered sequence numbers (about 9.9
// KB) pass DefaultMaxSetLength too. Each command is split, and the joined
// answers are checked against the mailbox.
func TestLongSetsDovecot(t *testing.T) {
	// Parallel: it waits on Dovecot; its own mailboxes;
	// it looks at nothing process-wide.
	t.Parallel()
	const m = 4000 // messages, UIDs 1..4000
	c := dvClient(t, testserver.Alice, nil)
	base := dvMailbox(t, testserver.Alice, 0)
	msgs := make([][]byte, m)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "Subject: %d\r\n\r\nmessage %d\r\n", i+1, i+1)
	}
	src := base + "/src"
	if err := dvServer(t).SeedMailbox(testserver.Alice, src, msgs); err != nil {
		t.Fatal(err)
	}
	ctx := dvCtx(t) // after the seeding, which waits behind other tests' (seedMu)
	for _, name := range []string{base + "/copies", base + "/moved"} {
		if err := c.Create(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	oddSeq := oddNums(false, m)       // 2,000 sequence numbers
	bigUIDs := oddNums(true, 40000)   // 20,000 UIDs, 2,000 of them in the mailbox
	wantUIDs := oddNums(true, m).Nums // the odd UIDs in the mailbox
	if n := len(bigUIDs.Nums.String()); n <= 64<<10 {
		t.Fatalf("the UID set takes %d bytes: not past Dovecot's limit", n)
	}

	// FETCH by sequence numbers: every odd message, once, in order.
	var got codec.SeqSet
	var n int
	for msg, err := range c.Fetch(ctx, oddSeq, &commands.FetchItems{UID: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if msg.UID != msg.SeqNum || msg.UID%2 != 1 {
			t.Fatalf("message %d has UID %d", msg.SeqNum, msg.UID)
		}
		got.AddNum(msg.UID)
		n++
	}
	if n != m/2 || !got.Equal(wantUIDs) {
		t.Fatalf("FETCH of 2,000 sequence numbers: %d messages", n)
	}

	// STORE by sequence numbers and by UIDs, checked by SEARCH.
	if _, err := c.Store(ctx, oddSeq, commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, bigUIDs, commands.AddFlags, []string{"$Odd"}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatalf("UID STORE of 20,000 UIDs: %v", err)
	}
	for _, flag := range []string{`\Flagged`, "$Odd"} {
		res, err := c.Search(ctx, &commands.Criteria{Flags: []string{flag}}, &commands.SearchOptions{UID: true})
		if err != nil || !res.All.Equal(wantUIDs) {
			t.Fatalf("SEARCH %s: %v, %d UIDs", flag, err, res.Count)
		}
	}

	// SORT within the 20,000 UIDs: it cannot be sent in parts, so it is
	// sent without the set and its answer restricted to it. Subjects are
	// the numbers, sorted as strings.
	wantOrder := slices.Collect(wantUIDs.All)
	slices.SortFunc(wantOrder, func(a, b uint32) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	sorted, err := c.Sort(ctx, []commands.SortKey{{Key: "SUBJECT"}}, &commands.Criteria{Set: &bigUIDs}, &commands.SearchOptions{UID: true})
	if err != nil || !slices.Equal(sorted, wantOrder) {
		t.Fatalf("UID SORT within 20,000 UIDs: %v, %d UIDs", err, len(sorted))
	}
	es, err := c.ESort(ctx, []commands.SortKey{{Key: "SUBJECT"}}, &commands.Criteria{Set: &bigUIDs},
		&commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Min: true, Max: true, All: true, Count: true}})
	if err != nil || es.Min != 1 || es.Max != 999 || es.Count != m/2 || !es.All.Equal(wantUIDs) {
		t.Fatalf("UID ESORT within 20,000 UIDs: %v, min %d max %d count %d", err, es.Min, es.Max, es.Count)
	}

	// SEARCH within the 20,000 UIDs, plain and ESEARCH, and SearchIter.
	for _, ret := range []*commands.SearchReturn{nil, {Min: true, Max: true, All: true, Count: true}} {
		res, err := c.Search(ctx, &commands.Criteria{Set: &bigUIDs, Flags: []string{`\Flagged`}}, &commands.SearchOptions{UID: true, Return: ret})
		if err != nil {
			t.Fatalf("SEARCH UID <20,000 UIDs> FLAGGED (return %+v): %v", ret, err)
		}
		if !res.All.Equal(wantUIDs) || res.Count != m/2 || res.Min != 1 || res.Max != m-1 {
			t.Fatalf("SEARCH UID <20,000 UIDs> FLAGGED (return %+v): %d UIDs, min %d max %d", ret, res.Count, res.Min, res.Max)
		}
	}
	n = 0
	for _, err := range c.SearchIter(ctx, &commands.Criteria{Set: &bigUIDs}, &commands.SearchOptions{UID: true}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != m/2 {
		t.Fatalf("SearchIter UID <20,000 UIDs>: %d", n)
	}

	// FETCH and COPY by UIDs.
	n = 0
	for msg, err := range c.Fetch(ctx, bigUIDs, &commands.FetchItems{Flags: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(msg.Flags, "$Odd") {
			t.Fatalf("UID %d: flags %v", msg.UID, msg.Flags)
		}
		n++
	}
	if n != m/2 {
		t.Fatalf("UID FETCH of 20,000 UIDs: %d messages", n)
	}
	cp, err := c.Copy(ctx, bigUIDs, base+"/copies")
	if err != nil || cp == nil || !cp.Src.Equal(wantUIDs) {
		t.Fatalf("UID COPY of 20,000 UIDs: %v %+v", err, cp)
	}
	if k, ok := cp.Dst.Len(); !ok || k != m/2 {
		t.Fatalf("COPYUID: %d destination UIDs", k)
	}

	// MOVE by sequence numbers: turned into UIDs, moved in parts.
	mv, err := c.Move(ctx, oddSeq, base+"/moved")
	if err != nil || mv == nil || !mv.Src.Equal(wantUIDs) {
		t.Fatalf("MOVE of 2,000 sequence numbers: %v %+v", err, mv)
	}
	if k, known := c.Exists(); !known || k != m/2 {
		t.Fatalf("after MOVE: %d messages (known %v)", k, known)
	}
	st, err := c.Status(ctx, base+"/moved", commands.StatusMessages)
	if err != nil || st.Messages != m/2 {
		t.Fatalf("STATUS of the destination: %v %+v", err, st)
	}

	// UID EXPUNGE of 20,000 UIDs: the even ones, all that is left.
	evenUIDs := commands.Set{UID: true}
	for i := uint32(2); i <= 40000; i += 2 {
		evenUIDs.Nums.AddNum(i)
	}
	if _, err := c.Store(ctx, commands.UIDRange(1, 0), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	ex, err := c.Expunge(ctx, &evenUIDs)
	if err != nil || len(ex.SeqNums) != m/2 {
		t.Fatalf("UID EXPUNGE of 20,000 UIDs: %v, %d expunged", err, len(ex.SeqNums))
	}
	if k, _ := c.Exists(); k != 0 {
		t.Fatalf("after UID EXPUNGE: %d messages", k)
	}
}
