package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestCopyUIDCheckRealFormsDovecot copies (and moves) from Dovecot, which
// has UIDPLUS and MOVE, the sets whose COPYUID is a real server's own
// answer: a UID range past the last UID ("5:*" with last UID 3 is 3:5,
// RFC 9051), a lone "*", sequence numbers, UIDs of which one was
// expunged, and "$" (SEARCHRES). None names a UID not sent: none must be
// refused as a *commands.CopyUIDError.
func TestCopyUIDCheckRealFormsDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 4)
	dst := dvMailbox(t, testserver.Alice, 0)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	// UID 4 expunged: the last UID is 3.
	if _, err := c.Store(ctx, commands.UIDs(4), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, set := range []commands.Set{
		commands.UIDRange(5, 0), commands.UIDRange(0, 0), commands.UIDRange(2, 0),
		{UID: true, Nums: mustSet(t, "1,7:*")}, commands.SeqNums(1, 2), commands.SeqRange(2, 0),
		commands.UIDs(1, 2, 3, 4), commands.UIDRange(1, 100),
	} {
		cp, err := c.Copy(ctx, set, dst)
		if err != nil {
			t.Errorf("Copy %v (uid %v): %v %+v", set.Nums.String(), set.UID, err, cp)
		}
	}
	if _, err := c.Search(ctx, &commands.Criteria{}, &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Save: true}}); err != nil {
		t.Fatal(err)
	}
	if cp, err := c.Copy(ctx, commands.SavedUIDs(), dst); err != nil {
		t.Errorf("Copy $: %v %+v", err, cp)
	}
	if cp, err := c.Move(ctx, commands.UIDRange(9, 0), dst); err != nil || cp == nil || cp.Src.String() != "3" {
		t.Errorf("Move 9:*: %v %+v", err, cp)
	}
}

func mustSet(t *testing.T, s string) codec.SeqSet {
	t.Helper()
	set, err := codec.ParseSeqSet([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestAppendUIDAfterSelectedMailboxRenamed: the selected mailbox A
// (UIDVALIDITY 1) is renamed to B by this very session (RENAME of the
// selected mailbox is allowed; Dovecot keeps it selected), or deleted,
// and a new mailbox A is created: an APPEND to A goes to the new
// mailbox, whose UIDVALIDITY (9) is its own. Its APPENDUID is right, but
// staleAppendUID compares by the name given to SELECT and drops it:
// Append (and AppendMany) return a zero result, as for a server without
// UIDPLUS. (Dovecot answers the APPEND of this sequence with NO
// [SERVERBUG] on this test server, so the server is scripted.) A rename
// of another mailbox keeps the check ("RENAME other").
func TestAppendUIDAfterSelectedMailboxRenamed(t *testing.T) {
	for _, how := range []string{"RENAME", "DELETE", "RENAME other"} {
		t.Run(how, func(t *testing.T) {
			ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+ MULTIAPPEND", on: handlers{
				"APPEND": func(hc *hostile.Conn, cmd *hostile.Command) error {
					for n := cmd.Literal; n >= 0; {
						if _, err := hc.ReadLiteral(n); err != nil {
							return err
						}
						line, err := hc.ReadLine()
						if err != nil {
							return err
						}
						n = hostile.ParseCommand("x X " + line).Literal
					}
					return hc.Reply(cmd.Tag, "OK [APPENDUID 9 1] done")
				},
			}})
			if _, err := c.Select(ctx, "A", nil); err != nil {
				t.Fatal(err)
			}
			var err error
			switch how {
			case "RENAME":
				err = c.Rename(ctx, "A", "B")
			case "DELETE":
				err = c.Delete(ctx, "A")
			default:
				// Not the selected mailbox's name: the check
				// stays, and the APPENDUID 9 (A is of 1) is
				// dropped.
				err = c.Rename(ctx, "C", "D")
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Create(ctx, "A", nil); err != nil {
				t.Fatal(err)
			}
			ar, err := c.Append(ctx, "A", strings.NewReader("x\r\n"), 3, nil)
			if err != nil {
				t.Fatal(err)
			}
			if how == "RENAME other" {
				if *ar != (commands.AppendResult{}) {
					t.Errorf("Append to the selected A (UIDVALIDITY 1) after a RENAME of C: %+v; want the stale APPENDUID 9 1 dropped", ar)
				}
				return
			}
			if ar.UIDValidity != 9 || ar.UID != 1 {
				t.Errorf("Append to the new A after %s of the selected A: %+v; want its APPENDUID 9 1", how, ar)
			}
			mr, err := c.AppendMany(ctx, "A", []commands.AppendMessage{{R: strings.NewReader("x\r\n"), Size: 3}})
			if err != nil {
				t.Fatal(err)
			}
			if mr.UIDValidity != 9 {
				t.Errorf("AppendMany to the new A after %s of the selected A: %+v; want its APPENDUID 9 1", how, mr)
			}
		})
	}
}
