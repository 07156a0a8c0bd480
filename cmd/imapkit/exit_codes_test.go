//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestRefusedArgumentExit3: docs/cli.md's exit status table:
// "2 | usage: bad flags or arguments", "3 | connection, TLS, protocol or
// local I/O error". An argument the library refuses before anything is
// sent (a keyword holding '"' or a non-ASCII letter, the typo \Seeen, a
// mailbox name that is not UTF-8: the random keyword property's refused
// inputs, each with a clear typed error wrapping wire.ErrInvalidAtom or
// commands.ErrMailboxName; since, a mailbox name holding a tab and acl
// set's rights holding a space, commands.ErrMailboxName and
// commands.ErrACLRights) made the run exit 3, as if the connection had
// failed: exitCode (conn.go) mapped only *usageError to 2 and everything
// it did not know to 3. A script retrying on 3 retries a command that can
// never work.
func TestRefusedArgumentExit3(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 1)
	_, tls := urls(srv)
	msg := filepath.Join(t.TempDir(), "m.eml")
	if err := os.WriteFile(msg, []byte("Subject: x\r\n\r\nx\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"store", tls, "INBOX", "1", "+FLAGS", `a"b`},
		{"store", tls, "INBOX", "1", "+FLAGS", "Wichtig-é"},
		{"append", tls, "INBOX", msg, "--flags", `\Seeen`},
		{"create", tls, "Old\xff"},
		{"create", tls, "Old\tTab"},
		{"acl", tls, "set", "INBOX", "bob", "l r"},
		{"search", tls, "INBOX", "KEYWORD", "a)"},
		{"search", tls, "INBOX", "(", "SEEN"},
	} {
		code, _, errs := runCLI(t, "", append(args, cf...)...)
		if code != exitUsage {
			t.Errorf("imapkit %q: exit %d, want %d (a bad argument, refused before anything was sent): %s", args, code, exitUsage, errs)
		}
	}
	// A server's NO and BAD still exit 1, and the connection still works
	// after a refused argument.
	for _, args := range [][]string{
		{"create", tls, "INBOX"},
		{"search", tls, "INBOX", "NOSUCHKEY"},
	} {
		code, _, errs := runCLI(t, "", append(args, cf...)...)
		if code != exitNo {
			t.Errorf("imapkit %q: exit %d, want %d (the server's NO or BAD): %s", args, code, exitNo, errs)
		}
	}
	// A local I/O error, and a connection refused, still exit 3.
	for _, args := range [][]string{
		{"append", tls, "INBOX", filepath.Join(t.TempDir(), "missing.eml")},
		{"capability", "imaps://alice@127.0.0.1:1"},
	} {
		code, _, errs := runCLI(t, "", append(args, cf...)...)
		if code != exitConnFail {
			t.Errorf("imapkit %q: exit %d, want %d: %s", args, code, exitConnFail, errs)
		}
	}
	if code, out, errs := runCLI(t, "", append([]string{"search", tls, "INBOX", "ALL"}, cf...)...); code != 0 || strings.TrimSpace(out) != "1" {
		t.Errorf("imapkit search ALL: exit %d, stdout %q, stderr %s", code, out, errs)
	}
}

// TestPerMailboxArgumentErrorExit3: an argument error met by
// copy's run over the source's mailboxes (a listed name the destination
// cannot be given) comes of the server's data, not of the user's
// arguments: the run exits 3, as before f91338d made such errors exit 2;
// the same error of a command the user typed exits 2.
func TestPerMailboxArgumentErrorExit3(t *testing.T) {
	nameErr := fmt.Errorf("creating %q on the destination: %w", "Caf\xe9", commands.ErrMailboxName)
	if code := exitCode(nil, io.Discard, "create", nameErr); code != exitUsage {
		t.Errorf("create's own name error: exit %d; want %d", code, exitUsage)
	}
	if code := exitCode(nil, io.Discard, "copy", &mailboxesError{failed: 1, total: 2, first: nameErr}); code != exitConnFail {
		t.Errorf("copy's per-mailbox name error: exit %d; want %d", code, exitConnFail)
	}
}
