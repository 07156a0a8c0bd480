package main

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// copy's source-UID -> destination-UID map (uidMap) keeps runs
// Src..Src+N-1; lookup and add compare Src+N in uint32, which wraps to 0
// for a run that ends at UID 4294967295 (the largest; UnmarshalJSON
// accepts such a run). A copy recorded there is never found: its flag
// changes are not carried (or a Message-ID search is made at every run,
// adding a run each time), though the map holds it.
func TestUIDMapTopUID(t *testing.T) {
	var m uidMap
	m.add(4294967294, 70)
	m.add(4294967295, 71)
	if got := m.lookup(4294967294); got != 70 {
		t.Errorf("lookup(4294967294) = %d, want 70 (map %v)", got, m)
	}
	if got := m.lookup(4294967295); got != 71 {
		t.Errorf("lookup(4294967295) = %d, want 71 (map %v)", got, m)
	}

	// A state file's run [4294967290, 100, 6] (valid: it ends at the
	// largest UID) is not found either.
	var r uidRun
	if err := json.Unmarshal([]byte(`[4294967290,100,6]`), &r); err != nil {
		t.Fatal(err)
	}
	m2 := uidMap{r}
	if got := m2.lookup(4294967292); got != 102 {
		t.Errorf("lookup(4294967292) in %v = %d, want 102", m2, got)
	}
	// Adding what the map holds already must not grow it.
	m2.add(4294967292, 102)
	if len(m2) != 1 {
		t.Errorf("add of a pair the map holds made %v", m2)
	}
}

// uidMapAddCounted adds n pairs found by Message-ID (odd source UIDs, in
// descending order, as a search could find them) to the map of a box
// holding n runs of one message each (the even UIDs: a source with gaps),
// as the flag sync's fallback records them, and returns the runs the map
// moved or wrote (testHookRunsMoved) and the map.
func uidMapAddCounted(n int) (int, uidMap) {
	box := &copyBox{DstUIDValidity: 9}
	for i := 1; i <= n; i++ {
		box.UIDMap = append(box.UIDMap, uidRun{uint32(2 * i), uint32(6 * i), 1})
	}
	src, dst := make([]uint32, n), make([]uint32, n)
	for i := range n {
		u := uint32(2*(n-i) + 1)
		src[i], dst[i] = u, 3*u
	}
	moved := 0
	testHookRunsMoved = func(k int) { moved += k }
	defer func() { testHookRunsMoved = nil }()
	box.mapAppended(9, src, dst)
	return moved, box.UIDMap
}

// TestCopyMapFallbackScales: copy's flag sync without UIDPLUS
// finds copies by Message-ID and adds each to the source-to-destination
// UID map, whose runs are kept sorted: each pair was inserted on its own
// (uidMap.add, slices.Insert), moving every run after it, so k pairs
// into a map of n runs cost O(k*n): quadratic in the mailbox's size
// (minutes of CPU for a mailbox of a few hundred thousand messages with
// gaps). They are sorted once and merged now. What is counted is the
// runs moved or written (testHookRunsMoved): at most n+k, each run of the
// result written once by the merge (the sort of the k pairs, O(k log k),
// is not counted). The test compared the thread CPU time of x8 the pairs
// (at most x24), which a loaded machine could stretch. The map must hold
// what add one by one gave. Serial: it sets a package variable.
func TestCopyMapFallbackScales(t *testing.T) {
	const n = 32000
	moved, m := uidMapAddCounted(n)
	t.Logf("%d pairs into a map of %d runs: %d runs moved or written", n, n, moved)
	if moved > 2*n {
		t.Errorf("%d pairs into a map of %d runs moved or wrote %d runs; want at most %d (one merge): quadratic", n, n, moved, 2*n)
	}
	if len(m) != 2*n {
		t.Fatalf("map has %d runs, want %d", len(m), 2*n)
	}
	for u := uint32(2); u <= uint32(2*n+1); u++ {
		if got, want := m.lookup(u), 3*u; got != want {
			t.Fatalf("lookup(%d) = %d, want %d", u, got, want)
		}
	}
}

// TestCopyMapAddManySame: addMany gives the map that add gives
// one pair at a time, for random maps and pairs (remaps, duplicates,
// runs cut and joined, the UID range's end).
func TestCopyMapAddManySame(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	for iter := range 3000 {
		var base uidMap
		span := uint32(1 + r.IntN(60))
		lo := uint32(1)
		if iter%5 == 0 {
			lo = 1<<32 - 1 - span
		}
		for range r.IntN(30) {
			base.add(lo+uint32(r.IntN(int(span))), lo+uint32(r.IntN(int(span))))
		}
		var src, dst []uint32
		for range r.IntN(40) {
			src = append(src, lo+uint32(r.IntN(int(span+1))))
			dst = append(dst, lo+uint32(r.IntN(int(span+1))))
		}
		one := slices.Clone(base)
		for i := range src {
			one.add(src[i], dst[i])
		}
		many := slices.Clone(base)
		many.addMany(src, dst)
		for u := lo; u <= lo+span && u != 0; u++ {
			if a, b := one.lookup(u), many.lookup(u); a != b {
				t.Fatalf("iteration %d: base %v, pairs %v %v: lookup(%d) = %d one by one, %d with addMany (%v, %v)", iter, base, src, dst, u, a, b, one, many)
			}
		}
		for k := 1; k < len(many); k++ {
			if uint64(many[k].Src) < many[k-1].srcEnd() {
				t.Fatalf("iteration %d: addMany's map out of order: %v", iter, many)
			}
		}
	}
}

// TestCopyMapsSubfolderToInbox: on a Cyrus source (personal namespace
// "INBOX." with "."), a folder "Inbox" under INBOX is listed as
// "INBOX.Inbox". mapName (copy_names.go:135-155) takes the prefix off and
// gives "Inbox", which on a Dovecot destination (prefix "", "/") is INBOX:
// IMAP's INBOX is case-insensitive, ensure creates nothing for it, and
// copy appends the folder's messages to the destination's INBOX, beside
// those of the source's INBOX. The same for two folders "a/b" and "a_b"
// of a "." source copied to a "/" destination: both go to "a_b".
//
// Adjusted: the original asserted that mapName gives distinct names, which
// it cannot ("a/b" and "a_b" both become "a_b" unless the mapping changes
// for every name with a "_"); the fix is that copy fails such names
// (destClashes), so this asserts that, with the mapping as copy runs it.
func TestCopyMapsSubfolderToInbox(t *testing.T) {
	m := &nameMapper{srcPrefix: "INBOX.", srcDelim: ".", dstPrefix: "", dstDelim: "/", maps: map[string]string{}}
	if got := m.dstName("INBOX.Inbox"); strings.EqualFold(got, "INBOX") {
		if c := m.destClashes([]string{"INBOX.Inbox"}, nil); c["INBOX.Inbox"] == nil {
			t.Errorf("source mailbox INBOX.Inbox maps to %q, the destination's INBOX, and copy does not fail it", got)
		}
		if c := m.destClashes([]string{"INBOX", "INBOX.Inbox"}, nil); c["INBOX.Inbox"] == nil || c["INBOX"] == nil {
			t.Errorf("source mailboxes INBOX and INBOX.Inbox both map to INBOX, and copy does not fail them: %v", c)
		}
	}
	if a, b := m.dstName("INBOX.a/b"), m.dstName("INBOX.a_b"); a == b {
		if c := m.destClashes([]string{"INBOX.a/b", "INBOX.Sent", "INBOX.a_b"}, nil); c["INBOX.a/b"] == nil || c["INBOX.a_b"] == nil || c["INBOX.Sent"] != nil {
			t.Errorf("source mailboxes INBOX.a/b and INBOX.a_b both map to %q, and copy does not fail (only) them: %v", a, c)
		}
	}
	// Added: what --map names goes where it was told.
	m.maps = map[string]string{"INBOX.Inbox": "INBOX", "INBOX.a/b": "a-b"}
	if c := m.destClashes([]string{"INBOX", "INBOX.Inbox", "INBOX.a/b", "INBOX.a_b"}, nil); len(c) != 0 {
		t.Errorf("with --map, copy fails %v", c)
	}
}

// TestSrcChangedHintInbox: for a source INBOX whose UIDVALIDITY
// changed, the advice said first to empty the destination INBOX, which
// during a migration receives new mail: it now offers another mailbox
// (--map INBOX=OTHER) first. And the names are shell-quoted. It named the
// state file's entry to remove by hand: now --restart-mailbox.
func TestSrcChangedHintInbox(t *testing.T) {
	h := srcChangedHint("INBOX", "INBOX")
	m, e := strings.Index(h, "--restart-mailbox INBOX --map INBOX=OTHER"), strings.Index(h, "empty it")
	if m < 0 || e < 0 || m > e {
		t.Errorf("INBOX advice: %s\nwant --restart-mailbox INBOX --map INBOX=OTHER offered before emptying it", h)
	}
	h = srcChangedHint("My Work", "My Work")
	if !strings.Contains(h, "--restart-mailbox 'My Work' --map 'My Work=OTHER'") || !strings.Contains(h, "delete it") {
		t.Errorf("advice: %s\nwant --restart-mailbox 'My Work' --map 'My Work=OTHER' and delete it", h)
	}
}
