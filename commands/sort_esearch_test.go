package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestSortAnsweredWithESearchNotEmpty: a plain SORT answered with an
// ESEARCH of its own tag (the form of an ESORT answer, `* ESEARCH (TAG
// "<its tag>") ALL 1:3`, as an IMAP4rev2 server answers a plain SEARCH;
// Search takes that form) instead of "* SORT". Sort reads only
// *codec.Sort responses: the answer was dropped and Sort returned no
// numbers and no error, "nothing matches". The order is lost in an
// ESEARCH ALL, so an error is owed (or the numbers, flagged unordered),
// not an empty result.
func TestSortAnsweredWithESearchNotEmpty(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 SORT")
		cmd, err := c.Until("SORT")
		if err != nil {
			return err
		}
		if err := c.Lines(`* ESEARCH (TAG "`+cmd.Tag+`") ALL 1:3`, cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	if _, err := c.Select(resCtx(t), "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	nums, err := c.Sort(resCtx(t), []commands.SortKey{{Key: "DATE"}}, nil, nil)
	if err == nil && len(nums) == 0 {
		t.Errorf("Sort answered with an ESEARCH ALL 1:3 of its own tag = %v, no error", nums)
	}
}

// TestSortAnsweredWithESearchMissingError: the error is a *MissingError
// for SORT, from SortIter and SortResult too; a plain "* SORT" without
// numbers is still nothing matching.
func TestSortAnsweredWithESearchMissingError(t *testing.T) {
	var miss *commands.MissingError
	c := resSelected(t, "IMAP4rev1 SORT", "SORT", `* ESEARCH ALL 1:3`)
	if res, err := c.SortResult(resCtx(t), []commands.SortKey{{Key: "DATE"}}, nil, nil); !errors.As(err, &miss) || miss.Response != "SORT" {
		t.Errorf("SortResult answered with an ESEARCH = %v, %v; want a *MissingError for SORT", res, err)
	}
	c = resSelected(t, "IMAP4rev1 SORT", "SORT", `* SORT`)
	if nums, err := c.Sort(resCtx(t), []commands.SortKey{{Key: "DATE"}}, nil, nil); err != nil || len(nums) != 0 {
		t.Errorf("Sort answered \"* SORT\" = %v, %v; want nothing, no error", nums, err)
	}
}
