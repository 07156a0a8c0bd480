package commands

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestCopyUIDErrorNoteRepeatCostsNothing: a hostile server answers a UID
// MOVE part with one untagged "* OK [COPYUID 7 99999 1]" after another
// (27 bytes each), each naming a UID not sent. Every one is refused, and
// CopyUIDError.note adds the part's whole set to UIDs again: for a part
// of 1000 ranges (1,3,...,1999) AddRanges sees its first range before the
// last one held, clones the 1000 ranges and sorts them with the set's
// (O(r log r) and two allocations a line, for nothing new). Measured:
// 20,000 such lines (540 KB) took 6.9 s of the session's reader against
// 0.22 s for as many COPYUIDs that are kept, and 200,000 ran into the
// 10 s context: a CPU amplification the bound on kept COPYUIDs
// (MaxResultBytes) does not cover. Noting a part once (by index, or when
// its set is already in UIDs) makes a repeat cost nothing; this checks
// that a repeat allocates nothing.
func TestCopyUIDErrorNoteRepeatCostsNothing(t *testing.T) {
	sent := Set{UID: true}
	for i := uint32(1); i < 2000; i += 2 {
		sent.Nums.AddNum(i)
	}
	src, err := codec.ParseSeqSet([]byte("99999"))
	if err != nil {
		t.Fatal(err)
	}
	e := (*CopyUIDError)(nil).note(src, sent, 0)
	if got := testing.AllocsPerRun(100, func() { e = e.note(src, sent, 0) }); got != 0 {
		t.Errorf("a repeated refused COPYUID for the same part: %v allocations (the part's %d ranges added and sorted again); want 0", got, len(sent.Nums.Ranges()))
	}
	if e.UIDs.Nums.String() != sent.Nums.String() {
		t.Errorf("UIDs %s; want the part's set", setText(e.UIDs.Nums))
	}
	other := Set{UID: true}
	other.Nums.AddNum(5000)
	if e = e.note(src, other, 1); !e.UIDs.Nums.Contains(5000) || !e.UIDs.Nums.Contains(1) {
		t.Errorf("after another part's refused COPYUID: UIDs %s; want both parts' sets", setText(e.UIDs.Nums))
	}
}
