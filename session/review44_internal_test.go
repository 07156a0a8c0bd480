package session

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestReview44SCatchStopExpungeQueuedLate: the reader routes an EXPUNGE
// under mu and queues it for OnUnsolicited in a later hold of mu; a Stop
// between the two hands the FETCH it held to the stream first, with its
// number then (the EXPUNGE comes after it), and one after both renumbers
// it: the stream's order and the renumbering agree either way.
func TestReview44SCatchStopExpungeQueuedLate(t *testing.T) {
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
