package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
