//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestMaildirDroppedKeywordsNoteEscaped: export's note on the keywords a
// Maildir cannot name (server strings, past the 26th) is written to the
// run's stderr, with their controls shown as '?'. It was written to
// os.Stderr, past the run's own (a caller of run, a test, never saw it),
// and this test swapped os.Stderr to catch it, which a test running in
// parallel would have written into.
func TestMaildirDroppedKeywordsNoteEscaped(t *testing.T) {
	// The 27th keyword, a C1 control in it, is the one left out.
	var kws []string
	for i := range 26 {
		kws = append(kws, fmt.Sprintf("k%02d", i))
	}
	kws = append(kws, "$K\u009b2J")
	answer := func(body bool, uids []int) (string, string) {
		var b strings.Builder
		for _, u := range uids {
			if body {
				b.WriteString(fullBody(fiveBodies, u))
			} else {
				fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (%s) INTERNALDATE \"01-Jan-2024 10:00:00 +0000\")\r\n", u, u, strings.Join(kws, " "))
			}
		}
		return b.String(), "OK done"
	}
	srv, err := hostile.Listen(bodyStatusServer(fiveBodies, answer, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	setEnv(t, "IMAPKIT_URL", "")
	to := filepath.Join(t.TempDir(), "md")
	code, out, errs := runCLI(t, "", "export", "imap://alice@"+srv.Addr(), "INBOX", "--to", to, "--format", "maildir", "--quiet")
	if code != exitOK {
		t.Fatalf("export: exit %d %q %q; want 0", code, out, errs)
	}
	if strings.Count(errs, "left out of the file names") != 1 {
		t.Fatalf("the run's stderr %q; want the note on the keywords left out, once", errs)
	}
	if !strings.Contains(errs, "$K?2J") {
		t.Errorf("the note %q does not name $K?2J", errs)
	}
	noC1(t, "the note", errs)
}
