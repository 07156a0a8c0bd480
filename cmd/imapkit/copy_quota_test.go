//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// quotaMsg is a message of about 6 KiB: three fit TinyUser's 20 KiB quota,
// four do not.
func quotaMsg(i int) []byte {
	return []byte(fmt.Sprintf("From: a@example.com\r\nSubject: m%d\r\nMessage-ID: <m%d@r43>\r\n\r\n", i, i) +
		strings.Repeat("a line of a message of six KiB that fills the quota little by little\r\n", 85))
}

// storedSubjects returns the subjects of the messages of mailbox.
func storedSubjects(msgs []storedMsg) []string {
	var out []string
	for _, m := range msgs {
		for _, l := range strings.Split(m.body, "\r\n") {
			if s, ok := strings.CutPrefix(l, "Subject: "); ok {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// TestCopyOverQuotaGroupGoesSingly: a MULTIAPPEND group refused
// NO [OVERQUOTA] (Dovecot: all or nothing) copied nothing at every run,
// where the messages sent one by one would have filled the quota. The
// group is retried one message at a time: the three that fit are copied,
// recorded, and the run stops at the fourth, naming its UID; a second run
// copies nothing twice.
func TestCopyOverQuotaGroupGoesSingly(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 0)
	b := testserver.StartT(t, nil)
	_, aURL := urls(a)
	_, bURL := urls(b)
	bURL = strings.Replace(bURL, "alice@", testserver.TinyUser+"@", 1)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ac.Create(ctx, "Q", nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := ac.AppendBytes(ctx, "Q", quotaMsg(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	state := t.TempDir()
	args := []string{"copy", aURL, bURL, "Q", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", state, "--timeout", "20s", "--quiet"}
	bc := client(t, b.TLSAddr, b, testserver.TinyUser, testserver.Password)
	for run := 1; run <= 2; run++ {
		code, out, errs := runCLI(t, "", args...)
		t.Logf("run %d: exit %d\nstdout: %s\nstderr: %s", run, code, out, errs)
		if code != 1 {
			t.Errorf("run %d: exit %d, want 1 (over quota)", run, code)
		}
		if got := storedSubjects(mailOf(t, bc, "Q")); strings.Join(got, " ") != "m1 m2 m3" {
			t.Fatalf("run %d: the destination holds %q, want m1 m2 m3 (what fits the quota, once each)", run, got)
		}
		if !strings.Contains(errs, "UID 4") {
			t.Errorf("run %d: stderr %q does not name the refused message (UID 4)", run, errs)
		}
		files, _ := filepath.Glob(filepath.Join(state, "copy-*.json"))
		if len(files) != 1 {
			t.Fatalf("state files %q", files)
		}
		var st copyState
		if _, err := loadJSON(files[0], &st); err != nil {
			t.Fatal(err)
		}
		if box := st.Mailboxes["Q"]; box == nil || box.LastUID != 3 || box.Copied != 3 || box.Pending != nil || len(box.UIDMap) == 0 {
			t.Errorf("run %d: state of Q %+v, want last UID 3, 3 copied, nothing pending, a UID map", run, box)
		}
	}
}

// TestImportOverQuotaGroupGoesSingly is the same for import from
// a Maildir: the files that fit are imported, and the error names the
// first that does not.
func TestImportOverQuotaGroupGoesSingly(t *testing.T) {
	t.Parallel()
	b, cf := dovecot(t, 0)
	_, bURL := urls(b)
	bURL = strings.Replace(bURL, "alice@", testserver.TinyUser+"@", 1)
	md := filepath.Join(t.TempDir(), "md")
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		p := filepath.Join(md, "cur", fmt.Sprintf("%d.r43.host:2,S", i))
		if err := os.WriteFile(p, quotaMsg(i), 0o600); err != nil {
			t.Fatal(err)
		}
		tm := time.Date(2024, 1, i, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(p, tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"import", bURL, md, "--to", "Q", "--quiet"}, cf...)
	bc := client(t, b.TLSAddr, b, testserver.TinyUser, testserver.Password)
	for run := 1; run <= 2; run++ {
		code, out, errs := runCLI(t, "", args...)
		t.Logf("run %d: exit %d\nstdout: %s\nstderr: %s", run, code, out, errs)
		if code != 1 {
			t.Errorf("run %d: exit %d, want 1 (over quota)", run, code)
		}
		if got := storedSubjects(mailOf(t, bc, "Q")); strings.Join(got, " ") != "m1 m2 m3" {
			t.Fatalf("run %d: the destination holds %q, want m1 m2 m3 (what fits the quota, once each)", run, got)
		}
		if !strings.Contains(errs, "4.r43.host") {
			t.Errorf("run %d: stderr %q does not name the refused file (4.r43.host)", run, errs)
		}
	}
}
