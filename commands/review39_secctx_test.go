package commands_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
)

// TestReview39RSectionReadIgnoresContext: a Fetch loop given a context with a
// 2 s deadline reads a streamed body section (io.Copy, as everyone does)
// when the server stalls mid-body (a frozen network: no byte, no FIN).
// The read ignores the loop's context: it returns only when the session's
// own bound fires, the deadline plus StallTimeout (about 63 s with the
// defaults), where "Every method takes a context first; when it ends, the
// call returns its error" (docs/getting-started.md) and Next's read is
// interrupted at once. Defaults: no session option set.
func TestReview39RSectionReadIgnoresContext(t *testing.T) {
	mb := rs39BigMailbox(t, 1, 2<<20)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	if _, err := c.Examine(context.Background(), mb); err != nil {
		t.Fatal(err)
	}
	armed := false
	var seen int64 // bytes the server sent since armed
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			seen += int64(len(p))
			if !armed && bytes.Contains(p, []byte("BODY[]")) {
				armed = true
				seen = 0
			}
			if armed && seen > 256<<10 {
				armed = false
				return "freeze"
			}
			return ""
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{{}}}) {
			if err != nil {
				done <- err
				return
			}
			s, err := m.NextSection()
			if err != nil {
				done <- err
				return
			}
			if _, err := io.Copy(io.Discard, s); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		t.Logf("returned after %v: %v", time.Since(start), err)
		if err == nil {
			t.Fatal("the fetch of a frozen body succeeded")
		}
	case <-time.After(12 * time.Second):
		t.Fatalf("Fetch loop with a 2 s deadline still reading the frozen body's section after %v", time.Since(start))
	}
}

// TestReview39RPartialIgnoresContext: Partial (a method that takes a context and
// returns bytes) of a 2 MiB section whose server freezes mid-body does not
// return when its 2 s context ends: it reads the streamed section, which
// only the session's own bound (deadline + StallTimeout, ~63 s) ends.
// FetchAll of the same message returns at the deadline.
func TestReview39RPartialIgnoresContext(t *testing.T) {
	mb := rs39BigMailbox(t, 1, 2<<20)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	if _, err := c.Examine(context.Background(), mb); err != nil {
		t.Fatal(err)
	}
	armed := false
	var seen int64 // bytes the server sent since armed
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			seen += int64(len(p))
			if !armed && bytes.Contains(p, []byte("BODY[")) {
				armed = true
				seen = 0
			}
			if armed && seen > 256<<10 {
				armed = false
				return "freeze"
			}
			return ""
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := c.Partial(ctx, commands.UIDs(1), commands.FetchSection{}, 0, 2<<20)
		done <- err
	}()
	select {
	case err := <-done:
		t.Logf("returned after %v: %v", time.Since(start), err)
		if err == nil {
			t.Fatal("Partial of a frozen body succeeded")
		}
	case <-time.After(12 * time.Second):
		t.Fatalf("Partial with a 2 s context still blocked after %v", time.Since(start))
	}
}

// TestReview39RSectionReadIgnoresCancel: the same with a server that is alive
// but slow (about 200 KiB/s) and a context cancelled after 1 s: the
// session's stall bound never fires, so the loop reads the whole 4 MiB
// body (about 20 s here; hours for a large attachment on a slow link)
// before it hears of the cancellation.
func TestReview39RSectionReadIgnoresCancel(t *testing.T) {
	mb := rs39BigMailbox(t, 1, 4<<20)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	if _, err := c.Examine(context.Background(), mb); err != nil {
		t.Fatal(err)
	}
	r.Update(func(h *faultrelay.Hooks) {
		h.Delay = 20 * time.Millisecond // a pause before each 4 KiB chunk
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := time.Now().Add(time.Second)
	time.AfterFunc(time.Second, cancel)
	done := make(chan error, 1)
	go func() {
		for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{{}}}) {
			if err != nil {
				done <- err
				return
			}
			s, err := m.NextSection()
			if err != nil {
				done <- err
				return
			}
			if _, err := io.Copy(io.Discard, s); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		t.Logf("returned %v after the cancel: %v", time.Since(cancelled), err)
	case <-time.After(7 * time.Second):
		t.Fatalf("Fetch loop still reading the body %v after its context was cancelled", time.Since(cancelled))
	}
}
