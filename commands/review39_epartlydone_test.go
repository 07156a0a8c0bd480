package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestReview39EMoveIncompleteKeepsCopySplitError: Move's fallback whose UID COPY
// went in two pipelined parts, the first copied (COPYUID) and the second
// lost with the connection (BYE), then whose STORE was not sent (the
// session had ended). Move's doc: "a *MoveIncompleteError when they fail,
// which keeps the copy's *SplitError when it stopped part-way". The
// SplitError is the only place that says that UID 5 may have been copied
// too (Unknown): MoveIncompleteError.Unknown is false (the STORE was not
// sent) and Copy names UIDs 1,3 only. partlyDone (replace.go) rebuilds
// the chain from the STORE's *NotSentError alone, dropping the copy's
// *SplitError that incomplete() wrapped beside it.
func TestReview39EMoveIncompleteKeepsCopySplitError(t *testing.T) {
	c, ctx, _ := r38FakeClient(t, "IMAP4rev1 UIDPLUS", func(cmd r38Cmd) string {
		raw := string(cmd.Raw)
		switch {
		case strings.Contains(raw, " SELECT "):
			return "* 5 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(raw, "UID SEARCH"):
			i := strings.LastIndex(raw, "UID ")
			set := strings.TrimSpace(raw[i+4:])
			return "* SEARCH " + strings.ReplaceAll(set, ",", " ") + "\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(raw, "UID COPY 1,3 "):
			return cmd.Tag + " OK [COPYUID 7 1,3 11:12] done\r\n"
		case strings.Contains(raw, "UID COPY"):
			return "* BYE going away\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "src", nil); err != nil {
		t.Fatal(err)
	}
	c.SetMaxSetLength(3) // "1,3" fits, "1,3,5" does not
	_, err := c.Move(ctx, commands.UIDs(1, 3, 5), "dst")
	t.Logf("Move: %v", err)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Skipf("not a MoveIncompleteError: %v", err)
	}
	if errors.Is(err, session.ErrNotSent) {
		t.Fatalf("matches ErrNotSent: %v", err)
	}
	var split *commands.SplitError
	if !errors.As(err, &split) {
		t.Fatalf("the *MoveIncompleteError (Unknown=%v, Copy.Src=%v) does not keep the copy's *SplitError (errors.As fails), though Move's doc says it does: the caller cannot learn that UID 5 may have been copied too (SplitError.Unknown); in the chain of mi.Err: %v", mi.Unknown, mi.Copy.Src, errors.As(mi.Err, &split))
	}
	if !split.Unknown {
		t.Fatalf("SplitError.Unknown is false: %+v", split)
	}
}
