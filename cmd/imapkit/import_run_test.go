//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestImportNoLeavesPendingThenSkipped is the same for import
// (fixed the same way).
func TestImportNoLeavesPendingThenSkipped(t *testing.T) {
	t.Parallel()
	b, cf := dovecot(t, 0)
	_, bURL := urls(b)
	bURL = strings.Replace(bURL, "alice@", testserver.TinyUser+"@", 1)
	mbox := filepath.Join(t.TempDir(), "in.mbox")
	body := strings.ReplaceAll(string(bigMessage("big")), "\r\n", "\n")
	if err := os.WriteFile(mbox, []byte("From a@example.com Thu Feb  1 10:00:00 2024\n"+body+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"import", bURL, mbox, "--to", "INBOX", "--quiet"}, cf...)
	code, _, errs := runCLI(t, "", args...)
	if code != 1 {
		t.Fatalf("first import: exit %d, stderr %q; want 1 (over quota)", code, errs)
	}
	bc := client(t, b.TLSAddr, b, testserver.TinyUser, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := bc.AppendBytes(ctx, "INBOX", []byte("From: x@example.com\r\nSubject: delivered\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", args...)
	got := mailOf(t, bc, "INBOX")
	has := false
	for _, m := range got {
		if strings.Contains(m.body, "Subject: big") {
			has = true
		}
	}
	if code == 0 && !has {
		t.Fatalf("second import: exit 0 (%q %q), but the refused message was never imported (%d messages in INBOX)", out, errs, len(got))
	}
}
