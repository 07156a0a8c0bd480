package session

import (
	"runtime"
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
