package commands_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

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

// TestReview47CBadSelectCloseCyrus pins why the session does not allow
// CLOSE after a failed SELECT (docs/session.md): Cyrus keeps the old
// mailbox selected after a BAD SELECT, and a CLOSE sent then (AnyState)
// is answered OK and EXPUNGEs the old mailbox's \Deleted messages,
// which a caller who believes nothing is selected (the session's state
// says AUTH) did not ask for. UNSELECT is answered OK and expunges
// nothing: it is the way out for a caller who wants the old mailbox's
// EXISTS and EXPUNGE to stop (sent with AnyState; with Dovecot, which
// deselects, it is refused: TestReview47CBadSelectUnselectDovecot).
func TestReview47CBadSelectCloseCyrus(t *testing.T) {
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

// TestReview47CBadSelectUnselectDovecot: Dovecot deselects after a BAD
// SELECT; an UNSELECT sent then (AnyState) is refused (NO or BAD), and
// the session goes on (docs/session.md).
func TestReview47CBadSelectUnselectDovecot(t *testing.T) {
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
