package commands_test

import (
	"fmt"
	"maps"
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

// TestIDFields: IDFields returns the server's ID fields in order, with a
// NIL value marked Nil (not "" as the map has it) and a field sent twice
// there twice (the map keeps the last); "()" is an empty list, not nil.
func TestIDFields(t *testing.T) {
	c, ctx := scripted(t, "misc/id")
	fields := map[string]string{"name": "imapkit"}
	got, err := c.IDFields(ctx, fields)
	want := []commands.IDField{
		{Name: "name", Value: "Srv"}, {Name: "version", Nil: true}, {Name: "os", Value: ""},
		{Name: "Name", Value: "Srv2"}, {Name: "name", Value: "Srv3"}, {Name: "build", Value: "42"},
	}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("IDFields: %v\n got %+v\nwant %+v", err, got, want)
	}
	m, err := c.ID(ctx, fields)
	if err != nil || !maps.Equal(m, map[string]string{"name": "Srv3", "version": "", "os": "", "Name": "Srv2", "build": "42"}) {
		t.Fatalf("ID: %v %v", err, m)
	}
	got, err = c.IDFields(ctx, nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("IDFields (): %v %#v", err, got)
	}
	m, err = c.ID(ctx, nil)
	if err != nil || m == nil || len(m) != 0 {
		t.Fatalf("ID (): %v %#v", err, m)
	}
}

// TestStoreUnchangedSinceZero: HasUnchangedSince sends "UNCHANGEDSINCE
// 0" (RFC 7162 allows it: fail for every message with a mod-sequence),
// which UnchangedSince 0 alone cannot, as it means no modifier.
func TestStoreUnchangedSinceZero(t *testing.T) {
	c, ctx := scripted(t, "mailbox/store_unchangedsince0")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.Store(ctx, commands.UIDRange(1, 3), commands.AddFlags, []string{`\Seen`},
		&commands.StoreOptions{Silent: true, HasUnchangedSince: true})
	if err != nil || res.Modified.String() != "UID 1:3" {
		t.Fatalf("STORE UNCHANGEDSINCE 0: %v %+v", err, res)
	}
	res, err = c.Store(ctx, commands.UIDRange(1, 3), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{Silent: true})
	if err != nil || !res.Modified.Nums.IsEmpty() {
		t.Fatalf("STORE: %v %+v", err, res)
	}
}

// TestFetchVanishedEarlier: OnVanished tells VANISHED (EARLIER), the
// history the VANISHED modifier asks for, from a live VANISHED that comes
// during the same UID FETCH (a message expunged now, which lowers the
// count).
func TestFetchVanishedEarlier(t *testing.T) {
	c, ctx := scripted(t, "fetch/vanished")
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	var uids []uint32
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Flags: true, ChangedSince: 10, Vanished: true,
		OnVanished: func(u codec.SeqSet, earlier bool) { got = append(got, fmt.Sprintf("%s earlier=%v", u, earlier)) }}) {
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, m.UID)
	}
	if want := []string{"2:3 earlier=true", "5 earlier=false"}; !slices.Equal(got, want) || !slices.Equal(uids, []uint32{1, 4}) {
		t.Fatalf("OnVanished %q, want %q; UIDs %v", got, want, uids)
	}
	if n, ok := c.Exists(); !ok || n != 4 {
		t.Fatalf("Exists %d %v, want 4 (5 less the live VANISHED's one)", n, ok)
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
