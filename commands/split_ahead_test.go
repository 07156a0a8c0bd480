package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestSplitFetchAheadLaterExpunge: a FETCH by sequence numbers in three
// parts sent ahead, with an EXPUNGE in the third part's answer: the first
// two parts' messages are yielded (their answers came before it), then
// the iteration ends with ErrRenumbered, whether or not the session has
// read the EXPUNGE when the second part's answer is checked.
func TestSplitFetchAheadLaterExpunge(t *testing.T) {
	c, ctx := scripted(t, "split/ahead")
	c.SetMaxSetLength(1)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var got []uint32
	var err error
	for m, e := range c.Fetch(ctx, commands.SeqNums(1, 3, 5), &commands.FetchItems{Flags: true}) {
		if e != nil {
			err = e
			break
		}
		got = append(got, m.SeqNum)
	}
	if !errors.Is(err, commands.ErrRenumbered) || len(got) != 2 {
		t.Fatalf("FETCH 1,3,5 in parts, an EXPUNGE in the third part's answer: messages %v, %v; want 1 and 3, then ErrRenumbered", got, err)
	}
}
