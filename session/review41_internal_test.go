package session

import (
	"slices"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview41RRoutingSetCanonical: the set a command's FETCH and
// VANISHED responses are routed by is kept canonical, whatever the order
// the caller wrote it in, so that routing each response costs O(log r)
// (Contains, Overlaps) or O(1) (Dynamic, uidsDone), not O(r): a raw UID
// FETCH of UIDs in descending order kept them so, and every FETCH the
// server sent walked all its ranges. The caller's Messages is copied, not
// reordered.
func TestReview41RRoutingSetCanonical(t *testing.T) {
	want := []wire.SeqRange{{Start: 1, Stop: 1}, {Start: 5, Stop: 7}, {Start: 9, Stop: 9}}
	raw := &Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("9,7,5:6,1 (FLAGS)") }}
	ts := commandSet(raw, "UID FETCH", "UID FETCH", true)
	if !ts.known || !slices.Equal(ts.set.Ranges(), want) {
		t.Errorf("raw UID FETCH 9,7,5:6,1: routing set %v (known %v); want %v", ts.set.Ranges(), ts.known, want)
	}
	msgs, err := codec.ParseSeqSet([]byte("9,7,5:6,1"))
	if err != nil {
		t.Fatal(err)
	}
	orig := slices.Clone(msgs.Ranges())
	ts = commandSet(&Command{Name: "UID FETCH", Messages: &msgs}, "UID FETCH", "UID FETCH", true)
	if !slices.Equal(ts.set.Ranges(), want) {
		t.Errorf("Messages 9,7,5:6,1: routing set %v; want %v", ts.set.Ranges(), want)
	}
	if !slices.Equal(msgs.Ranges(), orig) {
		t.Errorf("the caller's Messages became %v; want it untouched, %v", msgs.Ranges(), orig)
	}
	p := &Pending{info: commandInfo{target: TargetMessages}, cmd: raw, tag: "A1", name: "UID FETCH", wname: "UID FETCH"}
	wc, err := encodeCommand(wire.NewEncoder(nil), "A1", "UID FETCH", raw.Args)
	if err != nil {
		t.Fatal(err)
	}
	p.noteTarget(wc)
	if !p.hasSet || !slices.Equal(p.set.Ranges(), want) {
		t.Errorf("noteTarget of a raw UID FETCH 9,7,5:6,1: routing set %v (has %v); want %v", p.set.Ranges(), p.hasSet, want)
	}
	p.lastUID = 8
	if p.uidsDone() {
		t.Error("uidsDone with UID 8 answered of 1,5:7,9: want false")
	}
	p.lastUID = 9
	if !p.uidsDone() {
		t.Error("uidsDone with UID 9 answered of 1,5:7,9: want true")
	}
}
