package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// Fixed: such a number is unknown (0), not its low 32 bits (the codec
// keeps reading it: Zoho predicts a UIDNEXT past 2^32).
//
// The codec keeps a response code's number in 64 bits (for
// HIGHESTMODSEQ); Select cuts [UIDVALIDITY], [UIDNEXT] and [UNSEEN] to 32
// bits without a word: a server's UIDVALIDITY 4294967297 is reported as
// 1, UIDNEXT 4294967296 as 0 (unknown), where a STATUS answer with the
// same numbers is a decode error (codec num32) and docs/limits.md says
// a number past its grammar's range is an error.
func TestSelectCodePast32Bits(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1", func(cmd rawCmd) string {
		if strings.Contains(string(cmd.Raw), " SELECT ") {
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 4294967297] x\r\n* OK [UIDNEXT 4294967296] x\r\n* OK [UNSEEN 4294967298] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		}
		return ""
	})
	st, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Logf("Select: %v (an error: fine)", err)
		return
	}
	if st.UIDValidity != 0 || st.UIDNext != 0 || st.FirstUnseen != 0 {
		t.Fatalf("Select of [UIDVALIDITY 4294967297] [UIDNEXT 4294967296] [UNSEEN 4294967298]: no error, UIDValidity %d, UIDNext %d, FirstUnseen %d (cut to 32 bits)", st.UIDValidity, st.UIDNext, st.FirstUnseen)
	}
}

// TestSelectNoBadCodesNoState: the state of a SELECT comes from its
// untagged OKs and its tagged OK; the codes of an untagged NO or BAD are
// warnings and change none of it, as the session takes UIDVALIDITY from
// an OK only (SelectedUIDValidity) and the read-only state from the
// tagged OK (Mailbox): the two agree. A SELECT refused with a tagged NO
// that carries [UIDVALIDITY] returns no state and leaves no UIDVALIDITY
// in the session.
func TestSelectNoBadCodesNoState(t *testing.T) {
	c, ctx := scripted(t, "mailbox/select_no_bad_codes")
	st, err := c.Select(ctx, "A", nil)
	if st == nil {
		t.Fatalf("Select A: %v", err)
	}
	if err != nil {
		t.Errorf("Select A: %v; want no error (the untagged NO's [READ-ONLY] is no state)", err)
	}
	if st.UIDValidity != 5 || st.UIDNext != 10 || st.FirstUnseen != 2 || st.MailboxID != "m1" ||
		!slices.Equal(st.PermanentFlags, []string{`\Seen`, `\Deleted`}) || st.ReadOnly {
		t.Fatalf("Select A: UIDValidity %d, UIDNext %d, FirstUnseen %d, MailboxID %q, PermanentFlags %q, ReadOnly %v; want the OKs' 5, 10, 2, m1, [\\Seen \\Deleted], read-write (a NO's or BAD's code is no state)",
			st.UIDValidity, st.UIDNext, st.FirstUnseen, st.MailboxID, st.PermanentFlags, st.ReadOnly)
	}
	if _, v, _, ok := c.Session().SelectedUIDValidity(); !ok || v != st.UIDValidity {
		t.Fatalf("session's SelectedUIDValidity %d, %v; MailboxState's %d: they disagree", v, ok, st.UIDValidity)
	}
	if _, ro := c.Session().Mailbox(); ro != st.ReadOnly {
		t.Fatalf("session's read-only %v, MailboxState's %v: they disagree", ro, st.ReadOnly)
	}
	st, err = c.Select(ctx, "B", nil)
	var se *session.StatusError
	if st != nil || !errors.As(err, &se) {
		t.Fatalf("Select B answered NO [UIDVALIDITY 8]: state %+v, error %v; want no state and a *session.StatusError", st, err)
	}
	if _, v, _, ok := c.Session().SelectedUIDValidity(); ok {
		t.Fatalf("after a refused SELECT, the session's SelectedUIDValidity is %d; want none", v)
	}
}

// TestSelectUntaggedReadOnlyHeld: a SELECT answered "* OK [READ-ONLY]"
// and a tagged OK without a code is read-only for Select (a
// *ReadOnlyError with the state) and for the session alike, so a Store is
// refused before it is sent (ErrMailboxReadOnly: a server may answer a
// STORE to a read-only mailbox OK and store nothing). The session took
// [READ-ONLY] from the tagged OK only and held the mailbox writable. A
// tagged OK's [READ-WRITE] decides over an untagged [READ-ONLY], for both.
func TestSelectUntaggedReadOnlyHeld(t *testing.T) {
	c, ctx := scripted(t, "mailbox/select_untagged_read_only")
	st, err := c.Select(ctx, "A", nil)
	var roe *commands.ReadOnlyError
	if st == nil || !st.ReadOnly || !errors.As(err, &roe) {
		t.Fatalf("Select A answered * OK [READ-ONLY]: state %+v, error %v; want the state read-only and a *commands.ReadOnlyError", st, err)
	}
	if _, ro := c.Session().Mailbox(); !ro {
		t.Errorf("Select A said read-only; the session holds the mailbox writable")
	}
	if _, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{`\Seen`}, nil); !errors.Is(err, commands.ErrMailboxReadOnly) {
		t.Fatalf("Store in read-only A: %v; want ErrMailboxReadOnly, nothing sent", err)
	}
	st, err = c.Select(ctx, "B", nil)
	if err != nil || st.ReadOnly {
		t.Fatalf("Select B answered * OK [READ-ONLY] then OK [READ-WRITE]: ReadOnly %v, error %v; want writable", st != nil && st.ReadOnly, err)
	}
	if _, ro := c.Session().Mailbox(); ro {
		t.Fatalf("Select B: the tagged OK said [READ-WRITE]; the session holds the mailbox read-only")
	}
	if _, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{`\Seen`}, nil); err != nil {
		t.Fatalf("Store in B: %v", err)
	}
}

// TestSelectUntaggedReadWriteAfterReadOnly: of a SELECT's untagged
// [READ-ONLY] and [READ-WRITE], the last holds when the tagged OK has
// neither, for Select's MailboxState and the session alike: writable
// after "* OK [READ-ONLY]" then "* OK [READ-WRITE]" (the STORE goes),
// read-only the other way round (refused before it is sent).
func TestSelectUntaggedReadWriteAfterReadOnly(t *testing.T) {
	c, ctx := scripted(t, "mailbox/select_untagged_read_write_last")
	st, err := c.Select(ctx, "A", nil)
	if _, ro := c.Session().Mailbox(); err != nil || st.ReadOnly || ro {
		t.Fatalf("Select A answered [READ-ONLY] then [READ-WRITE]: error %v, MailboxState.ReadOnly %v, session's %v; want writable for both", err, st != nil && st.ReadOnly, ro)
	}
	if _, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{`\Seen`}, nil); err != nil {
		t.Fatalf("Store in A: %v", err)
	}
	st, err = c.Select(ctx, "B", nil)
	var roe *commands.ReadOnlyError
	if _, ro := c.Session().Mailbox(); !errors.As(err, &roe) || !st.ReadOnly || !ro {
		t.Fatalf("Select B answered [READ-WRITE] then [READ-ONLY]: error %v, MailboxState.ReadOnly %v, session's %v; want read-only for both", err, st != nil && st.ReadOnly, ro)
	}
	if _, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{`\Seen`}, nil); !errors.Is(err, commands.ErrMailboxReadOnly) {
		t.Fatalf("Store in read-only B: %v; want ErrMailboxReadOnly, nothing sent", err)
	}
}

// TestSelectTaggedUIDValidityAgrees: a SELECT whose tagged OK alone
// carries [UIDVALIDITY] gives it to the MailboxState and to the session's
// SelectedUIDValidity alike (which an APPENDUID to the selected mailbox
// is checked against). The session knew none.
func TestSelectTaggedUIDValidityAgrees(t *testing.T) {
	c, ctx := scripted(t, "mailbox/select_tagged_uidvalidity")
	st, err := c.Select(ctx, "A", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, v, _, ok := c.Session().SelectedUIDValidity(); !ok || v != st.UIDValidity || v != 7 {
		t.Fatalf("tagged OK [UIDVALIDITY 7]: MailboxState.UIDValidity %d, session's SelectedUIDValidity %d, %v; want 7 for both", st.UIDValidity, v, ok)
	}
}

// TestExamineReadOnlyWhateverTheAnswer: an EXAMINE is read-only (RFC
// 9051 section 6.3.3), and its MailboxState.ReadOnly (imaplib's
// is_readonly) says so as the session's Mailbox does, whether its answer
// has no [READ-ONLY] (A: RFC 9051 wants it in the tagged OK) or says
// [READ-WRITE] (B: a broken or hostile server's): the state said writable
// where the session held the mailbox read-only and refused a Store.
func TestExamineReadOnlyWhateverTheAnswer(t *testing.T) {
	c, ctx := scripted(t, "mailbox/examine_read_write_code")
	for _, m := range []string{"A", "B"} {
		st, err := c.Examine(ctx, m)
		if err != nil {
			t.Fatalf("Examine %s: %v", m, err)
		}
		if _, ro := c.Session().Mailbox(); !st.ReadOnly || !ro {
			t.Errorf("Examine %s (tagged OK without [READ-ONLY]; B's with [READ-WRITE]): MailboxState.ReadOnly %v, the session's %v; want read-only for both", m, st.ReadOnly, ro)
		}
	}
}

// TestBadSelectCyrus: Cyrus answers a SELECT with a bad argument
// BAD and keeps the mailbox selected before it (a FETCH sent anyway is
// answered from it), where Dovecot, and RFC 9051 for a NO, leave no
// mailbox selected. The session cannot tell which a server did: after any
// failed SELECT it is in state AUTH with no mailbox, and the selection
// before it is over (session.Session.Selections changed). So a command
// bound to the old selection (MailboxState.Bind) is not sent
// (session.ErrReselected), an unbound Store is refused by the state table
// (*session.StateError), nothing is sent for either, and nothing of the
// mailbox Cyrus kept is flagged; Select works as before afterwards.
func TestBadSelectCyrus(t *testing.T) {
	_, c := cyAlice(t)
	ctx := dvCtx(t)
	for _, mb := range []string{"A", "B"} {
		if err := c.Create(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
	}
	m := testserver.SampleMessage(0)
	if _, err := c.Append(ctx, "A", bytes.NewReader(m), int64(len(m)), nil); err != nil {
		t.Fatal(err)
	}
	stA, err := c.Select(ctx, "A", nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := stA.Bind(ctx)
	s := c.Session()
	// A SELECT the typed client would not send: through the session.
	_, err = s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("B").SP().Raw("(FOO)") }})
	var se *session.StatusError
	if !errors.As(err, &se) || se.Status.Kind != codec.StatusBAD {
		t.Fatalf("SELECT B (FOO): %v; want Cyrus's BAD", err)
	}
	if st := s.State(); st != session.StateAuth {
		t.Fatalf("state after a BAD SELECT: %v, want AUTH", st)
	}
	if name, _ := s.Mailbox(); name != "" {
		t.Fatalf("mailbox after a BAD SELECT: %q, want none", name)
	}
	if s.Selections() == stA.Selection {
		t.Fatalf("a BAD SELECT left the selection of A (%d) in force", stA.Selection)
	}
	if _, known := s.Exists(); known {
		t.Fatal("a message count is known after a BAD SELECT")
	}
	// What Cyrus kept: a FETCH the state table would refuse, sent anyway.
	r, err := s.Run(ctx, &session.Command{Name: "FETCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("1 (FLAGS)") }})
	t.Logf("FETCH after the BAD SELECT (the session thinks no mailbox is selected): %v, %d responses", err, func() int {
		if r == nil {
			return 0
		}
		return len(r.Data)
	}())
	_, err = c.Store(inA, commands.SeqNums(1), commands.AddFlags, []string{`\Deleted`}, nil)
	wantReselected(t, "Store after a BAD SELECT", err)
	_, err = c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{`\Flagged`}, nil)
	var ste *session.StateError
	if !errors.As(err, &ste) {
		t.Fatalf("unbound Store after a BAD SELECT: %v; want a *session.StateError, nothing sent", err)
	}
	_, err = c.Expunge(ctx, nil)
	if !errors.As(err, &ste) {
		t.Fatalf("unbound Expunge after a BAD SELECT: %v; want a *session.StateError, nothing sent", err)
	}
	if _, err := c.Select(ctx, "B", nil); err != nil {
		t.Fatalf("Select after the BAD SELECT: %v", err)
	}
	if _, err := c.Select(ctx, "A", nil); err != nil {
		t.Fatal(err)
	}
	ms, err := c.FetchAll(ctx, commands.SeqNums(1), &commands.FetchItems{Flags: true})
	if err != nil || len(ms) != 1 {
		t.Fatalf("FETCH A: %v %d", err, len(ms))
	}
	if slices.Contains(ms[0].Flags, `\Deleted`) || slices.Contains(ms[0].Flags, `\Flagged`) {
		t.Fatalf("A's message has %v: a command after the BAD SELECT reached it", ms[0].Flags)
	}
}

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

// TestBindDovecot: a context bound to a SELECT's selection
// (MailboxState.Bind) keeps every command of the Client to the mailbox
// that SELECT opened. Once the same Client selected another mailbox (as
// another goroutine sharing it would), the bound Store, Expunge, Fetch,
// Search, Copy, Move, Idle, List, Select and Close send nothing and
// return a *session.NotSentError matching session.ErrReselected: nothing
// of the other mailbox was flagged or removed. Unbound calls go on as
// before, and a new Bind binds to the new selection.
func TestBindDovecot(t *testing.T) {
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

// TestBindConcurrentDovecot: two goroutines share a Client, one
// flags and expunges in a bound to its selection, the other selects b
// meanwhile (and flags there with its own binding). Whatever the order
// the session gives them, a's commands reach a or nothing: b keeps all
// its messages and none is flagged \Deleted.
func TestBindConcurrentDovecot(t *testing.T) {
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

// TestBoundShortcutOnOtherMailboxCount: a context bound to a's
// selection, after another goroutine selected an EMPTY mailbox e. Fetch,
// Store, Copy and Move of "1:*" take the shortcut "the set holds no
// message" (holdsNone reads the session's current Exists, e's 0) and
// return success with nothing, before any bound command is built: the
// caller is told a has no messages / all were flagged, instead of
// session.ErrReselected as MailboxState.Bind documents. Found by review
// (stop 46, reviewer B).
func TestBoundShortcutOnOtherMailboxCount(t *testing.T) {
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

// TestBoundWritableReadsOtherMailbox: bound to a's read-write
// selection, after another goroutine EXAMINEd b. Store and Move answer
// ErrMailboxReadOnly (writable reads the session's current mailbox) not
// ErrReselected: a caller that retries on ErrReselected (re-Select a,
// Bind again) is told instead that a is read-only, which it is not.
// Found by review (stop 46, reviewer B).
func TestBoundWritableReadsOtherMailbox(t *testing.T) {
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

// TestBindOtherClient: the binding was a bare count
// (session.Selections), not tied to the session that made it. A context
// bound to src's first selection, passed to another Client dst (a copy
// between two accounts sharing one ctx), was accepted by dst while dst's
// own count happened to equal it, and refused with ErrReselected once dst
// selected again: whether dst's NOOP, APPEND or STORE went out depended
// on a coincidence of counts. Found by review (stop 46, reviewer B). A
// binding is now of its session: dst ignores src's (its commands run
// unbound), and src still honours it; binding dst's selection on the same
// context keeps src's, so one context serves a job on both connections.
func TestBindOtherClient(t *testing.T) {
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

// badSelect sends a SELECT of B with a bad argument through the session
// (the typed client would not send it) and wants a BAD.
func badSelect(t *testing.T, c *commands.Client) {
	t.Helper()
	_, err := c.Session().Run(dvCtx(t), &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("B").SP().Raw("(FOO)") }})
	var se *session.StatusError
	if !errors.As(err, &se) || se.Status.Kind != codec.StatusBAD {
		t.Fatalf("SELECT B (FOO): %v; want a BAD", err)
	}
	if st := c.Session().State(); st != session.StateAuth {
		t.Fatalf("state after a BAD SELECT: %v; want AUTH", st)
	}
}

// anyState runs a command the state table refuses in state AUTH, sent
// anyway (Command.AnyState), and returns its error.
func anyState(t *testing.T, c *commands.Client, name string) error {
	t.Helper()
	_, err := c.Session().Run(dvCtx(t), &session.Command{Name: name, AnyState: true})
	return err
}

// TestBadSelectCloseCyrus pins why the session does not allow
// CLOSE after a failed SELECT (docs/session.md): Cyrus keeps the old
// mailbox selected after a BAD SELECT, and a CLOSE sent then (AnyState)
// is answered OK and EXPUNGEs the old mailbox's \Deleted messages,
// which a caller who believes nothing is selected (the session's state
// says AUTH) did not ask for. UNSELECT is answered OK and expunges
// nothing: it is the way out for a caller who wants the old mailbox's
// EXISTS and EXPUNGE to stop (sent with AnyState; with Dovecot, which
// deselects, it is refused: TestBadSelectUnselectDovecot).
func TestBadSelectCloseCyrus(t *testing.T) {
	_, c := cyAlice(t)
	ctx := dvCtx(t)
	for _, mb := range []string{"A", "B"} {
		if err := c.Create(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		m := testserver.SampleMessage(i)
		if _, err := c.Append(ctx, "A", bytes.NewReader(m), int64(len(m)), &commands.AppendOptions{Flags: []string{`\Deleted`}}); err != nil {
			t.Fatal(err)
		}
	}
	messages := func() uint32 {
		t.Helper()
		st, err := c.Status(ctx, "A", commands.StatusMessages)
		if err != nil {
			t.Fatal(err)
		}
		return st.Messages
	}
	if _, err := c.Select(ctx, "A", nil); err != nil {
		t.Fatal(err)
	}
	badSelect(t, c)
	if err := anyState(t, c, "UNSELECT"); err != nil {
		t.Fatalf("UNSELECT after Cyrus's BAD SELECT: %v; want OK (A was still selected)", err)
	}
	if n := messages(); n != 2 {
		t.Fatalf("A holds %d messages after UNSELECT; want 2", n)
	}
	if err := anyState(t, c, "UNSELECT"); err == nil {
		t.Fatal("a second UNSELECT was answered OK: the first did not deselect")
	}

	if _, err := c.Select(ctx, "A", nil); err != nil {
		t.Fatal(err)
	}
	badSelect(t, c)
	if err := anyState(t, c, "CLOSE"); err != nil {
		t.Fatalf("CLOSE after Cyrus's BAD SELECT: %v; want OK", err)
	}
	if n := messages(); n != 0 {
		t.Fatalf("A holds %d messages after CLOSE; want 0: Cyrus's CLOSE expunged the mailbox kept selected (if this changed, docs/session.md's reason is stale)", n)
	}
}

// TestBadSelectUnselectDovecot: Dovecot deselects after a BAD
// SELECT; an UNSELECT sent then (AnyState) is refused (NO or BAD), and
// the session goes on (docs/session.md).
func TestBadSelectUnselectDovecot(t *testing.T) {
	c := dvClient(t, "alice", nil)
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, dvMailbox(t, "alice", 1), nil); err != nil {
		t.Fatal(err)
	}
	badSelect(t, c)
	var se *session.StatusError
	if err := anyState(t, c, "UNSELECT"); !errors.As(err, &se) {
		t.Fatalf("UNSELECT after Dovecot's BAD SELECT: %v; want a NO or BAD (nothing selected)", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after the refused UNSELECT: %v", err)
	}
}

// TestBoundRecentAfterReselect: Recent under a context bound to
// a selection another goroutine's SELECT had already replaced (ordered:
// the SELECT is over before the call) returns session.ErrReselected and
// sends nothing. Client.Recent passes its binding's count to
// Session.RecentIn (which compares it with the session's before the NOOP,
// binds the NOOP to it and compares again when it takes the data:
// TestRecentInStaleSendsNothing in session). When it called
// Session.Recent, which reads the count anew, that Recent, begun in B,
// sent its NOOP to B (and returned B's count). B's SELECT brings no
// RECENT here, so that a Recent begun in B has nothing kept and prods.
// (9 messages: Recent cuts a RECENT above the count.)
func TestBoundRecentAfterReselect(t *testing.T) {
	var noops atomic.Int32
	sc := fakeServer{caps: "IMAP4rev1", on: handlers{
		"SELECT": func(c *hostile.Conn, cmd *hostile.Command) error {
			return c.Lines("* 9 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
		},
		"NOOP": func(c *hostile.Conn, cmd *hostile.Command) error {
			noops.Add(1)
			return c.Lines("* 7 RECENT", cmd.Tag+" OK done")
		},
	}}
	c := hostileClient(t, sc.serve)
	ctx := dvCtx(t)
	st, err := c.Select(ctx, "A", nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := st.Bind(ctx)
	if _, err := c.Select(ctx, "B", nil); err != nil {
		t.Fatal(err)
	}
	n, err := c.Recent(inA)
	wantReselected(t, "Recent", err)
	if slices.Contains(n, 7) {
		t.Errorf("Recent bound to A returned %v: B's counts", n)
	}
	if got := noops.Load(); got != 0 {
		t.Errorf("Recent bound to A sent %d NOOP to B; want none", got)
	}
	// Unbound, Recent prods the mailbox selected (B) and returns its count.
	if n, err = c.Recent(ctx); err != nil || !slices.Equal(n, []uint32{7}) {
		t.Errorf("unbound Recent = %v, %v; want [7]", n, err)
	}
	if n, err = c.Recent(st.Bind(ctx)); err == nil {
		t.Errorf("Recent bound to A, again: %v, nil; want ErrReselected", n)
	}
}

// TestRenameParentOfSelectedNeverListed: "Work/Inbox" selected, and never
// listed since its SELECT, so the session knew no delimiter for it: a
// RENAME of "Work" was not taken for one of its parent, the session held
// "Work/Inbox" as the selected mailbox's name with the renamed mailbox's
// UIDVALIDITY (SelectedUIDValidity), and the APPENDUID of an APPEND to a
// new "Work/Inbox" was checked against it and dropped. Rename now asks
// LIST "" Work/Inbox first.
func TestRenameParentOfSelectedNeverListed(t *testing.T) {
	c, ctx := scripted(t, "mailbox/rename_parent_never_listed")
	renameParentOfSelectedThenAppend(t, c, ctx)
}

// TestRenameParentOfSelectedAppendUIDKept is
// TestRenameParentOfSelectedNeverListed on a server that answers any
// command in any order: what a user gets from the calls, the wire aside.
func TestRenameParentOfSelectedAppendUIDKept(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1 LITERAL+ UIDPLUS", func(cmd rawCmd) string {
		raw := string(cmd.Raw)
		switch {
		case strings.Contains(raw, " SELECT "):
			return "* 1 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(raw, " LIST "):
			return "* LIST (\\HasNoChildren) \"/\" Work/Inbox\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(raw, " APPEND "):
			return cmd.Tag + " OK [APPENDUID 9 1] done\r\n"
		}
		return cmd.Tag + " OK done\r\n"
	})
	renameParentOfSelectedThenAppend(t, c, ctx)
}

// renameParentOfSelectedThenAppend selects "Work/Inbox", renames "Work",
// creates "Work/Inbox" again and appends to it: the session must then hold
// no UIDVALIDITY for the name, and the APPEND's APPENDUID 9 1 must come
// back (the server answers so).
func renameParentOfSelectedThenAppend(t *testing.T, c *commands.Client, ctx context.Context) {
	t.Helper()
	if _, err := c.Select(ctx, "Work/Inbox", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, "Work", "Old"); err != nil {
		t.Fatal(err)
	}
	wantWorkInboxNameTaken(t, c, ctx, "a RENAME of Work")
}

// wantWorkInboxNameTaken checks that after what, a RENAME of Work with
// Work/Inbox selected, the session holds no UIDVALIDITY for the name, and
// that an APPEND to a new Work/Inbox, answered APPENDUID 9 1 by the
// server, returns it.
func wantWorkInboxNameTaken(t *testing.T, c *commands.Client, ctx context.Context, what string) {
	t.Helper()
	if name, v, _, ok := c.Session().SelectedUIDValidity(); ok {
		t.Errorf("after %s, SelectedUIDValidity %q %d; want none (the name may be a new mailbox's)", what, name, v)
	}
	if err := c.Create(ctx, "Work/Inbox", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.AppendBytes(ctx, "Work/Inbox", []byte("x\r\n"), nil)
	if err != nil || *res != (commands.AppendResult{UIDValidity: 9, UID: 1}) {
		t.Errorf("APPEND to the new Work/Inbox answered APPENDUID 9 1: %v, %+v; want it returned", err, res)
	}
}

// TestRenamePrefixOfSelectedFlatListsOnce: in a flat hierarchy (LIST
// answers the selected "Flat" with a NIL delimiter) no mailbox is a
// parent of another, and a RENAME of a prefix of the selected name leaves
// it. The session did not keep that answer, so every Rename of a prefix
// ("F", "Fl", "Fla") asked LIST "" Flat again. It is asked once a
// selection now; a new selection asks again (another mailbox may be of
// another namespace, with a delimiter), and the selected name is not
// taken by the RENAMEs.
func TestRenamePrefixOfSelectedFlatListsOnce(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+ UIDPLUS", func(cmd rawCmd) string {
		raw := string(cmd.Raw)
		switch {
		case strings.Contains(raw, " SELECT "):
			return "* 1 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(raw, " LIST "):
			name := strings.TrimSuffix(raw[strings.LastIndexByte(raw, ' ')+1:], "\r\n")
			return "* LIST (\\HasNoChildren) NIL " + name + "\r\n" + cmd.Tag + " OK done\r\n"
		}
		return cmd.Tag + " OK done\r\n"
	})
	lists := func() int {
		n := 0
		for _, cmd := range f.commands() {
			if strings.Contains(string(cmd.Raw), " LIST ") {
				n++
			}
		}
		return n
	}
	for i, sel := range []string{"Flat", "Flat2"} {
		if _, err := c.Select(ctx, sel, nil); err != nil {
			t.Fatal(err)
		}
		for _, from := range []string{"F", "Fl", "Fla"} {
			if err := c.Rename(ctx, from, from+"-old"); err != nil {
				t.Fatal(err)
			}
		}
		if n := lists(); n != i+1 {
			t.Errorf("%s selected, listed with a NIL delimiter, renames of F, Fl and Fla: %d LISTs in all; want %d (one a selection)", sel, n, i+1)
		}
		if name, v, _, ok := c.Session().SelectedUIDValidity(); !ok || name != sel || v != 5 {
			t.Errorf("after renames of prefixes of %s in a flat hierarchy: SelectedUIDValidity %q %d %v; want %s 5", sel, name, v, ok, sel)
		}
	}
}

// TestRenameParentOfSelectedThroughDo: a RENAME sent by Do asked no LIST
// for the selected mailbox's delimiter, as Rename does. With the
// delimiter unknown, the session took no name but the selected one's own
// for gone: after Do RENAME Work Old with "Work/Inbox" selected,
// SelectedUIDValidity still gave the renamed mailbox's UIDVALIDITY for
// "Work/Inbox", and the APPENDUID of an APPEND to a new "Work/Inbox" was
// checked against it and dropped. Do now asks LIST "" Work/Inbox first
// when the delimiter is unknown, and only then; a known delimiter, or a
// flat hierarchy, tells a parent from a prefix.
func TestRenameParentOfSelectedThroughDo(t *testing.T) {
	doRename := func(c *commands.Client, ctx context.Context, from, to string) {
		t.Helper()
		if _, err := c.Do(ctx, "RENAME", func(e *wire.Encoder) { e.SP().Mailbox(from).SP().Mailbox(to) }); err != nil {
			t.Fatal(err)
		}
	}
	listAs := func(delim string) func(cmd rawCmd) string {
		return func(cmd rawCmd) string {
			raw := string(cmd.Raw)
			switch {
			case strings.Contains(raw, " SELECT "):
				return "* 1 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
			case strings.Contains(raw, " LIST "):
				name := strings.TrimSuffix(raw[strings.LastIndexByte(raw, ' ')+1:], "\r\n")
				return "* LIST () " + delim + " " + name + "\r\n" + cmd.Tag + " OK done\r\n"
			case strings.Contains(raw, " APPEND "):
				return cmd.Tag + " OK [APPENDUID 9 1] done\r\n"
			}
			return cmd.Tag + " OK done\r\n"
		}
	}
	t.Run("delimiter unknown", func(t *testing.T) {
		c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+ UIDPLUS", listAs(`"/"`))
		if _, err := c.Select(ctx, "Work/Inbox", nil); err != nil {
			t.Fatal(err)
		}
		doRename(c, ctx, "Work", "Old")
		var sent []string
		for _, cmd := range f.commands() {
			sent = append(sent, strings.TrimSuffix(string(cmd.Raw[len(cmd.Tag)+1:]), "\r\n"))
		}
		if want := []string{"SELECT Work/Inbox", `LIST "" "Work/Inbox"`, "RENAME Work Old"}; !slices.Equal(sent, want) {
			t.Errorf("Do RENAME Work Old, Work/Inbox selected, never listed: sent %q; want %q", sent, want)
		}
		wantWorkInboxNameTaken(t, c, ctx, "Do RENAME Work (delimiter unknown)")
	})
	// The session sends a command's name upper-cased and trimmed: so is
	// each of these a RENAME, and Do asks the LIST for each.
	for _, name := range []string{"rename", " RENAME", "ReName\t"} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+ UIDPLUS", listAs(`"/"`))
			if _, err := c.Select(ctx, "Work/Inbox", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Do(ctx, name, func(e *wire.Encoder) { e.SP().Mailbox("Work").SP().Mailbox("Old") }); err != nil {
				t.Fatal(err)
			}
			if sel, v, _, ok := c.Session().SelectedUIDValidity(); ok {
				t.Errorf("Do %q Work Old, Work/Inbox selected, never listed: %d commands sent, SelectedUIDValidity %q %d; want a LIST first, and none", name, len(f.commands()), sel, v)
			}
		})
	}
	for _, tc := range []struct{ delim, sel, from string }{
		{`"/"`, "Work/Inbox", "Wo"}, // a prefix, not a parent
		{"NIL", "Flat", "Fl"},       // a flat hierarchy: no parents
	} {
		t.Run(tc.delim, func(t *testing.T) {
			c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+ UIDPLUS", listAs(tc.delim))
			if _, err := c.Select(ctx, tc.sel, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.List(ctx, tc.sel, nil); err != nil {
				t.Fatal(err)
			}
			doRename(c, ctx, tc.from, "Old")
			if n := len(f.commands()); n != 3 {
				t.Errorf("SELECT, LIST, Do RENAME: %d commands sent; want 3 (no LIST again, the delimiter known)", n)
			}
			if name, v, _, ok := c.Session().SelectedUIDValidity(); !ok || name != tc.sel || v != 5 {
				t.Errorf("after Do RENAME %s (delimiter %s known), SelectedUIDValidity %q %d %v; want %s 5", tc.from, tc.delim, name, v, ok, tc.sel)
			}
		})
	}
}

// TestExpungeCancelledResultUnchangedAfterReturn: a UID EXPUNGE sent in
// parts (SetMaxSetLength), cancelled amid the second part's EXPUNGE
// responses after the first was answered, returns what it read so far.
// The session may be delivering one more EXPUNGE to the part (its OnData)
// as the caller gives up: it was appended to the SeqNums Expunge had
// returned, on the reader goroutine, while the caller read them. The
// result is the same once the session has read the whole answer (a NOOP
// after it). Many rounds: the window is one response's delivery.
func TestExpungeCancelledResultUnchangedAfterReturn(t *testing.T) {
	const rounds, before, after = 200, 64, 400
	changed, returned := 0, 0
	for round := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		c := hostileClient(t, expungeInTwoParts(before+after, func(k int) {
			if k == before {
				cancel() // the caller gives up amid the EXPUNGEs
			}
		}))
		c.SetMaxSetLength(8)
		bg, stop := context.WithTimeout(context.Background(), time.Minute)
		if _, err := c.Select(bg, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		set := commands.Set{UID: true}
		for i := uint32(1); i <= 8; i++ {
			set.Nums.AddNum(10 * i)
		}
		res, _ := c.Expunge(ctx, &set)
		if res != nil {
			returned++
			got := len(res.SeqNums)
			if err := c.Noop(bg); err != nil { // the UID EXPUNGE's answer read whole
				t.Fatal(err)
			}
			if now := len(res.SeqNums); now != got {
				changed++
				if changed == 1 {
					t.Errorf("round %d: a cancelled Expunge's SeqNums held %d when it returned, %d after the rest of its answer was read; want it unchanged", round, got, now)
				}
			}
		}
		stop()
		cancel()
	}
	t.Logf("%d rounds, %d with a result, %d of them changed after Expunge returned", rounds, returned, changed)
	if returned == 0 {
		t.Errorf("no round returned a result: the test checked nothing")
	}
}

// TestExpungeCancelledMidDeliveryResultUnchanged is
// TestExpungeCancelledResultUnchangedAfterReturn's interleaving forced:
// the caller's context ends while the session is handing the second
// part's second EXPUNGE to its OnData, held there (in a testing/synctest
// bubble) until every other goroutine is durably blocked: an Expunge
// that returns without waiting for that delivery has returned by then.
// The session lets no OnData of a command run once its Wait has
// returned, so Expunge returns after the delivery: the result holds the
// three EXPUNGEs read before it returned, and still does once the rest of
// the answer was read.
func TestExpungeCancelledMidDeliveryResultUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := hostileClient(t, expungeInTwoParts(3, func(int) {}))
		c.SetMaxSetLength(8)
		bg, stop := context.WithTimeout(context.Background(), time.Minute)
		defer stop()
		if _, err := c.Select(bg, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		calls := 0
		commands.OnResultData(t, func() {
			if calls++; calls != 3 {
				return
			}
			cancel()        // the caller gives up as the second part's second EXPUNGE is handed on
			synctest.Wait() // an Expunge that does not wait for the delivery has returned
		})
		set := commands.Set{UID: true}
		for i := uint32(1); i <= 8; i++ {
			set.Nums.AddNum(10 * i)
		}
		res, err := c.Expunge(ctx, &set)
		if res == nil {
			t.Fatalf("Expunge cancelled amid its second part: %v, no result; want what it read", err)
		}
		got := len(res.SeqNums)
		if err := c.Noop(bg); err != nil { // the UID EXPUNGE's answer read whole
			t.Fatal(err)
		}
		if now := len(res.SeqNums); now != got || got != 3 {
			t.Errorf("a cancelled Expunge's SeqNums held %d when it returned, %d after the rest of its answer was read; want 3 both times", got, now)
		}
	})
}

// expungeInTwoParts is a server with UIDPLUS that answers the first UID
// EXPUNGE with one EXPUNGE and the second with n, calling atLine(k)
// before the k-th of them (from 1), then OK.
func expungeInTwoParts(n int, atLine func(k int)) hostile.Scenario {
	return func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		cmd, err := c.Until("UID EXPUNGE")
		if err != nil {
			return err
		}
		c.Line("* 1 EXPUNGE")
		c.Reply(cmd.Tag, "OK done")
		if cmd, err = c.Until("UID EXPUNGE"); err != nil {
			return err
		}
		for k := 1; k <= n; k++ {
			atLine(k)
			if err := c.Line("* 1 EXPUNGE"); err != nil {
				return err
			}
		}
		c.Reply(cmd.Tag, "OK done")
		return c.Serve()
	}
}
