package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// twoDelimServer is appendUIDServer whose LIST answers with the personal
// namespace's mailboxes (delimiter "/": "P/A" and "P.A", a top-level name
// holding a dot) followed by a shared namespace's (delimiter "."), as
// LIST "" "*" does on a server with namespaces of two delimiters
// (RFC 2342): the last LIST response's delimiter is not the selected
// mailbox's.
func twoDelimServer() fakeServer {
	fs := appendUIDServer()
	fs.on["LIST"] = func(hc *hostile.Conn, cmd *hostile.Command) error {
		return hc.Lines(`* LIST () "/" "P/A"`, `* LIST () "/" "P.A"`, `* LIST () "." "#news.comp"`, cmd.Tag+" OK done")
	}
	return fs
}

// TestRenameParentNameGoneByTheSelectedMailboxDelimiter: the session takes
// a RENAME of a parent of the selected mailbox by the delimiter of the
// LAST LIST response read (session/exists.go nameGoneLocked,
// rl.listDelim), whatever mailbox that response named. With a LIST
// answer ending in another namespace's entry (delimiter "."):
//   - RENAME P of the selected "P/A" (its parent: "/") is not seen: the
//     name's new mailbox's APPENDUID is dropped as stale;
//   - RENAME P of the selected "P.A" (a top-level name on this "/"
//     server, not a child of P) is taken for a parent's: the check of
//     APPENDUID against the selection's UIDVALIDITY is switched off and
//     a stale APPENDUID 9 1 (the mailbox's UIDVALIDITY is 1) is returned
//     as the mailbox's.
//
// The delimiter to use is the selected mailbox's own (a LIST response
// naming it, or LIST "" "" / the NAMESPACE of its namespace), not the last
// read.
func TestRenameParentNameGoneByTheSelectedMailboxDelimiter(t *testing.T) {
	for _, tc := range []struct {
		sel  string
		gone bool
	}{
		{"P/A", true},
		{"P.A", false},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			ctx, c := fakeClient(t, twoDelimServer())
			if _, err := c.Select(ctx, tc.sel, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.List(ctx, "*", nil); err != nil {
				t.Fatal(err)
			}
			if err := c.Rename(ctx, "P", "Q"); err != nil {
				t.Fatal(err)
			}
			ar, err := c.Append(ctx, tc.sel, strings.NewReader("x\r\n"), 3, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := *ar != (commands.AppendResult{})
			if got != tc.gone {
				t.Errorf("selected %q (UIDVALIDITY 1), LIST's last response of delimiter \".\", RENAME P Q, APPEND answered APPENDUID 9 1: result %+v; want the APPENDUID kept = %v (name gone = %v)", tc.sel, ar, tc.gone, tc.gone)
			}
		})
	}
}

// TestRenameOfSelectedInboxChildAnyCaseNameGone: INBOX is case
// insensitive, and so is the INBOX that leads the names under it on
// servers that name them so (codec.SameMailbox's doc: Dovecot takes
// "inbox/x" for "INBOX/x"). nameGoneLocked compares with ExactMailbox
// and, for a parent, strings.HasPrefix: a RENAME of "inbox/Sent" (or of
// its parent "inbox/Sent" of the selected "INBOX/Sent/2024") is not seen
// as taking the selected mailbox's name, and the APPENDUID of the
// mailbox that has the name next is dropped as stale.
func TestRenameOfSelectedInboxChildAnyCaseNameGone(t *testing.T) {
	for _, tc := range []struct{ sel, from string }{
		{"INBOX/Sent", "inbox/Sent"},
		{"INBOX/Sent/2024", "Inbox/Sent"},
	} {
		t.Run(tc.sel+" "+tc.from, func(t *testing.T) {
			ar := appendAfterRename(t, tc.sel, func(c *commands.Client) error {
				return c.Rename(t.Context(), tc.from, "Old")
			})
			if ar.UIDValidity != 9 || ar.UID != 1 {
				t.Errorf("Append to the selected %s after RENAME %s Old: %+v; want its APPENDUID 9 1 (the name is another mailbox's now)", tc.sel, tc.from, ar)
			}
		})
	}
}

// TestRenameParentNameGoneForgetsDelimiterOfPreviousSelection: the
// delimiter a LIST gave for one selected mailbox ("/" of P/A) is not the
// next one's: with "#news/x" selected next (a name of a "." namespace,
// no LIST since), RENAME #news is not taken for a parent's rename, and
// the stale APPENDUID 9 1 (the mailbox's UIDVALIDITY is 1) is dropped.
func TestRenameParentNameGoneForgetsDelimiterOfPreviousSelection(t *testing.T) {
	ctx, c := fakeClient(t, appendUIDServer())
	if _, err := c.Select(ctx, "P/A", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx, "*", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "#news/x", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, "#news", "Q"); err != nil {
		t.Fatal(err)
	}
	ar, err := c.Append(ctx, "#news/x", strings.NewReader("x\r\n"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *ar != (commands.AppendResult{}) {
		t.Errorf("P/A selected, LIST (delimiter \"/\"), then #news/x selected (UIDVALIDITY 1), RENAME #news Q, APPEND answered APPENDUID 9 1: result %+v; want the stale APPENDUID dropped (P/A's delimiter is not #news/x's)", ar)
	}
}
