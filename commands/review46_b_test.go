package commands_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// wantReselected fails unless err is a *session.NotSentError matching
// session.ErrReselected.
func wantReselected(t *testing.T, what string, err error) {
	t.Helper()
	var ns *session.NotSentError
	if !errors.Is(err, session.ErrReselected) || !errors.As(err, &ns) {
		t.Errorf("%s bound to a selection that was replaced: %v; want a *session.NotSentError matching session.ErrReselected", what, err)
	}
}

// dvFlags returns the flags of the messages of the selected mailbox, read
// with an unbound context.
func dvFlags(t *testing.T, ctx context.Context, c *commands.Client) [][]string {
	t.Helper()
	ms, err := c.FetchAll(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Flags: true})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, m := range ms {
		out = append(out, m.Flags)
	}
	return out
}

// TestReview46BBindDovecot: a context bound to a SELECT's selection
// (MailboxState.Bind) keeps every command of the Client to the mailbox
// that SELECT opened. Once the same Client selected another mailbox (as
// another goroutine sharing it would), the bound Store, Expunge, Fetch,
// Search, Copy, Move, Idle, List, Select and Close send nothing and
// return a *session.NotSentError matching session.ErrReselected: nothing
// of the other mailbox was flagged or removed. Unbound calls go on as
// before, and a new Bind binds to the new selection.
func TestReview46BBindDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	a := dvMailbox(t, testserver.Alice, 3)
	b := dvMailbox(t, testserver.Alice, 3)
	dst := dvMailbox(t, testserver.Alice, 0)
	stA, err := c.Select(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stA.Selection == 0 || stA.Selection != c.Session().Selections() {
		t.Fatalf("Select's Selection = %d, session's %d", stA.Selection, c.Session().Selections())
	}
	inA := stA.Bind(ctx)
	// Bound, while a is selected: sent.
	if _, err := c.Store(inA, commands.SeqNums(1), commands.AddFlags, []string{`\Flagged`}, nil); err != nil {
		t.Fatalf("bound STORE in its own selection: %v", err)
	}
	if _, err := c.Select(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Store(inA, commands.SeqNums(1, 2), commands.AddFlags, []string{`\Deleted`}, nil)
	wantReselected(t, "Store", err)
	_, err = c.Expunge(inA, nil)
	wantReselected(t, "Expunge", err)
	_, err = c.FetchAll(inA, commands.SeqNums(1), &commands.FetchItems{Flags: true})
	wantReselected(t, "FetchAll", err)
	for _, err := range c.Fetch(inA, commands.SeqNums(1), &commands.FetchItems{Flags: true}) {
		wantReselected(t, "Fetch", err)
		break
	}
	_, err = c.Search(inA, &commands.Criteria{}, nil)
	wantReselected(t, "Search", err)
	_, err = c.Copy(inA, commands.SeqNums(1), dst)
	wantReselected(t, "Copy", err)
	_, err = c.Move(inA, commands.SeqNums(1), dst)
	wantReselected(t, "Move", err)
	err = c.Idle(inA, nil, func(codec.Response) bool { return false })
	wantReselected(t, "Idle", err)
	_, err = c.List(inA, "*", nil)
	wantReselected(t, "List", err)
	_, err = c.Select(inA, a, nil)
	wantReselected(t, "Select", err)
	wantReselected(t, "Close", c.Close(inA))
	// b is untouched, still selected, and unbound commands work on it.
	for i, f := range dvFlags(t, ctx, c) {
		if slices.Contains(f, `\Deleted`) || slices.Contains(f, `\Flagged`) {
			t.Fatalf("message %d of %s has %v: a command bound to %s reached it", i+1, b, f, a)
		}
	}
	if n := len(dvFlags(t, ctx, c)); n != 3 {
		t.Fatalf("%s holds %d messages, want 3", b, n)
	}
	if st, err := c.Status(ctx, dst, commands.StatusMessages); err != nil || st.Messages != 0 {
		t.Fatalf("%s: %v %+v: a bound Copy or Move reached it", dst, err, st)
	}
	if _, err := c.Store(ctx, commands.SeqNums(2), commands.AddFlags, []string{`\Seen`}, nil); err != nil {
		t.Fatalf("unbound STORE: %v", err)
	}
	// a again: the old binding stays refused, a new one is sent.
	stA2, err := c.Select(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Store(inA, commands.SeqNums(1), commands.AddFlags, []string{`\Deleted`}, nil)
	wantReselected(t, "Store after a was selected again", err)
	if _, err := c.Store(stA2.Bind(inA), commands.SeqNums(2), commands.AddFlags, []string{`\Answered`}, nil); err != nil {
		t.Fatalf("STORE bound to the new selection: %v", err)
	}
	f := dvFlags(t, ctx, c)
	if !slices.Contains(f[0], `\Flagged`) || slices.Contains(f[0], `\Deleted`) || !slices.Contains(f[1], `\Answered`) {
		t.Fatalf("%s's flags: %v", a, f)
	}
	// Closing ends the selection too.
	inA2 := stA2.Bind(ctx)
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(inA2, a, commands.StatusMessages)
	wantReselected(t, "Status after UNSELECT", err)
}

// TestReview46BBindConcurrentDovecot: two goroutines share a Client, one
// flags and expunges in a bound to its selection, the other selects b
// meanwhile (and flags there with its own binding). Whatever the order
// the session gives them, a's commands reach a or nothing: b keeps all
// its messages and none is flagged \Deleted.
func TestReview46BBindConcurrentDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	a := dvMailbox(t, testserver.Alice, 4)
	b := dvMailbox(t, testserver.Alice, 4)
	stA, err := c.Select(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := stA.Bind(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 4 {
			// Message 1 each time: the one before was expunged.
			_, err := c.Store(inA, commands.SeqNums(1), commands.AddFlags, []string{`\Deleted`}, nil)
			if err == nil {
				_, err = c.Expunge(inA, nil)
			}
			if err != nil {
				if !errors.Is(err, session.ErrReselected) {
					errs <- err
				}
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		stB, err := c.Select(ctx, b, nil)
		if err != nil {
			errs <- err
			return
		}
		if _, err := c.Store(stB.Bind(ctx), commands.SeqNums(1), commands.AddFlags, []string{`\Seen`}, nil); err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	f := dvFlags(t, ctx, c)
	if len(f) != 4 {
		t.Fatalf("%s holds %d messages, want 4: a's EXPUNGE reached it", b, len(f))
	}
	for i, fl := range f {
		if slices.Contains(fl, `\Deleted`) {
			t.Fatalf("message %d of %s is flagged \\Deleted: a's STORE reached it", i+1, b)
		}
	}
}

// Bind a job to the mailbox it selected: another goroutine that shares
// the Client selects Archive meanwhile, and the Store and Expunge meant
// for INBOX are not sent there.
func Example_bindSelection() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT": "* 9 EXISTS\nTAG OK [READ-WRITE] selected",
	})
	defer c.Logout(ctx)
	inbox, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		panic(err)
	}
	bctx := inbox.Bind(ctx) // every call with bctx is for this INBOX
	if _, err := c.Store(bctx, commands.SeqNums(1, 2), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
		panic(err)
	}
	// Another goroutine selects another mailbox on the same Client.
	if _, err := c.Select(ctx, "Archive", nil); err != nil {
		panic(err)
	}
	_, err = c.Expunge(bctx, nil)
	fmt.Println(errors.Is(err, session.ErrReselected))
	// Output: true
}
