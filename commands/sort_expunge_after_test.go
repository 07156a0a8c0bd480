package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestSortThreadExpungeAfterNumbersRenumbered: the other side of
// TestSortThreadExpungeBeforeNumbersNotRenumbered. An EXPUNGE read after
// numbers of a SORT, THREAD or ESORT answer makes them name other
// messages: ErrRenumbered, the result kept. So it does when another
// EXPUNGE came before the numbers too (the check is of what came after
// them, not of whether anything came before). Defaults.
func TestSortThreadExpungeAfterNumbersRenumbered(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 SORT ESORT THREAD=REFERENCES", exists: 6, on: handlers{
		"SORT": func(hc *hostile.Conn, cmd *hostile.Command) error {
			if strings.HasPrefix(cmd.Args, "RETURN") {
				return hc.Lines(`* 1 EXPUNGE`, `* ESEARCH (TAG "`+cmd.Tag+`") ALL 2:3`, `* 1 EXPUNGE`, cmd.Tag+` OK done`)
			}
			return hc.Lines(`* 1 EXPUNGE`, `* SORT 2 1`, `* 1 EXPUNGE`, cmd.Tag+` OK done`)
		},
		"THREAD": answer(`* THREAD (2)(1)`, `* 1 EXPUNGE`),
	}})
	nums, err := c.Sort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, nil, nil)
	if !errors.Is(err, commands.ErrRenumbered) || len(nums) != 2 {
		t.Errorf("SORT answered EXPUNGE, \"* SORT 2 1\", EXPUNGE: %v, %v; want [2 1] with ErrRenumbered", nums, err)
	}
	threads, err := c.Thread(ctx, "REFERENCES", nil, nil)
	if !errors.Is(err, commands.ErrRenumbered) || len(threads) != 2 {
		t.Errorf("THREAD answered \"* THREAD (2)(1)\", EXPUNGE: %d threads, %v; want 2 with ErrRenumbered", len(threads), err)
	}
	res, err := c.ESort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, nil, nil)
	if !errors.Is(err, commands.ErrRenumbered) || res == nil {
		t.Errorf("ESORT answered EXPUNGE, ESEARCH ALL 2:3, EXPUNGE: %v, %v; want the result with ErrRenumbered", res, err)
	}
}
