package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/imapkit/imapkit/commands"
)

// Flag changes of mail copied before. A message's flags are copied with it;
// later changes on the source reach the destination only when copy looks
// for them. With CONDSTORE (or QRESYNC) on the source, copy records the
// source mailbox's HIGHESTMODSEQ at each run, and the next run asks for the
// messages changed since (UID FETCH ... (FLAGS) (CHANGEDSINCE m)): only those
// are compared with their copies, a cheap step when nothing changed. Without
// CONDSTORE, --sync-flags compares the flags of every message copied before;
// otherwise copy says that it does not carry flag changes.
//
// A copy is found by the source-UID -> destination-UID map that APPENDUID
// (UIDPLUS) gives as each group is appended; the state keeps it as runs of
// consecutive UIDs: one for a mailbox copied in one go whose UIDs follow
// each other, but one per message where the source's UIDs have gaps (mail
// deleted before the copy), so the map may hold a run per message. During
// a run the maps' changes go to a journal, not the state file, which each
// group's saves would otherwise rewrite whole (copy_statemap.go). A copy
// the map does not know (a destination without
// UIDPLUS, a state written before the map existed) is looked for by its
// Message-ID (UID SEARCH HEADER Message-ID), when exactly one destination
// message has it; that finding is added to the map.

// flagSyncChunk is how many source messages are compared at once.
const flagSyncChunk = 500

// uidRun maps the source UIDs Src..Src+N-1 to the destination's Dst..Dst+N-1.
type uidRun struct{ Src, Dst, N uint32 }

// MarshalJSON writes a run as [src, dst, n].
func (r uidRun) MarshalJSON() ([]byte, error) { return json.Marshal([3]uint32{r.Src, r.Dst, r.N}) }

// UnmarshalJSON reads [src, dst, n].
func (r *uidRun) UnmarshalJSON(b []byte) error {
	var a [3]uint32
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if a[2] == 0 || a[0] == 0 || a[1] == 0 || uint64(a[0])+uint64(a[2]) > 1<<32 || uint64(a[1])+uint64(a[2]) > 1<<32 {
		return fmt.Errorf("bad UID map run %v", a)
	}
	*r = uidRun{a[0], a[1], a[2]}
	return nil
}

// srcEnd is the source UID after the run, in 64 bits: a run ending at
// UID 4294967295 ends at 2^32, which 32 bits wrapped to 0, and its
// UIDs were never found.
func (r uidRun) srcEnd() uint64 { return uint64(r.Src) + uint64(r.N) }

// uidMap is a source-UID -> destination-UID map: runs sorted by Src, not
// overlapping.
type uidMap []uidRun

// lookup returns the destination UID of src, or 0.
func (m uidMap) lookup(src uint32) uint32 {
	i := sort.Search(len(m), func(i int) bool { return m[i].srcEnd() > uint64(src) })
	if i < len(m) && m[i].Src <= src {
		return m[i].Dst + (src - m[i].Src)
	}
	return 0
}

// add maps src to dst, merging with a neighbouring run when both continue
// it. A src mapped already is remapped.
func (m *uidMap) add(src, dst uint32) {
	if src == 0 || dst == 0 {
		return
	}
	r := *m
	i := sort.Search(len(r), func(i int) bool { return r[i].srcEnd() > uint64(src) })
	if i < len(r) && r[i].Src <= src {
		if r[i].Dst+(src-r[i].Src) == dst {
			return
		}
		// Split the run around src, then insert.
		a, b := r[i], r[i]
		a.N = src - r[i].Src
		b.Src, b.Dst, b.N = src+1, r[i].Dst+(src-r[i].Src)+1, r[i].Src+r[i].N-src-1
		var repl []uidRun
		if a.N > 0 {
			repl = append(repl, a)
		}
		if b.N > 0 {
			repl = append(repl, b)
		}
		runsMoved(len(r) - i - 1)
		r = slices.Replace(r, i, i+1, repl...)
		*m = r
		m.add(src, dst)
		return
	}
	// i is the first run after src.
	if i > 0 && r[i-1].srcEnd() == uint64(src) && uint64(r[i-1].Dst)+uint64(r[i-1].N) == uint64(dst) {
		r[i-1].N++
		if i < len(r) && r[i].Src == src+1 && r[i].Dst == dst+1 {
			r[i-1].N += r[i].N
			runsMoved(len(r) - i - 1)
			r = slices.Delete(r, i, i+1)
		}
		*m = r
		return
	}
	if i < len(r) && r[i].Src == src+1 && r[i].Dst == dst+1 {
		r[i].Src, r[i].Dst, r[i].N = src, dst, r[i].N+1
		*m = r
		return
	}
	runsMoved(len(r) - i)
	*m = slices.Insert(r, i, uidRun{src, dst, 1})
}

// testHookRunsMoved, when set (tests only), is given the number of runs
// of a uidMap each add moved (inserting, splitting or deleting a run
// before them) and each addMany wrote (merging). nil outside tests.
var testHookRunsMoved func(n int)

// runsMoved reports n runs moved or written to testHookRunsMoved.
func runsMoved(n int) {
	if h := testHookRunsMoved; h != nil {
		h(n)
	}
}

// addMany maps each src[i] to dst[i], as add does one at a time (a src
// given twice keeps its last dst), in O(n + k log k) for a map of n runs
// and k pairs: sorted once, then merged with the runs in one pass. add
// one at a time inserted each pair into the sorted runs, moving those
// after it: quadratic for the Message-ID fallback's thousands of pairs,
// each between the runs of a map with a run per message.
func (m *uidMap) addMany(src, dst []uint32) {
	ps := make([]uidRun, 0, len(src))
	for i := range src {
		if src[i] != 0 && dst[i] != 0 {
			ps = append(ps, uidRun{src[i], dst[i], 1})
		}
	}
	switch len(ps) {
	case 0:
		return
	case 1:
		m.add(ps[0].Src, ps[0].Dst)
		return
	}
	slices.SortStableFunc(ps, func(a, b uidRun) int { return cmp.Compare(a.Src, b.Src) })
	// The last of the pairs for one src.
	k := 0
	for i := range ps {
		if k > 0 && ps[k-1].Src == ps[i].Src {
			ps[k-1] = ps[i]
		} else {
			ps[k] = ps[i]
			k++
		}
	}
	ps = ps[:k]
	old := *m
	var out uidMap
	if n := len(old); n == 0 || old[n-1].srcEnd() <= uint64(ps[0].Src) {
		// All after the map (a group just appended): added at its
		// end, in place.
		out, old = old, nil
	} else {
		out = make(uidMap, 0, len(old)+len(ps))
	}
	pushed := 0 // runs written: the merge's work
	push := func(r uidRun) {
		pushed++
		if n := len(out); n > 0 && out[n-1].srcEnd() == uint64(r.Src) && uint64(out[n-1].Dst)+uint64(out[n-1].N) == uint64(r.Dst) {
			out[n-1].N += r.N
			return
		}
		out = append(out, r)
	}
	j := 0
	for _, r := range old {
		for j < len(ps) && ps[j].Src < r.Src {
			push(ps[j])
			j++
		}
		// The pairs within r replace its UIDs: r is cut around them.
		for j < len(ps) && uint64(ps[j].Src) < r.srcEnd() {
			p := ps[j]
			if p.Src > r.Src {
				push(uidRun{r.Src, r.Dst, p.Src - r.Src})
			}
			push(p)
			off := p.Src - r.Src + 1
			if r.N -= off; r.N > 0 {
				r.Src, r.Dst = p.Src+1, r.Dst+off
			}
			j++
		}
		if r.N > 0 {
			push(r)
		}
	}
	for ; j < len(ps); j++ {
		push(ps[j])
	}
	runsMoved(pushed)
	*m = out
}

// mapAppended records the destination UIDs of appended source messages;
// dst is nil when the server gave none. The next save of the state
// journals them (copyState.save).
func (b *copyBox) mapAppended(dstUIDValidity uint32, src, dst []uint32) {
	if len(dst) != len(src) || dstUIDValidity == 0 {
		return
	}
	b.addPairs(dstUIDValidity, src, dst)
	pairs := make([][2]uint32, len(src))
	for i := range src {
		pairs[i] = [2]uint32{src[i], dst[i]}
	}
	b.mapLog = append(b.mapLog, mapRecord{V: dstUIDValidity, Pairs: pairs})
}

// flagSync says how copy carries the flag changes of one mailbox.
type flagSync int

const (
	flagSyncOff       flagSync = iota // not at all
	flagSyncChanged                   // the messages changed since the recorded modseq
	flagSyncFull                      // every message copied before
	flagSyncUnchanged                 // CONDSTORE says nothing changed
)

func (f flagSync) String() string {
	return [...]string{"off", "condstore", "full", "condstore"}[f]
}

// flagSyncer carries the flag changes of one source mailbox to its copy.
type flagSyncer struct {
	src, dst *commands.Client
	dname    string
	box      *copyBox
	since    uint64 // CHANGEDSINCE; 0 for every message
	selected bool   // dname is selected on dst
	dstUIDV  uint32 // its UIDVALIDITY then
	updated  int    // copies whose flags were changed
	unknown  int    // changed messages whose copy was not found
	// The copies found by Message-ID (copies), added to the map at the
	// end (mapFound), all at once.
	foundSrc, foundDst []uint32
}

// mapFound adds the copies found by Message-ID to the map, in one go
// (uidMap.addMany): added one by one, each went between the map's runs,
// moving those after it, a time quadratic in their number.
func (f *flagSyncer) mapFound() {
	if len(f.foundSrc) > 0 {
		f.box.mapAppended(f.dstUIDV, f.foundSrc, f.foundDst)
	}
	f.foundSrc, f.foundDst = nil, nil
}

// syncFlags compares the flags of the messages with UIDs up to last (those
// copied before this run) that changed since f.since with their copies, and
// stores the source's flags on the copies that differ. The messages the
// state records as skipped (box.Skipped: --skip-unsendable) have no copy
// and are left out: taken for copies not found, each cost an ENVELOPE
// FETCH and a Message-ID SEARCH at every run and was counted in
// "flags_unmatched".
func (f *flagSyncer) syncFlags(ctx context.Context, last uint32) error {
	if last == 0 {
		return nil
	}
	defer f.mapFound()
	type msgFlags struct {
		uid   uint32
		flags []string
	}
	var chunk []msgFlags
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		// First, so that a map for another UIDVALIDITY is dropped.
		if err := f.selectDst(ctx); err != nil {
			return err
		}
		srcUIDs := make([]uint32, len(chunk))
		for i, m := range chunk {
			srcUIDs[i] = m.uid
		}
		dstOf, err := f.copies(ctx, srcUIDs)
		if err != nil {
			return err
		}
		byDst := map[uint32][]string{}
		var dsts []uint32
		for _, m := range chunk {
			d := dstOf[m.uid]
			if d == 0 {
				f.unknown++
				continue
			}
			byDst[d] = m.flags
			dsts = append(dsts, d)
		}
		chunk = chunk[:0]
		return f.store(ctx, dsts, byDst)
	}
	items := &commands.FetchItems{UID: true, Flags: true, ChangedSince: f.since}
	for m, err := range f.src.Fetch(ctx, commands.UIDRange(1, last), items) {
		if err != nil {
			return err
		}
		if m.UID == 0 || m.UID > last {
			continue // "1:last" holds the highest UID when last is gone
		}
		if f.box.isSkipped(m.UID) {
			continue // never copied
		}
		chunk = append(chunk, msgFlags{m.UID, appendableFlags(m.Flags)})
		if len(chunk) >= flagSyncChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// copies returns the destination UIDs of the source's srcUIDs: from the map,
// else by Message-ID (kept for mapFound; the source's UIDs are asked once
// each, so the map need not have them meanwhile).
func (f *flagSyncer) copies(ctx context.Context, srcUIDs []uint32) (map[uint32]uint32, error) {
	out := map[uint32]uint32{}
	var missing []uint32
	for _, u := range srcUIDs {
		if d := f.box.UIDMap.lookup(u); d != 0 {
			out[u] = d
		} else {
			missing = append(missing, u)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	msgs, err := f.src.FetchAll(ctx, commands.UIDs(missing...), &commands.FetchItems{UID: true, Envelope: true})
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.Envelope == nil {
			continue
		}
		id := strings.TrimSpace(string(m.Envelope.MessageID))
		if id == "" {
			continue
		}
		r, err := f.dst.Search(ctx, &commands.Criteria{Header: []commands.HeaderCriterion{{Name: "Message-ID", Value: id}}}, &commands.SearchOptions{UID: true})
		if err != nil {
			return nil, err
		}
		var found []uint32
		for u := range r.All.All {
			if found = append(found, u); len(found) > 1 {
				break
			}
		}
		if len(found) == 1 {
			out[m.UID] = found[0]
			f.foundSrc, f.foundDst = append(f.foundSrc, m.UID), append(f.foundDst, found[0])
		}
	}
	return out, nil
}

// selectDst selects the destination mailbox read-write, once. A map kept
// for another UIDVALIDITY of it is dropped.
func (f *flagSyncer) selectDst(ctx context.Context) error {
	if f.selected {
		return nil
	}
	ms, err := f.dst.Select(ctx, f.dname, nil)
	if err != nil {
		return err
	}
	if f.box.DstUIDValidity != ms.UIDValidity {
		f.box.resetMap(ms.UIDValidity)
	}
	f.selected, f.dstUIDV = true, ms.UIDValidity
	return nil
}

// store sets the flags wanted on the copies dsts whose flags differ, one
// UID STORE per distinct set of flags.
func (f *flagSyncer) store(ctx context.Context, dsts []uint32, want map[uint32][]string) error {
	if len(dsts) == 0 {
		return nil
	}
	have, err := f.dst.FetchAll(ctx, commands.UIDs(dsts...), &commands.FetchItems{UID: true, Flags: true})
	if err != nil {
		return err
	}
	groups := map[string][]uint32{}
	flagsOf := map[string][]string{}
	for _, m := range have {
		w, ok := want[m.UID]
		if !ok {
			continue
		}
		if sameFlags(w, appendableFlags(m.Flags)) {
			continue
		}
		k := flagKey(w)
		groups[k] = append(groups[k], m.UID)
		flagsOf[k] = w
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		uids := groups[k]
		if _, err := f.dst.Store(ctx, commands.UIDs(uids...), commands.ReplaceFlags, flagsOf[k], &commands.StoreOptions{Silent: true}); err != nil {
			return err
		}
		f.updated += len(uids)
	}
	return nil
}

// flagKey is a set of flags as a canonical string: lower case, sorted.
func flagKey(flags []string) string {
	l := make([]string, len(flags))
	for i, f := range flags {
		l[i] = strings.ToLower(f)
	}
	slices.Sort(l)
	return strings.Join(slices.Compact(l), " ")
}

// sameFlags reports whether two sets of flags are equal (flags compare
// without regard to case).
func sameFlags(a, b []string) bool { return flagKey(a) == flagKey(b) }

// errNoCondStore is the note copy gives when flag changes are not carried.
var errNoCondStore = errors.New("the source does not offer CONDSTORE: flag changes of mail copied before are not carried (--sync-flags compares them all)")

// planFlagSync decides how the flags of the messages copied before are
// carried this run, from the source's capabilities and the EXAMINE answer.
func planFlagSync(src *commands.Client, ms *commands.MailboxState, box *copyBox, syncAll bool) (flagSync, uint64) {
	s := src.Session()
	condstore := (s.HasCap("CONDSTORE") || s.HasCap("QRESYNC")) && ms.HighestModSeq != 0 && !ms.NoModSeq
	switch {
	case syncAll:
		return flagSyncFull, 0
	case !condstore:
		return flagSyncOff, 0
	case box.HighestModSeq == 0 && box.LastUID == 0:
		// The first run: the flags copied now are those of today;
		// changes count from here (copyMailbox records the
		// HIGHESTMODSEQ before the first group is appended).
		return flagSyncUnchanged, 0
	case box.HighestModSeq == 0:
		// Mail was copied with no HIGHESTMODSEQ recorded (the source
		// had no CONDSTORE then, or a state written before copy
		// recorded it early, by a first run that was stopped): its
		// flags may have changed since, unseen; compare them all once.
		return flagSyncFull, 0
	case ms.HighestModSeq == box.HighestModSeq:
		return flagSyncUnchanged, 0
	default:
		return flagSyncChanged, box.HighestModSeq
	}
}
