package commands_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// s39HoldAndSelect freezes the relay at the first server chunk holding
// marker, then has c select other (on another goroutine) and waits until
// the SELECT went out (or 3 s), then thaws. It returns a channel with
// the Select's error.
func s39HoldAndSelect(t *testing.T, r *faultrelay.Relay, c *commands.Client, marker, other string) <-chan error {
	held := make(chan struct{})
	done := false
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			if !done && bytes.Contains(p, []byte(marker)) {
				done = true
				close(held)
				return "freeze"
			}
			return ""
		}
	})
	selErr := make(chan error, 1)
	go func() {
		select {
		case <-held:
		case <-time.After(20 * time.Second):
			selErr <- errors.New("marker never seen")
			return
		}
		sent, _ := r.Sent()
		before := bytes.Count(sent, []byte(" SELECT "))
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := c.Select(ctx, other, nil)
			selErr <- err
		}()
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			sent, _ := r.Sent()
			n := bytes.Count(sent, []byte(" SELECT "))
			if n > before {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		r.Thaw()
	}()
	return selErr
}

// TestReview39SMoveFallbackIncompleteIsNotSent: Move's fallback (the relay hides
// MOVE from Dovecot: UID COPY, STORE +FLAGS \Deleted, UID EXPUNGE) whose
// UID EXPUNGE is not sent (another goroutine selected another mailbox
// after the STORE; in the soak the connection died between the two)
// returns a *MoveIncompleteError that matches session.ErrNotSent: by
// docs/errors.md "safe to retry, whatever the command". But the messages
// were copied: a caller retrying on ErrNotSent copies them twice.
func TestReview39SMoveFallbackIncompleteIsNotSent(t *testing.T) {
	src := dvMailbox(t, testserver.Alice, 3)
	dst := dvMailbox(t, testserver.Alice, 0)
	other := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	r.Update(func(h *faultrelay.Hooks) {
		h.Rewrite = append(h.Rewrite, [2]string{" MOVE", " XMOV"})
	})
	c := rs39Client(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	selErr := s39HoldAndSelect(t, r, c, "Store completed", other)
	_, err := c.Move(ctx, commands.UIDRange(1, 3), dst)
	t.Logf("Move: %v; Select: %v", err, <-selErr)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Skipf("the interleaving did not happen: %v", err)
	}
	c2 := dvClient(t, testserver.Alice, nil)
	st, err2 := c2.Status(ctx, dst, commands.StatusMessages)
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Logf("destination holds %d messages; Unknown=%v", st.Messages, mi.Unknown)
	if errors.Is(err, session.ErrNotSent) && st.Messages > 0 {
		t.Fatalf("Move returned an error matching session.ErrNotSent (\"safe to retry, whatever the command\"), but it copied %d messages to the destination (and flagged them \\Deleted in the source): a retry copies them twice", st.Messages)
	}
}

// TestReview39SSplitCopyPartDoneIsNotSent: a command on a set of sequence
// numbers too long for one command goes in parts, one after the other; a
// SELECT of another mailbox between two parts stops the rest. The
// *SplitError says the first part was done (Done), yet it matched
// session.ErrNotSent (it wraps the next part's *NotSentError): a caller
// retrying on ErrNotSent repeats the first part. It was a Copy; a Copy of
// sequence numbers too long for one command now goes by UID (its parts
// pipelined, no SELECT can come between them), so a Store (its parts
// still of sequence numbers, one after the other) stands for it: the
// SplitError is the same for every split command.
func TestReview39SSplitCopyPartDoneIsNotSent(t *testing.T) {
	src := dvMailbox(t, testserver.Alice, 6)
	other := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	c.SetMaxSetLength(3) // "1,3" fits; sequence numbers 1,3,5 go as parts
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	selErr := s39HoldAndSelect(t, r, c, "Store completed", other)
	_, err := c.Store(ctx, commands.SeqNums(1, 3, 5), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true})
	t.Logf("Store: %v; Select: %v", err, <-selErr)
	var se *commands.SplitError
	if !errors.As(err, &se) {
		t.Skipf("the interleaving did not happen: %v", err)
	}
	c2 := dvClient(t, testserver.Alice, nil)
	if _, err := c2.Examine(ctx, src); err != nil {
		t.Fatal(err)
	}
	ms, err2 := c2.FetchAll(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Flags: true})
	if err2 != nil {
		t.Fatal(err2)
	}
	flagged := 0
	for _, m := range ms {
		if slices.Contains(m.Flags, `\Flagged`) {
			flagged++
		}
	}
	t.Logf("source holds %d messages flagged; Done %v", flagged, se.Done)
	if errors.Is(err, session.ErrNotSent) && flagged > 0 {
		t.Fatalf("Store returned an error matching session.ErrNotSent (\"safe to retry, whatever the command\"), but it flagged %d messages (Done %v): a retry repeats the first part", flagged, se.Done)
	}
}

// TestReview39SReplaceFallbackIncompleteIsNotSent: Replace's fallback (Dovecot 2.3
// has no REPLACE: APPEND, STORE +FLAGS \Deleted, UID EXPUNGE) whose STORE
// is not sent (another goroutine selected another mailbox after the
// APPEND) returns a *ReplaceIncompleteError that matches
// session.ErrNotSent, though the new message was stored: a caller
// retrying on ErrNotSent stores it twice.
func TestReview39SReplaceFallbackIncompleteIsNotSent(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 1)
	other := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	if c.Session().HasCap("REPLACE") {
		t.Skip("the server has REPLACE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	selErr := s39HoldAndSelect(t, r, c, "Append completed", other)
	msg := []byte("From: a@example.org\r\nSubject: new draft\r\n\r\nnew\r\n")
	_, err := c.Replace(ctx, commands.UIDs(1), mb, bytes.NewReader(msg), int64(len(msg)), nil)
	t.Logf("Replace: %v; Select: %v", err, <-selErr)
	var ri *commands.ReplaceIncompleteError
	if !errors.As(err, &ri) {
		t.Skipf("the interleaving did not happen: %v", err)
	}
	c2 := dvClient(t, testserver.Alice, nil)
	st, err2 := c2.Status(ctx, mb, commands.StatusMessages)
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Logf("mailbox holds %d messages; Unknown=%v", st.Messages, ri.Unknown)
	if errors.Is(err, session.ErrNotSent) && st.Messages == 2 {
		t.Fatalf("Replace returned an error matching session.ErrNotSent (\"safe to retry, whatever the command\"), but the new message was appended (the mailbox holds %d): a retry appends it twice", st.Messages)
	}
}
