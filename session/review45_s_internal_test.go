package session

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/imapkit/imapkit/codec"
)

// TestReview45STakeMarkedReleases: TakeMarked re-sliced what it left in
// the Catch (c.items[n:]) over the array that also held what it returned:
// once the caller was done with the responses taken, the Catch still held
// them, until its slice grew into a new array (a long-lived Catch, as the
// typed client's Idle keeps, held every batch taken before). What is left
// is copied out now: the responses taken are the caller's alone.
func TestReview45STakeMarkedReleases(t *testing.T) {
	s := g44CatchSession()
	ca := s.Catch()
	taken := s45Add(ca, 1) // before the mark
	s.mu.Lock()
	ca.markLocked()
	s.mu.Unlock()
	left := s45Add(ca, 2) // after it: stays in the Catch
	got, err := ca.TakeMarked()
	if err != nil || len(got) != 1 || got[0].(*codec.Fetch).Seq != 1 {
		t.Fatalf("TakeMarked: %v, %v; want FETCH 1", got, err)
	}
	got = nil
	runtime.GC()
	if taken.Value() != nil {
		t.Error("the FETCH TakeMarked returned is still reachable after the caller dropped it: the Catch holds it")
	}
	if left.Value() == nil {
		t.Error("the FETCH left in the Catch was collected")
	}
	rest, err := ca.Take()
	if err != nil || len(rest) != 1 || rest[0].(*codec.Fetch).Seq != 2 {
		t.Fatalf("Take after TakeMarked: %v, %v; want FETCH 2", rest, err)
	}
	runtime.KeepAlive(ca)
}

// s45Add adds a FETCH of sequence number seq to c, made here so that no
// stack slot of the test holds it, and returns a weak pointer to it.
//
//go:noinline
func s45Add(c *Catch, seq uint32) weak.Pointer[codec.Fetch] {
	f := &codec.Fetch{Seq: seq}
	c.s.mu.Lock()
	c.addLocked(f, 100, 0)
	c.s.mu.Unlock()
	return weak.Make(f)
}

// TestReview45SExpungeLogCountsCompacted: the Catch's expunge log gave up
// on a VANISHED (forgetting everything before it, so Stop left out every
// FETCH held as lost) when it was written with more than 1024 ranges,
// counted as the server wrote them, before they were merged: a server
// that lists 2000 adjacent UIDs one by one (1,2,3,...,2000), or repeats
// overlapping ranges, sends one range's worth. The bound counts the ranges
// the log keeps, after merging; a VANISHED of more than 1024 ranges apart
// still makes it forget.
func TestReview45SExpungeLogCountsCompacted(t *testing.T) {
	var adjacent, overlapping, apart strings.Builder
	for u := 1; u <= 2000; u++ {
		fmt.Fprintf(&adjacent, ",%d", u)
		fmt.Fprintf(&overlapping, ",%d:%d", 2001+u%7, 2010)
		fmt.Fprintf(&apart, ",%d", 10000+2*u)
	}
	parse := func(s string) codec.SeqSet {
		set, err := codec.ParseSeqSet([]byte(s[1:]))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	var l expungeLog
	f := &codec.Fetch{Seq: 2500, UID: 3000, Has: codec.FetchUID}
	at := l.pos
	l.record(&codec.Vanished{UIDs: parse(adjacent.String())})    // 1:2000
	l.record(&codec.Vanished{UIDs: parse(overlapping.String())}) // 2001:2010
	if fate := l.renumberAll([]*codec.Fetch{f}, []uint64{at}); fate[0] != fetchKept || f.Seq != 2500-2010 {
		t.Errorf("FETCH 2500 (UID 3000) held across VANISHED 1:2000 (written as 2000 UIDs) and 2001:2010 (2000 overlapping ranges): fate %d, seq %d; want kept as %d", fate[0], f.Seq, 2500-2010)
	}
	if l.ranges != 2 {
		t.Errorf("the log counts %d ranges; want 2", l.ranges)
	}
	for _, e := range l.ents {
		if c := cap(e.uids.Ranges()); c > 8 {
			t.Errorf("an entry of %d ranges keeps an array of %d: the ranges as written", len(e.uids.Ranges()), c)
		}
	}
	g := &codec.Fetch{Seq: 100, UID: 5000, Has: codec.FetchUID}
	at = l.pos
	l.record(&codec.Vanished{UIDs: parse(apart.String())}) // 2000 ranges apart
	if fate := l.renumberAll([]*codec.Fetch{g}, []uint64{at}); fate[0] != fetchLost {
		t.Errorf("FETCH held across a VANISHED of 2000 ranges apart: fate %d; want lost", fate[0])
	}
	if len(l.ents) != 0 || l.ranges != 0 {
		t.Errorf("after a VANISHED past the bound the log holds %d entries, %d ranges; want none", len(l.ents), l.ranges)
	}
}
