package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestReview39ListPatternInvalidUTF8: a LIST or LSUB pattern or reference
// that is not valid UTF-8 went out with each bad byte as U+FFFD, so that
// List("Old\xff*") listed the mailboxes under "Old\uFFFD", names the caller
// never gave (and might then delete). Refused now, as mailbox arguments
// are (ErrMailboxName), before anything is sent; a NUL too.
func TestReview39ListPatternInvalidUTF8(t *testing.T) {
	c, srv, ctx := zzClient(t, "LIST-EXTENDED", true)
	calls := map[string]func() error{
		`List("Old\xff*")`: func() error { _, err := c.List(ctx, "Old\xff*", nil); return err },
		`List(reference "a\xc3")`: func() error {
			_, err := c.List(ctx, "*", &commands.ListOptions{Reference: "a\xc3"})
			return err
		},
		`List(Patterns "b\xfe%")`: func() error {
			_, err := c.List(ctx, "*", &commands.ListOptions{Patterns: []string{"b\xfe%"}})
			return err
		},
		`List("a\x00*")`:        func() error { _, err := c.List(ctx, "a\x00*", nil); return err },
		`LSub("x", "Old\xff*")`: func() error { _, err := c.LSub(ctx, "x", "Old\xff*"); return err },
		`LSub("\xff", "*")`:     func() error { _, err := c.LSub(ctx, "\xff", "*"); return err },
	}
	for what, call := range calls {
		zzRefused(t, srv, what, call)
		if err := call(); !errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("%s: %v; want ErrMailboxName", what, err)
		}
	}
	// Valid names still go: wildcards, non-ASCII in modified UTF-7.
	n := len(srv.sent())
	if _, err := c.List(ctx, "Grüße/%", &commands.ListOptions{Reference: ""}); err != nil {
		t.Fatalf("List(Grüße/%%): %v", err)
	}
	if l := srv.since(n); len(l) != 1 || !strings.HasSuffix(l[0], " LIST \"\" \"Gr&APwA3w-e/%\"\r\n") {
		t.Errorf("sent %q", l)
	}
}
