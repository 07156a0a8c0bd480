package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview46GBoundShortcutOnOtherMailboxCount: a context bound to a's
// selection, after another goroutine selected an EMPTY mailbox e. Fetch,
// Store, Copy and Move of "1:*" take the shortcut "the set holds no
// message" (holdsNone reads the session's current Exists, e's 0) and
// return success with nothing, before any bound command is built: the
// caller is told a has no messages / all were flagged, instead of
// session.ErrReselected as MailboxState.Bind documents. Found by review
// (stop 46, reviewer B).
func TestReview46GBoundShortcutOnOtherMailboxCount(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	a := dvMailbox(t, testserver.Alice, 3)
	e := dvMailbox(t, testserver.Alice, 0)
	dst := dvMailbox(t, testserver.Alice, 0)
	stA, err := c.Select(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := stA.Bind(ctx)
	if _, err := c.Select(ctx, e, nil); err != nil { // "another goroutine"
		t.Fatal(err)
	}
	all := commands.SeqRange(1, 0)
	n := 0
	var ferr error
	for _, err := range c.Fetch(inA, all, &commands.FetchItems{Flags: true}) {
		n++
		ferr = err
		break
	}
	if n == 0 {
		t.Errorf("bound Fetch 1:* yielded nothing and no error (a holds 3 messages)")
	} else {
		wantReselected(t, "Fetch 1:*", ferr)
	}
	_, err = c.FetchAll(inA, all, &commands.FetchItems{Flags: true})
	wantReselected(t, "FetchAll 1:*", err)
	_, err = c.Store(inA, all, commands.AddFlags, []string{`\Deleted`}, nil)
	wantReselected(t, "Store 1:*", err)
	_, err = c.Copy(inA, all, dst)
	wantReselected(t, "Copy 1:*", err)
	_, err = c.Move(inA, all, dst)
	wantReselected(t, "Move 1:*", err)
}

// TestReview46GBoundWritableReadsOtherMailbox: bound to a's read-write
// selection, after another goroutine EXAMINEd b. Store and Move answer
// ErrMailboxReadOnly (writable reads the session's current mailbox) not
// ErrReselected: a caller that retries on ErrReselected (re-Select a,
// Bind again) is told instead that a is read-only, which it is not.
// Found by review (stop 46, reviewer B).
func TestReview46GBoundWritableReadsOtherMailbox(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	a := dvMailbox(t, testserver.Alice, 2)
	b := dvMailbox(t, testserver.Alice, 2)
	dst := dvMailbox(t, testserver.Alice, 0)
	stA, err := c.Select(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := stA.Bind(ctx)
	if _, err := c.Examine(ctx, b); err != nil {
		t.Fatal(err)
	}
	_, err = c.Store(inA, commands.SeqNums(1), commands.AddFlags, []string{`\Deleted`}, nil)
	wantReselected(t, "Store", err)
	_, err = c.Move(inA, commands.SeqNums(1), dst)
	wantReselected(t, "Move", err)
	_, err = c.Expunge(inA, nil)
	wantReselected(t, "Expunge", err)
}

// TestReview46GBindOtherClient: the binding was a bare count
// (session.Selections), not tied to the session that made it. A context
// bound to src's first selection, passed to another Client dst (a copy
// between two accounts sharing one ctx), was accepted by dst while dst's
// own count happened to equal it, and refused with ErrReselected once dst
// selected again: whether dst's NOOP, APPEND or STORE went out depended
// on a coincidence of counts. Found by review (stop 46, reviewer B). A
// binding is now of its session: dst ignores src's (its commands run
// unbound), and src still honours it; binding dst's selection on the same
// context keeps src's, so one context serves a job on both connections.
func TestReview46GBindOtherClient(t *testing.T) {
	src := dvClient(t, testserver.Alice, nil)
	dst := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	a := dvMailbox(t, testserver.Alice, 1)
	b := dvMailbox(t, testserver.Alice, 1)
	st, err := src.Select(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	srcBound := st.Bind(ctx)
	if _, err := dst.Select(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	// dst's count 1 = src's 1.
	if err := dst.Noop(srcBound); err != nil {
		t.Errorf("dst.Noop under src's binding, dst's count equal to it: %v; want it sent (another session's binding is ignored)", err)
	}
	stB, err := dst.Select(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	// dst's count 2, src's 1.
	if err := dst.Noop(srcBound); err != nil {
		t.Errorf("dst.Noop under src's binding, after dst selected again: %v; want it sent (another session's binding is ignored)", err)
	}
	// Both bound on one context: each Client checks its own.
	both := stB.Bind(srcBound)
	if err := src.Noop(both); err != nil {
		t.Errorf("src.Noop bound to both selections: %v", err)
	}
	if err := dst.Noop(both); err != nil {
		t.Errorf("dst.Noop bound to both selections: %v", err)
	}
	if _, err := src.Select(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	wantReselected(t, "src.Noop, src having selected again", src.Noop(both))
	if err := dst.Noop(both); err != nil {
		t.Errorf("dst.Noop bound to both selections, src having selected again: %v", err)
	}
	// A MailboxState that no Select returned binds nothing.
	if err := dst.Noop((&commands.MailboxState{}).Bind(ctx)); err != nil {
		t.Errorf("dst.Noop under the binding of a MailboxState no Select returned: %v", err)
	}
}
