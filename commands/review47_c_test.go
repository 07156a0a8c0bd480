package commands_test

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview47CBoundRecentAfterReselect: Recent under a context bound to
// a selection another goroutine's SELECT had already replaced (ordered:
// the SELECT is over before the call) returns session.ErrReselected and
// sends nothing. Client.Recent is Session.Recent now (whose NOOP is
// bound to the selection at its call: TestReview47CRecentNoopBound,
// TestReview47CRecentKeptChecked in session) with the binding checked
// before and after; without the check before, Session.Recent, begun in
// B, sent its NOOP to B (the check after refused B's count, but the
// server read a NOOP the caller never meant for B). B's SELECT brings no
// RECENT here, so that Session.Recent has nothing kept and prods.
func TestReview47CBoundRecentAfterReselect(t *testing.T) {
	var noops atomic.Int32
	sc := fakeServer{caps: "IMAP4rev1", on: handlers{
		"SELECT": func(c *hostile.Conn, cmd *hostile.Command) error {
			return c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
		},
		"NOOP": func(c *hostile.Conn, cmd *hostile.Command) error {
			noops.Add(1)
			return c.Lines("* 7 RECENT", cmd.Tag+" OK done")
		},
	}}
	c := hostileClient(t, sc.serve)
	ctx := dvCtx(t)
	st, err := c.Select(ctx, "A", nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := st.Bind(ctx)
	if _, err := c.Select(ctx, "B", nil); err != nil {
		t.Fatal(err)
	}
	n, err := c.Recent(inA)
	wantReselected(t, "Recent", err)
	if slices.Contains(n, 7) {
		t.Errorf("Recent bound to A returned %v: B's counts", n)
	}
	if got := noops.Load(); got != 0 {
		t.Errorf("Recent bound to A sent %d NOOP to B; want none", got)
	}
	// Unbound, Recent prods the mailbox selected (B) and returns its count.
	if n, err = c.Recent(ctx); err != nil || !slices.Equal(n, []uint32{7}) {
		t.Errorf("unbound Recent = %v, %v; want [7]", n, err)
	}
	if n, err = c.Recent(st.Bind(ctx)); err == nil {
		t.Errorf("Recent bound to A, again: %v, nil; want ErrReselected", n)
	}
}
