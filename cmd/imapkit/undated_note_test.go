//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestImportUndatedNote: an mbox of messages dated 1960, 2200 and 2024.
// The first two are appended without their date (appendDate: servers do
// not keep it), which a run did silently; now the run ends with one
// stderr line that counts them and names the docs.
func TestImportUndatedNote(t *testing.T) {
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	path := oddDatesMbox(t)
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	code, _, errs := runCLI(t, "", "import", bURL, path, "--to", "INBOX", "--ca-file", ca, "--timeout", "20s", "--quiet")
	want := "imapkit import: note: 2 messages appended without their internal date (before 1970 or after 2106"
	if code != exitOK || !strings.Contains(errs, want) || strings.Count(errs, "note:") != 1 || !strings.Contains(errs, "docs/cli.md") {
		t.Errorf("exit %d; want 0 and one note %q naming docs/cli.md\nstderr: %s", code, want, errs)
	}
	// Nothing more appended, no note.
	code, _, errs = runCLI(t, "", "import", bURL, path, "--to", "INBOX", "--ca-file", ca, "--timeout", "20s", "--quiet")
	if code != exitOK || strings.Contains(errs, "note:") {
		t.Errorf("run 2: exit %d; want 0, no note\nstderr: %s", code, errs)
	}
}

// TestCopyUndatedNote: as TestImportUndatedNote for copy, from a source
// whose message 1 is dated 1960 (message 2, 2024, keeps its date).
func TestCopyUndatedNote(t *testing.T) {
	// Waits on a Dovecot and a scripted source of its own and on the run.
	t.Parallel()
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	src, err := hostile.Listen(datedSource([]string{copySourceBody(1, false), copySourceBody(2, false)}, func(uid int) string {
		if uid == 1 {
			return "01-Jan-1960 00:00:00 +0000"
		}
		return "01-Jan-2024 00:00:00 +0000"
	}, func(b string) int { return len(b) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	code, _, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", ca,
		"--state-dir", t.TempDir(), "--timeout", "20s", "--quiet")
	want := "imapkit copy: note: 1 message appended without its internal date (before 1970 or after 2106"
	if code != exitOK || !strings.Contains(errs, want) || strings.Count(errs, "note:") != 1 {
		t.Errorf("exit %d; want 0 and one note %q\nstderr: %s", code, want, errs)
	}
}

// TestImportUndatedNotePendingLanded (found by review): the group of the
// messages dated 1960, 2200 and 2024 lands, and the run stops before it
// records so (at "appended"). The next run finds the group landed
// (appender.landed), and appends nothing: its note left out the two
// messages undated of that group (none at all here). Now the pending
// record counts them (pendingAppend.Undated).
func TestImportUndatedNotePendingLanded(t *testing.T) {
	t.Parallel()
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	path := oddDatesMbox(t)
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	countStopAt(t, "appended", 1, func() {})
	args := []string{"import", bURL, path, "--to", "UndatedPending", "--ca-file", ca, "--timeout", "20s", "--quiet"}
	if code, _, errs := runCLI(t, "", args...); code == exitOK {
		t.Fatalf("run 1: exit 0; want it stopped\nstderr: %s", errs)
	}
	setTestHook(t, nil)
	code, _, errs := runCLI(t, "", args...)
	want := "imapkit import: note: 2 messages appended without their internal date"
	if code != exitOK || !strings.Contains(errs, want) {
		t.Errorf("run 2: exit %d; want 0 and the note %q (the pending group's, found landed)\nstderr: %s", code, want, errs)
	}
}
