package commands_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestIdleNoContinuationBoundedByDefaults: a server that reads IDLE and
// never sends its "+" (nor anything else), under Idle with a context
// without deadline and the defaults. The "+" is owed at once (RFC 2177),
// as any command's answer is, and a command waiting for an answer is
// aborted after StallTimeout (60 s) of silence; but IDLE is exempt from
// the stall bound from the moment it is sent, before its "+" too, so
// Idle (and every command queued behind it, IDLE running alone) waits
// for the restart timer (DefaultIdleRestart, 29 min), then for the "+"
// that DONE needs (30 s more): 29 min 30 s, on the bubble's clock. The
// wait for the "+" should be bounded as a stall is.
func TestIdleNoContinuationBoundedByDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := idleServer(t, func(w io.Writer) bool { return false })
		start := time.Now()
		err := c.Idle(context.Background(), nil, func(codec.Response) bool { return true })
		took := time.Since(start) // on the bubble's clock: exact
		var te *session.TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("Idle with no \"+\": %v after %v; want a *session.TimeoutError", err, took)
		}
		if took >= commands.DefaultIdleRestart {
			t.Errorf("Idle with no \"+\" returned after %v (%v): the wait for IDLE's \"+\" is bounded only by the restart timer (%v), not by the stall bound (%v)",
				took, err, commands.DefaultIdleRestart, session.DefaultStallTimeout)
		}
	})
}
