package session_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

func recentCounts(rs []codec.Response) []uint32 {
	var out []uint32
	for _, r := range rs {
		if rc, ok := r.(*codec.Recent); ok {
			out = append(out, rc.Count)
		}
	}
	return out
}

// TestRecentReselectedDropsNewMailboxData (found by review):
// Session.Recent begun in A took the RECENT data kept (Responses pops it)
// and only then compared the selection count. When a SELECT of B started
// in between (here: once Recent's NOOP is over, ordered by OnRecent), what
// it popped was B's SELECT's RECENT 7: Recent rightly refused
// (ErrReselected) but dropped the data, so the goroutine that selected B
// and asks Recent next got nothing (its NOOP brings no RECENT: the server
// already said it). The data is of the selection now, not the stale
// caller's: it stays kept. Recent now compares and takes in one step
// under the session's lock.
func TestRecentReselectedDropsNewMailboxData(t *testing.T) {
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
	if got := recentCounts(rs); len(got) != 1 || got[0] != 7 {
		t.Errorf("Recent in B after a stale Recent was refused = %v; want [7] (B's SELECT's RECENT, dropped by the refused call)", got)
	}
}

// TestRecentAfterCloseReturnsClosedMailbox (found by review):
// Recent is documented as returning the RECENT data "of the mailbox
// selected at its call". In one goroutine: SELECT B (RECENT 7 kept),
// CLOSE, then Recent: nothing is selected, yet Recent returned B's 7 (the
// store is cleared when a SELECT starts, not when the mailbox is closed,
// and CLOSE moves the count before Recent reads it, so its check passed).
// Now, with no mailbox selected, Recent returns nothing and sends no NOOP;
// Responses("RECENT") still pops B's 7, as imaplib's response() keeps
// the data after close().
func TestRecentAfterCloseReturnsClosedMailbox(t *testing.T) {
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
	if got := recentCounts(rs); len(got) > 0 || err != nil {
		t.Errorf("Recent with no mailbox selected (after CLOSE of B) = %v, %v; want no count, nil (B's RECENT is not of a mailbox selected at the call)", got, err)
	}
	if n := noops.Load(); n != 0 {
		t.Errorf("Recent with no mailbox selected sent %d NOOP; want none", n)
	}
	if got := recentCounts(s.Responses("RECENT")); len(got) != 1 || got[0] != 7 {
		t.Errorf(`Responses("RECENT") after CLOSE = %v; want [7] (kept, as imaplib's response())`, got)
	}
}

// TestRecentAfterBadSelect: after a failed SELECT (a BAD, after
// which Cyrus keeps the old mailbox selected) the session has no mailbox
// selected: Recent returns nothing and sends no NOOP (which Cyrus would
// answer with the old mailbox's RECENT). Also before any SELECT.
func TestRecentAfterBadSelect(t *testing.T) {
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

// TestRecentInStaleSendsNothing: RecentIn with a selection count
// that no longer holds (the session's count has moved: a SELECT of B is
// over) refuses with ErrReselected before anything: it sends no NOOP and
// leaves B's kept RECENT for the selection now. This is the entry point
// commands.Client.Recent passes its binding's count to; when it checked
// the binding and then called Recent (which read the count anew), a
// SELECT in between had its NOOP go to B.
func TestRecentInStaleSendsNothing(t *testing.T) {
	s, ctx, noops := recentServer(t)
	inA := s.Selections()
	if _, err := s.Run(ctx, selectCmd("B")); err != nil {
		t.Fatal(err)
	}
	rs, err := s.RecentIn(ctx, inA) // B's RECENT 7 kept
	wantRecentReselected(t, rs, err)
	rs, err = s.RecentIn(ctx, s.Selections())
	if got := recentCounts(rs); err != nil || len(got) != 1 || got[0] != 7 {
		t.Fatalf("RecentIn(B's count) = %v, %v; want [7], kept through the refused call", got, err)
	}
	rs, err = s.RecentIn(ctx, inA) // nothing kept: would prod
	wantRecentReselected(t, rs, err)
	if n := noops.Load(); n != 0 {
		t.Errorf("RecentIn with A's count sent %d NOOP to B; want none", n)
	}
}

// recentServer opens a session on a fake server whose SELECT of B brings
// "* 9 EXISTS" and "* 7 RECENT" (A's brings 3 EXISTS and none), and
// counts the NOOPs it reads.
func recentServer(t *testing.T) (*session.Session, context.Context, *atomic.Int32) {
	t.Helper()
	noops := new(atomic.Int32)
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch {
			case cmd.Name == "SELECT" && cmd.Args == "BAD":
				// Cyrus keeps the old mailbox selected after a BAD SELECT.
				err = c.Line(cmd.Tag + " BAD no such mailbox name")
			case cmd.Name == "SELECT" && cmd.Args == "B":
				err = c.Lines("* 9 EXISTS", "* 7 RECENT", cmd.Tag+" OK [READ-WRITE] done")
			case cmd.Name == "SELECT":
				err = c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
			case cmd.Name == "NOOP":
				noops.Add(1)
				err = c.Line(cmd.Tag + " OK done")
			default:
				err = c.Answer(cmd)
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
	if _, err := s.Run(ctx, selectCmd("A")); err != nil {
		t.Fatal(err)
	}
	return s, ctx, noops
}

func selectCmd(name string) *session.Command {
	return &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom(name) }}
}

// wantRecentReselected checks that Session.Recent refused with
// ErrReselected rather than return B's count (7).
func wantRecentReselected(t *testing.T, rs []codec.Response, err error) {
	t.Helper()
	var ns *session.NotSentError
	if !errors.Is(err, session.ErrReselected) || !errors.As(err, &ns) {
		t.Errorf("Recent across a SELECT of B: %v; want a *session.NotSentError matching session.ErrReselected", err)
	}
	if slices.ContainsFunc(rs, func(r codec.Response) bool {
		rc, ok := r.(*codec.Recent)
		return ok && rc.Count == 7
	}) {
		t.Errorf("Recent begun in A returned B's RECENT 7: %v", rs)
	}
}

// TestRecentNoopBoundToSelection: Session.Recent's NOOP was unbound, so a
// SELECT another goroutine started after Recent's call (here: once Recent
// read the selection and found no RECENT kept, through the test hook
// OnRecent) had the NOOP go to
// the other mailbox, and Recent returned that mailbox's RECENT (7) as if
// it were the one selected at the call. commands.Client.Recent had its own
// copy of Recent, bound, to get this right; now Session.Recent binds its
// NOOP to the selection it read first (Command.Selection, CheckSelection)
// and an embedder of the session gets it too. The server reads no NOOP.
// (Replaces a test of commands' (7aa014d) that ordered the goroutines
// through the context's Err calls.)
func TestRecentNoopBoundToSelection(t *testing.T) {
	s, ctx, noops := recentServer(t)
	session.OnRecent(t, func(afterNoop bool) {
		if !afterNoop {
			// Another goroutine's SELECT, started once Recent has read
			// the selection and before its NOOP: run here, in order.
			if _, err := s.Run(ctx, selectCmd("B")); err != nil {
				t.Error(err)
			}
		}
	})
	rs, err := s.Recent(ctx)
	wantRecentReselected(t, rs, err)
	if n := noops.Load(); n != 0 {
		t.Errorf("Recent begun in A sent %d NOOP to B; want none (its NOOP is bound)", n)
	}
}

// TestRecentKeptDataChecksSelection: Session.Recent took the RECENT data
// kept after its NOOP without checking the selection: a SELECT that
// started once the NOOP was over (it waited for it) kept B's RECENT (7)
// before Recent took it, and Recent returned B's count. It now checks the
// selection after taking the data. Ordered by the test hook OnRecent (the
// SELECT runs once the NOOP is over, before the data is taken). (Replaces
// a test of commands' (7aa014d) that held Pending.Wait through the
// context's Done, found by runtime.Caller.)
func TestRecentKeptDataChecksSelection(t *testing.T) {
	s, ctx, noops := recentServer(t)
	session.OnRecent(t, func(afterNoop bool) {
		if afterNoop {
			if _, err := s.Run(ctx, selectCmd("B")); err != nil {
				t.Error(err)
			}
		}
	})
	rs, err := s.Recent(ctx)
	wantRecentReselected(t, rs, err)
	if n := noops.Load(); n != 1 {
		t.Errorf("the server read %d NOOP; want 1 (in A)", n)
	}
}

// TestRecentWithoutSelect: with no SELECT meanwhile, Recent returns the
// kept RECENT data, or the NOOP's, as before.
func TestRecentWithoutSelect(t *testing.T) {
	s, ctx, noops := recentServer(t)
	if _, err := s.Run(ctx, selectCmd("B")); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Recent(ctx) // B's kept RECENT 7: no NOOP
	if err != nil || len(rs) != 1 || rs[0].(*codec.Recent).Count != 7 {
		t.Fatalf("Recent = %v, %v; want B's RECENT 7", rs, err)
	}
	if rs, err = s.Recent(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("Recent = %v, %v; want none (NOOP brought none)", rs, err)
	}
	if n := noops.Load(); n != 1 {
		t.Errorf("the server read %d NOOP; want 1", n)
	}
}

// TestRecentCutToItsSelectionCount: Recent in A (3 messages) whose NOOP
// is answered "* 9 RECENT" (above the count: a broken or hostile server)
// gives 3, cut in the step that takes the data (the count of the same
// selection). Defaults.
func TestRecentCutToItsSelectionCount(t *testing.T) {
	s, ctx := recentAnswerServer(t, "* 9 RECENT")
	rs, err := s.Recent(ctx)
	if got := recentCounts(rs); err != nil || len(got) != 1 || got[0] != 3 {
		t.Errorf("Recent in a mailbox of 3 answered 9 RECENT = %v, %v; want [3]", got, err)
	}
}

// recentAnswerServer is a session with A (3 messages) selected whose
// server answers NOOP with line.
func recentAnswerServer(t *testing.T, line string) (*session.Session, context.Context) {
	t.Helper()
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "SELECT":
				err = c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
			case "NOOP":
				err = c.Lines(line, cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
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
	if _, err := s.Run(ctx, selectCmd("A")); err != nil {
		t.Fatal(err)
	}
	return s, ctx
}
