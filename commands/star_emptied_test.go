package commands_test

import (
	"context"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestStarAfterLastExpungeNotSent: a Fetch, Store, Copy or Move of "1:*"
// decides that the mailbox is empty when its command's turn comes, not
// when it is called. Called while the session counts one message, it
// waits behind a NOOP in flight, whose answer expunges that message: the
// command is not sent (the server would answer "1:*" BAD, as Dovecot did
// in TestMailboxChurnQResyncDovecot, "FETCH BAD Invalid messageset",
// where the FETCH waited behind a UID FETCH whose VANISHED emptied the
// mailbox), and the call ends as for an empty mailbox: nothing, no error.
// Should the call read the count only after the EXPUNGE (a loaded
// machine), nothing is sent either: the test cannot fail then, only miss
// the fault.
func TestStarAfterLastExpungeNotSent(t *testing.T) {
	calls := map[string]func(ctx context.Context, c *commands.Client) (int, error){
		"Fetch": func(ctx context.Context, c *commands.Client) (int, error) {
			n := 0
			for _, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true}) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		},
		"Store": func(ctx context.Context, c *commands.Client) (int, error) {
			res, err := c.Store(ctx, commands.SeqRange(1, 0), commands.AddFlags, []string{`\Seen`}, nil)
			if res == nil {
				return 0, err
			}
			return len(res.Messages), err
		},
		"Copy": func(ctx context.Context, c *commands.Client) (int, error) {
			res, err := c.Copy(ctx, commands.SeqRange(1, 0), "Archive")
			if res == nil {
				return 0, err
			}
			return len(res.Src.Ranges()), err
		},
		"Move": func(ctx context.Context, c *commands.Client) (int, error) {
			res, err := c.Move(ctx, commands.SeqRange(1, 0), "Archive")
			if res == nil {
				return 0, err
			}
			return len(res.Src.Ranges()), err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			script := "fetch/star_emptied"
			if name == "Move" {
				script += "_move" // with MOVE: the fallback needs UIDPLUS
			}
			c, ctx := scripted(t, script)
			if _, err := c.Select(ctx, "INBOX", nil); err != nil {
				t.Fatal(err)
			}
			noop, err := c.Session().Start(ctx, &session.Command{Name: "NOOP"})
			if err != nil {
				t.Fatal(err)
			}
			type outcome struct {
				n   int
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				n, err := call(ctx, c)
				done <- outcome{n, err}
			}()
			if _, err := noop.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if o := <-done; o.n != 0 || o.err != nil {
				t.Errorf("%s 1:* of a mailbox emptied before its turn: %d, %v; want nothing and no error", name, o.n, o.err)
			}
			if n, known := c.Exists(); !known || n != 0 {
				t.Errorf("Exists %d %v; want 0 true", n, known)
			}
		})
	}
}
