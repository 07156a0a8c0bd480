//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestExportBodySentTwice: a server whose answer to export's body FETCH
// held a message twice (the second body different) had both written: the
// mbox held the message twice, against export's promise of neither a
// duplicate nor a gap, and both were counted; a Maildir's file was
// replaced by the second. Now the second is not written, and stderr says
// so.
func TestExportBodySentTwice(t *testing.T) {
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\nsecond\r\n",
	}
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies}, sourceOpts{twice: func(uid int) bool { return uid == 1 }}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	dir := t.TempDir()
	mbox := filepath.Join(dir, "x.mbox")
	code, out, errs := runCLI(t, "", "export", "imap://alice@"+src.Addr(), "INBOX", "--to", mbox, "--quiet")
	b, _ := os.ReadFile(mbox)
	if n := strings.Count(string(b), "From MAILER-DAEMON"); n != 2 || strings.Contains(string(b), twiceHeader) {
		t.Errorf("mbox export: exit %d %q %q: %d messages in the mbox; want the 2 there are, the first body of UID 1:\n%s", code, out, errs, n, b)
	}
	const note = "UID 1: the server sent its body twice in one answer"
	if code != 0 || !strings.Contains(out, "exported 2 messages") || !strings.Contains(errs, note) {
		t.Errorf("mbox export: exit %d %q %q; want 0, 2 exported, and %q", code, out, errs, note)
	}
	md := filepath.Join(dir, "md")
	code, out, errs = runCLI(t, "", "export", "imap://alice@"+src.Addr(), "INBOX", "--to", md, "--format", "maildir", "--quiet")
	ents, _ := os.ReadDir(filepath.Join(md, "cur"))
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(md, "cur", e.Name())); err != nil || strings.Contains(string(b), twiceHeader) {
			t.Errorf("maildir export: %s: %q (%v); want the first body", e.Name(), b, err)
		}
	}
	if code != 0 || len(ents) != 2 || !strings.Contains(out, "exported 2 messages") || !strings.Contains(errs, note) {
		t.Errorf("maildir export: exit %d %q %q, %d files; want 0, 2 files, 2 exported, and %q", code, out, errs, len(ents), note)
	}
}
