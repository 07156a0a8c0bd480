//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestHeadersLastExpungeAmidNotExit1: "imapkit headers MAILBOX" with no
// set lists the last messages by sequence numbers it computes itself
// (headers.go: SeqRange(first, Exists)); the user gave no numbers. A
// server that sends an EXPUNGE amid the FETCH's answer makes the
// library's Fetch end with commands.ErrRenumbered, which exitCode
// (fca5c01) now maps to 1, "the server refused", documented in cli.md
// for "a command by sequence numbers (--seq)". Here nothing the user
// gave names other messages: running it again is harmless and lists the
// right messages, and before fca5c01 it exited 3 (retried by scripts).
// The same holds for any internal use of sequence numbers.
func TestHeadersLastExpungeAmidNotExit1(t *testing.T) {
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
			case "FETCH":
				err = c.Lines(`* 1 EXPUNGE`, cmd.Tag+" OK done")
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
	code, out, errs := runCLI(t, "", "headers", "imap://alice@"+srv.Addr(), "INBOX", "--insecure-plaintext", "--timeout", "20s")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if !strings.Contains(errs, "EXPUNGE") {
		t.Fatalf("stderr %q; want the EXPUNGE amid the FETCH reported (test set-up)", errs)
	}
	if code == exitNo {
		t.Errorf("headers INBOX (no set given) whose FETCH answer held an EXPUNGE: exit %d, \"the server refused\" (cli.md: for --seq); the user gave no numbers, a retry is safe: want the retryable %d as before fca5c01", code, exitConnFail)
	}
}
