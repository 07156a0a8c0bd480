package commands_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/wire"
)

// TestReview38RevbAppendFileChangedAfterNULCheck: 08c27ad made checkNUL scan a
// file (io.ReaderAt + io.Seeker) before the APPEND and, finding no NUL,
// send it with no nulGuard (before, a file was always guarded). The scan
// and the send are two reads of a file that may change in between (an
// mbox or Maildir file being written, a message file rewritten while the
// APPEND waits for the server's "+"): a NUL that appears in between now
// goes out in a plain literal (Dovecot stores it as 0x80, silently),
// where the nulGuard of the previous code failed the literal with
// wire.ErrNUL and nothing was stored.
func TestReview38RevbAppendFileChangedAfterNULCheck(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\nhello world, no NUL here\r\n")
	path := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The file changes while the APPEND waits for "+" (no LITERAL+).
	change := func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Close()
		if _, err := w.WriteAt([]byte{0}, 20); err != nil {
			t.Error(err)
		}
	}
	c, ctx, fk := r38FakeClientHook(t, "IMAP4rev1", change, nil)
	_, err = c.Append(ctx, "INBOX", f, int64(len(msg)), nil)
	t.Logf("Append: %v", err)
	for _, a := range r38Appends(fk) {
		if bytes.IndexByte(a.Raw, 0) >= 0 && !bytes.Contains(a.Raw, []byte("~{")) {
			t.Errorf("a NUL went out in a plain literal (the file changed after checkNUL): %q", a.Raw)
		}
	}
	if !errors.Is(err, wire.ErrNUL) {
		t.Errorf("Append: %v; want an error wrapping wire.ErrNUL (nothing stored)", err)
	}
}

// TestReview38RevbAppendFileNULUTF8Form: with UTF8=ACCEPT enabled, Append
// sends the UTF8 form, a literal8, and appendMessage unwraps the nulGuard
// ("literal8: NUL is allowed"); AppendMany skips checkNUL in that form.
// Since 08c27ad checkNUL also scans files, and refuses one holding a NUL
// with wire.ErrNUL when the server lacks BINARY, before looking at the
// UTF8 form: the file that went before 08c27ad (guarded, then unwrapped),
// and that still goes streamed or through AppendMany, is now refused by
// Append.
func TestReview38RevbAppendFileNULUTF8Form(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\nbefore\x00after\r\n")
	path := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	c, ctx, fk := r38FakeClientHook(t, "IMAP4rev1 LITERAL+ MULTIAPPEND ENABLE UTF8=ACCEPT", nil, func(c r38Cmd) string {
		if bytes.Contains(c.Raw, []byte(" ENABLE ")) {
			return "* ENABLED UTF8=ACCEPT\r\n" + c.Tag + " OK done\r\n"
		}
		return ""
	})
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	open := func() *os.File {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	// The same file through AppendMany, and streamed: sent (UTF8 form).
	if _, err := c.AppendMany(ctx, "INBOX", []commands.AppendMessage{{R: open(), Size: int64(len(msg))}}); err != nil {
		t.Fatalf("AppendMany (UTF8 form): %v", err)
	}
	if _, err := c.Append(ctx, "INBOX", io.MultiReader(open()), int64(len(msg)), nil); err != nil {
		t.Fatalf("Append, streamed (UTF8 form): %v", err)
	}
	_, err := c.Append(ctx, "INBOX", open(), int64(len(msg)), nil)
	if err != nil {
		t.Errorf("Append of the file (UTF8 form, a literal8): %v; want it sent, as streamed and by AppendMany", err)
	}
	_, err = c.Append(ctx, "INBOX", io.NewSectionReader(open(), 0, int64(len(msg))), int64(len(msg)), nil)
	if err != nil {
		t.Errorf("Append of an io.SectionReader (UTF8 form): %v; want it sent", err)
	}
	t.Logf("%d APPENDs reached the server", len(r38Appends(fk)))
}
