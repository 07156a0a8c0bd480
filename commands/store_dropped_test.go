package commands_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestStoreSplitSeqDroppedCountedOnce: a STORE by sequence numbers in two
// parts, each answer past MaxResultBytes (the subject, so small), the
// second with an EXPUNGE inside. Every FETCH the server sent is either in
// Messages or counted in Dropped, once: runPart asks run.done (which
// counts) and outcome must not ask it again.
func TestStoreSplitSeqDroppedCountedOnce(t *testing.T) {
	pad := `(FLAGS (\Seen $` + strings.Repeat("x", 200) + `))`
	var n atomic.Int32
	ctx, _, c := fakeSession(t, fakeServer{caps: "IMAP4rev1", exists: 10, on: handlers{
		"STORE": func(hc *hostile.Conn, cmd *hostile.Command) error {
			if n.Add(1) == 2 {
				return hc.Lines(`* 5 FETCH `+pad, `* 5 EXPUNGE`, `* 5 FETCH `+pad, `* 5 FETCH `+pad, `* 5 FETCH `+pad, cmd.Tag+" OK done")
			}
			return hc.Lines(`* 1 FETCH `+pad, `* 1 FETCH `+pad, `* 1 FETCH `+pad, cmd.Tag+" OK done")
		},
	}}, &session.Options{MaxResultBytes: 512})
	c.SetMaxSetLength(1)
	res, err := c.Store(ctx, commands.SeqNums(1, 5, 7), commands.AddFlags, []string{commands.FlagSeen}, nil)
	if !errors.Is(err, commands.ErrRenumbered) || res == nil {
		t.Fatalf("Store: %v, %v; want the result and ErrRenumbered", res, err)
	}
	if got := len(res.Messages) + res.Dropped; got != 7 {
		t.Errorf("7 FETCH responses sent: %d kept + %d dropped = %d; want 7", len(res.Messages), res.Dropped, got)
	}
}
