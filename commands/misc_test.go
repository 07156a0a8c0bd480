package commands_test

import (
	"slices"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

func TestResponseRecent(t *testing.T) {
	c, ctx := scripted(t, "misc/response")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	alerts := c.Response("ALERT")
	if len(alerts) != 1 || string(alerts[0].(*codec.Status).Text) != "the server will be down at noon" {
		t.Fatalf("response(ALERT): %+v", alerts)
	}
	if again := c.Response("ALERT"); again != nil {
		t.Fatalf("response pops: %+v", again)
	}
	// RECENT 1 from SELECT is pending: no NOOP is sent for it.
	r, err := c.Recent(ctx)
	if err != nil || !slices.Equal(r, []uint32{1}) {
		t.Fatalf("recent(): %v %v", err, r)
	}
	r, err = c.Recent(ctx) // nothing pending: NOOP brings RECENT 2
	if err != nil || !slices.Equal(r, []uint32{2}) {
		t.Fatalf("recent() with NOOP: %v %v", err, r)
	}
	if ex := c.Response("EXISTS"); len(ex) != 2 || ex[1].(*codec.Exists).Count != 4 {
		t.Fatalf("response(EXISTS): %+v", ex)
	}
	r, err = c.Recent(ctx)
	if err != nil || r != nil {
		t.Fatalf("recent() with nothing new: %v %v", err, r)
	}
}

func TestUnauthenticate(t *testing.T) {
	c, ctx := scripted(t, "misc/unauthenticate")
	if err := c.Unauthenticate(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Session().State(); st != session.StateNonAuth {
		t.Fatalf("state %v", st)
	}
	id, err := c.ID(ctx, nil)
	if err != nil || id != nil {
		t.Fatalf("ID NIL: %v %v", err, id)
	}
}

func TestCreateSpecialUse(t *testing.T) {
	c, ctx := scripted(t, "mailbox/create_special_use")
	if err := c.Create(ctx, "Flagged mail", &commands.CreateOptions{SpecialUse: []string{`\Flagged`}}); err != nil {
		t.Fatal(err)
	}
	l, err := c.List(ctx, "Flagged mail", &commands.ListOptions{ReturnSpecialUse: true})
	if err != nil || len(l) != 1 || !l[0].HasAttr(`\Flagged`) {
		t.Fatalf("LIST: %v %+v", err, l)
	}
}
