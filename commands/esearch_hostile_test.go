package commands_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// The tests of this file give Search ESEARCH answers (RFC 4731) that are
// not its own: tagged for another command, or of UIDs for a SEARCH of
// sequence numbers. Search took the first for an empty answer ("0
// matches", HasCount set) and the second for sequence numbers.

// TestSearchESearchOfAnotherTagNotZero: SEARCH RETURN (ALL) answered only
// with an ESEARCH whose correlator names another tag. The session rightly
// leaves it to nobody (it is not this command's), but Search then builds
// its result as for an empty plain SEARCH: Count 0 with HasCount set and
// no error, a count the server never sent. A server must answer an
// extended SEARCH with an ESEARCH even when nothing matches (RFC 4731
// section 3.1), so its absence is a missing answer (a *MissingError), or
// at least no count.
func TestSearchESearchOfAnotherTagNotZero(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ESEARCH", "SEARCH", `* ESEARCH (TAG "ZZZ") ALL 1:3`)
	res, err := c.Search(resCtx(t), nil, nil)
	if err == nil && res.HasCount {
		t.Errorf("Search with no ESEARCH of its own = Count %d (HasCount), All %v, no error; want an error or no count", res.Count, res.All.Ranges())
	}
}

// TestSearchESearchUIDIndicatorMismatch: a SEARCH of sequence numbers
// answered with "* ESEARCH UID ALL 100:103": UIDs (the UID indicator, RFC
// 4731 section 3.1: the answer of a UID SEARCH, another command's when
// two are pipelined without correlators). Search returned them as the
// sequence numbers 100:103 of a 3-message mailbox (Min 100, Count 4), no
// error. Neither the session's routing (wantsNamed) nor addESearch looks
// at the indicator.
func TestSearchESearchUIDIndicatorMismatch(t *testing.T) {
	c := resSelected(t, "IMAP4rev1 ESEARCH", "SEARCH", `* ESEARCH UID ALL 100:103`)
	res, err := c.Search(resCtx(t), nil, nil)
	if err == nil && res.All.Contains(100) {
		t.Errorf("Search (sequence numbers) = All %v Min %d Count %d from an ESEARCH of UIDs, no error", res.All.Ranges(), res.Min, res.Count)
	}
}

// TestSearchESearchOtherKindRefused: the UID indicator is looked at
// whichever way it mismatches, and by SearchIter and ESort too: a UID
// SEARCH answered with an ESEARCH of sequence numbers; a SEARCH, a
// SearchIter and an ESort of sequence numbers answered with an ESEARCH of
// UIDs that carries their tag (the session gives them a tagged one
// whatever its indicator): each ends with a *MissingError and no numbers.
func TestSearchESearchOtherKindRefused(t *testing.T) {
	var miss *commands.MissingError
	c := resSelected(t, "IMAP4rev1 ESEARCH", "UID SEARCH", `* ESEARCH ALL 1:3`)
	if res, err := c.Search(resCtx(t), nil, &commands.SearchOptions{UID: true}); !errors.As(err, &miss) {
		t.Errorf("UID Search answered with an ESEARCH of sequence numbers = %v, %v; want a *MissingError", res, err)
	}
	// Tagged as this command's, the UID indicator still says it is not.
	c = taggedSelected(t, "IMAP4rev1 ESEARCH", "SEARCH", `* ESEARCH (TAG "%s") UID ALL 100:103`)
	if res, err := c.Search(resCtx(t), nil, nil); !errors.As(err, &miss) {
		t.Errorf("Search answered with an ESEARCH of UIDs of its tag = %v, %v; want a *MissingError", res, err)
	}
	c = taggedSelected(t, "IMAP4rev1 ESEARCH", "SEARCH", `* ESEARCH (TAG "%s") UID ALL 100:103`)
	var errs []error
	for n, err := range c.SearchIter(resCtx(t), nil, nil) {
		if err == nil {
			t.Errorf("SearchIter answered with an ESEARCH of UIDs of its tag yielded %d", n)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.As(errs[0], &miss) {
		t.Errorf("SearchIter answered with an ESEARCH of UIDs of its tag: errors %v; want one *MissingError", errs)
	}
	c = taggedSelected(t, "IMAP4rev1 SORT ESORT", "SORT", `* ESEARCH (TAG "%s") UID ALL 100:103`)
	if res, err := c.ESort(resCtx(t), []commands.SortKey{{Key: "DATE"}}, nil, nil); !errors.As(err, &miss) {
		t.Errorf("ESort answered with an ESEARCH of UIDs of its tag = %v, %v; want a *MissingError", res, err)
	}
}

// taggedSelected is resSelected whose answer line holds the command's
// tag (%s in line).
func taggedSelected(t *testing.T, caps, cmdName, line string) *commands.Client {
	t.Helper()
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth(caps)
		cmd, err := c.Until(cmdName)
		if err != nil {
			return err
		}
		if err := c.Lines(fmt.Sprintf(line, cmd.Tag), cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	if _, err := c.Select(resCtx(t), "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c
}
