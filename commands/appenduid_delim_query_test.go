package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// appendAfterParentRename selects sel (UIDVALIDITY 1) on fs, runs between,
// renames parent, and returns the result of an APPEND to target (the
// mailbox selected then) answered APPENDUID 9 1: kept (not zero) when the
// session took the selected mailbox's name as gone, dropped as stale when
// not.
func appendAfterParentRename(t *testing.T, fs fakeServer, sel, target, parent string, between func(c *commands.Client) error) *commands.AppendResult {
	t.Helper()
	ctx, c := fakeClient(t, fs)
	if _, err := c.Select(ctx, sel, nil); err != nil {
		t.Fatal(err)
	}
	if err := between(c); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, parent, "Q"); err != nil {
		t.Fatal(err)
	}
	ar, err := c.Append(ctx, target, strings.NewReader("x\r\n"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

// TestListDuringSelectNotTheNextSelectionDelimiter: a LIST response read
// while a SELECT is in flight (here one inside the SELECT's answer, naming
// P, the parent of the mailbox selected before, P/A, with "/") is not
// taken for the delimiter of the mailbox the SELECT selects (#news/x, of
// a "." namespace, no LIST since): RENAME #news is not taken for a
// parent's, and the stale APPENDUID 9 1 (the mailbox's UIDVALIDITY is 1)
// is dropped. Defaults.
func TestListDuringSelectNotTheNextSelectionDelimiter(t *testing.T) {
	fs := appendUIDServer()
	fs.on["SELECT"] = func(hc *hostile.Conn, cmd *hostile.Command) error {
		lines := []string{"* 3 EXISTS", "* OK [UIDVALIDITY 1] x"}
		if cmd.Args == "#news/x" {
			lines = append([]string{`* LIST () "/" "P"`}, lines...)
		}
		return hc.Lines(append(lines, cmd.Tag+" OK [READ-WRITE] done")...)
	}
	ar := appendAfterParentRename(t, fs, "P/A", "#news/x", "#news", func(c *commands.Client) error {
		_, err := c.Select(dvCtx(t), "#news/x", nil)
		return err
	})
	if *ar != (commands.AppendResult{}) {
		t.Errorf("P/A selected, then #news/x selected with LIST P \"/\" in its answer, RENAME #news Q, APPEND answered APPENDUID 9 1: result %+v; want the stale APPENDUID dropped", ar)
	}
}
