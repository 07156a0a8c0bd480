package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestQResyncDovecot syncs a mailbox with QRESYNC: after changes by
// another session, SELECT (QRESYNC ...) reports the expunged UIDs
// (VANISHED (EARLIER)) and the changed flags, and UID FETCH CHANGEDSINCE
// VANISHED reports the same through the iterator. Known UIDs too many for
// a command line go as one range.
func TestQResyncDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	st := enableQResyncSelect(t, ctx, c, mb)
	if st.HighestModSeq == 0 {
		t.Fatalf("SELECT: no HIGHESTMODSEQ in %+v", st)
	}
	known := st.HighestModSeq
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	// Another session flags 2 and expunges 4 and 5.
	if _, err := other.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{`\Flagged`}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Store(ctx, commands.UIDs(4, 5), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Expunge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var uids codec.SeqSet
	uids.AddRange(1, 6)
	st, err := c.Select(ctx, mb, &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: st.UIDValidity, ModSeq: known, KnownUIDs: uids}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Vanished.String() != "4:5" || len(st.Changed) != 1 || st.Changed[0].UID != 2 || !slices.Contains(st.Changed[0].Flags, `\Flagged`) {
		t.Fatalf("SELECT (QRESYNC): vanished %v, changed %+v", st.Vanished.String(), st.Changed)
	}
	// The same with 20,002 known UIDs, scattered (114 KB; Dovecot answers
	// BAD past 64 KiB): sent as 1:39999, the same answer.
	long := oddNums(true, 40000).Nums
	long.AddNum(2, 4)
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	st2, err := c.Select(ctx, mb, &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: st.UIDValidity, ModSeq: known, KnownUIDs: long}})
	if err != nil || st2.Vanished.String() != "4:5" || len(st2.Changed) != 1 || st2.Changed[0].UID != 2 {
		t.Fatalf("SELECT (QRESYNC) with 20,002 known UIDs: %v %+v", err, st2)
	}
	var vanished []string
	var changed []uint32
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true, ChangedSince: known, Vanished: true,
		OnVanished: func(u codec.SeqSet, earlier bool) {
			if !earlier {
				t.Errorf("VANISHED %s answering the VANISHED modifier is not EARLIER", u)
			}
			vanished = append(vanished, u.String())
		}}) {
		if err != nil {
			t.Fatal(err)
		}
		changed = append(changed, m.UID)
	}
	if !slices.Equal(vanished, []string{"4:5"}) || !slices.Equal(changed, []uint32{2}) {
		t.Fatalf("UID FETCH CHANGEDSINCE VANISHED: vanished %v, changed %v", vanished, changed)
	}
}

// TestQResyncNeedsEnable: Select with QResync and a Fetch with
// FetchItems.Vanished before ENABLE QRESYNC are refused before anything
// is sent, with an error wrapping ErrNotEnabled that says what to call
// (the server's BAD "QRESYNC not enabled" came back before; the newcomer
// audit of 2026-12-04). After the ENABLED response they go; the session
// tracks it (Session.Enabled), also for an ENABLE sent raw.
func TestQResyncNeedsEnable(t *testing.T) {
	got := make(chan string, 16)
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ENABLE CONDSTORE QRESYNC")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			got <- cmd.Line
			switch cmd.Name {
			case "ENABLE":
				err = c.Lines("* ENABLED QRESYNC", cmd.Tag+" OK enabled")
			case "UID FETCH":
				err = c.Lines(cmd.Tag + " OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	ctx := dvCtx(t)
	q := &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 1, ModSeq: 5}}
	if _, err := c.Select(ctx, "INBOX", q); !errors.Is(err, commands.ErrNotEnabled) {
		t.Fatalf("Select with QResync before ENABLE: %v; want ErrNotEnabled", err)
	}
	vanished := &commands.FetchItems{Flags: true, ChangedSince: 5, Vanished: true}
	fetched := 0
	for _, err := range c.Fetch(ctx, commands.UIDRange(1, 0), vanished) {
		if fetched++; !errors.Is(err, commands.ErrNotEnabled) {
			t.Fatalf("Fetch with Vanished before ENABLE: %v; want ErrNotEnabled", err)
		}
	}
	if fetched != 1 {
		t.Fatalf("Fetch with Vanished before ENABLE yielded %d times; want once, with ErrNotEnabled", fetched)
	}
	if !strings.Contains(fmt.Sprint(commands.ErrNotEnabled), "not enabled") {
		t.Fatal("ErrNotEnabled's text")
	}
	if c.Session().Enabled("QRESYNC") || c.Session().Enabled("CONDSTORE") {
		t.Fatal("Session.Enabled before ENABLE")
	}
	// Raw, through the escape hatch: the session sees the ENABLED response.
	if _, err := c.Xatom(ctx, "ENABLE", "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	if !c.Session().Enabled("qresync") || !c.Session().Enabled("CONDSTORE") || c.Session().Enabled("UTF8=ACCEPT") || c.Session().Enabled("X-FOO") {
		t.Fatalf("Session.Enabled after ENABLED QRESYNC: qresync %v condstore %v utf8 %v", c.Session().Enabled("qresync"), c.Session().Enabled("CONDSTORE"), c.Session().Enabled("UTF8=ACCEPT"))
	}
	if _, err := c.Select(ctx, "INBOX", q); err != nil {
		t.Fatalf("Select with QResync after ENABLE: %v", err)
	}
	for _, err := range c.Fetch(ctx, commands.UIDRange(1, 0), vanished) {
		if err != nil {
			t.Fatalf("Fetch with Vanished after ENABLE: %v", err)
		}
	}
	var lines []string
	for len(got) > 0 {
		lines = append(lines, <-got)
	}
	if len(lines) != 3 || !strings.Contains(lines[0], "ENABLE QRESYNC") || !strings.Contains(lines[1], "SELECT INBOX (QRESYNC") || !strings.Contains(lines[2], "VANISHED") {
		t.Errorf("the server got %q; want ENABLE, SELECT (QRESYNC), UID FETCH ... VANISHED (nothing before ENABLE)", lines)
	}
}

// TestQResyncUIDValidityChange follows Example_qresync on a
// mailbox deleted and re-created under the same name since the last sync
// (a new UIDVALIDITY): Select with QResync returned no error and no sign
// of it, st.Vanished and st.Changed empty, so the recipe kept every cached
// message (whose UIDs now name other messages or none) for ever.
// MailboxState.UIDValidityChanged says it now, and the recipe starts
// over.
func TestQResyncUIDValidityChange(t *testing.T) {
	// Parallel: it waits 1.1 s for Dovecot's UIDVALIDITY clock; it has its own mailboxes,
	// server or relay, and looks at nothing process-wide.
	t.Parallel()
	c := dvClient(t, testserver.Alice, nil)
	other := dvClient(t, testserver.Alice, nil)
	mb := dvMailbox(t, testserver.Alice, 6)
	ctx := dvCtx(t) // after the seeding, which waits behind other tests' (seedMu)
	st := enableQResyncSelect(t, ctx, c, mb)
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
	st, err := c.Select(ctx, mb, &commands.SelectOptions{QResync: &commands.QResync{
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

// TestVanishedStar: VANISHED holds known-uids, where RFC 7162
// (section 7) forbids "*"; MODIFIED lists the messages that failed
// UNCHANGEDSINCE, and "*" is none of them. A server that sent
// "* VANISHED (EARLIER) 3:*" to a QRESYNC Select had it end in
// MailboxState.Vanished as 3:* with no error (a caller dropping those
// UIDs from its cache drops every message from UID 3 on, and the set's
// length is unknown); the same for a Fetch's OnVanished and for
// "[MODIFIED 2:*]" in StoreResult.Modified (a retry of Modified stores
// every message from UID 2 on). Each must be a typed error.
func TestVanishedStar(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1 ENABLE CONDSTORE QRESYNC", func(cmd rawCmd) string {
		s := string(cmd.Raw)
		switch {
		case strings.Contains(s, " ENABLE "):
			return "* ENABLED QRESYNC\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(s, " SELECT "):
			vanished := ""
			if strings.Contains(s, "QRESYNC") {
				vanished = "* VANISHED (EARLIER) 3:*\r\n"
			}
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n* OK [HIGHESTMODSEQ 90] x\r\n" +
				vanished + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(s, " FETCH "):
			return "* VANISHED (EARLIER) 4,7:*\r\n* 1 FETCH (UID 1 FLAGS () MODSEQ (80))\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(s, " STORE "):
			return "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (91))\r\n" + cmd.Tag + " OK [MODIFIED 2:*] some were modified\r\n"
		}
		return ""
	})
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	var bad []string
	st, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 5, ModSeq: 10}})
	if err == nil && st.Vanished.Dynamic() {
		bad = append(bad, "Select: no error, MailboxState.Vanished = "+st.Vanished.String())
	} else if de := (*codec.DecodeError)(nil); !errors.As(err, &de) {
		bad = append(bad, fmt.Sprintf("Select: %v; want a *codec.DecodeError", err))
	}
	if err != nil {
		// The SELECT failed on the VANISHED: select again, plainly,
		// for the commands below.
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
	}
	var vanished codec.SeqSet
	_, err = c.FetchAll(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true, ChangedSince: 10, Vanished: true,
		OnVanished: func(uids codec.SeqSet, earlier bool) { vanished.AddRanges(uids.Ranges()...) }})
	if err == nil && vanished.Dynamic() {
		bad = append(bad, "Fetch: no error, OnVanished got "+vanished.String())
	} else if de := (*codec.DecodeError)(nil); !errors.As(err, &de) {
		bad = append(bad, fmt.Sprintf("Fetch: %v; want a *codec.DecodeError", err))
	}
	res, err := c.Store(ctx, commands.UIDs(1, 2, 3), commands.AddFlags, []string{commands.FlagSeen}, &commands.StoreOptions{UnchangedSince: 90})
	if err == nil && res.Modified.Nums.Dynamic() {
		bad = append(bad, "Store: no error, StoreResult.Modified = "+res.Modified.String())
	} else if de := (*codec.DecodeError)(nil); !errors.As(err, &de) {
		// Not a code dropped as text either: an empty Modified says
		// every message was stored.
		bad = append(bad, fmt.Sprintf("Store: %v (Modified %v); want a *codec.DecodeError", err, res))
	}
	if len(bad) > 0 {
		for _, cm := range f.commands() {
			bad = append(bad, "  sent "+strings.TrimSpace(string(cm.Raw)))
		}
		t.Fatal(strings.Join(bad, "\n"))
	}
}

// TestSelectManyChangesVanishedAfterKept: a QRESYNC select answered with
// more changed messages than MaxResultBytes keeps (defaults) and its
// VANISHED (EARLIER) after them (no order is set among a SELECT's
// untagged responses). The expunged UIDs are what a sync client cannot
// learn again (the server reports them once, against the mod-sequence
// given): Vanished must hold them whatever the changes cost.
func TestSelectManyChangesVanishedAfterKept(t *testing.T) {
	_, st, err := examineManyChanges(t, "* 225000 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n",
		"* VANISHED (EARLIER) 300001:300010,300020\r\n")
	if st == nil {
		t.Fatalf("SELECT (QRESYNC) with %d changes: no state, %v", manyChanges, err)
	}
	if got := st.Vanished.String(); got != "300001:300010,300020" {
		t.Errorf("SELECT (QRESYNC) with %d changes then VANISHED (EARLIER) 300001:300010,300020: %v; Vanished %q, want all of it",
			manyChanges, err, got)
	}
}

// TestSelectManyChangesNamesThoseNotKept: a QRESYNC select answered (as
// Dovecot orders it) with its state and VANISHED (EARLIER) first, then
// more changed messages than MaxResultBytes keeps (defaults). The changes
// left out of Changed are named by UID in ChangedNotKept, so that the
// caller can fetch them again: every UID reported is in exactly one of
// the two, and the error says the bound was passed.
func TestSelectManyChangesNamesThoseNotKept(t *testing.T) {
	_, st, err := examineManyChanges(t, "* 225000 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n* VANISHED (EARLIER) 300001:300010\r\n", "")
	if st == nil || !errors.Is(err, session.ErrResultTooLarge) {
		t.Fatalf("SELECT (QRESYNC) with %d changes: %v, %v; want the state and ErrResultTooLarge", manyChanges, st, err)
	}
	if len(st.Changed) == 0 || len(st.Changed) >= manyChanges {
		t.Fatalf("%d changes: %d kept; want some, not all", manyChanges, len(st.Changed))
	}
	var all codec.SeqSet
	for _, m := range st.Changed {
		if st.ChangedNotKept.Contains(m.UID) {
			t.Fatalf("UID %d both kept in Changed and named in ChangedNotKept %s", m.UID, st.ChangedNotKept.String())
		}
		all.AddNum(m.UID)
	}
	all.AddRanges(st.ChangedNotKept.Ranges()...)
	if all.String() != "1:225000" {
		t.Errorf("%d changed messages reported (UIDs 1:225000): %d kept, ChangedNotKept %q; together %q, want 1:225000",
			manyChanges, len(st.Changed), st.ChangedNotKept.String(), all.String())
	}
	if st.Vanished.String() != "300001:300010" || st.UIDValidity != 7 || st.HighestModSeq != 900 || st.Exists != manyChanges {
		t.Errorf("state: vanished %q, uidvalidity %d, highestmodseq %d, exists %d", st.Vanished.String(), st.UIDValidity, st.HighestModSeq, st.Exists)
	}
}

// TestSelectVanishedPastItsBoundIncomplete: a VANISHED (EARLIER) of more
// disjoint ranges than Vanished's own bound holds (MaxResultBytes / 24;
// 2.8 million by default, which only a hostile server reaches: the bound
// is lowered to 3 KiB here, 128 ranges, for a test of what Select says
// then) keeps the lowest ranges, sets VanishedIncomplete and returns a
// *session.ResultTooLargeError: the caller is told the set is not whole.
func TestSelectVanishedPastItsBoundIncomplete(t *testing.T) {
	var v strings.Builder
	v.WriteString("* VANISHED (EARLIER) ")
	for i := range 200 {
		if i > 0 {
			v.WriteByte(',')
		}
		fmt.Fprintf(&v, "%d", 2*i+1)
	}
	answer := "* 5 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n" + v.String() + "\r\n"
	c, ctx := qresyncEnabled(t, &session.Options{MaxResultBytes: 3072}, answer, nil)
	st, err := c.Select(ctx, "Big", &commands.SelectOptions{ReadOnly: true, QResync: &commands.QResync{UIDValidity: 7, ModSeq: 400}})
	if st == nil || !errors.Is(err, session.ErrResultTooLarge) || !st.VanishedIncomplete {
		t.Fatalf("VANISHED (EARLIER) of 200 ranges past a bound of 128: %v; state %v; want VanishedIncomplete and ErrResultTooLarge", err, st)
	}
	if rs := st.Vanished.Ranges(); len(rs) != 128 || rs[0].Start != 1 || rs[127].Start != 255 || st.UIDValidity != 7 || st.Exists != 5 {
		t.Errorf("Vanished %d ranges (first %v), UIDValidity %d, Exists %d; want the lowest 128 (1 to 255), 7, 5", len(rs), rs[:min(1, len(rs))], st.UIDValidity, st.Exists)
	}
}

// TestSelectVanishedAfterOKReported: a VANISHED (EARLIER) a broken server
// sends after the tagged OK of a QRESYNC select (here before the next
// command's OK) is not the select's answer: the MailboxState returned
// without it does not take it, the session's count does not apply it
// (EARLIER), and it is not lost: the session keeps it for Responses (and
// OnUnsolicited), in full, as it keeps the answer's own. Defaults.
func TestSelectVanishedAfterOKReported(t *testing.T) {
	c, ctx := qresyncEnabled(t, nil, "* 5 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n* VANISHED (EARLIER) 3\r\n", func(cmd string) string {
		if cmd == "NOOP" {
			return "* VANISHED (EARLIER) 8,10:12\r\n"
		}
		return ""
	})
	st, err := c.Select(ctx, "Big", &commands.SelectOptions{ReadOnly: true, QResync: &commands.QResync{UIDValidity: 7, ModSeq: 400}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	n, known := c.Session().Exists()
	var kept []string
	for _, r := range c.Session().Responses("VANISHED") {
		if v, ok := r.(*codec.Vanished); ok {
			kept = append(kept, fmt.Sprintf("earlier %v %s", v.Earlier, v.UIDs.String()))
		}
	}
	if st.Vanished.String() != "3" || n != 5 || !known || len(kept) != 2 || kept[1] != "earlier true 8,10:12" {
		t.Errorf("VANISHED (EARLIER) 3 in the answer, 8,10:12 after its OK: Vanished %q, Exists %d (known %v), kept %q; want \"3\", 5, and both kept",
			st.Vanished.String(), n, known, kept)
	}
}

// TestSelectQResyncVanishedLinesAgainstManyKnownRanges: a QRESYNC select
// with known UIDs of many ranges (every other UID, 10,000 ranges), answered
// by a flood of one-UID VANISHED (EARLIER) lines, each of a UID near the
// top of the known set. Each line is cut to the known UIDs
// (codec.SeqSet.Intersect), which walked the known ranges from the lowest
// to the line's: the known ranges times the lines (100,000 known ranges
// and a million lines, 10^11 steps). What is counted is the range
// comparisons of the set operations during the Select
// (workhook.RangesCompared): at most 8*(bits.Len(10,000)+1) a line (a
// search in the known ranges for each), whatever the place of the UID
// among them. Known UIDs not in canonical order (built with Append, in
// descending order) were sorted into a copy at each line too: what the
// Select allocates is bounded as well, at 4 MiB (a copy of the known set
// is 80 KB; a copy a line, 160 MB). Defaults.
func TestSelectQResyncVanishedLinesAgainstManyKnownRanges(t *testing.T) {
	const known, lines = 10000, 2000
	var v strings.Builder
	for i := range lines {
		fmt.Fprintf(&v, "* VANISHED (EARLIER) %d\r\n", 2*known-2*(i%100))
	}
	answer := "* 5 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n" + v.String()
	var want codec.SeqSet
	for i := range 100 {
		want.AddNum(uint32(2*known - 2*i))
	}
	for _, descending := range []bool{false, true} {
		var k codec.SeqSet
		for i := 1; i <= known; i++ {
			if descending {
				k.Append(wire.SeqRange{Start: uint32(2 * (known + 1 - i)), Stop: uint32(2 * (known + 1 - i))})
			} else {
				k.AddNum(uint32(2 * i))
			}
		}
		st, compared, allocated := qresyncSelectWork(t, answer, k)
		t.Logf("descending %v: %d range comparisons, %d bytes allocated", descending, compared, allocated)
		if !st.Vanished.Equal(want) {
			t.Errorf("descending %v: Vanished %q; want %q", descending, st.Vanished.String(), want.String())
		}
		if got, limit := compared, int64(lines*8*(bits.Len(known)+1)); got > limit {
			t.Errorf("descending %v: %d one-UID VANISHED (EARLIER) lines against %d known ranges: %d range comparisons; want at most %d", descending, lines, known, got, limit)
		}
		if got, limit := allocated, uint64(4<<20); got > limit {
			t.Errorf("descending %v: %d one-UID VANISHED (EARLIER) lines against %d known ranges: %d bytes allocated; want at most %d", descending, lines, known, got, limit)
		}
	}
}

// TestSelectQResyncWideVanishedLinesAgainstManyKnownRanges: a QRESYNC
// select with known UIDs of many ranges (every other UID, 10,000 ranges),
// answered by a flood of VANISHED (EARLIER) lines each of one range that
// covers every known UID ("1:4294967295", 26 bytes a line). Each line was
// cut to the known UIDs (codec.SeqSet.Intersect), which emitted every
// known range again at each line, added to Vanished range by range: the
// known ranges times the lines, as for one-UID lines before they were
// searched (100,000 known ranges and a million such lines, 10^11 steps
// and a 800 KB result a line). What the Select compares
// (workhook.RangesCompared) is bounded by a search a line plus a few
// steps a known range, what it allocates by 4 MiB. Defaults. Before
// stop 61 (a known range covered whole was given again at each line) it
// failed: 3,999,800 range comparisons, want at most 52,000; 8,895,064
// bytes, want at most 4 MiB.
func TestSelectQResyncWideVanishedLinesAgainstManyKnownRanges(t *testing.T) {
	const known, lines = 10000, 100
	answer := "* 5 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n" +
		strings.Repeat("* VANISHED (EARLIER) 1:4294967295\r\n", lines)
	var k codec.SeqSet
	for i := 1; i <= known; i++ {
		k.AddNum(uint32(2 * i))
	}
	st, compared, allocated := qresyncSelectWork(t, answer, k)
	t.Logf("%d lines against %d known ranges: %d range comparisons, %d bytes allocated", lines, known, compared, allocated)
	if !st.Vanished.Equal(k) {
		t.Errorf("Vanished has %d ranges; want the %d known", len(st.Vanished.Ranges()), known)
	}
	if got, limit := compared, int64(lines*8*(bits.Len(known)+1)+4*known); got > limit {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines against %d known ranges: %d range comparisons; want at most %d", lines, known, got, limit)
	}
	if got, limit := allocated, uint64(4<<20); got > limit {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines against %d known ranges: %d bytes allocated; want at most %d", lines, known, got, limit)
	}
}

// TestSelectQResyncWideVanishedLinesBetweenClosedCodes: the flood of
// TestSelectQResyncWideVanishedLinesAgainstManyKnownRanges with a
// "* OK [CLOSED]" after each line. RFC 7162 section 3.2.11 has one
// [CLOSED] in a SELECT's answer, the boundary between the mailbox closed
// and the one selected; were each taken as that boundary, what the cut
// of VANISHED (EARLIER) to the known UIDs had given would be forgotten
// at each, and every wide line would give every known range again (and
// allocate a Vanished of them): the known ranges times the lines, the
// cost the cut was made to remove. What the Select compares
// (workhook.RangesCompared) is bounded as there, what it allocates by
// 4 MiB, and the lines after the first [CLOSED] are B's. Defaults.
func TestSelectQResyncWideVanishedLinesBetweenClosedCodes(t *testing.T) {
	const known, lines = 10000, 100
	answer := strings.Repeat("* VANISHED (EARLIER) 1:4294967295\r\n* OK [CLOSED] x\r\n", lines) +
		"* 5 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n* VANISHED (EARLIER) 1:4294967295\r\n"
	var k codec.SeqSet
	for i := 1; i <= known; i++ {
		k.AddNum(uint32(2 * i))
	}
	st, compared, allocated := qresyncSelectWork(t, answer, k)
	t.Logf("%d lines, each followed by [CLOSED], against %d known ranges: %d range comparisons, %d bytes allocated", lines, known, compared, allocated)
	if !st.Vanished.Equal(k) || st.Exists != 5 || st.UIDValidity != 7 {
		t.Errorf("Vanished has %d ranges, Exists %d, UIDValidity %d; want the %d known, 5 and 7", len(st.Vanished.Ranges()), st.Exists, st.UIDValidity, known)
	}
	if got, limit := compared, int64((lines+1)*8*(bits.Len(known)+1)+4*known); got > limit {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines, each followed by [CLOSED], against %d known ranges: %d range comparisons; want at most %d", lines, known, got, limit)
	}
	if got, limit := allocated, uint64(4<<20); got > limit {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines, each followed by [CLOSED], against %d known ranges: %d bytes allocated; want at most %d", lines, known, got, limit)
	}
}

// TestSelectQResyncVanishedLinesEachFromALaterKnownUID: a QRESYNC
// select with known UIDs of many ranges (every other UID, 10,000
// ranges), answered first by a line for each known UID ("2", "4", ...),
// then by a line from each known UID up ("2:4294967295",
// "4:4294967295", ...): the known ranges each line covers were all given
// whole before, and the cut steps over them by its skip array. Were the
// paths it follows not shortened (path halving), each line of the second
// kind would walk every given range after its first: the known ranges
// squared, halved. What the Select compares (workhook.RangesCompared)
// is bounded by a search a line plus a few steps a known range.
// Defaults.
func TestSelectQResyncVanishedLinesEachFromALaterKnownUID(t *testing.T) {
	const known = 10000
	var b strings.Builder
	b.WriteString("* 5 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [HIGHESTMODSEQ 900] ok\r\n")
	var k codec.SeqSet
	for i := 1; i <= known; i++ {
		k.AddNum(uint32(2 * i))
		fmt.Fprintf(&b, "* VANISHED (EARLIER) %d\r\n", 2*i)
	}
	for i := 1; i <= known; i++ {
		fmt.Fprintf(&b, "* VANISHED (EARLIER) %d:4294967295\r\n", 2*i)
	}
	st, compared, _ := qresyncSelectWork(t, b.String(), k)
	t.Logf("%d lines against %d known ranges: %d range comparisons", 2*known, known, compared)
	if !st.Vanished.Equal(k) {
		t.Errorf("Vanished has %d ranges; want the %d known", len(st.Vanished.Ranges()), known)
	}
	if got, limit := compared, int64(2*known*8*(bits.Len(known)+1)+4*known); got > limit {
		t.Errorf("%d one-UID VANISHED (EARLIER) lines, then %d from each known UID up, against %d known ranges: %d range comparisons; want at most %d", known, known, known, got, limit)
	}
}

// qresyncSelectWork runs a read-only QRESYNC select of "Big" with the known
// UIDs known, answered with answer (after UNSELECT and ENABLE QRESYNC), and
// returns its state with the range comparisons of the set operations made
// during the Select (workhook.RangesCompared) and the bytes it allocated.
func qresyncSelectWork(t *testing.T, answer string, known codec.SeqSet) (st *commands.MailboxState, compared int64, allocated uint64) {
	t.Helper()
	c, ctx := qresyncEnabled(t, nil, answer, nil)
	var n atomic.Int64
	restore := workhook.RangesCompared.Set(t, func(_, _, k int) { n.Add(int64(k)) })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	st, err := c.Select(ctx, "Big", &commands.SelectOptions{ReadOnly: true, QResync: &commands.QResync{UIDValidity: 7, ModSeq: 400, KnownUIDs: known}})
	runtime.ReadMemStats(&after)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	return st, n.Load(), after.TotalAlloc - before.TotalAlloc
}

// qresyncEnabled is selectedServerWith (opts; nil for the defaults) whose
// server answers EXAMINE Big with examine and ENABLE QRESYNC, and any
// other command with other (nil: nothing), after the client has
// unselected and enabled QRESYNC: what a QRESYNC select of "Big" needs.
func qresyncEnabled(t *testing.T, opts *session.Options, examine string, other func(cmd string) string) (*commands.Client, context.Context) {
	t.Helper()
	c, ctx, _ := selectedServerWith(t, opts, "IMAP4rev1 ENABLE CONDSTORE QRESYNC UNSELECT", 1, func(cmd string) string {
		switch {
		case strings.HasPrefix(cmd, "EXAMINE Big"):
			return examine
		case cmd == "ENABLE QRESYNC":
			return "* ENABLED QRESYNC\r\n"
		}
		if other != nil {
			return other(cmd)
		}
		return ""
	})
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	return c, ctx
}

// TestFetchWideVanishedLinesAgainstManyRanges: UID FETCH of every other
// UID from 2 to 2000 (1,000 ranges, one command line within the default
// set length) with CHANGEDSINCE and VANISHED, answered by a flood of
// "* VANISHED (EARLIER) 1:4294967295" lines, each covering the whole set
// (RFC 7162 section 3.2.6 has one line, of UIDs of the set). Each line
// was cut to the set (codec.SeqSet.Intersect), which emitted every range
// of the set again at each line, and handed to OnVanished: the set's
// ranges times the lines, in work, memory and ranges handed on (a
// million such lines, 10^9 steps and as many ranges handed on). What the
// Fetch compares (workhook.RangesCompared) is bounded by a search a line
// plus a few steps a range of the set, what it allocates by 1 MiB, and
// OnVanished gets each range of the set once, not once a line: the
// lines after the first name nothing new, and are not handed on.
// Defaults.
func TestFetchWideVanishedLinesAgainstManyRanges(t *testing.T) {
	const ranges, lines = 1000, 1000
	vanished := strings.Repeat("* VANISHED (EARLIER) 1:4294967295\r\n", lines-1) + "* VANISHED (EARLIER) 1:4294967295"
	c, ctx := qresyncSelected(t, "IMAP4rev1 ENABLE CONDSTORE QRESYNC", "UID FETCH", vanished, `* 3 FETCH (UID 2 FLAGS () MODSEQ (9))`)
	set := commands.Set{UID: true}
	for i := 1; i <= ranges; i++ {
		set.Nums.AddNum(uint32(2 * i))
	}
	var got codec.SeqSet
	handed, calls := 0, 0
	items := &commands.FetchItems{Flags: true, ChangedSince: 5, Vanished: true,
		OnVanished: func(uids codec.SeqSet, _ bool) {
			calls++
			handed += len(uids.Ranges())
			got.AddRanges(uids.Ranges()...)
		}}
	var n atomic.Int64
	restore := workhook.RangesCompared.Set(t, func(_, _, k int) { n.Add(int64(k)) })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, err := range c.Fetch(ctx, set, items) {
		if err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	restore()
	compared, allocated := n.Load(), after.TotalAlloc-before.TotalAlloc
	t.Logf("%d lines against %d ranges: %d range comparisons, %d bytes allocated, %d ranges handed on", lines, ranges, compared, allocated, handed)
	if !got.Equal(set.Nums) {
		t.Errorf("OnVanished got %d ranges in all; want the %d of the set", len(got.Ranges()), ranges)
	}
	if calls != 1 {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines against a UID FETCH of %d ranges: OnVanished called %d times; want once, the lines after the first naming nothing new", lines, ranges, calls)
	}
	if limit := ranges + 2*lines; handed > limit {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines against a UID FETCH of %d ranges: %d ranges handed to OnVanished; want at most %d", lines, ranges, handed, limit)
	}
	if limit := int64(lines*8*(bits.Len(ranges)+1) + 4*ranges); compared > limit {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines against a UID FETCH of %d ranges: %d range comparisons; want at most %d", lines, ranges, compared, limit)
	}
	if limit := uint64(1 << 20); allocated > limit {
		t.Errorf("%d VANISHED (EARLIER) 1:4294967295 lines against a UID FETCH of %d ranges: %d bytes allocated; want at most %d", lines, ranges, allocated, limit)
	}
}

// TestFetchVanishedCutToTheSetAsCalled: a UID FETCH of 1,3,5 with
// CHANGEDSINCE and VANISHED, answered by a FETCH then "* VANISHED
// (EARLIER) 1:5". The loop body reuses the caller's set for other UIDs
// (Reset, then AddNum: the same memory) at the first message, before the
// VANISHED is read. The VANISHED is cut to the set Fetch was called with,
// 1,3,5: the cut kept the caller's storage (a Set shares it when copied)
// for the whole iteration, and cut to 100,200,300 instead, handing
// nothing on: a cache never learnt that 1, 3 and 5 were expunged.
func TestFetchVanishedCutToTheSetAsCalled(t *testing.T) {
	c, ctx := qresyncSelected(t, "IMAP4rev1 ENABLE CONDSTORE QRESYNC", "UID FETCH", `* 2 FETCH (UID 3 FLAGS () MODSEQ (9))`, "* VANISHED (EARLIER) 1:5")
	set := commands.UIDs(1, 3, 5)
	var got codec.SeqSet
	items := &commands.FetchItems{Flags: true, ChangedSince: 5, Vanished: true,
		OnVanished: func(uids codec.SeqSet, _ bool) { got.AddRanges(uids.Ranges()...) }}
	for _, err := range c.Fetch(ctx, set, items) {
		if err != nil {
			t.Fatal(err)
		}
		set.Nums.Reset()
		set.Nums.AddNum(100, 200, 300)
	}
	if got.String() != "1,3,5" {
		t.Errorf("UID FETCH 1,3,5 answered VANISHED (EARLIER) 1:5 after the loop body reused its set for 100,200,300: OnVanished got %q; want \"1,3,5\", the set Fetch was called with", got.String())
	}
}
