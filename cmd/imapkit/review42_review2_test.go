//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview42SAIdleNewGrowingExistsLoops (93d5f91; second review of the round): idle --new fetches again
// while the last empty FETCH's answer brings an EXISTS past its last
// message, and stops only when the same count comes twice. A server whose
// every answer to "UID FETCH n:*" says nothing new but brings an EXISTS one
// higher (hostile, or broken) keeps idle --new in a tight FETCH loop, never
// idling, for the whole run (--for): hundreds of FETCHes a second. The
// re-fetch should be bounded (a few at most per event), then go back to
// IDLE.
func TestReview42SAIdleNewGrowingExistsLoops(t *testing.T) {
	env := func(uid int) string {
		return fmt.Sprintf(`ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg %d" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<%d@x>")`, uid, uid)
	}
	var mu sync.Mutex
	fetches := 0
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE"); err != nil {
			return err
		}
		exists := 10
		idles := 0
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "EXAMINE", "SELECT":
				err = c.Lines("* 10 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 111] x", cmd.Tag+" OK [READ-ONLY] done")
			case "IDLE":
				idles++
				lines := []string{"+ idling"}
				if idles == 1 {
					exists++
					lines = append(lines, fmt.Sprintf("* %d EXISTS", exists))
				}
				if err = c.Lines(lines...); err != nil {
					break
				}
				if _, err = c.ReadLine(); err == nil { // DONE
					err = c.Line(cmd.Tag + " OK IDLE terminated")
				}
			case "UID FETCH":
				mu.Lock()
				fetches++
				mu.Unlock()
				// Nothing new (the last message, UID 110, as n:* past the
				// last UID answers), and a count one higher.
				exists++
				err = c.Lines(fmt.Sprintf("* 10 FETCH (UID 110 %s)", env(110)), fmt.Sprintf("* %d EXISTS", exists), cmd.Tag+" OK done")
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
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "secret")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "idle", "imap://alice@"+src.Addr(), "INBOX", "--new", "--for", "2s")
	mu.Lock()
	n := fetches
	mu.Unlock()
	t.Logf("exit %d, %d UID FETCHes\nstdout (%d lines)\nstderr:\n%s", code, n, strings.Count(out, "\n"), errs)
	if n > 10 {
		t.Fatalf("idle --new sent %d UID FETCHes in 2 s for one EXISTS event: the re-fetch loop on a growing EXISTS has no bound", n)
	}
}

// TestReview42SDExportLeftOutConfirmed: a message the body FETCH's answer
// leaves out (no NIL body) was skipped by export without a word, and the
// state moved past it: right when it was expunged meanwhile (Dovecot's
// answer), a message never exported when the server left it out for
// another reason. It is confirmed gone now, as a NIL body is (and as
// copy does since f989e52): gone, it is skipped with a note; still
// there, the run fails and the state stays before it.
func TestReview42SDExportLeftOutConfirmed(t *testing.T) {
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\nsecond\r\n",
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	for _, gone := range []bool{true, false} {
		src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies},
			sourceOpts{omit: func(uid int) bool { return uid == 2 }, omitGone: gone}))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		mbox := filepath.Join(t.TempDir(), "x.mbox")
		code, out, errs := runCLI(t, "", "export", "imap://alice@"+src.Addr(), "INBOX", "--to", mbox, "--quiet")
		if gone {
			const note = "UID 2 was expunged during the export: skipped"
			if code != 0 || !strings.Contains(out, "exported 2 messages") || !strings.Contains(errs, note) {
				t.Errorf("UID 2 left out and expunged: exit %d %q %q; want 0, 2 exported, and %q", code, out, errs, note)
			}
			continue
		}
		if code == 0 || !strings.Contains(errs, "UID 2") {
			t.Errorf("UID 2 left out of the answer but still on the server: exit %d %q %q; want a failure naming UID 2 (the state must not move past it)", code, out, errs)
		}
	}
}
