//go:build linux

package commands_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestLongSetsCyrus runs UID STORE, FETCH, COPY, MOVE and EXPUNGE with
// the defaults on 60,000 scattered UIDs (364 KB), which Cyrus answers,
// sent whole, with BYE [TOOBIG], closing the connection.
func TestLongSetsCyrus(t *testing.T) {
	// Parallel: it waits on a Cyrus of its own;
	// it looks at nothing process-wide.
	t.Parallel()
	_, c := cyAlice(t)
	ctx := dvCtx(t)
	const m = 20
	for i := 1; i <= m; i++ {
		if _, err := c.AppendBytes(ctx, "INBOX", fmt.Appendf(nil, "Subject: %d\r\n\r\nmessage %d\r\n", i, i), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"copies", "moved"} {
		if err := c.Create(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	big := oddNums(true, 120000)
	want := oddNums(true, m).Nums
	if _, err := c.Store(ctx, big, commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatalf("UID STORE of 60,000 UIDs: %v", err)
	}
	var got codec.SeqSet
	for msg, err := range c.Fetch(ctx, big, &commands.FetchItems{Flags: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(msg.Flags, `\Flagged`) {
			t.Fatalf("UID %d: flags %v", msg.UID, msg.Flags)
		}
		got.AddNum(msg.UID)
	}
	if !got.Equal(want) {
		t.Fatalf("UID FETCH of 60,000 UIDs: %s", got.String())
	}
	// SORT within the 60,000 UIDs: sent without the set, the answer
	// restricted to it (whole, the set made Cyrus close the connection).
	// Subjects are the numbers, sorted as strings.
	wantOrder := slices.Collect(want.All)
	slices.SortFunc(wantOrder, func(a, b uint32) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	sorted, err := c.Sort(ctx, []commands.SortKey{{Key: "SUBJECT"}}, &commands.Criteria{Set: &big}, &commands.SearchOptions{UID: true})
	if err != nil || !slices.Equal(sorted, wantOrder) {
		t.Fatalf("UID SORT within 60,000 UIDs: %v, %v", err, sorted)
	}
	if cp, err := c.Copy(ctx, big, "copies"); err != nil || cp == nil || !cp.Src.Equal(want) {
		t.Fatalf("UID COPY: %v %+v", err, cp)
	}
	if mv, err := c.Move(ctx, big, "moved"); err != nil || mv == nil || !mv.Src.Equal(want) {
		t.Fatalf("UID MOVE: %v %+v", err, mv)
	}
	even := commands.Set{UID: true}
	for i := uint32(2); i <= 120000; i += 2 {
		even.Nums.AddNum(i)
	}
	if _, err := c.Store(ctx, even, commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	if ex, err := c.Expunge(ctx, &even); err != nil || len(ex.SeqNums) != m/2 {
		t.Fatalf("UID EXPUNGE: %v %+v", err, ex)
	}
	if k, _ := c.Exists(); k != 0 {
		t.Fatalf("%d messages left", k)
	}
}
