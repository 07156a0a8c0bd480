package main

import (
	"strings"
	"testing"
)

// TestCopyRestartInboxFoldChildrenOnly: the check of --restart-mailbox
// against the mailboxes named, made before anything is connected, takes
// a name for one named when they differ only in a leading INBOX's case,
// for INBOX's children ("inbox/Sub" for "INBOX/Sub"). It took
// "inboxfoo" for "INBOXfoo" too, which is no child of INBOX but another
// mailbox (its name case-sensitive): the run connected and was refused
// later ("the source lists no such mailbox", exit 1) where the typo is a
// usage error (exit 2), nothing connected. The source's delimiter is not
// known then: a letter or a digit after INBOX is never one. Without a
// server: the URLs name a port nothing listens on, which a run that
// connects fails on (exit 3).
func TestCopyRestartInboxFoldChildrenOnly(t *testing.T) {
	dir := t.TempDir()
	run := func(named, restart string) (int, string) {
		t.Helper()
		code, _, errs := runCLI(t, "", "copy", "imap://a@127.0.0.1:1", "imap://b@127.0.0.1:1", "--insecure-plaintext", "--dst-insecure-plaintext",
			"--state-dir", dir, "--quiet", named, "--restart-mailbox", restart)
		return code, errs
	}
	code, errs := run("INBOXfoo", "inboxfoo")
	if code != exitUsage || !strings.Contains(errs, "--restart-mailbox inboxfoo: not among the mailboxes named (INBOXfoo)") {
		t.Errorf("INBOXfoo named, --restart-mailbox inboxfoo: exit %d; want %d, not among the mailboxes named\nstderr: %s", code, exitUsage, errs)
	}
	for _, tc := range []struct{ named, restart string }{
		{"INBOX/Sub", "inbox/Sub"},
		{"INBOX.Sub", "Inbox.Sub"},
		{"inbox", "INBOX"},
	} {
		// Taken as named: the run goes on to connect (and fails
		// there: nothing listens).
		if code, errs := run(tc.named, tc.restart); code == exitUsage || strings.Contains(errs, "not among the mailboxes named") {
			t.Errorf("%s named, --restart-mailbox %s: exit %d; want it taken as named\nstderr: %s", tc.named, tc.restart, code, errs)
		}
	}
}

// TestCopyMapClashOneLine: a --map clash (one source mapped to two
// destinations) was reported by the flag package: its error line
// ("invalid value ... for flag -map: ...") and then the whole usage text
// of copy, some 90 lines, the clash scrolled away. It is now one line,
// "imapkit copy: ...", as copy's other usage errors, exit 2. A --map
// without "=" is a malformed flag value as any other: the flag package's
// error and the usage, as before.
func TestCopyMapClashOneLine(t *testing.T) {
	code, stdout, errs := runCLI(t, "", "copy", "imaps://a@127.0.0.1:1", "imaps://b@127.0.0.1:1", "--map", "Work=X", "--map", "Work=Y")
	want := "imapkit copy: --map Work=X and --map Work=Y: one source mailbox (Work) mapped to two; give it one --map\n"
	if code != exitUsage || errs != want || stdout != "" {
		t.Errorf("a --map clash: exit %d, stderr %q, stdout %q; want %d, stderr %q alone", code, errs, stdout, exitUsage, want)
	}
	code, _, errs = runCLI(t, "", "copy", "imaps://a@127.0.0.1:1", "imaps://b@127.0.0.1:1", "--map", "WorkX")
	if code != exitUsage || !strings.HasPrefix(errs, `invalid value "WorkX" for flag -map: want SRC=DST`) || !strings.Contains(errs, "usage: imapkit copy") {
		t.Errorf("--map WorkX: exit %d; want %d, the flag's error and the usage\nstderr: %.300s", code, exitUsage, errs)
	}
}
