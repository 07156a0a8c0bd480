package commands

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// bigSelectClient opens a Client on a fake server without ESEARCH that
// answers SELECT of a mailbox named by a number with that many EXISTS
// (SELECT 5000000: "* 5000000 EXISTS"), and every other command OK.
func bigSelectClient(t *testing.T) (*Client, context.Context) {
	t.Helper()
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			if cmd.Name == "SELECT" {
				n, _ := strconv.ParseUint(cmd.Args, 10, 32)
				err = c.Lines("* "+strconv.FormatUint(n, 10)+" EXISTS", cmd.Tag+" OK [READ-WRITE] done")
			} else {
				err = c.Line(cmd.Tag + " OK done")
			}
			if err != nil {
				return err
			}
		}
	})
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(s), ctx
}

func bigSelect(t *testing.T, ctx context.Context, c *Client, n int) *MailboxState {
	t.Helper()
	st, err := c.Select(ctx, strconv.Itoa(n), nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func wantBoundReselected(t *testing.T, what string, err error) {
	t.Helper()
	var ns *session.NotSentError
	if !errors.Is(err, session.ErrReselected) || !errors.As(err, &ns) {
		t.Errorf("%s: %v; want a *session.NotSentError matching session.ErrReselected", what, err)
	}
}

// TestSearchSplitReadsBoundCount: Search without ESEARCH cuts a
// search of the whole mailbox in parts of Session.MaxNumbers numbers,
// from the count the selected mailbox has (Exists). Under a context bound
// to a selection that no longer holds (MailboxState.Bind, then another
// goroutine's SELECT of a mailbox of 5000000 messages), that count is the
// other mailbox's: read through Client.exists it is "not known", and
// Search builds one command (refused by the session, ErrReselected); read
// unbound (Session.Exists), it built the parts of the other mailbox (3
// with the default MaxNumbers of 2^21; 2048 for a hostile EXISTS of
// 2^32-1), each refused in turn. Default options.
func TestSearchSplitReadsBoundCount(t *testing.T) {
	c, ctx := bigSelectClient(t)
	st := bigSelect(t, ctx, c, 3)
	inA := st.Bind(ctx)
	bigSelect(t, ctx, c, 5000000) // another goroutine's, say
	if n, known := c.s.Exists(); !known || n != 5000000 {
		t.Fatalf("Exists = %d, %v; want 5000000", n, known)
	}
	cmds, _, _, err := c.searchCommands(inA, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 1 {
		t.Errorf("Search bound to a mailbox of 3 messages, after a SELECT of 5000000: %d commands; want 1 (the count read is not the binding's)", len(cmds))
	}
	_, err = c.Search(inA, nil, nil)
	wantBoundReselected(t, "Search bound to the replaced selection", err)
	// Unbound, the count is the mailbox's own: the split is kept.
	if cmds, _, _, err = c.searchCommands(ctx, nil, nil); err != nil || len(cmds) != 3 {
		t.Errorf("unbound Search of 5000000 messages: %d commands, %v; want 3", len(cmds), err)
	}
}

// TestSelectionZeroChecked: a session that never selected a
// mailbox has selection count 0 (Session.Selections), a count like any
// other; a split job (Fetch, Store, Copy, Search of a long set) read it
// before its first part, but gave it to its parts without
// CheckSelection, and the session checks a 0 only with it: a SELECT
// another goroutine started before the first part's turn (one queued
// earlier) had every part go to that mailbox, where a job begun with a
// mailbox selected is refused (ErrReselected). And renumberedError read
// a 0 as "unbound": a part stopped by that SELECT said ErrRenumbered
// alone, not ErrReselected. Now a count read is always checked. The
// SELECT's turn is made to come between the read and the part's by
// running it between building the parts and running the first.
// SetMaxSetLength(8) only makes a short set long enough to cut.
func TestSelectionZeroChecked(t *testing.T) {
	c, ctx := bigSelectClient(t)
	c.SetMaxSetLength(8)
	if sel := c.s.Selections(); sel != 0 {
		t.Fatalf("a fresh session's Selections = %d; want 0", sel)
	}
	var set Set
	set.UID = true
	set.Nums.AddNum(1, 3, 5, 7, 9, 11, 13, 15)

	run := c.newSplitRun(ctx, set, "UID FETCH")
	if len(run.parts) < 2 {
		t.Fatalf("the set was not cut: %d parts", len(run.parts))
	}
	part := run.command(ctx, &session.Command{Name: "NOOP"})
	cmds, _, check, err := c.searchCommands(ctx, &Criteria{Set: &Set{Nums: set.Nums}}, nil)
	if err != nil || len(cmds) < 2 {
		t.Fatalf("searchCommands: %d commands, %v; want the set cut", len(cmds), err)
	}

	bigSelect(t, ctx, c, 3) // another goroutine's SELECT, queued earlier

	_, err = c.s.Run(ctx, part)
	wantBoundReselected(t, "a part of a split begun before any SELECT, sent after one", err)
	_, err = c.s.Run(ctx, cmds[0])
	wantBoundReselected(t, "a part of a split Search begun before any SELECT, sent after one", err)
	err = check(1) // the SELECT renumbered too
	wantBoundReselected(t, "the check of Search's second part", err)
	if !errors.Is(err, ErrRenumbered) {
		t.Errorf("the check of Search's second part: %v; want ErrRenumbered too", err)
	}
}

// TestRangeSetLimit: the set of ranges a SELECT gathers VANISHED into
// keeps its lowest ranges and says it cut once past its limit; the one
// ChangedNotKept is gathered into stands for more than it was given
// instead (one range, lowest to highest), never for less.
func TestRangeSetLimit(t *testing.T) {
	for _, widen := range []bool{false, true} {
		a := rangeSet{limit: 4, widen: widen}
		for _, u := range []uint32{11, 1, 9, 3, 7, 5, 3} {
			a.add(wire.SeqRange{Start: u, Stop: u})
		}
		set, cut := a.done()
		want, wantCut := "1,3,5,7", true
		if widen {
			want, wantCut = "1:11", false
		}
		if set.String() != want || cut != wantCut {
			t.Errorf("widen %v: 1,3,5,7,9,11 in 4 ranges: %q, cut %v; want %q, cut %v", widen, set.String(), cut, want, wantCut)
		}
	}
	var a rangeSet
	a.limit = 4
	a.add(wire.SeqRange{Start: 1, Stop: 5}, wire.SeqRange{Start: 3, Stop: 9}, wire.SeqRange{Start: 10, Stop: 10}, wire.SeqRange{Start: 20, Stop: 4294967295})
	if set, cut := a.done(); set.String() != "1:10,20:4294967295" || cut {
		t.Errorf("1:5,3:9,10,20:4294967295: %q, cut %v", set.String(), cut)
	}
}

// TestRangeSetDescendingLinear: a hostile server that reports 200,000
// expunged UIDs one VANISHED at a time, in descending order and apart
// (no two merge), costs the gathering set a number of range moves linear
// in them: added one by one (codec.SeqSet.AddRange), each would shift all
// those before, 2*10^10 moves.
func TestRangeSetDescendingLinear(t *testing.T) {
	const n = 200000
	var shifted int64
	defer workhook.RangesShifted.Set(t, func(_, _, k int) { shifted += int64(k) })()
	gatherDescendingApart(t, n)
	if shifted > 4*n {
		t.Errorf("%d UIDs apart in descending order: %d ranges moved; want at most %d", n, shifted, 4*n)
	}
}

// TestRangeSetCutKeepsEveryUIDBelowItsHighest: once cut, the set a SELECT
// gathers VANISHED into holds exactly the UIDs reported up to its highest
// (MailboxState.VanishedIncomplete's promise: only those past the highest
// are unknown), whatever comes after the cut. A UID dropped by the cut
// must not end up below the highest kept when a later range bridges a
// gap under it.
func TestRangeSetCutKeepsEveryUIDBelowItsHighest(t *testing.T) {
	a := rangeSet{limit: 2}
	a.add(wire.SeqRange{Start: 1, Stop: 1}, wire.SeqRange{Start: 3, Stop: 3}, wire.SeqRange{Start: 5, Stop: 5})
	a.flush() // cut: 1,3 kept, 5 dropped
	a.add(wire.SeqRange{Start: 2, Stop: 2}, wire.SeqRange{Start: 7, Stop: 7})
	set, cut := a.done()
	rs := set.Ranges()
	if !cut || len(rs) == 0 {
		t.Fatalf("1,3,5 then 2,7 in 2 ranges: %q, cut %v; want a cut set", set.String(), cut)
	}
	high := rs[len(rs)-1].Stop
	for _, u := range []uint32{1, 2, 3, 5, 7} {
		if u <= high && !set.Contains(u) {
			t.Errorf("1,3,5 then 2,7 in 2 ranges: %q, cut %v: UID %d reported, at or below the highest kept %d, missing", set.String(), cut, u, high)
		}
	}
}

// TestRangeSetMemoryWithinMaxResultBytes: a hostile server's VANISHED
// (EARLIER) of alternating UIDs (1,3,5,..., and the same descending), 3
// times as many ranges as the set keeps, costs the set a bounded buffer at
// the defaults: all it allocates, growth and the result included, stays
// within twice MaxResultBytes whatever it is sent (its live peak within
// MaxResultBytes: rangeSet), not a multiple of it that grows with each
// merge (codec.SeqSet.AddRanges copying set and batch each time: 5 to 8
// times MaxResultBytes live).
func TestRangeSetMemoryWithinMaxResultBytes(t *testing.T) {
	limit := ranges(session.DefaultMaxResultBytes)
	n := 3 * limit
	for _, desc := range []bool{false, true} {
		a := rangeSet{limit: limit}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range n {
			u := uint32(2*i + 1)
			if desc {
				u = uint32(2*(n-i) + 1)
			}
			a.add(wire.SeqRange{Start: u, Stop: u})
		}
		set, cut := a.done()
		runtime.ReadMemStats(&after)
		if len(set.Ranges()) != limit || !cut {
			t.Fatalf("descending %v: %d UIDs apart: %d ranges kept, cut %v; want %d, cut", desc, n, len(set.Ranges()), cut, limit)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 2*session.DefaultMaxResultBytes {
			t.Errorf("descending %v: %d UIDs apart (%d ranges kept): %d bytes allocated; want at most %d (twice MaxResultBytes)",
				desc, n, limit, got, 2*session.DefaultMaxResultBytes)
		}
	}
}

// TestRangeSetSortsLinearly: 200,000 expunged UIDs sent one VANISHED at
// a time, in descending order and apart (no two merge), cost the set's
// in-place merges a number of ranges sorted linear in them (each merge
// takes in at least as many as the set holds): merged one by one, each
// would sort all those before, 2*10^10.
func TestRangeSetSortsLinearly(t *testing.T) {
	const n = 200000
	a := gatherDescendingApart(t, n)
	if a.sorted > 4*n {
		t.Errorf("%d UIDs apart in descending order: %d ranges sorted; want at most %d", n, a.sorted, 4*n)
	}
}

// gatherDescendingApart gathers the UIDs 2n, 2n-2, ..., 2 one range at a
// time, at the defaults, checks that the set holds them all, and returns
// the rangeSet (its work counter).
func gatherDescendingApart(t *testing.T, n int) *rangeSet {
	t.Helper()
	a := &rangeSet{limit: ranges(session.DefaultMaxResultBytes)}
	for i := n; i > 0; i-- {
		u := uint32(2 * i)
		a.add(wire.SeqRange{Start: u, Stop: u})
	}
	set, cut := a.done()
	if k, _ := set.Len(); k != uint64(n) || cut || len(set.Ranges()) != n {
		t.Fatalf("%d UIDs apart: %d in %d ranges, cut %v", n, k, len(set.Ranges()), cut)
	}
	return a
}

// TestMayBeParentAnyLengths: mayBeParent answers for names of any
// lengths, a name shorter than the parent included (it is no child of
// it), without relying on its caller (learnSelectedDelim) to have
// checked the lengths first.
func TestMayBeParentAnyLengths(t *testing.T) {
	for _, c := range []struct {
		parent, name string
		want         bool
	}{
		{"Work", "Work/Inbox", true},
		{"INBOX", "inbox/a", true},
		{"inbox.a", "INBOX.a.b", true},
		{"INBOX/a", "inbox", false},
		{"INBOX/a", "INB", false},
		{"INBOXES", "inbox", false},
		{"Work", "Wo", false},
		{"Other", "Work/Inbox", false},
	} {
		if got := mayBeParent(c.parent, c.name); got != c.want {
			t.Errorf("mayBeParent(%q, %q) = %v; want %v", c.parent, c.name, got, c.want)
		}
	}
}
