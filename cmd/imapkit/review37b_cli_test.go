//go:build linux

package main

// A second review of stop 37's fixes: each test failed on them.

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview37bCopyAbandonedMultiappend: the source fails in the middle of
// the second message of a MULTIAPPEND group. The APPEND is abandoned
// mid-way and the destination connection closed (nothing of the group
// lands, as for the vanished message of 362cfcd), but only a vanishedError
// or a NO/BAD was a notAppendedError: the group stayed pending, a mail
// delivered to the destination before the next run moved its UIDNEXT, and
// the next run took the group for landed: its three messages were never
// copied, and the run exited 0. A message that cannot be read whole once
// its APPEND began now drops the pending record (srcReader).
func TestReview37bCopyAbandonedMultiappend(t *testing.T) {
	t.Parallel()
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\n" + strings.Repeat("second message line\r\n", 2000),
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	var cut atomic.Bool
	cut.Store(true)
	// The body of UID 2 is sent half way, the connection dropped (a
	// network error, a server restart), once.
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies},
		sourceOpts{cut: func(uid int) bool { return uid == 2 && cut.CompareAndSwap(true, false) }}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	args := []string{"copy", "imap://alice@" + src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	t.Logf("first run: exit %d %q %q", code, out, errs)
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	if n := len(mailOf(t, bc, "INBOX")); n != 0 {
		t.Fatalf("after the first run the destination holds %d messages; the scenario wants the group abandoned (0)", n)
	}
	// Ordinary mail reaches the destination's INBOX meanwhile.
	if _, err := bc.AppendBytes(t.Context(), "INBOX", []byte("From: x@example.com\r\nSubject: delivered\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "", args...)
	got := mailOf(t, bc, "INBOX")
	if len(got) != 4 {
		t.Fatalf("second run: exit %d %q %q; the destination holds %d messages; want the source's 3 and the delivered one", code, out, errs, len(got))
	}
}
