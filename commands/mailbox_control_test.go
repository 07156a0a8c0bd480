package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestMailboxNameControlRefused: a mailbox name the caller made up that
// holds a control character (RFC 9051 section 5.1 forbids them in names)
// is refused before anything is sent, wrapping ErrMailboxName. Sent (in
// modified UTF-7, "a&AAo-b"), Dovecot answered "NO Mailbox doesn't exist:
// a" with the decoded name echoed raw, its LF ending the line: the rest,
// "b (0.001 + 0.000 secs).", was read as the answer of an unknown tag "b",
// and the session was aborted under the caller's next command.
func TestMailboxNameControlRefused(t *testing.T) {
	tr := &c39Trace{}
	c := dvClient(t, testserver.Alice, &session.Options{Trace: tr})
	ctx := dvCtx(t)
	for _, name := range []string{"a\nb", "a\r\nb", "a\rb", "a\tb", "a\x7fb", "a\u0085b", "a\u2028b"} {
		_, err := c.Select(ctx, name, nil)
		if !errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("Select(%q): %v, want an error wrapping ErrMailboxName", name, err)
		}
		if err := c.Create(ctx, name, nil); !errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("Create(%q): %v, want an error wrapping ErrMailboxName", name, err)
		}
		if _, err := c.List(ctx, name, nil); !errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("List(%q): %v, want an error wrapping ErrMailboxName", name, err)
		}
		if err := commands.CheckMailboxName(name); !errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("CheckMailboxName(%q): %v, want an error wrapping ErrMailboxName", name, err)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatalf("Noop after Select(%q): %v", name, err)
		}
	}
	for _, l := range strings.Split(tr.String(), "\n") {
		if strings.HasPrefix(l, "C: ") && (strings.Contains(l, " SELECT ") || strings.Contains(l, " CREATE ") || strings.Contains(l, " LIST ")) {
			t.Errorf("sent: %q", l)
		}
	}
	// Names without controls still go.
	if err := commands.CheckMailboxName("Caf\u00e9 & R&D/\u00a0x"); err != nil {
		t.Errorf("CheckMailboxName refuses a name without controls: %v", err)
	}
}
