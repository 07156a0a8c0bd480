package commands_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestCreateSpecialUseCyrus creates mailboxes with a special use (RFC 6154
// CREATE-SPECIAL-USE) on Cyrus 3.6, the one server here that has it, and
// reads the uses back with LIST RETURN (SPECIAL-USE) and LIST
// (SPECIAL-USE). Cyrus gives a special use to a top-level personal
// mailbox only, and each use to one mailbox: it answers "NO SPECIAL-USE
// flag conflict" to a child of INBOX and to a second \Archive; a use it
// does not allow (\Flagged, unless specialuse_extra names it) is NO
// [USEATTR] (RFC 6154 section 6).
func TestCreateSpecialUseCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	alice := cyClient(t, addr, "alice", "pass")
	for _, m := range []struct{ name, use string }{{"Archives 2026", `\Archive`}, {"Grüße", `\Sent`}} {
		if err := alice.Create(ctx, m.name, &commands.CreateOptions{SpecialUse: []string{m.use}}); err != nil {
			t.Fatalf("CREATE %q (USE (%s)): %v", m.name, m.use, err)
		}
		l, err := alice.List(ctx, m.name, &commands.ListOptions{ReturnSpecialUse: true})
		if err != nil || len(l) != 1 || l[0].Name != m.name || !l[0].HasAttr(m.use) {
			t.Fatalf("LIST %q RETURN (SPECIAL-USE): %v %+v", m.name, err, l)
		}
	}
	if err := alice.Create(ctx, "Plain", nil); err != nil {
		t.Fatal(err)
	}
	special, err := alice.List(ctx, "*", &commands.ListOptions{SpecialUse: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range special {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Archives 2026", "Grüße"}) {
		t.Fatalf("LIST (SPECIAL-USE): %q", names)
	}
	for _, name := range []string{"INBOX/x", "Archives 2"} {
		err := alice.Create(ctx, name, &commands.CreateOptions{SpecialUse: []string{`\Archive`}})
		if !errors.Is(err, session.ErrNo) {
			t.Fatalf("CREATE %q (USE (\\Archive)): %v", name, err)
		}
	}
	err = alice.Create(ctx, "Flagged", &commands.CreateOptions{SpecialUse: []string{`\Flagged`}})
	var se *session.StatusError
	if !errors.As(err, &se) || !errors.Is(err, session.ErrNo) || se.Code() == nil || string(se.Code().Name) != "USEATTR" {
		t.Fatalf("CREATE Flagged (USE (\\Flagged)): %v", err)
	}
}
