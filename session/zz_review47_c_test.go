package session_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

func zzRecentCounts(rs []codec.Response) []uint32 {
	var out []uint32
	for _, r := range rs {
		if rc, ok := r.(*codec.Recent); ok {
			out = append(out, rc.Count)
		}
	}
	return out
}

// TestZZRecentReselectedDropsNewMailboxData: Session.Recent begun in A
// takes the RECENT data kept (Responses pops it) and only then compares
// the selection count. When a SELECT of B started in between (here: once
// Recent's NOOP is over, ordered by OnRecent), what it popped is B's
// SELECT's RECENT 7: Recent rightly refuses (ErrReselected) but drops
// the data, so the goroutine that selected B and asks Recent next gets
// nothing (its NOOP brings no RECENT: the server already said it). The
// data is of the selection now, not the stale caller's: it must stay
// kept. (Pop and check are two lock sections; under one, a changed count
// would leave the data in place.)
func TestZZRecentReselectedDropsNewMailboxData(t *testing.T) {
	s, ctx, _ := recentServer(t)
	done := false
	session.OnRecent(t, func(afterNoop bool) {
		if afterNoop && !done {
			done = true
			if _, err := s.Run(ctx, selectCmd("B")); err != nil {
				t.Error(err)
			}
		}
	})
	rs, err := s.Recent(ctx)
	wantRecentReselected(t, rs, err)
	// The goroutine that selected B asks for B's RECENT.
	rs, err = s.Recent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := zzRecentCounts(rs); len(got) != 1 || got[0] != 7 {
		t.Errorf("Recent in B after a stale Recent was refused = %v; want [7] (B's SELECT's RECENT, dropped by the refused call)", got)
	}
}

// TestZZRecentAfterCloseReturnsClosedMailbox: Recent is documented as
// returning the RECENT data "of the mailbox selected at its call"
// (unsolicited.go Recent, doc.go, docs/session.md). In one goroutine:
// SELECT B (RECENT 7 kept), CLOSE, then Recent: nothing is selected, yet
// Recent returns B's 7 (the store is cleared when a SELECT starts, not
// when the mailbox is closed, and CLOSE moves the count before Recent
// reads it, so its check passes).
func TestZZRecentAfterCloseReturnsClosedMailbox(t *testing.T) {
	s, ctx, _ := recentServer(t)
	if _, err := s.Run(ctx, selectCmd("B")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "CLOSE"}); err != nil {
		t.Fatal(err)
	}
	if st := s.State(); st != session.StateAuth {
		t.Fatalf("state after CLOSE: %v", st)
	}
	rs, err := s.Recent(ctx)
	if got := zzRecentCounts(rs); len(got) > 0 {
		t.Errorf("Recent with no mailbox selected (after CLOSE of B) = %v, %v; want no count (B's RECENT is not of a mailbox selected at the call)", got, err)
	}
}
