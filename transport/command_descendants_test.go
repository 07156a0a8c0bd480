//go:build unix

package transport_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/transport"
)

// TestCommandCloseKillsDescendants: the child exits by itself when its
// stdin closes (within the grace period) while a descendant it started in
// its process group is still running: Close kills the group. It returned
// with the descendant alive (Exec's doc: the process group exists "so that
// Close can kill its descendants too"). Found by the fault audit of
// 2026-12-04.
func TestCommandCloseKillsDescendants(t *testing.T) {
	needProgram(t, "sh", "sleep", "cat")
	c, err := transport.Exec(context.Background(), "sh", "-c", `sleep 30 & cat >/dev/null; exit 0`)
	if err != nil {
		t.Fatal(err)
	}
	pgid := c.Pid()
	t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL) })
	waitGroupMember(t, pgid, "(sleep)")
	if err := c.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	// The kill takes effect when the kernel runs it: wait for that, up to
	// leakcheck.Hang.
	var live []string
	leakcheck.Until(leakcheck.Hang, func() bool { live = liveGroupMembers(pgid); return len(live) == 0 })
	if len(live) > 0 {
		t.Errorf("%v after Close, process group %d still has %v", leakcheck.Hang, pgid, live)
	}
}
