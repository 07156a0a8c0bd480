package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/wire"
)

// appendUIDServer answers every APPEND with APPENDUID 9 1, and LIST with
// INBOX and P/A, of the hierarchy delimiter "/" (the session keeps the
// delimiter of a LIST response naming the selected mailbox or a parent
// of it: INBOX's for INBOX/Sent).
func appendUIDServer() fakeServer {
	return fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+", on: handlers{
		"APPEND": func(hc *hostile.Conn, cmd *hostile.Command) error {
			if _, err := hc.ReadLiteral(cmd.Literal); err != nil {
				return err
			}
			if _, err := hc.ReadLine(); err != nil {
				return err
			}
			return hc.Reply(cmd.Tag, "OK [APPENDUID 9 1] done")
		},
		"LIST": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines(`* LIST () "/" "INBOX"`, `* LIST () "/" "P/A"`, cmd.Tag+" OK done")
		},
	}}
}

// appendAfterRename selects sel (UIDVALIDITY 1), lists (the delimiter
// "/"), runs rename, and returns the result of an APPEND to sel, answered
// APPENDUID 9 1.
func appendAfterRename(t *testing.T, sel string, rename func(c *commands.Client) error) *commands.AppendResult {
	t.Helper()
	ctx, c := fakeClient(t, appendUIDServer())
	if _, err := c.Select(ctx, sel, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx, "*", nil); err != nil {
		t.Fatal(err)
	}
	if err := rename(c); err != nil {
		t.Fatal(err)
	}
	ar, err := c.Append(ctx, sel, strings.NewReader("x\r\n"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

// TestAppendUIDCheckKeptAfterRenameNotOfSelected: a RENAME whose source
// is not the selected mailbox's name nor a parent of it (a name the
// selected one's begins with, not followed by the delimiter: "Arch" of
// "Archive"; INBOX, whose rename moves its messages and leaves INBOX, and
// its children, where they are) leaves the selected mailbox under its
// name: an APPEND to it answered with an APPENDUID of another
// UIDVALIDITY (9; the mailbox's is 1) is still caught, a zero result.
func TestAppendUIDCheckKeptAfterRenameNotOfSelected(t *testing.T) {
	for _, tc := range []struct{ sel, from string }{
		{"Archive", "Arch"},
		{"INBOX", "INBOX"},
		{"INBOX", "inbox"},
		{"INBOX/Sent", "INBOX"},
		{"P/A", "P/"},
	} {
		t.Run(tc.sel+" "+tc.from, func(t *testing.T) {
			ar := appendAfterRename(t, tc.sel, func(c *commands.Client) error {
				return c.Rename(t.Context(), tc.from, "Old")
			})
			if *ar != (commands.AppendResult{}) {
				t.Errorf("Append to the selected %s (UIDVALIDITY 1) after RENAME %s Old: %+v; want the stale APPENDUID 9 1 dropped", tc.sel, tc.from, ar)
			}
		})
	}
}

// TestAppendUIDCheckOffAfterRenameOfSelectedAnyPath: a RENAME or DELETE
// of the selected mailbox's name (or, RENAME, of its parent, the
// delimiter a LIST gave), however it was sent (Rename, Do, another Client
// of the session), leaves the name to a new mailbox: the APPENDUID of an
// APPEND to it is its own, returned as the server gave it.
func TestAppendUIDCheckOffAfterRenameOfSelectedAnyPath(t *testing.T) {
	for name, tc := range map[string]struct {
		sel string
		op  func(c *commands.Client) error
	}{
		"Rename parent": {"P/A", func(c *commands.Client) error { return c.Rename(t.Context(), "P", "Q") }},
		"Do RENAME": {"A", func(c *commands.Client) error {
			_, err := c.Do(t.Context(), "RENAME", func(e *wire.Encoder) { e.SP().Atom("A").SP().Atom("B") })
			return err
		}},
		"other Client DELETE": {"A", func(c *commands.Client) error {
			return commands.New(c.Session()).Delete(t.Context(), "A")
		}},
	} {
		t.Run(name, func(t *testing.T) {
			ar := appendAfterRename(t, tc.sel, tc.op)
			if ar.UIDValidity != 9 || ar.UID != 1 {
				t.Errorf("Append to %s after %s of it: %+v; want its APPENDUID 9 1", tc.sel, name, ar)
			}
		})
	}
}

// TestRenameParentOfSelectedDovecot: against Dovecot, "P/A" selected and
// never listed since its SELECT, a RENAME of "P" renames the selected
// mailbox with it (LIST finds it under the new name), and the session
// takes the name "P/A" as no longer the selected mailbox's
// (SelectedUIDValidity none: the name may be a new mailbox's, whose
// APPENDUID is not to be checked against the renamed one's UIDVALIDITY).
// Rename asks LIST "" "P/A" first: the session knew no delimiter for it,
// and kept "P/A" with the renamed mailbox's UIDVALIDITY. (Dovecot 2.3
// answers an APPEND to a "P/A" created anew while the renamed one is
// still selected "NO [SERVERBUG]", so the APPENDUID is checked on the
// fake servers: TestRenameParentOfSelectedAppendUIDKept.)
func TestRenameParentOfSelectedDovecot(t *testing.T) {
	t.Parallel() // waits on Dovecot; its own mailboxes
	ctx := dvCtx(t)
	c := dvClient(t, testserver.Alice, nil)
	parent := dvMailbox(t, testserver.Alice, 0)
	child := parent + "/A"
	if err := c.Create(ctx, child, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, child, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Session().SelectedDelimiter(); ok {
		t.Fatal("the session knows a delimiter for a mailbox never listed since its SELECT")
	}
	if err := c.Rename(ctx, parent, parent+"-old"); err != nil {
		t.Fatal(err)
	}
	l, err := c.List(ctx, parent+"-old/*", nil)
	if err != nil || len(l) != 1 || l[0].Name != parent+"-old/A" {
		t.Fatalf("LIST after RENAME %s: %v %+v; want %s-old/A", parent, err, l, parent)
	}
	if name, v, _, ok := c.Session().SelectedUIDValidity(); ok {
		t.Errorf("after RENAME %s: SelectedUIDValidity %q %d; want none (the name is no longer the selected mailbox's)", parent, name, v)
	}
}
