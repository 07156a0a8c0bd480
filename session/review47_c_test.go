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

// recentServer opens a session on a fake server whose SELECT of B brings
// "* 7 RECENT" (A's brings none), and counts the NOOPs it reads.
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
				err = c.Lines("* 2 EXISTS", "* 7 RECENT", cmd.Tag+" OK [READ-WRITE] done")
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

// TestReview47CRecentNoopBound: Session.Recent's NOOP was unbound, so a
// SELECT another goroutine started after Recent's call (here: once Recent
// read the selection and found no RECENT kept, through the test hook
// OnRecent) had the NOOP go to
// the other mailbox, and Recent returned that mailbox's RECENT (7) as if
// it were the one selected at the call. commands.Client.Recent had its own
// copy of Recent, bound, to get this right; now Session.Recent binds its
// NOOP to the selection it read first (Command.Selection, CheckSelection)
// and an embedder of the session gets it too. The server reads no NOOP.
// (Replaces commands' TestReview46GBoundRecentNoopBound, which ordered
// the goroutines through the context's Err calls.)
func TestReview47CRecentNoopBound(t *testing.T) {
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

// TestReview47CRecentKeptChecked: Session.Recent took the RECENT data
// kept after its NOOP without checking the selection: a SELECT that
// started once the NOOP was over (it waited for it) kept B's RECENT (7)
// before Recent took it, and Recent returned B's count. It now checks the
// selection after taking the data. Ordered by the test hook OnRecent (the
// SELECT runs once the NOOP is over, before the data is taken). (Replaces
// commands' TestReview46GBoundRecentKeptChecked, which held
// Pending.Wait through the context's Done, found by runtime.Caller.)
func TestReview47CRecentKeptChecked(t *testing.T) {
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

// TestReview47CRecentHolds: with no SELECT meanwhile, Recent returns the
// kept RECENT data, or the NOOP's, as before.
func TestReview47CRecentHolds(t *testing.T) {
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
