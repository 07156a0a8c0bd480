package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestIMAP4rev2 runs an IMAP4rev2 session from RFC 9051's forms: no
// server here speaks it.
func TestIMAP4rev2(t *testing.T) {
	c, ctx := scripted(t, "rev2/enable")
	if err := c.Login(ctx, "alice", "pass"); err != nil {
		t.Fatal(err)
	}
	en, err := c.Enable(ctx, "IMAP4rev2")
	if err != nil || len(en) != 1 || en[0] != "IMAP4REV2" || !c.Session().UTF8Enabled() {
		t.Fatalf("ENABLE: %v %v", err, en)
	}
	l, err := c.List(ctx, "*", nil)
	if err != nil || len(l) != 3 || l[1].Name != "Grüße" || l[2].OldName != "Sent" || !l[2].HasAttr(`\sent`) {
		t.Fatalf("LIST: %v %+v", err, l)
	}
	st, err := c.Select(ctx, "Grüße", nil)
	if err != nil || st.Exists != 3 || st.UIDNext != 4 || st.Recent != 0 {
		t.Fatalf("SELECT: %v %+v", err, st)
	}
	res, err := c.Search(ctx, &commands.Criteria{Subject: []string{"café"}}, nil)
	if err != nil || res.All.String() != "1,3" || res.Count != 2 || res.Min != 1 || res.Max != 3 {
		t.Fatalf("SEARCH: %v %+v", err, res)
	}
	ms, err := c.Status(ctx, "Grüße", commands.StatusMessages|commands.StatusDeleted|commands.StatusSize)
	if err != nil || ms.Name != "Grüße" || ms.Deleted != 1 || ms.Size != 9000 {
		t.Fatalf("STATUS: %v %+v", err, ms)
	}
	mv, err := c.Move(ctx, commands.SeqNums(1), "Archiv")
	if err != nil || mv == nil || mv.Dst.String() != "7" {
		t.Fatalf("MOVE: %v %+v", err, mv)
	}
}
