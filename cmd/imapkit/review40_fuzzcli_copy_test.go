//go:build linux

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview40NCopyMergesMailboxesRun: copy from a Cyrus source (prefix
// "INBOX.", ".") listing INBOX, INBOX.Inbox, INBOX.a/b, INBOX.a_b and
// INBOX.Sent to a Dovecot (prefix "", "/"): INBOX.Inbox would go to the
// destination's INBOX and INBOX.a/b and INBOX.a_b both to a_b. The run
// fails those four (stderr names them, exit non-zero), copies none of
// them, and copies Sent.
func TestReview40NCopyMergesMailboxesRun(t *testing.T) {
	t.Parallel()
	msg := func(s string) string { return "From: a@example.com\r\nSubject: " + s + "\r\n\r\n" + s + "\r\n" }
	src, err := hostile.Listen(scriptedSource(`(("INBOX." ".")) NIL (("" "."))`,
		[]string{`() "." INBOX`, `() "." INBOX.Inbox`, `() "." "INBOX.a/b"`, `() "." INBOX.a_b`, `() "." INBOX.Sent`},
		map[string][]string{"INBOX": {msg("inbox")}, "INBOX.Inbox": {msg("sub inbox")}, "INBOX.a/b": {msg("a/b")}, "INBOX.a_b": {msg("a_b")}, "INBOX.Sent": {msg("sent")}}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, dURL := urls(dst)
	code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), dURL, "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s")
	if code == 0 {
		t.Errorf("copy exited 0\nstdout: %s\nstderr: %s", out, errs)
	}
	for _, n := range []string{`"INBOX.Inbox"`, `"INBOX.a/b"`, `"INBOX.a_b"`, "4 of 5 mailboxes failed"} {
		if !strings.Contains(errs, n) {
			t.Errorf("stderr does not name %s\nstdout: %s\nstderr: %s", n, out, errs)
		}
	}
	dc := client(t, dst.TLSAddr, dst, testserver.Alice, testserver.Password)
	if got := mailOf(t, dc, "INBOX"); len(got) != 0 {
		t.Errorf("the destination's INBOX holds %v", got)
	}
	if got := mailOf(t, dc, "Sent"); len(got) != 1 || got[0].body != msg("sent") {
		t.Errorf("the destination's Sent holds %v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	boxes, err := dc.List(ctx, "*", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range boxes {
		if b.Name == "a_b" {
			t.Errorf("a_b was created on the destination")
		}
	}
}
