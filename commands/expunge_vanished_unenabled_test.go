package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestExpungeVanishedWithoutQResyncLeftOut: EXPUNGE and UID EXPUNGE
// answered "* VANISHED 2:3" in a session that never enabled QRESYNC (a
// server must not send VANISHED then: RFC 7162 section 3.2.10) give an
// ExpungeResult whose Vanished is empty, as the session's count does not
// apply that VANISHED (Client.Exists stays 3); the EXPUNGE response beside
// it is kept. Defaults.
func TestExpungeVanishedWithoutQResyncLeftOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		uids *commands.Set
	}{
		{"EXPUNGE", nil},
		{"UID EXPUNGE", uidSet(1, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS ENABLE CONDSTORE QRESYNC", exists: 3, on: handlers{
				tc.name: answer("* VANISHED 2:3", "* 1 EXPUNGE"),
			}})
			res, err := c.Expunge(ctx, tc.uids)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Vanished.IsEmpty() || len(res.SeqNums) != 1 {
				t.Errorf("%s answered VANISHED 2:3 without QRESYNC enabled: Vanished %q, SeqNums %v; want empty, [1]",
					tc.name, res.Vanished.String(), res.SeqNums)
			}
			if n, _ := c.Session().Exists(); n != 2 {
				t.Errorf("Exists %d after it; want 2 (the EXPUNGE only)", n)
			}
		})
	}
}

// TestExpungeVanishedWithQResyncKept: the same VANISHED once QRESYNC is
// enabled is the expunge it reports: kept in Vanished. Defaults.
func TestExpungeVanishedWithQResyncKept(t *testing.T) {
	c, ctx := qresyncSelected(t, "IMAP4rev1 UIDPLUS ENABLE CONDSTORE QRESYNC", "UID EXPUNGE", "* VANISHED 2:3")
	res, err := c.Expunge(ctx, uidSet(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Vanished.String(); got != "2:3" {
		t.Errorf("UID EXPUNGE answered VANISHED 2:3 with QRESYNC enabled: Vanished %q; want 2:3", got)
	}
}

// uidSet is a pointer to the UID set first:last.
func uidSet(first, last uint32) *commands.Set {
	s := commands.UIDRange(first, last)
	return &s
}
