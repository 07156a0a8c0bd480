//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestCopySectionNotAsked: copy appended whatever section the source
// sent for BODY[] as the message: a broken source's BODY[HEADER] was
// copied as the whole message (exit 0, the body lost unsaid). Now the
// copy stops at it (sectionMismatch), and nothing of it is appended.
func TestCopySectionNotAsked(t *testing.T) {
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" Heads`}, map[string][]string{"Heads": {copySourceBody(1, false)}}, sourceOpts{item: "BODY[HEADER]"}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	code, _, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", ca, "--state-dir", t.TempDir(), "--timeout", "60s", "--quiet")
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	_, found, _ := runCLI(t, "", "search", bURL, "Heads", "--ca-file", ca)
	if code == exitOK || !strings.Contains(errs, "not the section asked for") || found != "" {
		t.Errorf("copy of a source that sends BODY[HEADER] for BODY[]: exit %d, stderr %q, destination UIDs %q; want an error naming it, nothing appended", code, errs, found)
	}
}

// TestCopySectionBeside: a BODY[HEADER] before the BODY[] in one
// response is skipped: only the first section of a response was read,
// and the copy stopped at it (exit 3) although the body asked for was
// there.
func TestCopySectionBeside(t *testing.T) {
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" Heads`}, map[string][]string{"Heads": {copySourceBody(1, false)}}, sourceOpts{item: "BODY[HEADER] {3}\r\nabc BODY[]"}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	code, _, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", ca, "--state-dir", t.TempDir(), "--timeout", "60s", "--quiet")
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	_, found, _ := runCLI(t, "", "search", bURL, "Heads", "--ca-file", ca)
	_, body, _ := runCLI(t, "", "fetch", bURL, "Heads", "1", "--ca-file", ca)
	if code != exitOK || found != "1\n" || body != copySourceBody(1, false) {
		t.Errorf("copy of a source that sends BODY[HEADER] before BODY[]: exit %d, stderr %q, destination UIDs %q, body %q; want the message copied whole", code, errs, found, body)
	}
}
