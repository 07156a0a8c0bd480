package commands_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestSearchSeqExpungeInsideAnswer: RFC 9051 section 5.5 forbids an
// EXPUNGE while the server answers a SEARCH, as it does for FETCH and
// STORE. A hostile server sends "* SEARCH 2 3", then "* 1 EXPUNGE", then
// its OK: the numbers Search returns (2, 3) name other messages once the
// EXPUNGE is read (the ones that were 3 and 4). Fetch and Store report
// that case as ErrRenumbered (session.Pending.RenumberedInFlight,
// TestStoreSeqExpungeInsideAnswer); Search by sequence numbers checks
// the count only between its parts (searchCommands' check), never for
// the EXPUNGE read inside a part's answer, and returns the stale numbers
// with no error. Defaults.
func TestSearchSeqExpungeInsideAnswer(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 4, on: handlers{
		"SEARCH": answer(`* SEARCH 2 3`, `* 1 EXPUNGE`),
	}})
	res, err := c.Search(ctx, &commands.Criteria{}, nil)
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Errorf("SEARCH (by sequence numbers) answered \"* SEARCH 2 3\", \"* 1 EXPUNGE\", OK: result %v, err %v; want an error wrapping ErrRenumbered (2 and 3 now name other messages)", res, err)
	}
}

// TestStoreSeqExpungeInsideAnswerPastMaxResultBytes: a STORE by
// sequence numbers whose answer holds an EXPUNGE (RFC 9051 section 5.5
// forbids it) returns ErrRenumbered with its result
// (TestStoreSeqExpungeInsideAnswer), but not when the answer also went
// past the session's MaxResultBytes (the subject here, so set small):
// splitRun.runPart (commands/split.go) checks RenumberedInFlight only
// when Wait returned nil, and the *session.ResultTooLargeError it
// returned instead is then taken as done (Store's run.done). Store
// returns the Messages kept before the bound, numbered before the
// EXPUNGE, with no error: "* 1 FETCH", "* 1 EXPUNGE", "* 1 FETCH" reads
// as message 1 stored once, though two messages were.
func TestStoreSeqExpungeInsideAnswerPastMaxResultBytes(t *testing.T) {
	pad := `* 3 FETCH (FLAGS (\Seen $` + strings.Repeat("x", 200) + `))`
	ctx, _, c := fakeSession(t, fakeServer{caps: "IMAP4rev1", exists: 3, on: handlers{
		"STORE": answer(`* 1 FETCH (FLAGS (\Seen))`, `* 1 EXPUNGE`, `* 1 FETCH (FLAGS (\Seen))`, pad, pad, pad),
	}}, &session.Options{MaxResultBytes: 512})
	res, err := c.Store(ctx, commands.SeqRange(1, 3), commands.AddFlags, []string{commands.FlagSeen}, nil)
	if !errors.Is(err, commands.ErrRenumbered) {
		var seqs []uint32
		dropped := 0
		if res != nil {
			for _, m := range res.Messages {
				seqs = append(seqs, m.SeqNum)
			}
			dropped = res.Dropped
		}
		t.Errorf("STORE 1:3 with an EXPUNGE inside an answer past MaxResultBytes: %v, messages numbered %v (%d dropped); want an error wrapping ErrRenumbered, as without the bound", err, seqs, dropped)
	}
}

// TestStoreSplitSeqExpungeInsidePartDone: a STORE by sequence numbers
// cut into parts (SetMaxSetLength) whose second part's answer holds an
// EXPUNGE. The part was run (the server said OK: the flags are stored)
// and its FETCH responses are in the result, yet the *SplitError says
// only the first part was done: splitRun.run counts a part whose error
// is runPart's ErrRenumbered as failed (r.result, then r.fail), while a
// single-part STORE with the same answer is "the store was done, result
// kept" (Store's doc). A caller told part 2 was not done retries it: a
// REPLACE or -FLAGS run again on messages whose numbers moved.
func TestStoreSplitSeqExpungeInsidePartDone(t *testing.T) {
	var n atomic.Int32
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 10, on: handlers{
		"STORE": func(hc *hostile.Conn, cmd *hostile.Command) error {
			if n.Add(1) == 2 {
				return hc.Lines(`* 5 FETCH (FLAGS (\Seen))`, `* 5 EXPUNGE`, `* 6 FETCH (FLAGS (\Seen))`, cmd.Tag+" OK done")
			}
			return hc.Lines(`* 1 FETCH (FLAGS (\Seen))`, cmd.Tag+" OK done")
		},
	}})
	c.SetMaxSetLength(1)
	set := commands.SeqNums(1, 5, 7)
	res, err := c.Store(ctx, set, commands.AddFlags, []string{commands.FlagSeen}, nil)
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Fatalf("Store: %v; want ErrRenumbered", err)
	}
	var se *commands.SplitError
	if !errors.As(err, &se) {
		t.Fatalf("Store: %v (%T); want a *SplitError", err, err)
	}
	if !se.Done.Nums.Contains(5) {
		t.Errorf("STORE cut in parts, the second answered OK with an EXPUNGE inside: SplitError.Done = %v (Sent %d of %d), result holds %d messages; want part 2 (5) in Done: the server ran it and its answer is in the result", se.Done.Nums, se.Sent, se.Parts, len(res.Messages))
	}
}

// TestSortThreadSearchIterSeqExpungeInsideAnswer: as for Search
// (TestSearchSeqExpungeInsideAnswer), an EXPUNGE read inside the answer
// to SORT, THREAD or SearchIter's SEARCH by sequence numbers leaves the
// numbers given stale: each ends with an error wrapping ErrRenumbered,
// Sort and Thread with their result kept. The UID forms are not
// checked (their numbers stay). Defaults.
func TestSortThreadSearchIterSeqExpungeInsideAnswer(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 SORT THREAD=REFERENCES", exists: 4, on: handlers{
		"SORT":       answer(`* SORT 3 2`, `* 1 EXPUNGE`),
		"THREAD":     answer(`* THREAD (2)(3)`, `* 1 EXPUNGE`),
		"SEARCH":     answer(`* SEARCH 2 3`, `* 1 EXPUNGE`),
		"UID SORT":   answer(`* SORT 30 20`, `* 1 EXPUNGE`),
		"UID SEARCH": answer(`* SEARCH 20 30`, `* 1 EXPUNGE`),
	}})
	keys := []commands.SortKey{{Key: "ARRIVAL"}}
	nums, err := c.Sort(ctx, keys, nil, nil)
	if !errors.Is(err, commands.ErrRenumbered) || len(nums) != 2 {
		t.Errorf("SORT answered \"* SORT 3 2\", \"* 1 EXPUNGE\", OK: %v, %v; want [3 2] with an error wrapping ErrRenumbered", nums, err)
	}
	threads, err := c.Thread(ctx, "REFERENCES", nil, nil)
	if !errors.Is(err, commands.ErrRenumbered) || len(threads) != 2 {
		t.Errorf("THREAD answered with an EXPUNGE inside: %d threads, %v; want 2 with an error wrapping ErrRenumbered", len(threads), err)
	}
	var last error
	for _, err := range c.SearchIter(ctx, nil, nil) {
		last = err
	}
	if !errors.Is(last, commands.ErrRenumbered) {
		t.Errorf("SearchIter answered with an EXPUNGE inside: ended with %v; want an error wrapping ErrRenumbered", last)
	}
	if _, err := c.Sort(ctx, keys, nil, &commands.SearchOptions{UID: true}); err != nil {
		t.Errorf("UID SORT with an EXPUNGE inside: %v; want no error (UIDs stay)", err)
	}
	if _, err := c.Search(ctx, nil, &commands.SearchOptions{UID: true}); err != nil {
		t.Errorf("UID SEARCH with an EXPUNGE inside: %v; want no error (UIDs stay)", err)
	}
}
