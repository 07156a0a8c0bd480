//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// copyScripted copies the mailbox box of a scripted source, whose FETCH
// answers its one message (body) with item in place of BODY[]
// (sourceOpts.item), to a real Dovecot, and returns copy's exit status
// and stderr, then the UIDs a search of box finds in the destination and
// the body of its message 1 there.
func copyScripted(t *testing.T, box, body, item string) (code int, errs, found, got string) {
	t.Helper()
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" ` + box}, map[string][]string{box: {body}}, sourceOpts{item: item}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	code, _, errs = runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", ca, "--state-dir", t.TempDir(), "--timeout", "60s", "--quiet")
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	_, found, _ = runCLI(t, "", "search", bURL, box, "--ca-file", ca)
	_, got, _ = runCLI(t, "", "fetch", bURL, box, "1", "--ca-file", ca)
	return code, errs, found, got
}

// TestCopySectionNotAsked: copy appended whatever section the source
// sent for BODY[] as the message: a broken source's BODY[HEADER] was
// copied as the whole message (exit 0, the body lost unsaid). Now the
// copy stops at it (sectionMismatch), and nothing of it is appended.
func TestCopySectionNotAsked(t *testing.T) {
	code, errs, found, _ := copyScripted(t, "Heads", copySourceBody(1, false), "BODY[HEADER]")
	if code == exitOK || !strings.Contains(errs, "not the section asked for") || found != "" {
		t.Errorf("copy of a source that sends BODY[HEADER] for BODY[]: exit %d, stderr %q, destination UIDs %q; want an error naming it, nothing appended", code, errs, found)
	}
}

// TestCopySectionBeside: a BODY[HEADER] before the BODY[] in one
// response is skipped: only the first section of a response was read,
// and the copy stopped at it (exit 3) although the body asked for was
// there.
func TestCopySectionBeside(t *testing.T) {
	code, errs, found, body := copyScripted(t, "Heads", copySourceBody(1, false), "BODY[HEADER] {3}\r\nabc BODY[]")
	if code != exitOK || found != "1\n" || body != copySourceBody(1, false) {
		t.Errorf("copy of a source that sends BODY[HEADER] before BODY[]: exit %d, stderr %q, destination UIDs %q, body %q; want the message copied whole", code, errs, found, body)
	}
}

// TestCopySectionThenBodyLater: a response that holds only a section not
// asked for (BODY[HEADER]), the body asked for following in a later
// response for the same message, is skipped, as export and fetch --to do:
// the message is copied whole, exit 0, and stderr notes the section
// skipped. Before, copy stopped at that first response (exit 3, "not the
// section asked for"), the mailbox not copied although the body came.
func TestCopySectionThenBodyLater(t *testing.T) {
	// Waits on a scripted source and a real Dovecot.
	t.Parallel()
	body := copySourceBody(1, false)
	code, errs, found, got := copyScripted(t, "Later", body, "BODY[HEADER] {3}\r\nabc)\r\n* 1 FETCH (UID 1 BODY[]")
	if code != exitOK || found != "1\n" || got != body {
		t.Errorf("copy of a source that sends BODY[HEADER] alone, then BODY[] in another response: exit %d, stderr %q, destination UIDs %q, body %q; want the message copied whole", code, errs, found, got)
	}
	if !strings.Contains(errs, "UID 1") || !strings.Contains(errs, "not the section asked for: skipped") {
		t.Errorf("copy: stderr %q; want a note of the section skipped", errs)
	}
}
