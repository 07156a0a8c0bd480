package commands_test

// A review of mailbox synchronisation (stop 37): each test failed before
// its fix.

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestReview37fNewMailFetchLeavesFlagChange follows the documented QRESYNC
// recipe (Example_qresync, QResync.KnownUIDs): after the SELECT, fetch
// UIDRange(the UIDNext saved, 0) for the messages that arrived since.
// Another client flags UID 2 (a known message, not the last) between the
// SELECT and that FETCH. Dovecot reports the change as an unsolicited
// "* 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (n))" before the FETCH's
// tagged OK. The session routed it to the UID FETCH N:* because its set is
// dynamic, although message 2 is not the last (it cannot be the "*"
// answer): the Fetch yielded a "new message" with UID 2 and no envelope,
// and OnUnsolicited, where session.md says another client's flag changes
// go, never saw it.
func TestReview37fNewMailFetchLeavesFlagChange(t *testing.T) {
	var mu sync.Mutex
	var flagEvents []uint32
	c := dvClient(t, testserver.Alice, &session.Options{OnUnsolicited: func(r codec.Response) {
		if f, ok := r.(*codec.Fetch); ok {
			mu.Lock()
			flagEvents = append(flagEvents, f.UID)
			mu.Unlock()
		}
	}})
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	// First sync: remember UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT.
	st, err := c.Select(ctx, mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	saved := *st
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	// A new message arrives meanwhile.
	msg := testserver.SampleMessage(7)
	if _, err := other.Append(ctx, mb, bytes.NewReader(msg), int64(len(msg)), nil); err != nil {
		t.Fatal(err)
	}
	var known codec.SeqSet
	known.AddRange(1, 6)
	st, err = c.Select(ctx, mb, &commands.SelectOptions{QResync: &commands.QResync{
		UIDValidity: saved.UIDValidity, ModSeq: saved.HighestModSeq, KnownUIDs: known}})
	if err != nil {
		t.Fatal(err)
	}
	// The worst moment: between the SELECT and the FETCH of new mail.
	if _, err := other.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{commands.FlagFlagged}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	var yielded []uint32
	for m, err := range c.Fetch(ctx, commands.UIDRange(saved.UIDNext, 0), &commands.FetchItems{Flags: true, Envelope: true}) {
		if err != nil {
			t.Fatal(err)
		}
		yielded = append(yielded, m.UID)
	}
	hm, _ := c.HighestModSeq()
	waitEvents(&mu, func() bool { return len(flagEvents) > 0 })
	mu.Lock()
	defer mu.Unlock()
	t.Logf("UID FETCH %d:* yielded UIDs %v; OnUnsolicited FETCH UIDs %v; HighestModSeq now %d (SELECT's %d)", saved.UIDNext, yielded, flagEvents, hm, st.HighestModSeq)
	if slices.Contains(yielded, 2) || !slices.Contains(flagEvents, 2) {
		t.Fatalf("another client's flag change on UID 2 (not the last message, below UIDNEXT %d) went to the UID FETCH %d:* as a new message (yielded %v) and never to OnUnsolicited (%v)",
			saved.UIDNext, saved.UIDNext, yielded, flagEvents)
	}
}

// TestReview37fQResyncUIDValidityChange follows Example_qresync on a
// mailbox deleted and re-created under the same name since the last sync
// (a new UIDVALIDITY): Select with QResync returned no error and no sign
// of it, st.Vanished and st.Changed empty, so the recipe kept every cached
// message (whose UIDs now name other messages or none) for ever.
// MailboxState.UIDValidityChanged says it now, and the recipe starts
// over.
func TestReview37fQResyncUIDValidityChange(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Select(ctx, mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	saved := *st
	cache := map[uint32]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true}
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, mb); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Dovecot's UIDVALIDITY is a timestamp
	if err := other.Create(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		msg := testserver.SampleMessage(10 + i)
		if _, err := other.Append(ctx, mb, bytes.NewReader(msg), int64(len(msg)), nil); err != nil {
			t.Fatal(err)
		}
	}
	var known codec.SeqSet
	known.AddRange(1, 6)
	st, err = c.Select(ctx, mb, &commands.SelectOptions{QResync: &commands.QResync{
		UIDValidity: saved.UIDValidity, ModSeq: saved.HighestModSeq, KnownUIDs: known}})
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if st.UIDValidityChanged {
		// The recipe: start over.
		cache, saved.UIDNext = map[uint32]bool{}, 1
	}
	// The recipe: drop st.Vanished, update st.Changed, fetch new mail.
	for u := range st.Vanished.All {
		delete(cache, u)
	}
	for m, err := range c.Fetch(ctx, commands.UIDRange(saved.UIDNext, 0), &commands.FetchItems{Flags: true}) {
		if err != nil {
			t.Fatal(err)
		}
		cache[m.UID] = true
	}
	var server []uint32
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true}) {
		if err != nil {
			t.Fatal(err)
		}
		server = append(server, m.UID)
	}
	var cached []uint32
	for u := range cache {
		cached = append(cached, u)
	}
	slices.Sort(cached)
	t.Logf("UIDVALIDITY saved %d, now %d; vanished %q, changed %d; cache %v, server %v", saved.UIDValidity, st.UIDValidity, st.Vanished.String(), len(st.Changed), cached, server)
	if !slices.Equal(cached, server) {
		t.Fatalf("the documented QRESYNC recipe, after a UIDVALIDITY change (%d -> %d) that Select did not report, leaves the cache %v for a mailbox holding %v",
			saved.UIDValidity, st.UIDValidity, cached, server)
	}
}
