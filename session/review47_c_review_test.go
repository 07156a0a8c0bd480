package session_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

func review47CRecentCounts(rs []codec.Response) []uint32 {
	var out []uint32
	for _, r := range rs {
		if rc, ok := r.(*codec.Recent); ok {
			out = append(out, rc.Count)
		}
	}
	return out
}

// TestReview47CRecentReselectedDropsNewMailboxData (found by review):
// Session.Recent begun in A took the RECENT data kept (Responses pops it)
// and only then compared the selection count. When a SELECT of B started
// in between (here: once Recent's NOOP is over, ordered by OnRecent), what
// it popped was B's SELECT's RECENT 7: Recent rightly refused
// (ErrReselected) but dropped the data, so the goroutine that selected B
// and asks Recent next got nothing (its NOOP brings no RECENT: the server
// already said it). The data is of the selection now, not the stale
// caller's: it stays kept. Recent now compares and takes in one step
// under the session's lock.
func TestReview47CRecentReselectedDropsNewMailboxData(t *testing.T) {
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
	if got := review47CRecentCounts(rs); len(got) != 1 || got[0] != 7 {
		t.Errorf("Recent in B after a stale Recent was refused = %v; want [7] (B's SELECT's RECENT, dropped by the refused call)", got)
	}
}

// TestReview47CRecentAfterCloseReturnsClosedMailbox (found by review):
// Recent is documented as returning the RECENT data "of the mailbox
// selected at its call". In one goroutine: SELECT B (RECENT 7 kept),
// CLOSE, then Recent: nothing is selected, yet Recent returned B's 7 (the
// store is cleared when a SELECT starts, not when the mailbox is closed,
// and CLOSE moves the count before Recent reads it, so its check passed).
// Now, with no mailbox selected, Recent returns nothing and sends no NOOP;
// Responses("RECENT") still pops B's 7, as imaplib's response() keeps
// the data after close().
func TestReview47CRecentAfterCloseReturnsClosedMailbox(t *testing.T) {
	s, ctx, noops := recentServer(t)
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
	if got := review47CRecentCounts(rs); len(got) > 0 || err != nil {
		t.Errorf("Recent with no mailbox selected (after CLOSE of B) = %v, %v; want no count, nil (B's RECENT is not of a mailbox selected at the call)", got, err)
	}
	if n := noops.Load(); n != 0 {
		t.Errorf("Recent with no mailbox selected sent %d NOOP; want none", n)
	}
	if got := review47CRecentCounts(s.Responses("RECENT")); len(got) != 1 || got[0] != 7 {
		t.Errorf(`Responses("RECENT") after CLOSE = %v; want [7] (kept, as imaplib's response())`, got)
	}
}

// TestReview47CRecentAfterBadSelect: after a failed SELECT (a BAD, after
// which Cyrus keeps the old mailbox selected) the session has no mailbox
// selected: Recent returns nothing and sends no NOOP (which Cyrus would
// answer with the old mailbox's RECENT). Also before any SELECT.
func TestReview47CRecentAfterBadSelect(t *testing.T) {
	s, ctx, noops := recentServer(t)
	if _, err := s.Run(ctx, selectCmd("B")); err != nil {
		t.Fatal(err)
	}
	s.Responses("RECENT")
	if _, err := s.Run(ctx, selectCmd("BAD")); err == nil {
		t.Fatal("SELECT BAD succeeded")
	}
	rs, err := s.Recent(ctx)
	if len(rs) != 0 || err != nil {
		t.Errorf("Recent after a failed SELECT = %v, %v; want nothing, nil", rs, err)
	}
	if n := noops.Load(); n != 0 {
		t.Errorf("Recent after a failed SELECT sent %d NOOP; want none", n)
	}
}

// TestReview47CRecentInStaleSendsNothing: RecentIn with a selection count
// that no longer holds (the session's count has moved: a SELECT of B is
// over) refuses with ErrReselected before anything: it sends no NOOP and
// leaves B's kept RECENT for the selection now. This is the entry point
// commands.Client.Recent passes its binding's count to; when it checked
// the binding and then called Recent (which read the count anew), a
// SELECT in between had its NOOP go to B.
func TestReview47CRecentInStaleSendsNothing(t *testing.T) {
	s, ctx, noops := recentServer(t)
	inA := s.Selections()
	if _, err := s.Run(ctx, selectCmd("B")); err != nil {
		t.Fatal(err)
	}
	rs, err := s.RecentIn(ctx, inA) // B's RECENT 7 kept
	wantRecentReselected(t, rs, err)
	rs, err = s.RecentIn(ctx, s.Selections())
	if got := review47CRecentCounts(rs); err != nil || len(got) != 1 || got[0] != 7 {
		t.Fatalf("RecentIn(B's count) = %v, %v; want [7], kept through the refused call", got, err)
	}
	rs, err = s.RecentIn(ctx, inA) // nothing kept: would prod
	wantRecentReselected(t, rs, err)
	if n := noops.Load(); n != 0 {
		t.Errorf("RecentIn with A's count sent %d NOOP to B; want none", n)
	}
}
