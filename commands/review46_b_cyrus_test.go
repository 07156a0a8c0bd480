package commands_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview46BBadSelectCyrus: Cyrus answers a SELECT with a bad argument
// BAD and keeps the mailbox selected before it (a FETCH sent anyway is
// answered from it), where Dovecot, and RFC 9051 for a NO, leave no
// mailbox selected. The session cannot tell which a server did: after any
// failed SELECT it is in state AUTH with no mailbox, and the selection
// before it is over (session.Session.Selections changed). So a command
// bound to the old selection (MailboxState.Bind) is not sent
// (session.ErrReselected), an unbound Store is refused by the state table
// (*session.StateError), nothing is sent for either, and nothing of the
// mailbox Cyrus kept is flagged; Select works as before afterwards.
func TestReview46BBadSelectCyrus(t *testing.T) {
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
