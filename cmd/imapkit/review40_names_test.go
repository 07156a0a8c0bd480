//go:build linux

package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview40ACopyNamesDecodingAlikeLoseMail: a source that does not write
// names in modified UTF-7 lists "R&D" (raw, as a client that does not
// encode created it) beside "R&-D" (as imapkit or Thunderbird create
// "R&D"): two mailboxes whose MailboxInfo.Name is the same "R&D" (the doc
// says so, and that Raw tells them apart). imapkit copy takes the list of
// Names, so it copies the mailbox listed last twice (the second time
// copying nothing) and never the other: its mail is not copied, and the
// run exits 0 saying nothing about it.
func TestReview40ACopyNamesDecodingAlikeLoseMail(t *testing.T) {
	t.Parallel()
	a := "From: a@example.com\r\nSubject: in R&D as listed raw\r\n\r\nfirst\r\n"
	b := "From: b@example.com\r\nSubject: in R&-D\r\n\r\nsecond\r\n"
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`,
		[]string{`() "/" INBOX`, `() "/" "R&D"`, `() "/" "R&-D"`},
		map[string][]string{"INBOX": nil, "R&D": {a}, "R&-D": {b}}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, dURL := urls(dst)
	code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), dURL, "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s")
	// Adjusted: the destination is read only after an exit 0 (a failed
	// run need not have created R&D there, and mailOf fails on EXAMINE).
	if code == 0 {
		dc := client(t, dst.TLSAddr, dst, testserver.Alice, testserver.Password)
		var bodies []string
		for _, m := range mailOf(t, dc, "R&D") {
			bodies = append(bodies, m.body)
		}
		if !(slices.Contains(bodies, a) && slices.Contains(bodies, b)) {
			t.Fatalf("copy exited 0, but the destination's R&D holds %d of the source's two mailboxes' messages (%q)\nstdout: %s\nstderr: %s", len(bodies), bodies, out, errs)
		}
		return
	}
	// Added: a failure names the mailboxes that cannot be told apart.
	if !(strings.Contains(errs, `"R&D"`) && strings.Contains(errs, `"R&-D"`)) {
		t.Fatalf("copy exited %d without naming the two mailboxes\nstdout: %s\nstderr: %s", code, out, errs)
	}
}
