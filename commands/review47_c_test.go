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
// sends nothing. Client.Recent passes its binding's count to
// Session.RecentIn (which compares it with the session's before the NOOP,
// binds the NOOP to it and compares again when it takes the data:
// TestReview47CRecentInStaleSendsNothing in session). When it called
// Session.Recent, which reads the count anew, that Recent, begun in B,
// sent its NOOP to B (and returned B's count). B's SELECT brings no
// RECENT here, so that a Recent begun in B has nothing kept and prods.
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
