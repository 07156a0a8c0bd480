package commands_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestReadOnlyMailboxRefusesChanges: in a mailbox opened with EXAMINE,
// Store, Expunge and Move return ErrMailboxReadOnly (matching
// session.ErrReadOnly) and send nothing; Copy and Fetch go on. Dovecot
// answered the STORE "OK Store ignored", which read as done though no
// flag changed (Fetch shows it). After a SELECT the same Store works.
func TestReadOnlyMailboxRefusesChanges(t *testing.T) {
	var mu sync.Mutex
	var trace bytes.Buffer
	c := dvClient(t, testserver.Alice, &session.Options{Trace: lockedWriter{&mu, &trace}})
	ctx := dvCtx(t)
	box := dvMailbox(t, testserver.Alice, 3)
	if _, err := c.Select(ctx, box, &commands.SelectOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	before := trace.Len()
	mu.Unlock()
	if _, err := c.Store(ctx, commands.SeqRange(1, 3), commands.AddFlags, []string{`\Flagged`}, nil); !errors.Is(err, commands.ErrMailboxReadOnly) || !errors.Is(err, session.ErrReadOnly) {
		t.Fatalf("Store in an EXAMINEd mailbox: %v; want ErrMailboxReadOnly", err)
	}
	if _, err := c.Expunge(ctx, nil); !errors.Is(err, commands.ErrMailboxReadOnly) {
		t.Fatalf("Expunge: %v", err)
	}
	if _, err := c.Move(ctx, commands.UIDs(1), "INBOX"); !errors.Is(err, commands.ErrMailboxReadOnly) {
		t.Fatalf("Move: %v", err)
	}
	mu.Lock()
	sent := trace.String()[before:]
	mu.Unlock()
	for _, l := range strings.Split(sent, "\n") {
		if strings.HasPrefix(l, "C: ") {
			t.Fatalf("sent %q for a refused change", l)
		}
	}
	msgs, err := c.FetchAll(ctx, commands.SeqRange(1, 3), &commands.FetchItems{Flags: true})
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Fetch in the EXAMINEd mailbox: %d, %v", len(msgs), err)
	}
	if _, err := c.Select(ctx, box, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.SeqRange(1, 3), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatalf("Store after SELECT: %v", err)
	}
}

// lockedWriter is a trace writer safe for the session's goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
