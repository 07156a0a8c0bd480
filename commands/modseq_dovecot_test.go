package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestHighestModSeqFromTaggedOK: another client expunges UID 4, then
// flags UID 5. A Fetch CHANGEDSINCE by sequence numbers (the server must
// not send EXPUNGE during it, RFC 7162 errata 1810) yields UID 5 with its
// higher MODSEQ, and Dovecot's tagged OK says [HIGHESTMODSEQ] of before
// the expunge: the value to keep, which Client.HighestModSeq now gives.
// The session then ends (before a NOOP brought the VANISHED); the next
// SELECT (QRESYNC) from that value reports UID 4. The tagged code was
// out of reach, and keeping the highest MODSEQ seen lost the expunge.
// (Here the tagged value equals the SELECT's: TestHighestModSeqAfterExpunge
// shows a tagged value taken.)
// Found by the synchronisation audit of 2026-12-04 (real Dovecot).
func TestHighestModSeqFromTaggedOK(t *testing.T) {
	var codes []string
	c := dvClient(t, testserver.Alice, &session.Options{OnUnsolicited: func(r codec.Response) {
		if st, ok := r.(*codec.Status); ok && st.Code != nil {
			codes = append(codes, string(st.Code.Name))
		}
	}})
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	st := enableQResyncSelect(t, ctx, c, mb)
	base := st.HighestModSeq
	if _, err := other.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Expunge(ctx, nil); err != nil { // nothing, just sync
		t.Fatal(err)
	}
	if _, err := other.Store(ctx, commands.UIDs(4), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	u4 := commands.UIDs(4)
	if _, err := other.Expunge(ctx, &u4); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Store(ctx, commands.UIDs(5), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	seen := base
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Flags: true, ModSeq: true, ChangedSince: base}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = max(seen, m.ModSeq)
	}
	keep, ok := c.HighestModSeq()
	if !ok || keep >= seen {
		t.Logf("codes to OnUnsolicited: %v", codes)
		t.Fatalf("HighestModSeq after the FETCH: %d, %v; want the tagged OK's, below the %d a message showed", keep, ok, seen)
	}
	c.Session().Close()

	c2 := dvClient(t, testserver.Alice, nil)
	if _, err := c2.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	var known codec.SeqSet
	known.AddRange(1, 6)
	st2, err := c2.Select(ctx, mb, &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: st.UIDValidity, ModSeq: keep, KnownUIDs: known}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kept modseq %d; SELECT (QRESYNC): vanished %q, HIGHESTMODSEQ %d", keep, st2.Vanished.String(), st2.HighestModSeq)
	if !st2.Vanished.Contains(4) {
		t.Fatalf("UID 4, expunged, is not reported: the modseq kept (%d) passed its expunge", keep)
	}
}

// TestHighestModSeqAfterExpunge: with QRESYNC enabled, Dovecot answers
// EXPUNGE "OK [HIGHESTMODSEQ n] Expunge completed" (the expunge has no
// MODSEQ of its own to learn it from): Client.HighestModSeq gives n. It
// was out of reach (ExpungeResult has no Status; tagged codes are neither
// kept nor events): only the SELECT's value was left. Found by the
// synchronisation audit of 2026-12-04.
func TestHighestModSeqAfterExpunge(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 3)
	st := enableQResyncSelect(t, ctx, c, mb)
	if _, err := c.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Expunge(ctx, nil)
	if err != nil || res.Vanished.String() != "2" {
		t.Fatalf("Expunge: %v %+v", err, res)
	}
	best, ok := c.HighestModSeq()
	if !ok || best <= st.HighestModSeq {
		t.Fatalf("HighestModSeq after EXPUNGE: %d, %v, the SELECT's (%d); the tagged OK's value is lost", best, ok, st.HighestModSeq)
	}
	if err := c.Unselect(ctx); err == nil {
		if _, ok := c.HighestModSeq(); ok {
			t.Fatal("HighestModSeq with no mailbox selected")
		}
	}
}
