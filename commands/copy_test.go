package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestMoveUntaggedCopyUID replays MOVE answered with COPYUID in an
// untagged OK (RFC 6851 section 4.3), bare and before the expunges: it is
// the MOVE's result.
func TestMoveUntaggedCopyUID(t *testing.T) {
	c, ctx := scripted(t, "move/copyuid_untagged")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mv, err := c.Move(ctx, commands.UIDs(5, 6), "Archive")
	if err != nil || mv == nil || mv.UIDValidity != 9 || mv.Src.String() != "5:6" || mv.Dst.String() != "3:4" {
		t.Fatalf("UID MOVE: %v %+v", err, mv)
	}
	mv, err = c.Move(ctx, commands.SeqNums(1), "Archive")
	if err != nil || mv == nil || mv.Src.String() != "1" || mv.Dst.String() != "5" {
		t.Fatalf("MOVE: %v %+v", err, mv)
	}
	mv, err = c.Move(ctx, commands.SeqNums(1), "Archive")
	if err != nil || mv != nil {
		t.Fatalf("MOVE without COPYUID: %v %+v", err, mv)
	}
}
