//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestExportAbandonTruncateFailureReported: an mbox export that stops on
// an error and then cannot cut its mbox back to its last commit says so
// (the mbox may end in a part of a message until the next export to it
// cuts it back), beside the error that stopped it, whose exit status
// stays. The mbox here is /dev/null (by a symlink): its fsync and its
// ftruncate fail (EINVAL), as a file system gone read-only or a network
// file system that lost its server fails them. Before, abandon dropped
// the truncate's error: the user was told nothing of a cut message left.
func TestExportAbandonTruncateFailureReported(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	bodies := []string{"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n"}
	answer := func(uids []int) string {
		var b strings.Builder
		for _, u := range uids {
			fmt.Fprintf(&b, "* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n", u, u, len(bodies[u-1]), bodies[u-1])
		}
		return b.String()
	}
	srv, err := hostile.Listen(bodyAnswerServer(bodies, answer, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	to := filepath.Join(t.TempDir(), "x.mbox")
	if err := os.Symlink(os.DevNull, to); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "export", "imap://alice@"+srv.Addr(), "INBOX", "--to", to, "--quiet")
	if code != exitConnFail || !strings.Contains(errs, "sync") || !strings.Contains(errs, "could not be cut back to its last commit (0 bytes)") {
		t.Errorf("export to an mbox that cannot be synced or cut back: exit %d, stdout %q, stderr %q; want exit %d, the sync's error and the cut's", code, out, errs, exitConnFail)
	}
}

// TestOpenMboxErrorReleasesLock: openMbox handed the mbox locked
// (stateLock.takeData) that stops at an error (here the mbox shorter than
// its state says) releases the lock before closing it, as the sink's
// close and abandon do: a copy of the descriptor (a child another
// goroutine was starting, before its exec closed it; here a dup) does
// not keep it held. Before, its error paths closed it alone, and the
// next run in the process found the mbox busy.
func TestOpenMboxErrorReleasesLock(t *testing.T) {
	mbox := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(mbox, []byte("From MAILER-DAEMON x\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(mbox, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if busy, err := flockExclusive(f); busy || err != nil {
		t.Fatalf("locking %s: busy %v, %v", mbox, busy, err)
	}
	child, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(child)
	if _, err := openMbox(mbox, mbox+".imapkit-export.json", 1<<20, f); err == nil || !strings.Contains(err.Error(), "is shorter") {
		t.Fatalf("openMbox of an mbox shorter than its state: %v; want the error saying so", err)
	}
	g, err := os.OpenFile(mbox, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if busy, err := flockExclusive(g); busy || err != nil {
		t.Errorf("after openMbox's error, locking %s again: busy %v, %v; want it free (released before the close, whatever copies of the descriptor there are)", mbox, busy, err)
	}
}
