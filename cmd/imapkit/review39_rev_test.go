//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// v39FlagOtherSource is q39Source's read-only source of three messages,
// which, in its answer to the UID FETCH of the bodies, sends a flag
// change of message 3 (another client marked it \Seen; RFC 3501 7.4.2,
// with its UID during a UID command) before message 1's body.
func v39FlagOtherSource(bodies []string) hostile.Scenario {
	return q39Source(bodies, q39Opts{flagAt: 1, flagOf: 3})
}

// TestReview39VCopyFlagUpdateOtherUIDBeforeBody: e6f60a4 made copy skip a
// body-less FETCH (another client's flag change, RFC 3501 7.4.2) of the
// UID it waits for, but one of a later UID of the same set, sent before
// the awaited body, still fails the mailbox ("UID 1: not in the FETCH
// answer (expunged meanwhile?)"): the UID test comes before the body
// test in pulledBody.open.
func TestReview39VCopyFlagUpdateOtherUIDBeforeBody(t *testing.T) {
	t.Parallel()
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\nsecond\r\n",
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	src, err := hostile.Listen(v39FlagOtherSource(bodies))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	code, stdout, stderr := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet")
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	if code != 0 || len(got) != 3 {
		t.Fatalf("exit %d, %d messages on the destination; want 0 and all 3\nstdout: %s\nstderr: %s", code, len(got), stdout, stderr)
	}
}

// TestReview39VFetchUIDAfterBody: e6f60a4 taught copy and export a server that
// sends the UID after a streamed body ("* 1 FETCH (BODY[] {n} ... UID
// 1)", Domino's order), but `imapkit fetch MAILBOX UID` (to stdout) still
// picks the message by oneMessage.is, m.UID == UID, before reading its
// body: a body streamed before its UID leaves m.UID 0, the message is
// skipped, and fetch fails with "no message with UID 1" (exit 1) though
// the server sent it.
func TestReview39VFetchUIDAfterBody(t *testing.T) {
	body := "From: a@example.com\r\nSubject: one\r\n\r\n" + strings.Repeat("first body line\r\n", 8000)
	src, err := hostile.Listen(q39Source([]string{body}, q39Opts{uidAfter: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	code, stdout, stderr := runCLI(t, "", "fetch", "imap://alice@"+src.Addr(), "INBOX", "1")
	if code != 0 || stdout != body {
		t.Fatalf("exit %d, %d bytes written (want 0 and the message's %d)\nstderr: %s", code, len(stdout), len(body), stderr)
	}
}
