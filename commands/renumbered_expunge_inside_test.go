package commands_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestStoreSilentUnchangedSinceExpungeInsideModified: a Silent STORE by
// sequence numbers with UNCHANGEDSINCE whose answer holds no FETCH but an
// EXPUNGE and a tagged "[MODIFIED 3]" returns numbers all the same
// (StoreResult.Modified, sequence numbers the caller retries by). runPart
// exempts a quiet part whose answer held no FETCH (holdsFetch) from the
// ErrRenumbered check, so the stale MODIFIED numbers come back with no
// error; Store's doc says "A Silent store whose answer held no FETCH
// returns no numbers", which MODIFIED contradicts. Defaults.
func TestStoreSilentUnchangedSinceExpungeInsideModified(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 CONDSTORE", exists: 4, on: handlers{
		"STORE": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines(`* 1 EXPUNGE`, cmd.Tag+` OK [MODIFIED 3] some were modified`)
		},
	}})
	res, err := c.Store(ctx, commands.SeqRange(2, 4), commands.AddFlags, []string{commands.FlagSeen},
		&commands.StoreOptions{Silent: true, UnchangedSince: 5})
	if err == nil && res != nil && !res.Modified.Nums.IsEmpty() {
		t.Errorf("Silent STORE 2:4 UNCHANGEDSINCE answered \"* 1 EXPUNGE\", OK [MODIFIED 3]: Modified %v, no error; want an error wrapping ErrRenumbered (3 now names another message)", res.Modified.Nums)
	}
}

// TestSortResultPastBoundExpungeInside: SortResult past the session's
// MaxResultBytes (the subject, so set small) keeps the numbers before the
// bound and returns them with the *session.ResultTooLargeError. When the
// answer also held an EXPUNGE, those kept numbers name other messages,
// but sortIter checks renumberedAnswer only when err is nil (b.err() set
// it first): no ErrRenumbered. Search joins both (joinBound),
// Store too; SortResult loses the renumbering.
func TestSortResultPastBoundExpungeInside(t *testing.T) {
	var nums []string
	for i := 2; i <= 400; i++ {
		nums = append(nums, fmt.Sprint(i))
	}
	big := `* SORT ` + strings.Join(nums, " ")
	ctx, _, c := fakeSession(t, fakeServer{caps: "IMAP4rev1 SORT", exists: 400, on: handlers{
		"SORT": answer(`* SORT 3 2`, `* 1 EXPUNGE`, big, big),
	}}, &session.Options{MaxResultBytes: 2048})
	res, err := c.SortResult(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, nil, nil)
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("SortResult past MaxResultBytes: %v; want a *session.ResultTooLargeError (test set-up)", err)
	}
	if !errors.Is(err, commands.ErrRenumbered) {
		n := 0
		if res != nil {
			n = len(res.Nums)
		}
		t.Errorf("SORT past MaxResultBytes with \"* 1 EXPUNGE\" inside: %d numbers kept, err %v; want an error wrapping ErrRenumbered too (as Search joins them)", n, err)
	}
}

// TestSearchSaveOnlyExpungeInsideNotRenumbered: a SEARCH RETURN (SAVE)
// alone returns no numbers: the result is kept on the server as "$",
// which RFC 5182 section 2.1 has the server keep up to date across
// expunges. An EXPUNGE inside its answer leaves nothing stale, yet
// searchOnce checks renumberedAnswer for every SEARCH by sequence
// numbers and Search fails with ErrRenumbered (as a Silent STORE whose
// answer holds no FETCH is exempt, runPart's holdsFetch). Defaults.
func TestSearchSaveOnlyExpungeInsideNotRenumbered(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 ESEARCH SEARCHRES", exists: 4, on: handlers{
		"SEARCH": answer(`* 1 EXPUNGE`),
	}})
	res, err := c.Search(ctx, &commands.Criteria{}, &commands.SearchOptions{Return: &commands.SearchReturn{Save: true}})
	if errors.Is(err, commands.ErrRenumbered) {
		t.Errorf("SEARCH RETURN (SAVE) answered \"* 1 EXPUNGE\", OK: result %v, err %v; want no ErrRenumbered (no numbers returned; $ follows expunges, RFC 5182)", res, err)
	}
}
