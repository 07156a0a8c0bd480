//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestCopyRestartUnlistedInboxChildCaseNoSuchMailbox: a child of INBOX
// the source does not list (a typo, or a mailbox deleted since), named
// "inbox/New" and restarted as "--restart-mailbox INBOX/New" (or the
// other way round), the source's delimiter "/". The check before
// connecting takes the two for one name (INBOX's case folded before a
// delimiter); docs/cli.md says "A NAME the source does not list fails the
// run (exit 1) before anything is copied", and so it did. When
// restartAmongNamed came, the run refused it once connected as a usage
// error (exit 2), "--restart-mailbox INBOX/New: not among the mailboxes
// named (inbox/New)": false on its face (it is the name typed, in the
// case the check before connecting accepts), and inconsistent with that
// check. The cause: foldInboxChildren folds a name only when the folded
// one is listed, so an unlisted pair stayed two names, which
// restartAmongNamed compared; it now compares the names typed with
// INBOX's children folded (inboxChild). Against Dovecot.
func TestCopyRestartUnlistedInboxChildCaseNoSuchMailbox(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	for _, tc := range []struct{ named, restart string }{
		{"inbox/New", "INBOX/New"},
		{"INBOX/New", "inbox/New"},
	} {
		code, errs := e.run(tc.named, "--restart-mailbox", tc.restart, "--restart-unchanged")
		if code != exitNo || strings.Contains(errs, "not among the mailboxes named") || !strings.Contains(errs, "the source lists no such mailbox") {
			t.Errorf("%s named, --restart-mailbox %s, neither listed: exit %d; want %d, the source lists no such mailbox (docs/cli.md), as the check before connecting takes them for one name\nstderr: %s",
				tc.named, tc.restart, code, exitNo, errs)
		}
	}
}
