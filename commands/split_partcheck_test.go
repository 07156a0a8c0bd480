package commands_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// fetchSevenPartsNoopAtFirst runs split/readahead's Fetch (seven parts,
// five sent ahead, a NOOP in the loop body at the first message: the
// session reads the answers of the parts in flight, then the NOOP's
// EXPUNGE) over script and returns what was yielded and the error that
// ended it.
func fetchSevenPartsNoopAtFirst(t *testing.T, script string) ([]uint32, error) {
	t.Helper()
	c, ctx := scripted(t, script)
	c.SetMaxSetLength(5)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return fetchNoopAtFirst(t, c, ctx)
}

func fetchNoopAtFirst(t *testing.T, c *commands.Client, ctx context.Context) ([]uint32, error) {
	var got []uint32
	for m, err := range c.Fetch(ctx, commands.SeqNums(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27), &commands.FetchItems{Flags: true}) {
		if err != nil {
			return got, err
		}
		got = append(got, m.SeqNum)
		if len(got) == 1 {
			if err := c.Noop(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got, nil
}

// TestSplitFetchPartEmptyAnswerBeforeExpunge: a part of a Fetch of
// sequence numbers whose answer held no FETCH response, answered (tagged
// OK) before the EXPUNGE, is checked by the count of now (fetchPart's
// check(nil) -> splitRun.check), not as read: the EXPUNGE the loop body's
// NOOP read after it ends the iteration there with ErrRenumbered, and the
// later parts, answered before the EXPUNGE too, are dropped. The same
// scheduling-free answer as the parts with messages (db37fae) would be
// RenumberedAt == mark and !RenumberedInFlight() (the end mark).
func TestSplitFetchPartEmptyAnswerBeforeExpunge(t *testing.T) {
	got, end := fetchSevenPartsNoopAtFirst(t, "split/readahead_empty")
	want := []uint32{1, 3, 5, 7, 9, 15, 17, 19, 21}
	if !slices.Equal(got, want) || !errors.Is(end, commands.ErrRenumbered) {
		t.Fatalf("Fetch in 7 parts, the third answered empty, a NOOP's EXPUNGE read after the first 5 parts' answers: yielded %v, ended with %v; want %v, then ErrRenumbered", got, end, want)
	}
}

// TestSplitFetchPartNOBeforeExpungeNotRenumbered: a part answered NO
// before the EXPUNGE (read later, in the loop body's NOOP) ends the
// iteration with its NO, which fetchPart joins with check(nil), the count
// of now: the error matches ErrRenumbered, so a caller re-reads its
// sequence numbers for a renumbering that came after the part's answer,
// and takes a NO for a stale-numbers error.
func TestSplitFetchPartNOBeforeExpungeNotRenumbered(t *testing.T) {
	got, end := fetchSevenPartsNoopAtFirst(t, "split/readahead_no")
	want := []uint32{1, 3, 5, 7, 9}
	if !slices.Equal(got, want) || end == nil || errors.Is(end, commands.ErrRenumbered) {
		t.Fatalf("Fetch in 7 parts, the third answered NO before the EXPUNGE: yielded %v, ended with %v; want %v, then the NO alone (not ErrRenumbered)", got, end, want)
	}
}
