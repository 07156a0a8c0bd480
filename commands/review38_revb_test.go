package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// zzFake is r38FakeClient with a hook run when a synchronizing literal's
// header has arrived, before the "+" that lets its bytes go.
type zzFake struct {
	mu   sync.Mutex
	cmds []r38Cmd
}

func (f *zzFake) appends() []r38Cmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []r38Cmd
	for _, c := range f.cmds {
		if bytes.Contains(c.Raw[:min(len(c.Raw), 40)], []byte(" APPEND ")) {
			out = append(out, c)
		}
	}
	return out
}

func zzFakeClient(t *testing.T, caps string, beforeCont func(), answer func(c r38Cmd) string) (*commands.Client, context.Context, *zzFake) {
	t.Helper()
	f := &zzFake{}
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		if _, err := io.WriteString(server, "* PREAUTH [CAPABILITY "+caps+"] fake\r\n"); err != nil {
			return
		}
		for {
			var raw []byte
			for {
				line, err := r.ReadBytes('\n')
				raw = append(raw, line...)
				if err != nil {
					return
				}
				m := r38LitRE.FindSubmatch(line)
				if m == nil {
					break
				}
				n, _ := strconv.Atoi(string(m[1]))
				if len(m[2]) == 0 {
					if beforeCont != nil {
						beforeCont()
					}
					if _, err := io.WriteString(server, "+ go\r\n"); err != nil {
						return
					}
				}
				body := make([]byte, n)
				if _, err := io.ReadFull(r, body); err != nil {
					return
				}
				raw = append(raw, body...)
			}
			tag, _, _ := bytes.Cut(raw, []byte(" "))
			c := r38Cmd{Tag: string(tag), Raw: raw}
			f.mu.Lock()
			f.cmds = append(f.cmds, c)
			f.mu.Unlock()
			out := ""
			if answer != nil {
				out = answer(c)
			}
			if out == "" {
				out = c.Tag + " OK done\r\n"
			}
			if _, err := io.WriteString(server, out); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, client, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Session().Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("fake server did not stop")
		}
	})
	return c, ctx, f
}

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
	c, ctx, fk := zzFakeClient(t, "IMAP4rev1", change, nil)
	_, err = c.Append(ctx, "INBOX", f, int64(len(msg)), nil)
	t.Logf("Append: %v", err)
	for _, a := range fk.appends() {
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
	c, ctx, fk := zzFakeClient(t, "IMAP4rev1 LITERAL+ MULTIAPPEND ENABLE UTF8=ACCEPT", nil, func(c r38Cmd) string {
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
	t.Logf("%d APPENDs reached the server", len(fk.appends()))
}
