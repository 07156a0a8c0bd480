package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// moveFallbackAnswer runs Move's fallback (UIDPLUS, no MOVE) against a server
// whose UID SEARCH claims the UIDs 1:last and whose COPYUID names one. It
// returns the CPU time Move took on its goroutine, held to its thread, or
// the time it had taken when it passed limit (over), and ok false when
// that cannot be read (not Linux) (see onThreadCPU).
func moveFallbackAnswer(t *testing.T, last uint32, deadline, limit time.Duration) (cpu time.Duration, over, ok bool, err error) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS ESEARCH")
		cmd, err := c.Until("UID SEARCH")
		if err != nil {
			return err
		}
		c.Linef(`* ESEARCH (TAG "%s") UID ALL 1:%d`, cmd.Tag, last)
		c.Reply(cmd.Tag, "OK done")
		if cmd, err = c.Until("UID COPY"); err != nil {
			return err
		}
		c.Reply(cmd.Tag, fmt.Sprintf("OK [COPYUID 7 1:%d 1:%d] done", last, last))
		return c.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithTimeout(context.Background(), deadline)
	t.Cleanup(mcancel) // a Move over the limit runs on
	return onThreadCPU(limit, func() error {
		_, err := c.Move(mctx, commands.UIDs(1), "Trash")
		return err
	})
}

// TestMoveFallbackHugeAnswer: Move's fallback asks for the UIDs (UID
// SEARCH RETURN (ALL)) and, once the COPY succeeded, keeps those the
// COPYUID names (copied, commands/copy.go). It went number by number over
// every range of the server's answer, deaf to the context: a 30-byte
// answer "ALL 1:4294967295" spun a core for about 75 s whatever the
// caller's deadline. By ranges now: the move ends at once.
//
// What is checked is the CPU time Move spends on its goroutine (the set
// arithmetic runs there), not the wall clock, which a loaded machine
// stretches: milliseconds by ranges, minutes number by number (the test
// fails once it has spent 5 s, not a speed target).
func TestMoveFallbackHugeAnswer(t *testing.T) {
	cpu, over, ok, err := moveFallbackAnswer(t, 4294967295, 500*time.Millisecond, 5*time.Second)
	if !ok {
		t.Skip("no thread CPU time on this system")
	}
	if over {
		t.Fatalf("Move spent over %v of CPU and is still running; a 30-byte answer must not cost client CPU in proportion to the UIDs it names", cpu.Round(time.Millisecond))
	}
	t.Logf("Move: %v of CPU, err %v", cpu, err)
}
