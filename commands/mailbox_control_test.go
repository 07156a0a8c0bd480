package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestMailboxNameControlRefused: a mailbox name the caller made up that
// holds a control character (RFC 9051 section 5.1 forbids them in names)
// is refused before anything is sent, wrapping ErrMailboxName. Sent (in
// modified UTF-7, "a&AAo-b"), Dovecot answered "NO Mailbox doesn't exist:
// a" with the decoded name echoed raw, its LF ending the line: the rest,
// "b (0.001 + 0.000 secs).", was read as the answer of an unknown tag "b",
// and the session was aborted under the caller's next command.
func TestMailboxNameControlRefused(t *testing.T) {
	tr := &syncTrace{}
	c := dvClient(t, testserver.Alice, &session.Options{Trace: tr})
	ctx := dvCtx(t)
	for _, name := range []string{"a\nb", "a\r\nb", "a\rb", "a\tb", "a\x01b", "a\x1fb"} {
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
	// Names without C0 controls still go.
	for _, name := range []string{"Caf\u00e9 & R&D/\u00a0x", "a\x7fb", "a\u0085b", "a\u2028b"} {
		if err := commands.CheckMailboxName(name); err != nil {
			t.Errorf("CheckMailboxName(%q): %v, want nil", name, err)
		}
	}
}

// TestMailboxNameServerMadeReachable: Dovecot creates and lists mailboxes
// whose names hold DEL, a C1 control or U+2028 (Cyrus too, but DEL),
// which RFC 9051 section 5.1 forbids; another client made them (here a
// raw CREATE). A Client that has not listed them (the CLI's typed names,
// imapkit copy's destination) must reach them by name: refused as a
// caller's made-up name (ErrMailboxName), they could be neither selected
// nor deleted, nor copied to a server that takes them. Only C0 controls
// are refused (TestMailboxNameControlRefused); these end no line.
func TestMailboxNameServerMadeReachable(t *testing.T) {
	ctx := dvCtx(t)
	maker := dvClient(t, testserver.Alice, nil)
	names := map[string]string{"reach&AH8-del": "reach\x7fdel", "reach&AIU-nel": "reach\u0085nel", "reach&ICg-ls": "reach\u2028ls"}
	for raw := range names {
		if _, err := maker.Session().Run(ctx, &session.Command{Name: "CREATE", Args: func(e *wire.Encoder) { e.SP().Mailbox(raw) }}); err != nil {
			t.Fatalf("CREATE %s: %v", raw, err)
		}
	}
	c := dvClient(t, testserver.Alice, nil) // lists nothing
	for raw, name := range names {
		if _, err := c.Status(ctx, name, commands.StatusMessages); err != nil {
			t.Errorf("Status(%q), a mailbox Dovecot made as %s, by a Client that did not list it: %v; want it reached", name, raw, err)
		}
		if err := c.Delete(ctx, name); err != nil {
			t.Errorf("Delete(%q), made as %s: %v", name, raw, err)
		}
		// Dovecot echoes the name raw in its NO ("Mailbox doesn't
		// exist: reach<DEL>del"): no line ends there, the session goes on.
		if _, err := c.Select(ctx, name, nil); err == nil || errors.Is(err, commands.ErrMailboxName) {
			t.Errorf("Select(%q) deleted: %v; want the server's NO", name, err)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatalf("Noop after Select(%q) deleted: %v", name, err)
		}
	}
}
