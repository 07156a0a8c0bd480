package commands_test

import (
	"math/bits"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/workhook"
)

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
// lines after the first name nothing new. Defaults.
func TestFetchWideVanishedLinesAgainstManyRanges(t *testing.T) {
	const ranges, lines = 1000, 1000
	vanished := strings.Repeat("* VANISHED (EARLIER) 1:4294967295\r\n", lines-1) + "* VANISHED (EARLIER) 1:4294967295"
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1 ENABLE CONDSTORE QRESYNC", exists: 3, on: handlers{
		"ENABLE":    answer("* ENABLED QRESYNC"),
		"UID FETCH": answer(vanished, `* 3 FETCH (UID 2 FLAGS () MODSEQ (9))`),
	}}.serve)
	ctx := dvCtx(t)
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	set := commands.Set{UID: true}
	for i := 1; i <= ranges; i++ {
		set.Nums.AddNum(uint32(2 * i))
	}
	var got codec.SeqSet
	handed := 0
	items := &commands.FetchItems{Flags: true, ChangedSince: 5, Vanished: true,
		OnVanished: func(uids codec.SeqSet, _ bool) {
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
