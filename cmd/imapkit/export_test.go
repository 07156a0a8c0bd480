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

// TestExportExpungedNILWritesPhantom: a message expunged by another
// session between export's metadata FETCH and its body FETCH comes back as
// BODY[] NIL (Dovecot; see TestCopyExpungedMidCopy's trace). export
// wrote it as an empty message (mbox) or a 0-byte file (Maildir) and
// counted it exported; fetch --to wrote an empty UID.eml. Fixed: it is
// skipped and reported (export once the server confirms it gone), and
// not counted.
func TestExportExpungedNILWritesPhantom(t *testing.T) {
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		expungedNIL,
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies}))
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
	if n := strings.Count(string(b), "From MAILER-DAEMON"); n != 2 {
		t.Errorf("mbox export: exit %d %q %q: %d messages in the mbox; want the 2 that exist:\n%s", code, out, errs, n, b)
	}
	const note = "UID 2 was expunged during the export: skipped"
	if code != 0 || !strings.Contains(out, "exported 2 messages") || !strings.Contains(errs, note) {
		t.Errorf("mbox export: exit %d %q %q; want 0, 2 exported, and %q", code, out, errs, note)
	}
	md := filepath.Join(dir, "md")
	code, out, errs = runCLI(t, "", "export", "imap://alice@"+src.Addr(), "INBOX", "--to", md, "--format", "maildir", "--quiet")
	ents, _ := os.ReadDir(filepath.Join(md, "cur"))
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Size() == 0 {
			t.Errorf("maildir export: exit %d %q %q: 0-byte message file %s", code, out, errs, e.Name())
		}
	}
	if code != 0 || len(ents) != 2 || !strings.Contains(errs, note) {
		t.Errorf("maildir export: exit %d %q %q, %d files; want 0, 2 files, and %q", code, out, errs, len(ents), note)
	}
	fd := filepath.Join(dir, "fetched")
	code, out, errs = runCLI(t, "", "fetch", "imap://alice@"+src.Addr(), "INBOX", "1:3", "--to", fd)
	if _, err := os.Stat(filepath.Join(fd, "2.eml")); err == nil || code != 0 || !strings.Contains(out, "fetched 2 messages") || !strings.Contains(errs, "UID 2: the server sent it as NIL") {
		t.Errorf("fetch --to: exit %d %q %q (2.eml: %v); want 0, 2 fetched, no 2.eml, and a note", code, out, errs, err)
	}
}
