package session

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestSetHull checks the hull of the message sets in flight against the
// sets themselves: over random arrivals and departures of commands with
// sets of both kinds (some with "*", some unreadable), whenever the hull
// says a set is apart, no command in flight shares a message with it.
// Commands sent in the order of their messages (UID 1, 2, 3, ...) are told
// apart by the hull alone.
func TestSetHull(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	randSet := func() targetSet {
		ts := targetSet{uids: rng.IntN(3) > 0, known: rng.IntN(20) > 0}
		a := uint32(1 + rng.IntN(60))
		b := a + uint32(rng.IntN(5))
		text := strconv.Itoa(int(a)) + ":" + strconv.Itoa(int(b))
		if rng.IntN(15) == 0 {
			text = strconv.Itoa(int(a)) + ":*"
		}
		if rng.IntN(4) == 0 {
			text += "," + strconv.Itoa(1+rng.IntN(60))
		}
		set, err := codec.ParseSeqSet([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		ts.set = set
		return ts
	}
	s := &Session{}
	var inflight []*Pending
	apartSeen := 0
	for step := 0; step < 20000; step++ {
		if len(inflight) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(inflight))
			s.hull.remove(inflight[i].info.uids)
			inflight = append(inflight[:i], inflight[i+1:]...)
		} else {
			ts := randSet()
			p := &Pending{info: commandInfo{bySet: true, uids: ts.uids}, set: ts.set, hasSet: ts.known}
			s.hullAddLocked(p)
			inflight = append(inflight, p)
		}
		q := randSet()
		if !s.hull.apart(&q) {
			continue
		}
		apartSeen++
		for _, p := range inflight {
			if q.overlaps(&targetSet{set: p.set, uids: p.info.uids, known: p.hasSet}) {
				t.Fatalf("step %d: the hull says %v (uids %v) is apart, but it overlaps %v (uids %v)", step, q.set, q.uids, p.set, p.info.uids)
			}
		}
	}
	if apartSeen == 0 {
		t.Fatal("the hull never told a set apart")
	}
	// In order: each next UID is apart from all before it.
	s = &Session{}
	for uid := uint32(1); uid <= 1000; uid++ {
		var set codec.SeqSet
		set.AddNum(uid)
		q := targetSet{set: set, uids: true, known: true}
		if uid > 1 && !s.hull.apart(&q) {
			t.Fatalf("UID %d is not apart from UIDs 1 to %d", uid, uid-1)
		}
		s.hullAddLocked(&Pending{info: commandInfo{bySet: true, uids: true}, set: set, hasSet: true})
	}
}
