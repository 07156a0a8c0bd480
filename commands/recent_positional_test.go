package commands_test

import (
	"slices"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestRecentCutByItsOwnSelection: Client.Recent in A (10 messages), whose
// NOOP brings "* 7 RECENT", while another goroutine's SELECT of B (2
// messages) comes in once the session returned the data: the count is
// A's 7, cut (if at all) by A's count, never by B's 2, which Recent read
// after the data when it cut counts itself. Defaults; not parallel (a
// package hook orders the SELECT).
func TestRecentCutByItsOwnSelection(t *testing.T) {
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1", on: handlers{
		"SELECT": func(c *hostile.Conn, cmd *hostile.Command) error {
			n := "10"
			if cmd.Args == "B" {
				n = "2"
			}
			return c.Lines("* "+n+" EXISTS", cmd.Tag+" OK [READ-WRITE] done")
		},
		"NOOP": answer("* 7 RECENT"),
	}}.serve)
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, "A", nil); err != nil {
		t.Fatal(err)
	}
	once := false
	commands.OnRecentTaken(t, func() {
		if !once {
			once = true
			if _, err := c.Select(ctx, "B", nil); err != nil {
				t.Error(err)
			}
		}
	})
	n, err := c.Recent(ctx)
	if err != nil || !slices.Equal(n, []uint32{7}) {
		t.Errorf("Recent in A (10 messages) answered 7 RECENT, B (2) selected after: %v, %v; want [7]", n, err)
	}
}
