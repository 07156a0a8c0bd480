//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeMaildir writes a Maildir of the messages msgs (file i+1 for
// msgs[i], oldest first) and returns its path.
func makeMaildir(t *testing.T, msgs []string) string {
	t.Helper()
	md := filepath.Join(t.TempDir(), "md")
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range msgs {
		p := filepath.Join(md, "cur", fmt.Sprintf("%d.r43.host:2,", i+1))
		if err := os.WriteFile(p, []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
		tm := time.Date(2024, 1, i+1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(p, tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	return md
}

// TestImportAppendLimitNamesFile: import to a server with
// MULTIAPPEND and APPENDLIMIT=300, from a Maildir whose third file is over
// the limit. The library refused the whole group (commands.ErrTooBig,
// before sending): nothing was imported, at every run, and the error did
// not say which file ("commands: the message is larger than the server's
// APPENDLIMIT: 1041 bytes, the limit is 300"). Now the files before it are
// imported and the error names it.
func TestImportAppendLimitNamesFile(t *testing.T) {
	small := func(i int) string {
		return fmt.Sprintf("From: a@example.com\r\nSubject: s%d\r\nMessage-ID: <s%d@r43>\r\n\r\nhi\r\n", i, i)
	}
	big := "From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@r43>\r\n\r\n" + strings.Repeat("x", 1000) + "\r\n"
	md := makeMaildir(t, []string{small(1), small(2), big, small(4)})
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=300"}
	addr := fake.start(t)
	code, out, errs := runCLI(t, "", "import", "imap://alice@"+addr, md, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	fake.mu.Lock()
	ids := strings.Join(fake.boxes["INBOX"].ids, " ")
	fake.mu.Unlock()
	if ids != "<s1@r43> <s2@r43>" {
		t.Errorf("the destination got %q, want the two files before the one over APPENDLIMIT", ids)
	}
	if code != exitNo {
		t.Errorf("exit %d, want %d", code, exitNo)
	}
	if !strings.Contains(errs, "3.r43.host") || !strings.Contains(errs, "APPENDLIMIT") {
		t.Errorf("stderr %q does not name the file over APPENDLIMIT (3.r43.host)", errs)
	}
}
