//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestStoreSeqExpungeAmidExit1: "imapkit store --seq" against a server
// that sends an EXPUNGE amid its answer to the STORE (RFC 9051 section
// 5.5 forbids it). Since bbdd9f3 the library's Store returns its result
// with an error wrapping commands.ErrRenumbered: the STORE was done (the
// server said OK), but the numbers after the EXPUNGE name other
// messages. exitCode (conn.go) knows no ErrRenumbered and exits 3, "a
// connection, TLS, protocol or local I/O error", which scripts retry:
// the retry stores the flags again by numbers that now name other
// messages (here, the one that was 2). 5b83898 made import take
// ErrRenumbered as "cannot tell" (exit 1) for the same reason; store,
// the command whose retry does harm, was left out.
func TestStoreSeqExpungeAmidExit1(t *testing.T) {
	t.Parallel()
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "STORE":
				err = c.Lines(`* 1 FETCH (FLAGS (\Seen))`, `* 1 EXPUNGE`, `* 1 FETCH (FLAGS (\Seen))`, `* 2 FETCH (FLAGS (\Seen))`, cmd.Tag+" OK done")
			case "LOGOUT":
				c.Lines("* BYE bye", cmd.Tag+" OK done")
				return nil
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "store", "--seq", "imap://alice@"+srv.Addr(), "INBOX", "1:3", "+FLAGS", `\Seen`, "--insecure-plaintext", "--timeout", "20s")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if !strings.Contains(errs, "EXPUNGE") {
		t.Fatalf("stderr %q; want the EXPUNGE amid the STORE reported", errs)
	}
	if code == exitConnFail {
		t.Errorf("store --seq whose answer held an EXPUNGE (the STORE done, its numbers stale): exit %d (a connection error, which scripts retry by the same numbers); want %d", code, exitNo)
	}
	// The store was done: what the server answered is printed before
	// the error, as for a store with no error.
	if strings.Count(out, `\Seen`) != 3 {
		t.Errorf("store --seq whose answer held an EXPUNGE: stdout %q; want the three messages the answer gave, printed before the error", out)
	}
}
