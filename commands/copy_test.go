package commands_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestMoveUntaggedCopyUID replays MOVE answered with COPYUID in an
// untagged OK (RFC 6851 section 4.3), bare and before the expunges: it is
// the MOVE's result.
func TestMoveUntaggedCopyUID(t *testing.T) {
	c, ctx := scripted(t, "move/copyuid_untagged")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mv, err := c.Move(ctx, commands.UIDs(5, 6), "Archive")
	if err != nil || mv == nil || mv.UIDValidity != 9 || mv.Src.String() != "5:6" || mv.Dst.String() != "3:4" {
		t.Fatalf("UID MOVE: %v %+v", err, mv)
	}
	mv, err = c.Move(ctx, commands.SeqNums(1), "Archive")
	if err != nil || mv == nil || mv.Src.String() != "1" || mv.Dst.String() != "5" {
		t.Fatalf("MOVE: %v %+v", err, mv)
	}
	mv, err = c.Move(ctx, commands.SeqNums(1), "Archive")
	if err != nil || mv != nil {
		t.Fatalf("MOVE without COPYUID: %v %+v", err, mv)
	}
}

// TestCopyUIDPairs: a long set moved in parts, each part's COPYUID naming
// its source UIDs in descending order: Pairs and DstOf pair each source
// UID with the destination UID the server gave it, across the parts.
// Joining the parts' sets sorted each on its own and paired them wrongly
// (1 -> 105 became 1 -> 100). Found by the Move/Copy audit in stop 32.
func TestCopyUIDPairs(t *testing.T) {
	want := map[uint32]uint32{}
	next := uint32(100)
	c, ctx, sent := selectedServer(t, "IMAP4rev1 MOVE UIDPLUS", 20, func(cmd string) string {
		set, ok := strings.CutPrefix(cmd, "UID MOVE ")
		if !ok {
			return ""
		}
		set, _, _ = strings.Cut(set, " ")
		var src []string
		var uids []uint32
		for _, f := range strings.Split(set, ",") {
			n, _ := strconv.Atoi(f)
			uids = append(uids, uint32(n))
		}
		slices.Reverse(uids)
		first := next
		for _, u := range uids {
			want[u] = next
			src = append(src, strconv.Itoa(int(u)))
			next++
		}
		return fmt.Sprintf("* OK [COPYUID 7 %s %d:%d] moved\r\n", strings.Join(src, ","), first, next-1)
	})
	c.SetMaxSetLength(8)
	mv, err := c.Move(ctx, commands.UIDs(1, 3, 5, 7, 9, 11), "Archive")
	if err != nil || !mv.Valid() {
		t.Fatalf("UID MOVE: %v %+v", err, mv)
	}
	parts := 0
	for _, l := range sent() {
		if strings.HasPrefix(l, "UID MOVE ") {
			parts++
		}
	}
	if len(want) != 6 || next != 106 || parts < 2 {
		t.Fatalf("the server moved %d messages in %d commands; want 6 in parts", len(want), parts)
	}
	got := map[uint32]uint32{}
	for src, dst := range mv.Pairs() {
		got[src] = dst
	}
	if !maps.Equal(got, want) {
		t.Errorf("Pairs: %v; want %v", got, want)
	}
	for src, dst := range want {
		if d, ok := mv.DstOf(src); !ok || d != dst {
			t.Errorf("DstOf(%d) = %d, %v; want %d", src, d, ok, dst)
		}
	}
	if _, ok := mv.DstOf(2); ok {
		t.Error("DstOf of a UID not moved found one")
	}
}

// TestCopyResultValid: Pairs and DstOf pair only sets a server could
// mean: the same number of UIDs, none twice, no "*"; a wider destination
// range, or one short, pairs nothing.
func TestCopyResultValid(t *testing.T) {
	set := func(s string) codec.SeqSet {
		t.Helper()
		v, err := codec.ParseSeqSet([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		src, dst string
		pairs    string // "src>dst ..." or "" when not Valid
	}{
		{"3,1,2", "10:12", "3>10 1>11 2>12"},
		{"1:3", "12,10,11", "1>12 2>10 3>11"},
		{"4:5,1", "7,8:9", "4>7 5>8 1>9"},
		{"1:3", "10:11", ""},
		{"1:3", "10:13", ""},
		{"1:3,2", "10:13", ""},
		{"1:3", "10,11,10", ""},
		{"1:*", "10:12", ""},
		{"4294967294:4294967295", "1:2", "4294967294>1 4294967295>2"},
	} {
		r := &commands.CopyResult{UIDValidity: 1, Src: set(c.src), Dst: set(c.dst)}
		var got []string
		for s, d := range r.Pairs() {
			got = append(got, fmt.Sprintf("%d>%d", s, d))
			if dd, ok := r.DstOf(s); !ok || dd != d {
				t.Errorf("%s %s: DstOf(%d) = %d, %v; want %d", c.src, c.dst, s, dd, ok, d)
			}
		}
		if g := strings.Join(got, " "); g != c.pairs || r.Valid() != (c.pairs != "") {
			t.Errorf("%s %s: Pairs %q, Valid %v; want %q", c.src, c.dst, g, r.Valid(), c.pairs)
		}
		if c.pairs == "" {
			if _, ok := r.DstOf(1); ok {
				t.Errorf("%s %s: DstOf found a pair", c.src, c.dst)
			}
		}
	}
	var none *commands.CopyResult
	if none.Valid() {
		t.Error("a nil CopyResult is Valid")
	}
	for range none.Pairs() {
		t.Error("a nil CopyResult yields pairs")
	}
}
