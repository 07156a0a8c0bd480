package session

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestNextSlotBeforeQueue: a response lent in the slot came before any
// queued one (it is lent only while nothing is queued; the reader queues
// the next ones when another goroutine needs it before the caller has
// taken the slot), so Next hands it out first. It handed out the queue
// first, and a fetch saw its first message last (TestMixedConcurrencyDovecot).
func TestNextSlotBeforeQueue(t *testing.T) {
	s := &Session{}
	s.pullCond = sync.NewCond(&s.mu)
	item := func(seq uint32) Item { return Item{Response: &codec.Fetch{Seq: seq}} }
	p := &Pending{s: s, pull: &puller{
		slot: item(1), hasSlot: true,
		queue: []Item{item(2), item(3)},
		ended: true,
	}}
	for _, want := range []uint32{1, 2, 3} {
		it, err := p.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := it.Response.(*codec.Fetch).Seq; got != want {
			t.Fatalf("Next gave message %d, want %d", got, want)
		}
	}
	if _, err := p.Next(context.Background()); err != io.EOF {
		t.Fatalf("after the last: %v, want io.EOF", err)
	}
}
