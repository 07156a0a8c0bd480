package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestReview46DCompressFrozenBody reproduces the difference of
// TestPullBodyReadContextFrozen under COMPRESS=DEFLATE: a body section
// pulled as an io.Reader, the server frozen half way (no byte, no FIN),
// the read's context cancelled while the read waits for the server. In
// plain text and TLS the read returns the context's error at once and the
// session goes on; under COMPRESS the read in progress is not interrupted
// (compress/flate keeps a read's error for good: an interrupted inflater
// could not go on), so it returns when the stall timeout fires, which
// aborts the session. The defaults, the stall timeout run 50 times faster
// (StallSpeed: 60 s as 1.2 s).
func TestReview46DCompressFrozenBody(t *testing.T) {
	session.StallSpeed(t, 50)
	release := make(chan struct{})
	conn := bodyCtxConn(t, false, bodyCtxServer(1<<20, true, release, 0, true))
	defer close(release)
	s := openDefaults(t, conn, nil)
	if err := s.Compress(ctx20(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	_, at, err := bodyCtxRead(t, s, ctx, func() {
		time.AfterFunc(200*time.Millisecond, func() { cancelled = time.Now(); cancel() })
	})
	t.Logf("read: %v, %v after the cancel", err, at.Sub(cancelled))
	switch {
	case errors.Is(err, context.Canceled) && errors.Is(err, session.ErrBodyDropped):
		// A loaded machine: the read had not yet reached the freeze
		// when the context ended, and saw it at its next read.
		t.Log("the cancel came before the read waited for the server")
	case errors.Is(err, session.ErrAborted) && errors.Is(err, session.ErrTimeout):
		// The limitation: cut by the stall timeout, session aborted.
		if !errors.Is(s.Err(), session.ErrAborted) {
			t.Fatalf("session: %v", s.Err())
		}
	default:
		t.Fatalf("read: %v", err)
	}
}
