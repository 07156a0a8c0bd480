package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestMoveFallbackReselected: another goroutine selects another mailbox
// while Move's fallback (no MOVE; UIDPLUS) waits for its COPY: the STORE
// \Deleted and UID EXPUNGE that would remove the copied messages are not
// sent to the other mailbox (where the same UIDs name other messages);
// Move ends with a *MoveIncompleteError matching session.ErrReselected.
// Replace's fallback is bound the same way.
func TestMoveFallbackReselected(t *testing.T) {
	// The SELECT is started once the server has the COPY (a fixed 50 ms
	// after Move started could come before the COPY on a loaded machine),
	// and the COPY is answered 150 ms after that (the SELECT queues
	// meanwhile), not 150 ms after the COPY came.
	copying := make(chan struct{})   // the server has the UID COPY
	selecting := make(chan struct{}) // the other goroutine calls Select now
	c, ctx, sent := selectedServer(t, "IMAP4rev1 UIDPLUS", 10, func(cmd string) string {
		switch {
		case strings.HasPrefix(cmd, "UID SEARCH"):
			return "* SEARCH 5\r\n"
		case strings.HasPrefix(cmd, "UID COPY"):
			close(copying)
			select {
			case <-selecting:
			case <-time.After(hangBound):
			}
			queuedWithin(1, "commands.(*Client).Select") // the other SELECT queues meanwhile
		}
		return ""
	})
	selected := make(chan error, 1)
	go func() {
		select {
		case <-copying:
		case <-time.After(hangBound):
		}
		close(selecting)
		_, err := c.Select(ctx, "Other", nil)
		selected <- err
	}()
	_, err := c.Move(ctx, commands.UIDs(5), "Archive")
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) || !errors.Is(err, session.ErrReselected) {
		t.Errorf("Move with a SELECT between its COPY and its removal: %v; want a *MoveIncompleteError matching ErrReselected", err)
	}
	if err := <-selected; err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	got := sent()
	want := []string{"SELECT INBOX", "UID SEARCH UID 5", "UID COPY 5 Archive", "SELECT Other", "NOOP"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("the server saw %q; want %q", got, want)
	}
}
