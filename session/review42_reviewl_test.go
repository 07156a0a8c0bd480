package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestReview42LFCatchTooLargeSaysQueued (finding 6): past MaxResultBytes a Catch drops what
// comes and Take returns a *ResultTooLargeError with Queued set, whose
// text blames "answer queued while its caller did not take it (another
// command waiting for its end?)" on a command named "unclaimed
// responses". Queued is documented as "the queue of a pulled command
// passed the bound": no pulled command, no command at all, is involved,
// and the advice points the wrong way. (9d74fc2, session/catch.go Take.)
func TestReview42LFCatchTooLargeSaysQueued(t *testing.T) {
	s := r42Open(t, &session.Options{MaxResultBytes: 2000}, func(tag, line string) string {
		return strings.Repeat("* 1 FETCH (FLAGS (\\Seen))\r\n", 20) + tag + " OK done\r\n"
	})
	ca := s.Catch()
	defer ca.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	_, err := ca.Take()
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("Take: %v; want a *ResultTooLargeError (20 responses of 256+ bytes over a bound of 2000)", err)
	}
	if tl.Queued || strings.Contains(err.Error(), "another command waiting") {
		t.Fatalf("Take's error: Queued %v, %q: no pulled command's queue was involved", tl.Queued, err)
	}
	if tl.Command != session.CatchCommand || tl.Dropped == 0 {
		t.Fatalf("Take's error: Command %q, Dropped %d; want %q and a count", tl.Command, tl.Dropped, session.CatchCommand)
	}
}

// TestReview42LACatchStopHandsOn (finding 1, at the session): Stop loses
// nothing a Catch holds. What an inner Catch did not hand on goes to the
// Catch that was running when it started; what the last one holds goes to
// OnUnsolicited, in order; what a Catch takes is kept for Responses as a
// response no command takes. Stop dropped it all: another client's flag
// change reached no one.
func TestReview42LACatchStopHandsOn(t *testing.T) {
	got := make(chan codec.Response, 10)
	s := r42Open(t, &session.Options{OnUnsolicited: func(r codec.Response) { got <- r }}, func(tag, line string) string {
		return "* 2 FETCH (FLAGS (\\Flagged))\r\n* 3 FETCH (FLAGS (\\Seen))\r\n" + tag + " OK done\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	outer := s.Catch()
	defer outer.Stop()
	inner := s.Catch()
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if l := s.Responses("FETCH"); len(l) != 2 {
		t.Errorf("Responses(FETCH): %d responses; want the 2 the Catch took, kept as before Catch existed", len(l))
	}
	inner.Stop()
	l, err := outer.Take()
	if err != nil || len(l) != 2 || l[0].(*codec.Fetch).Seq != 2 || l[1].(*codec.Fetch).Seq != 3 {
		t.Fatalf("the outer Catch after the inner's Stop: %v, %v; want the two FETCHes, in order", l, err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	outer.Stop()
	var fetches []uint32 // the SELECT's EXISTS and OK [UIDVALIDITY] aside
	for len(fetches) < 2 {
		select {
		case r := <-got:
			if f, ok := r.(*codec.Fetch); ok {
				fetches = append(fetches, f.Seq)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("OnUnsolicited got the FETCHes %v; want those of 2 and 3 the stopped Catch held", fetches)
		}
	}
	if fetches[0] != 2 || fetches[1] != 3 {
		t.Fatalf("OnUnsolicited got the FETCHes %v; want 2 and 3, in order", fetches)
	}
	select {
	case r := <-got:
		if _, ok := r.(*codec.Fetch); ok {
			t.Fatalf("OnUnsolicited got %v more", r)
		}
	case <-time.After(100 * time.Millisecond):
	}
}
