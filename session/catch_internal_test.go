package session

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"weak"

	"github.com/imapkit/imapkit/codec"
)

// bareCatchSession is a bare session for Catch's bookkeeping, as
// TestCatchStopExpungeQueuedLate makes one.
func bareCatchSession() *Session {
	s := &Session{opts: Options{OnUnsolicited: func(codec.Response) {}, MaxResultBytes: DefaultMaxResultBytes},
		maxEvents: DefaultMaxUnsolicited, maxKeptBytes: DefaultMaxKeptBytes}
	s.eventsCond = sync.NewCond(&s.mu)
	return s
}

// catchStopCost fills a Catch with as many small FETCHes (with UIDs) as the
// default MaxResultBytes lets it hold, then gives the stream kind's
// hostile log (1024 single-UID VANISHEDs, or 1024 EXPUNGEs; none: no
// log), and returns the work Stop's renumbering did (expungeLog.steps)
// and how many FETCHes it held.
func catchStopCost(kind string) (steps, fetches int) {
	s := bareCatchSession()
	ca := s.Catch()
	s.mu.Lock()
	n := 0
	for {
		before := ca.dropped
		s.rl.respSize = 20 + responseOverhead
		s.catchLocked(&codec.Fetch{Seq: uint32(n + 3000), UID: uint32(1<<31) + uint32(n), Has: codec.FetchUID})
		if ca.dropped != before {
			break
		}
		n++
	}
	s.mu.Unlock()
	for i := 0; i < catchExpunges && kind != "none"; i++ {
		if kind == "expunge" {
			s.event(&codec.Expunge{Seq: uint32(1 + i%2)})
		} else {
			var set codec.SeqSet
			set.AddNum(uint32(2*i + 1))
			s.event(&codec.Vanished{UIDs: set})
		}
	}
	xl := ca.xl
	ca.Stop()
	return xl.steps, n
}

// TestCatchStopHostileLogCost: Stop renumbers each FETCH a Catch holds
// by every entry of the log after it, under mu: O(FETCHes x entries),
// up to 220,000 FETCHes (the default MaxResultBytes) times 1024 entries,
// each VANISHED entry a binary search and a walk of its ranges. A server
// that sends many small unsolicited FETCHes while a Catch holds them
// (commands.Client.Idle's), then 1024 one-UID VANISHEDs, had Stop hold
// the session's lock for seconds (the reader, every command, Close wait
// behind it). The work must stay near the cost of handing the FETCHes on:
// counted (expungeLog.steps: entries visited, holes moved, FETCHes
// placed), not timed. Until stop 46 this test compared Stop's times with
// and without the log (at most 4 times plus 50 ms), which a loaded
// machine running every package under -race failed (1.457 s against a
// limit of 1.451 s); the brief wants no timed assertions in tests.
func TestCatchStopHostileLogCost(t *testing.T) {
	_, n := catchStopCost("none")
	exp, _ := catchStopCost("expunge")
	van, _ := catchStopCost("vanished")
	// One by one costs a FETCH every entry after it: n x 1024, some
	// 225 million steps here. renumberAll visits the entries once per
	// class of UIDs that holds a FETCH (1025 classes), moves at most
	// len(holes) words per EXPUNGE per class, and places each FETCH.
	oneByOne := n * catchExpunges
	t.Logf("%d FETCHes held; Stop's renumbering steps: 1024 EXPUNGEs %d, 1024 VANISHEDs %d; one by one %d", n, exp, van, oneByOne)
	if n < 100000 {
		t.Fatalf("only %d FETCHes held: the test does not load the Catch", n)
	}
	for _, c := range []struct {
		what  string
		steps int
	}{{"EXPUNGEs", exp}, {"VANISHEDs", van}} {
		if limit := 8 * (n + (catchExpunges+1)*catchExpunges); c.steps > limit || c.steps == 0 {
			t.Errorf("Stop with a full log of %s took %d steps; want 1 to %d (one by one: %d)", c.what, c.steps, limit, oneByOne)
		}
	}
}

// TestRenumberAllMatchesOne: Catch.Stop renumbers the FETCHes it
// holds all at once (renumberAll); the result must be what applying the
// log's entries after each FETCH one by one gives (renumberOne, the
// reference): random logs of EXPUNGEs and VANISHEDs (small sets, ranges,
// "*", UIDs out of order with the numbers: a server's errors included),
// FETCHes with and without UIDs, UID 0 and number 0 among them, some
// before a VANISHED of too many ranges (lost).
func TestRenumberAllMatchesOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(44, 7))
	for iter := 0; iter < 3000; iter++ {
		var l expungeLog
		var fs, ref []*codec.Fetch
		var at []uint64
		maxSeq := uint32(2 + rng.IntN(40))
		maxUID := uint32(2 + rng.IntN(60))
		steps := rng.IntN(60)
		for st := 0; st < steps; st++ {
			switch rng.IntN(5) {
			case 0, 1: // a FETCH
				f := &codec.Fetch{Seq: uint32(rng.IntN(int(maxSeq) + 1))}
				if rng.IntN(4) != 0 {
					f.Has |= codec.FetchUID
					f.UID = uint32(rng.IntN(int(maxUID) + 1))
				}
				g := *f
				fs, ref, at = append(fs, f), append(ref, &g), append(at, l.pos)
			case 2: // an EXPUNGE
				l.record(&codec.Expunge{Seq: uint32(1 + rng.IntN(int(maxSeq)))})
			case 3, 4: // a VANISHED
				var set codec.SeqSet
				if rng.IntN(200) == 0 {
					for u := uint32(1); u <= 2*catchExpunges+2; u += 2 {
						set.AddNum(u)
					}
				} else {
					for k := rng.IntN(4); k >= 0; k-- {
						a, b := uint32(rng.IntN(int(maxUID)+1)), uint32(rng.IntN(int(maxUID)+1))
						if rng.IntN(10) == 0 {
							b = 0 // "*"
						}
						if a == 0 && b == 0 {
							a = 1
						}
						set.AddRange(a, b)
					}
				}
				l.record(&codec.Vanished{UIDs: set})
			}
		}
		fate := l.renumberAll(fs, at)
		for i := range fs {
			want := l.renumberOne(ref[i], at[i])
			if int(fate[i]) != want || (want == fetchKept && fs[i].Seq != ref[i].Seq) {
				t.Fatalf("iteration %d, FETCH %d (seq %d, uid %d, has uid %v, at %d): renumberAll %d, seq %d; one by one %d, seq %d; log %+v (lost %d, pos %d)",
					iter, i, ref[i].Seq, ref[i].UID, ref[i].Has&codec.FetchUID != 0, at[i], fate[i], fs[i].Seq, want, ref[i].Seq, l.ents, l.lost, l.pos)
			}
		}
	}
}

// TestCatchStopExpungeQueuedLate: the reader routes an EXPUNGE
// under mu and queues it for OnUnsolicited in a later hold of mu; a Stop
// between the two hands the FETCH it held to the stream first, with its
// number then (the EXPUNGE comes after it), and one after both renumbers
// it: the stream's order and the renumbering agree either way.
func TestCatchStopExpungeQueuedLate(t *testing.T) {
	for _, late := range []bool{true, false} {
		t.Run(fmt.Sprint("late=", late), func(t *testing.T) {
			s := &Session{opts: Options{OnUnsolicited: func(codec.Response) {}, MaxResultBytes: 1 << 20},
				maxEvents: 100, maxKeptBytes: 1 << 20}
			s.eventsCond = sync.NewCond(&s.mu)
			ca := s.Catch()
			exp := &codec.Expunge{Seq: 3}
			s.mu.Lock()
			s.catchLocked(&codec.Fetch{Seq: 5, Flags: []codec.Bytes{codec.Bytes(`\Seen`)}})
			s.catchLocked(exp) // routed by the reader: no command took it
			s.mu.Unlock()
			if late {
				ca.Stop()
				s.event(exp) // queued after the Stop
			} else {
				s.event(exp)
				ca.Stop()
			}
			var got []string
			for _, r := range s.events {
				switch r := r.(type) {
				case *codec.Fetch:
					got = append(got, fmt.Sprint("FETCH ", r.Seq))
				case *codec.Expunge:
					got = append(got, fmt.Sprint("EXPUNGE ", r.Seq))
				}
			}
			want := "EXPUNGE 3|FETCH 4"
			if late {
				want = "FETCH 5|EXPUNGE 3"
			}
			if g := strings.Join(got, "|"); g != want {
				t.Errorf("the stream: %s; want %s", g, want)
			}
		})
	}
}

// TestTakeMarkedReleases: TakeMarked re-sliced what it left in
// the Catch (c.items[n:]) over the array that also held what it returned:
// once the caller was done with the responses taken, the Catch still held
// them, until its slice grew into a new array (a long-lived Catch, as the
// typed client's Idle keeps, held every batch taken before). What is left
// is copied out now: the responses taken are the caller's alone.
func TestTakeMarkedReleases(t *testing.T) {
	s := bareCatchSession()
	ca := s.Catch()
	taken := addWeakFetch(ca, 1) // before the mark
	s.mu.Lock()
	ca.markLocked()
	s.mu.Unlock()
	left := addWeakFetch(ca, 2) // after it: stays in the Catch
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

// addWeakFetch adds a FETCH of sequence number seq to c, made here so that no
// stack slot of the test holds it, and returns a weak pointer to it.
//
//go:noinline
func addWeakFetch(c *Catch, seq uint32) weak.Pointer[codec.Fetch] {
	f := &codec.Fetch{Seq: seq}
	c.s.mu.Lock()
	c.addLocked(f, 100, 0)
	c.s.mu.Unlock()
	return weak.Make(f)
}

// TestExpungeLogCountsCompacted: the Catch's expunge log gave up
// on a VANISHED (forgetting everything before it, so Stop left out every
// FETCH held as lost) when it was written with more than 1024 ranges,
// counted as the server wrote them, before they were merged: a server
// that lists 2000 adjacent UIDs one by one (1,2,3,...,2000), or repeats
// overlapping ranges, sends one range's worth. The bound counts the ranges
// the log keeps, after merging; a VANISHED of more than 1024 ranges apart
// still makes it forget.
func TestExpungeLogCountsCompacted(t *testing.T) {
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
